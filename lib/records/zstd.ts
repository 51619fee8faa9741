/**
 * zstd streams, checked: frames one after another (and skippable frames) decoded by
 * fzstd, each frame's output checked against its content checksum (the low 32 bits of
 * XXH64, xxhash-wasm) and its declared content size when it has them, as `zstd -t`
 * checks a file. fzstd decodes but does not check, so without this a flipped bit
 * in a block would count words that were never written. The frame boundaries are
 * found from the frame and block headers (RFC 8878, section 3.1), without decoding.
 */
import { Decompress } from 'fzstd';
import xxhash from 'xxhash-wasm';
import { CorruptInputError } from '../errors.js';

type Hasher = Awaited<ReturnType<typeof xxhash>>;
let hasher: Promise<Hasher> | undefined;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

type State =
  | 'magic'
  | 'skip-size'
  | 'skip'
  | 'descriptor'
  | 'header'
  | 'block-header'
  | 'block'
  | 'checksum';

/** Splits a zstd stream into frames, decodes each and checks it. */
class Frames {
  private state: State = 'magic';
  /** A header field being gathered: `need` bytes in `field` (copied out to the decoder). */
  private field = new Uint8Array(16);
  private have = 0;
  private need = 4;
  /** Bytes of a skippable frame or a block still to pass. */
  private left = 0;
  private lastBlock = false;
  private checksummed = false;
  private contentSize: bigint | undefined;
  private fcsBytes = 0;
  private decoder: Decompress | undefined;
  private hash: ReturnType<Hasher['create64']> | undefined;
  private produced = 0;
  private frame = 0;
  readonly out: Uint8Array[] = [];

  constructor(
    private readonly uri: string,
    private readonly xx: Hasher,
  ) {}

  /** Takes the next compressed bytes; decoded output gathers in `out`. */
  push(piece: Uint8Array): void {
    let i = 0;
    while (i < piece.length) {
      if (this.state === 'skip' || this.state === 'block') {
        const take = Math.min(this.left, piece.length - i);
        if (this.state === 'block') this.decode(piece.subarray(i, i + take));
        this.left -= take;
        i += take;
        if (this.left === 0) this.afterSpan();
        continue;
      }
      const take = Math.min(this.need - this.have, piece.length - i);
      this.field.set(piece.subarray(i, i + take), this.have);
      this.have += take;
      i += take;
      if (this.have === this.need) this.afterField();
    }
  }

  /** The stream ended: it must end between frames. */
  end(): void {
    if (this.state !== 'magic' || this.have > 0) {
      this.corrupt(`the stream ends inside frame ${this.frame + 1}`);
    }
  }

  private gather(state: State, need: number): void {
    this.state = state;
    this.need = need;
    this.have = 0;
  }

  private afterField(): void {
    const f = this.field;
    const view = new DataView(f.buffer, 0, this.need);
    switch (this.state) {
      case 'magic': {
        const magic = view.getUint32(0, true);
        if (magic === FRAME_MAGIC) {
          this.frame++;
          this.decoder = new Decompress((chunk) => {
            this.produced += chunk.length;
            this.hash?.update(chunk);
            this.out.push(chunk);
          });
          this.decode(f.slice(0, 4));
          this.gather('descriptor', 1);
        } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) this.gather('skip-size', 4);
        else this.corrupt(`no frame where frame ${this.frame + 1} should start`);
        return;
      }
      case 'skip-size':
        this.left = view.getUint32(0, true);
        this.state = 'skip';
        if (this.left === 0) this.afterSpan();
        return;
      case 'descriptor': {
        const d = f[0] as number;
        const fcsFlag = d >> 6;
        const single = (d >> 5) & 1;
        if ((d >> 3) & 1) this.corrupt(`frame ${this.frame}: a reserved bit is set`);
        this.checksummed = ((d >> 2) & 1) === 1;
        this.fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
        const dictionaryBytes = (d & 3) === 3 ? 4 : d & 3;
        const rest = (single ? 0 : 1) + dictionaryBytes + this.fcsBytes;
        this.decode(f.slice(0, 1));
        this.hash = this.checksummed ? this.xx.create64() : undefined;
        this.produced = 0;
        if (rest === 0) {
          this.contentSize = undefined;
          this.gather('block-header', 3);
        } else this.gather('header', rest);
        return;
      }
      case 'header': {
        this.decode(f.slice(0, this.need));
        const at = this.need - this.fcsBytes;
        let size: bigint | undefined;
        if (this.fcsBytes === 1) size = BigInt(view.getUint8(at));
        else if (this.fcsBytes === 2) size = BigInt(view.getUint16(at, true) + 256);
        else if (this.fcsBytes === 4) size = BigInt(view.getUint32(at, true));
        else if (this.fcsBytes === 8) size = view.getBigUint64(at, true);
        this.contentSize = size;
        this.gather('block-header', 3);
        return;
      }
      case 'block-header': {
        this.decode(f.slice(0, 3));
        const h = (f[0] as number) | ((f[1] as number) << 8) | ((f[2] as number) << 16);
        this.lastBlock = (h & 1) === 1;
        const type = (h >> 1) & 3;
        if (type === 3) this.corrupt(`frame ${this.frame}: a block of the reserved type`);
        this.left = type === 1 ? 1 : h >>> 3;
        this.state = 'block';
        if (this.left === 0) this.afterSpan();
        return;
      }
      case 'checksum':
        this.decode(f.slice(0, 4));
        this.endFrame(view.getUint32(0, true));
        return;
      default:
        return;
    }
  }

  /** A skippable frame or a block was passed. */
  private afterSpan(): void {
    if (this.state === 'skip') this.gather('magic', 4);
    else if (!this.lastBlock) this.gather('block-header', 3);
    else if (this.checksummed) this.gather('checksum', 4);
    else this.endFrame(undefined);
  }

  private endFrame(checksum: number | undefined): void {
    try {
      this.decoder?.push(new Uint8Array(0), true);
    } catch (error) {
      this.corrupt(`frame ${this.frame} does not decode (${(error as Error).message})`);
    }
    if (this.contentSize !== undefined && BigInt(this.produced) !== this.contentSize) {
      this.corrupt(
        `frame ${this.frame} decodes to ${this.produced} bytes, not the ${this.contentSize} it declares`,
      );
    }
    if (checksum !== undefined && this.hash) {
      const low = Number(this.hash.digest() & 0xffffffffn);
      if (low !== checksum) this.corrupt(`frame ${this.frame} fails its checksum`);
    }
    this.decoder = undefined;
    this.hash = undefined;
    this.gather('magic', 4);
  }

  private decode(bytes: Uint8Array): void {
    try {
      this.decoder?.push(bytes);
    } catch (error) {
      this.corrupt(`frame ${this.frame} does not decode (${(error as Error).message})`);
    }
  }

  private corrupt(why: string): never {
    throw new CorruptInputError(`${this.uri}: not a valid zstd stream: ${why}`);
  }
}

/** The decompressed bytes of a zstd stream, every frame checked. */
export async function* unzstd(
  pieces: AsyncIterable<Uint8Array>,
  uri: string,
): AsyncGenerator<Uint8Array> {
  hasher ??= xxhash();
  const frames = new Frames(uri, await hasher);
  for await (const piece of pieces) {
    frames.push(piece);
    if (frames.out.length > 0) yield* frames.out.splice(0);
  }
  frames.end();
  yield* frames.out.splice(0);
}
