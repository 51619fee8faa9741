/**
 * An object store that passes everything to a real one and counts the writes per key;
 * a test may fail one write, as a process that dies there would, before or after it lands.
 */
import type {
  Body,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  ReadRangeOptions,
} from '../../lib/ports.js';

export class CrashError extends Error {
  override name = 'CrashError';
}

export interface WriteFault {
  /** Fails the first write of a key that matches, once. */
  key: RegExp;
  /** Whether the write lands before the failure. */
  landed: boolean;
}

export class ObservedStore implements ObjectStore {
  readonly writes = new Map<string, number>();
  private faults: WriteFault[] = [];

  constructor(private readonly inner: ObjectStore) {}

  private dead = false;

  /** From now on every write fails: the process that owns this store died. */
  die(): void {
    this.dead = true;
  }

  /** The next matching write fails (once). */
  failWrite(fault: WriteFault): void {
    this.faults.push(fault);
  }

  writesTo(key: string): number {
    return this.writes.get(key) ?? 0;
  }

  private async write(
    key: string,
    run: () => Promise<PutResult | undefined>,
  ): Promise<PutResult | undefined> {
    if (this.dead) throw new CrashError(`dead: never wrote ${key}`);
    const at = this.faults.findIndex((f) => f.key.test(key));
    const fault = at >= 0 ? this.faults.splice(at, 1)[0] : undefined;
    if (fault && !fault.landed) throw new CrashError(`crashed before writing ${key}`);
    const result = await run();
    this.writes.set(key, this.writesTo(key) + 1);
    if (fault) throw new CrashError(`crashed after writing ${key}`);
    return result;
  }

  uri(key: string): string {
    return this.inner.uri(key);
  }
  head(key: string): Promise<ObjectInfo> {
    return this.inner.head(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  readRange(key: string, options: ReadRangeOptions): AsyncIterable<Uint8Array> {
    return this.inner.readRange(key, options);
  }
  get(key: string): Promise<Uint8Array> {
    return this.inner.get(key);
  }
  getVersion(key: string): Promise<{ body: Uint8Array; etag: string }> {
    return this.inner.getVersion(key);
  }

  async put(key: string, body: Body, options?: PutOptions): Promise<PutResult> {
    return (await this.write(key, () => this.inner.put(key, body, options))) as PutResult;
  }
  async copy(
    from: string,
    to: string,
    options?: Pick<PutOptions, 'contentType' | 'metadata'>,
  ): Promise<void> {
    await this.write(to, async () => {
      await this.inner.copy(from, to, options);
      return undefined;
    });
  }
  async deleteMany(keys: readonly string[]): Promise<void> {
    if (this.dead) throw new CrashError(`dead: never deleted ${keys.length} key(s)`);
    return this.inner.deleteMany(keys);
  }

  async delete(key: string, options?: { ifMatch?: string }): Promise<void> {
    if (this.dead) throw new CrashError(`dead: never deleted ${key}`);
    return this.inner.delete(key, options);
  }
}
