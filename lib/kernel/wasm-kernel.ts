/**
 * The host side of the WebAssembly kernel (lib/kernel/assembly/): compiles the module
 * once per thread and gives each task's counts an instance of its own, whose memory
 * holds the tables and the input region. Everything else in lib/kernel talks to wasm
 * through this file.
 */
import { wordClass } from '../tokenize.js';
import { KERNEL_WASM_BASE64 } from './kernel-wasm.js';

// The project compiles without the DOM library, which declares WebAssembly's JS API;
// these are the parts used here.
interface WasmModule {
  readonly kind: 'module';
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What the instance exports (lib/kernel/assembly/index.ts). */
export interface KernelExports {
  memory: { buffer: ArrayBuffer };
  init(capacity: number): void;
  main(): number;
  raw(): number;
  inputFor(size: number): number;
  alloc(size: number): number;
  free(ptr: number): void;
  whitespace(
    from: number,
    n: number,
    startIdx: number,
    endIdx: number,
    final: number,
    mark: number,
  ): number;
  whitespaceFollow(
    from: number,
    n: number,
    startIdx: number,
    endIdx: number,
    final: number,
    owned: number,
    mark: number,
  ): number;
  words(
    from: number,
    n: number,
    startIdx: number,
    endIdx: number,
    final: number,
    mark: number,
  ): number;
  wordsFollow(
    from: number,
    n: number,
    endIdx: number,
    final: number,
    owned: number,
    mark: number,
  ): number;
  stoppedAt(): number;
  tokenStart(): number;
  invalidMark(): number;
  invalidSeen(): number;
  tableAdd(table: number, buf: number, s: number, e: number, lower: number): void;
  tableAddTimes(
    table: number,
    buf: number,
    s: number,
    e: number,
    lower: number,
    times: number,
  ): void;
  tableDistinct(table: number): number;
  tableTotal(table: number): number;
  tableBytes(table: number): number;
  tableOverflowed(table: number): number;
  tableLinesBound(table: number): number;
  tableLines(table: number, out: number): number;
  tablePartitionOffsets(table: number, partitions: number, offsets: number): number;
  tablePartitionWrite(
    table: number,
    partitions: number,
    offsets: number,
    cursor: number,
    out: number,
  ): void;
}

/** Scanner events (lib/kernel/assembly/state.ts). */
const encoder = new TextEncoder();

export const DONE = 0;
export const END = 1;
export const KEEP = 2;
export const SUSPEND = 3;
export const LONG = 4;
export const RUN = 5;
export const TOKEN_END = 6;

let compiled: WasmModule | undefined;

function kernelModule(): WasmModule {
  compiled ??= new wasm.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
  return compiled;
}

const imports = {
  env: {
    wordClass,
    abort(_message: number, _file: number, line: number, column: number): never {
      throw new Error(`wasm kernel aborted at ${line}:${column}`);
    },
  },
};

/** One instance: a task's tables and its input region. */
export class Kernel {
  readonly x: KernelExports;
  readonly main: number;
  readonly raw: number;
  private view = new Uint8Array(0);
  /** Where addText encodes its keys (allocated on first use), and a view of it. */
  private textAt = 0;
  private textCapacity = 0;
  private textView: Uint8Array = new Uint8Array(0);
  /** addGrams' token starts in the text region. */
  private starts = new Int32Array(1024);

  constructor(capacity: number) {
    this.x = new wasm.Instance(kernelModule(), imports).exports as unknown as KernelExports;
    this.x.init(capacity);
    this.main = this.x.main();
    this.raw = this.x.raw();
  }

  /** The instance's memory as bytes (a new view after the memory grew). */
  bytes(): Uint8Array {
    const buffer = this.x.memory.buffer;
    if (this.view.buffer !== buffer) this.view = new Uint8Array(buffer);
    return this.view;
  }

  /** Copies `parts` into the input region, one after the other; returns its address. */
  load(parts: readonly Uint8Array[]): number {
    let size = 0;
    for (const p of parts) size += p.length;
    const at = this.x.inputFor(size);
    const mem = this.bytes();
    let o = at;
    for (const p of parts) {
      mem.set(p, o);
      o += p.length;
    }
    return at;
  }

  /** Counts `key` (bytes, as they are) in `table`. */
  /** Encodes `text` into the kernel's text region; returns its bytes' length. */
  private encodeText(text: string): number {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    if (text.length * 3 > this.textCapacity) {
      if (this.textAt !== 0) this.x.free(this.textAt);
      this.textCapacity = Math.max(1 << 16, text.length * 3);
      this.textAt = this.x.alloc(this.textCapacity);
      this.textView = new Uint8Array(0);
    }
    // A view detached by a memory growth has no bytes left.
    if (this.textView.byteLength === 0) {
      this.textView = this.bytes().subarray(this.textAt, this.textAt + this.textCapacity);
    }
    return encoder.encodeInto(text, this.textView).written;
  }

  /**
   * Counts every run of `n` consecutive `tokens` (none holds a space) joined by one
   * space: the tokens are encoded once, joined, and each n-gram is a slice of that.
   */
  addGrams(table: number, tokens: readonly string[], n: number): void {
    if (tokens.length < n) return;
    const written = this.encodeText(tokens.join(' '));
    const view = this.textView;
    if (this.starts.length < tokens.length + 1) this.starts = new Int32Array(2 * tokens.length + 1);
    const starts = this.starts;
    let k = 0;
    for (let at = 0; at < written; ) {
      starts[k++] = at;
      const space = view.indexOf(32, at);
      at = space < 0 || space >= written ? written + 1 : space + 1;
    }
    starts[k] = written + 1;
    // Offsets only from here on: an insert may grow the memory and detach the view.
    for (let g = 0; g + n <= k; g++) {
      this.x.tableAdd(table, this.textAt, starts[g] as number, (starts[g + n] as number) - 1, 0);
    }
  }

  /**
   * Counts one occurrence of each key of `keys`, keys joined by line feeds (a key holds
   * none), encoded at once straight into wasm memory.
   */
  addTexts(table: number, keys: string): void {
    const written = this.encodeText(keys);
    let view = this.textView;
    const at = this.textAt;
    for (let s = 0; s < written; ) {
      let e = view.indexOf(10, s);
      if (e < 0 || e > written) e = written;
      this.x.tableAdd(table, at + s, 0, e - s, 0);
      // The table may have grown the memory: the bytes are still there, under a new view.
      if (view.byteLength === 0) {
        view = this.bytes().subarray(at, at + this.textCapacity);
        this.textView = view;
      }
      s = e + 1;
    }
  }

  addKey(table: number, key: Uint8Array): void {
    const at = this.x.alloc(key.length);
    this.bytes().set(key, at);
    this.x.tableAdd(table, at, 0, key.length, 0);
    this.x.free(at);
  }

  /** Every line of `table`, overflow lines included, copied out of wasm memory. */
  lines(table: number): Uint8Array {
    const out = this.x.alloc(this.x.tableLinesBound(table));
    const length = this.x.tableLines(table, out);
    const lines = this.bytes().slice(out, out + length);
    this.x.free(out);
    return lines;
  }

  /** The lines of `table` (without overflow lines) grouped by partition. */
  partitioned(table: number, partitions: number): { bytes: Uint8Array; offsets: number[] } {
    const offsetsAt = this.x.alloc(4 * (partitions + 1));
    const cursorAt = this.x.alloc(4 * (partitions + 1));
    const total = this.x.tablePartitionOffsets(table, partitions, offsetsAt);
    const out = this.x.alloc(total);
    this.x.tablePartitionWrite(table, partitions, offsetsAt, cursorAt, out);
    const mem = this.bytes();
    const offsets = [...new Uint32Array(mem.buffer, offsetsAt, partitions + 1).slice()] as number[];
    const bytes = mem.slice(out, out + total);
    for (const ptr of [out, cursorAt, offsetsAt]) this.x.free(ptr);
    return { bytes, offsets };
  }
}
