/**
 * The spilled map outputs of a job, kept in the work store as they are merged, so the step
 * after the map phase holds a bounded number of them whatever the number of tasks: each
 * output's P + 1 partition offsets (8 KiB at P = 1,024) would otherwise add up to 800 MiB
 * at 100,000 tasks, and every reduce request would carry a slice of all of them.
 *
 * A chunk of up to `chunkParts` outputs is one object: a JSON line of their keys, then
 * their offsets partition-major as little-endian float64 (exact to 2^53), P + 1 rows of n,
 * so a reduce task of partitions [from, to) reads the keys and its rows only, two ranged
 * reads a chunk, and the job's reduce requests name chunks instead of outputs.
 */
import type { IndexChunk, ReduceInput, SpilledPart } from '../../contracts/tasks.js';
import { JobFailedError } from '../../errors.js';
import type { ObjectStore } from '../../ports.js';
import { readSpan } from './read-spans.js';

/** Outputs per chunk: its keys (~100 KiB) and one row of P + 1 read per reduce task. */
export const INDEX_CHUNK_PARTS = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function indexChunkKey(workPrefix: string, chunk: number): string {
  return `${workPrefix}map/index/${chunk}.bin`;
}

export class PartsIndex {
  /** Bytes of every partition across the outputs added so far. */
  readonly sizes: number[];
  readonly chunks: IndexChunk[] = [];
  /** Outputs added, written or not. */
  count = 0;
  private keys: string[] = [];
  private offsets: (readonly number[])[] = [];

  constructor(
    private readonly work: ObjectStore,
    private readonly workPrefix: string,
    private readonly partitions: number,
    private readonly chunkParts = INDEX_CHUNK_PARTS,
  ) {
    this.sizes = new Array<number>(partitions).fill(0);
  }

  async add(part: SpilledPart): Promise<void> {
    const { partitions } = this;
    if (part.offsets.length !== partitions + 1) {
      throw new JobFailedError(
        `${this.work.uri(part.key)} has ${part.offsets.length - 1} partitions, the job ${partitions}`,
      );
    }
    for (let p = 0; p < partitions; p++) {
      this.sizes[p] =
        (this.sizes[p] as number) + (part.offsets[p + 1] as number) - (part.offsets[p] as number);
    }
    this.keys.push(part.key);
    this.offsets.push(part.offsets);
    this.count++;
    if (this.keys.length >= this.chunkParts) await this.flush();
  }

  /** Writes the outputs not written yet as the next chunk. */
  async flush(): Promise<void> {
    const n = this.keys.length;
    if (n === 0) return;
    const header = encoder.encode(`${JSON.stringify(this.keys)}\n`);
    const rows = new DataView(new ArrayBuffer((this.partitions + 1) * n * 8));
    this.offsets.forEach((offsets, i) => {
      for (let p = 0; p <= this.partitions; p++) {
        rows.setFloat64((p * n + i) * 8, offsets[p] as number, true);
      }
    });
    const key = indexChunkKey(this.workPrefix, this.chunks.length);
    await this.work.put(key, [header, new Uint8Array(rows.buffer)], {
      contentType: 'application/octet-stream',
    });
    this.chunks.push({ key, parts: n, headerBytes: header.length });
    this.keys = [];
    this.offsets = [];
  }
}

/**
 * The outputs of `chunk` with bytes in partitions [from, to), each with its offsets of
 * those partitions (to - from + 1 of them): what a reduce task reads.
 */
export async function readIndexChunk(
  work: ObjectStore,
  chunk: IndexChunk,
  from: number,
  to: number,
): Promise<ReduceInput[]> {
  const n = chunk.parts;
  const header = await readSpan(work, chunk.key, 0, chunk.headerBytes);
  const keys = JSON.parse(decoder.decode(header)) as string[];
  const start = chunk.headerBytes + from * n * 8;
  const bytes = await readSpan(work, chunk.key, start, start + (to - from + 1) * n * 8);
  if (keys.length !== n || bytes.length !== (to - from + 1) * n * 8) {
    throw new JobFailedError(`${work.uri(chunk.key)} is not the index chunk its job wrote`);
  }
  const rows = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inputs: ReduceInput[] = [];
  keys.forEach((key, i) => {
    const offsets: number[] = [];
    for (let j = 0; j <= to - from; j++) offsets.push(rows.getFloat64((j * n + i) * 8, true));
    if ((offsets.at(-1) as number) > (offsets[0] as number)) inputs.push({ key, offsets });
  });
  return inputs;
}
