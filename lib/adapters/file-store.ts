/** ObjectStore over a local directory: the embedded backend's twin of S3ObjectStore. */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RequestMeter } from '../cost/request-meter.js';
import { ObjectNotFoundError, PreconditionFailedError, UsageError } from '../errors.js';
import type {
  Body,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  ReadRangeOptions,
} from '../ports.js';

const DEFAULT_PIECE_SIZE = 2 * 1024 * 1024;
/** Object metadata lives beside the tree, under this directory of the root (never listed). */
const METADATA_DIR = '.wordcount-meta';
const WRITE_BUFFER_BYTES = 16 * 1024 * 1024;

function systemCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** Size and modification time stand in for S3's content hash. */
function etagOf(info: { size: number; mtimeMs: number }): string {
  return `${info.size.toString(16)}-${Math.floor(info.mtimeMs * 1000).toString(16)}`;
}

/** Where a put writes before it moves the file into place: beside it, on its file system. */
const temporaryPath = (path: string) => `${path}.${randomUUID()}.wordcount-tmp`;
const TEMPORARY = /\.[0-9a-f-]{36}\.wordcount-tmp$/;

export class FileObjectStore implements ObjectStore {
  readonly root: string;
  /** Counts the calls by the S3 operation each stands for (the job's cost). */
  private readonly meter?: RequestMeter;

  constructor(root: string, options: { meter?: RequestMeter } = {}) {
    this.root = resolve(root);
    this.meter = options.meter;
  }

  /** The path of `key` (a prefix keeps its trailing slash), for messages. */
  uri(key: string): string {
    if (key !== '') return join(this.root, key);
    return this.root.endsWith(sep) ? this.root : `${this.root}${sep}`;
  }

  async head(key: string): Promise<ObjectInfo> {
    this.meter?.add('s3:HeadObject');
    return this.info(key);
  }

  private async info(key: string): Promise<ObjectInfo> {
    const path = this.path(key);
    const info = await stat(path).catch((error: unknown) => {
      throw this.translate(error, key);
    });
    if (!info.isFile()) {
      throw new ObjectNotFoundError(
        path,
        info.isDirectory() ? REASONS.EISDIR : 'not a regular file',
      );
    }
    const metadata = await this.readMetadata(key);
    return {
      key,
      uri: path,
      size: info.size,
      etag: etagOf(info),
      modifiedAt: info.mtime,
      ...(metadata && { metadata }),
    };
  }

  /**
   * Regular files whose key starts with `prefix` (and sorts after `startAfter`), in key
   * order. Directories are walked only where they can hold such keys; symbolic links are
   * not followed, and other special files (sockets, devices) are skipped, as are this
   * store's own temporaries (a put in progress is not an object yet) and files removed
   * while the listing runs. Each file is looked at (stat) as the reader gets to it, and
   * counted as S3 bills pages: a request per 1,000 keys reached, one for none.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    const { startAfter = '' } = options;
    const after = (key: string) => compareBytes(key, startAfter) > 0;
    const found: string[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      const dir = dirKey === '' ? this.root : this.path(dirKey);
      const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
        // A folder removed while the walk runs holds nothing any more.
        if (dirKey !== '' && systemCode(error) === 'ENOENT') return [];
        throw this.translate(error, dirKey);
      });
      for (const entry of entries) {
        const key = `${dirKey}${entry.name}`;
        if (dirKey === '' && entry.name === METADATA_DIR) continue;
        if (entry.isDirectory()) {
          const sub = `${key}/`;
          // A folder before `startAfter` that does not lead to it holds only earlier keys.
          const reaches = after(sub) || startAfter.startsWith(sub);
          if (reaches && (sub.startsWith(prefix) || prefix.startsWith(sub))) await walk(sub);
        } else if (entry.isFile() && key.startsWith(prefix) && after(key) && !TEMPORARY.test(key)) {
          found.push(key);
        }
      }
    };
    await walk('');
    found.sort(compareBytes);
    this.meter?.add('s3:ListObjectsV2');
    let listed = 0;
    for (const key of found) {
      const info = await this.info(key).catch((error: unknown) => {
        if (error instanceof ObjectNotFoundError) return undefined;
        throw error;
      });
      if (!info) continue;
      if (listed > 0 && listed % 1000 === 0) this.meter?.add('s3:ListObjectsV2');
      listed++;
      yield info;
    }
  }

  async *readRange(key: string, options: ReadRangeOptions): AsyncGenerator<Uint8Array> {
    this.meter?.add('s3:GetObject');
    const handle = await open(this.path(key), 'r').catch((error: unknown) => {
      throw this.translate(error, key);
    });
    let next: Promise<Uint8Array> | undefined;
    try {
      if (options.ifMatch !== undefined) {
        const info = await handle.stat();
        if (etagOf(info) !== options.ifMatch) {
          throw new PreconditionFailedError(`${this.path(key)} changed since the job started`);
        }
      }
      const pieceSize = options.pieceSize ?? DEFAULT_PIECE_SIZE;
      const end = options.end ?? Number.POSITIVE_INFINITY;
      const readAt = async (position: number): Promise<Uint8Array> => {
        const want = Math.min(pieceSize, end - position);
        if (want <= 0) return new Uint8Array(0);
        const buffer = new Uint8Array(want);
        const { bytesRead } = await handle
          .read(buffer, 0, want, position)
          .catch((error: unknown) => {
            throw this.translate(error, key);
          });
        return bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
      };
      // Read ahead: a failure surfaces when the piece is awaited, not as an unhandled rejection.
      const ahead = (position: number) => {
        const piece = readAt(position);
        piece.catch(() => undefined);
        return piece;
      };
      // One piece ahead: the next read runs while the caller counts this one.
      let position = options.start;
      next = ahead(position);
      for (;;) {
        const piece = await next;
        if (piece.length === 0) return;
        position += piece.length;
        next = ahead(position);
        yield piece;
      }
    } finally {
      // A reader that stopped early leaves one read ahead in flight; its result is unwanted.
      await next?.catch(() => undefined);
      await handle.close();
    }
  }

  async get(key: string): Promise<Uint8Array> {
    this.meter?.add('s3:GetObject');
    return readFile(this.path(key)).catch((error: unknown) => {
      throw this.translate(error, key);
    });
  }

  async getVersion(key: string): Promise<{ body: Uint8Array; etag: string }> {
    this.meter?.add('s3:GetObject');
    // One open file: its stat and its bytes are of the same version, whatever replaces
    // the name meanwhile (a put moves a new file into place).
    const handle = await open(this.path(key), 'r').catch((error: unknown) => {
      throw this.translate(error, key);
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new ObjectNotFoundError(this.path(key), 'not a regular file');
      return { body: await handle.readFile(), etag: etagOf(info) };
    } catch (error) {
      throw this.translate(error, key);
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<PutResult> {
    this.meter?.add('s3:PutObject');
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write aside, then move into place: readers never see half an object.
    const temporary = temporaryPath(path);
    try {
      // A deep buffer lets a producer (a merge) run on while earlier pieces are written.
      await pipeline(
        toChunks(body),
        createWriteStream(temporary, { highWaterMark: WRITE_BUFFER_BYTES }),
      );
      return await this.place(key, temporary, options);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  async copy(
    from: string,
    to: string,
    options: Pick<PutOptions, 'contentType' | 'metadata'> = {},
  ): Promise<void> {
    this.meter?.add('s3:CopyObject');
    const path = this.path(to);
    await mkdir(dirname(path), { recursive: true });
    const temporary = temporaryPath(path);
    try {
      await copyFile(this.path(from), temporary).catch((error: unknown) => {
        throw this.translate(error, from);
      });
      await this.place(to, temporary, options);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  /** Moves a written temporary file into place under the put's conditions. */
  private async place(key: string, temporary: string, options: PutOptions): Promise<PutResult> {
    const path = this.path(key);
    if (options.ifNoneMatch) {
      // link() fails if the name exists: an atomic create, across threads and processes.
      await link(temporary, path).catch((error: unknown) => {
        if (systemCode(error) === 'EEXIST') {
          throw new PreconditionFailedError(`${path} already exists`, { cause: error });
        }
        throw error;
      });
    } else if (options.ifMatch !== undefined) {
      const ifMatch = options.ifMatch;
      // Compare and replace under a lock directory (mkdir is atomic), so two writers
      // holding the same etag cannot both win. Like S3: a missing key is not found.
      await this.locked(path, async () => {
        const current = await stat(path).catch((error: unknown) => {
          throw this.translate(error, key);
        });
        if (etagOf(current) !== ifMatch) throw new PreconditionFailedError(`${path} changed`);
        await rename(temporary, path);
      });
    } else {
      // Under the same lock: a compare-and-replace must not land its stale write after
      // this one between its check and its rename (S3 orders every write to a key).
      await this.locked(path, () => rename(temporary, path));
    }
    if (options.metadata) await this.writeMetadata(key, options.metadata);
    return { etag: etagOf(await stat(path)) };
  }

  private async locked<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${path}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(lock);
        break;
      } catch (error) {
        if (systemCode(error) !== 'EEXIST' || attempt > 500) throw error;
        await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
      }
    }
    try {
      return await fn();
    } finally {
      await rmdir(lock).catch(() => undefined);
    }
  }

  private metadataPath(key: string): string {
    return join(this.root, METADATA_DIR, `${key}.json`);
  }

  private async writeMetadata(key: string, metadata: Record<string, string>): Promise<void> {
    const path = this.metadataPath(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(metadata));
  }

  private async readMetadata(key: string): Promise<Record<string, string> | undefined> {
    try {
      return JSON.parse(await readFile(this.metadataPath(key), 'utf8')) as Record<string, string>;
    } catch {
      return undefined;
    }
  }

  async delete(key: string, options: { ifMatch?: string } = {}): Promise<void> {
    this.meter?.add('s3:DeleteObject');
    const path = this.path(key);
    if (options.ifMatch !== undefined) {
      const ifMatch = options.ifMatch;
      // Like S3's conditional delete: only that version; a missing key is not found.
      await this.locked(path, async () => {
        const current = await stat(path).catch((error: unknown) => {
          throw this.translate(error, key);
        });
        if (etagOf(current) !== ifMatch) throw new PreconditionFailedError(`${path} changed`);
        await rm(path, { force: true });
      });
    } else await rm(path, { force: true });
    await rm(this.metadataPath(key), { force: true });
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // As S3 bills it: one request per 1,000 keys.
    this.meter?.add('s3:DeleteObjects', Math.ceil(keys.length / 1000));
    for (const key of keys) {
      const path = this.path(key);
      await rm(path, { force: true });
      await rm(this.metadataPath(key), { force: true });
    }
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    const inside = relative(this.root, path);
    if (key === '' || inside.startsWith(`..${sep}`) || inside === '..') {
      throw new UsageError(`key '${key}' is outside the store root ${this.root}`);
    }
    return path === this.root ? join(this.root, key) : path;
  }

  private translate(error: unknown, key: string): Error {
    const reason = REASONS[systemCode(error) ?? ''];
    if (reason) return new ObjectNotFoundError(this.path(key), reason, { cause: error });
    return error instanceof Error ? error : new Error(String(error));
  }
}

const encoder = new TextEncoder();

function compareBytes(a: string, b: string): number {
  return Buffer.compare(encoder.encode(a), encoder.encode(b));
}

async function* toChunks(body: Body): AsyncGenerator<Uint8Array | string> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    yield body;
    return;
  }
  for await (const chunk of body) yield chunk;
}
