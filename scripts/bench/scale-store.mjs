/**
 * The scale section's object store: a bucket in memory with S3's semantics where the
 * queue driver depends on them (If-None-Match and If-Match writes, ETags that follow the
 * content, listings in UTF-8 key order in pages of 1,000 with StartAfter), behind an
 * ObjectStore that counts each request by type and makes it wait its latency on the
 * simulated clock (or not at all, to serve a child process). Input objects may be
 * synthetic: their bytes are made when read, so a 3 GB corpus costs no memory.
 */
import { createHash } from 'node:crypto';
import { ObjectNotFoundError, PreconditionFailedError, UsageError } from '../../dist/lib/errors.js';
import { compareUtf8 } from '../../dist/lib/reduce/order.js';

/** Keys in a page of ListObjectsV2. */
export const PAGE_KEYS = 1000;
/** The S3 adapter's multipart part size (lib/adapters/s3-store.ts): bigger streamed bodies go in parts. */
const PART_BYTES = 8 * 1024 * 1024;
const BLOCK = 512;

/** Request types counted; CPUT is a PUT with If-None-Match or If-Match, MPU a multipart create or complete. */
export const S3_TYPES = [
  'GET',
  'PUT',
  'CPUT',
  'HEAD',
  'LIST',
  'COPY',
  'DELETE',
  'DELETES',
  'MPU',
  'PART',
];
const OPERATION = {
  GET: 's3:GetObject',
  PUT: 's3:PutObject',
  CPUT: 's3:PutObject',
  HEAD: 's3:HeadObject',
  LIST: 's3:ListObjectsV2',
  COPY: 's3:CopyObject',
  DELETE: 's3:DeleteObject',
  DELETES: 's3:DeleteObjects',
  MPU: 's3:CreateMultipartUpload',
  PART: 's3:UploadPart',
};

const lowerBound = (keys, key) => {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareUtf8(keys[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** Keys in UTF-8 order, in blocks, so an insert anywhere moves a block, not the bucket. */
class SortedKeys {
  constructor(blocks = [[]]) {
    this.blocks = blocks;
  }

  copy() {
    return new SortedKeys(this.blocks.map((b) => b.slice()));
  }

  /** The block that holds `key`, or would. */
  #blockOf(key) {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const block = this.blocks[mid];
      if (compareUtf8(block[block.length - 1], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key) {
    const b = this.#blockOf(key);
    const block = this.blocks[b];
    block.splice(lowerBound(block, key), 0, key);
    if (block.length > 2 * BLOCK)
      this.blocks.splice(b, 1, block.slice(0, BLOCK), block.slice(BLOCK));
  }

  remove(key) {
    const b = this.#blockOf(key);
    const block = this.blocks[b];
    const i = lowerBound(block, key);
    if (block[i] !== key) return;
    block.splice(i, 1);
    if (block.length === 0 && this.blocks.length > 1) this.blocks.splice(b, 1);
  }

  /** Up to `max` keys that start with `prefix` and sort after `after`; whether more follow. */
  page(prefix, after, max) {
    const from = after !== undefined && compareUtf8(after, prefix) >= 0 ? `${after}\u0000` : prefix;
    let b = this.#blockOf(from);
    let i = lowerBound(this.blocks[b], from);
    const keys = [];
    for (; b < this.blocks.length; b++, i = 0) {
      const block = this.blocks[b];
      for (; i < block.length; i++) {
        if (!block[i].startsWith(prefix)) return { keys, truncated: false };
        if (keys.length === max) return { keys, truncated: true };
        keys.push(block[i]);
      }
    }
    return { keys, truncated: false };
  }
}

/** The objects of one bucket; every change replaces an entry, so a snapshot can share them. */
export class MemoryBucket {
  constructor(name, now, entries = new Map(), keys = new SortedKeys()) {
    this.name = name;
    this.now = now;
    this.entries = entries;
    this.keys = keys;
  }

  /** A copy that later changes to either side do not reach. */
  snapshot() {
    return new MemoryBucket(this.name, this.now, new Map(this.entries), this.keys.copy());
  }

  uri(key) {
    return `s3://${this.name}/${key}`;
  }

  entry(key) {
    const entry = this.entries.get(key);
    if (!entry) throw new ObjectNotFoundError(this.uri(key), 'no such key');
    return entry;
  }

  info(key, entry, withMetadata) {
    return {
      key,
      uri: this.uri(key),
      size: entry.size,
      etag: entry.etag,
      modifiedAt: new Date(entry.modifiedAt),
      ...(withMetadata && entry.metadata && { metadata: { ...entry.metadata } }),
    };
  }

  bytes(entry, start = 0, end = entry.size) {
    if (entry.body) return entry.body.subarray(start, end);
    return entry.synthetic.read(entry.index, start, end);
  }

  set(key, entry) {
    if (!this.entries.has(key)) this.keys.insert(key);
    this.entries.set(key, { ...entry, modifiedAt: this.now().getTime() });
  }

  /** A synthetic object: `synthetic.read(index, start, end)` makes its bytes. */
  putSynthetic(key, synthetic, index) {
    const size = synthetic.size(index);
    this.set(key, { size, etag: `"synthetic-${synthetic.name}-${index}"`, synthetic, index });
  }

  /** A write that S3 would refuse throws as S3ObjectStore translates it. */
  write(key, body, options = {}) {
    const existing = this.entries.get(key);
    if (options.ifNoneMatch && existing) {
      throw new PreconditionFailedError(`${this.uri(key)}: the key exists (If-None-Match)`);
    }
    if (options.ifMatch !== undefined) {
      if (!existing) throw new ObjectNotFoundError(this.uri(key), 'no such key (If-Match)');
      if (existing.etag !== options.ifMatch) {
        throw new PreconditionFailedError(`${this.uri(key)}: changed since it was read (If-Match)`);
      }
    }
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.set(key, {
      size: body.length,
      etag,
      body,
      ...(options.metadata && { metadata: { ...options.metadata } }),
      ...(options.contentType && { contentType: options.contentType }),
    });
    return etag;
  }

  remove(key, ifMatch) {
    const existing = this.entries.get(key);
    if (ifMatch !== undefined) {
      if (!existing) throw new ObjectNotFoundError(this.uri(key), 'no such key (If-Match)');
      if (existing.etag !== ifMatch) {
        throw new PreconditionFailedError(`${this.uri(key)}: changed since it was read (If-Match)`);
      }
    }
    if (!existing) return;
    this.entries.delete(key);
    this.keys.remove(key);
  }

  listPage(prefix, startAfter) {
    const { keys, truncated } = this.keys.page(prefix, startAfter, PAGE_KEYS);
    return { infos: keys.map((k) => this.info(k, this.entries.get(k), false)), truncated };
  }
}

async function bytesOf(body) {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  const parts = [];
  for await (const piece of body)
    parts.push(typeof piece === 'string' ? Buffer.from(piece) : piece);
  return Buffer.concat(parts);
}

/** The ObjectStore port over a bucket: each request counted by type, and delayed when there is a clock. */
export class SimulatedS3 {
  /** @param options `{ clock, latency }` to make requests take time; `meter` (a RequestMeter) counts too. */
  constructor(bucket, options = {}) {
    this.bucket = bucket;
    this.clock = options.clock;
    this.latency = options.latency;
    this.meter = options.meter;
    this.counts = Object.fromEntries(S3_TYPES.map((t) => [t, 0]));
  }

  async #request(type) {
    this.counts[type]++;
    this.meter?.add(OPERATION[type]);
    if (this.clock) await this.clock.sleep(this.latency());
  }

  uri(key) {
    return this.bucket.uri(key);
  }

  async head(key) {
    await this.#request('HEAD');
    return this.bucket.info(key, this.bucket.entry(key), true);
  }

  /** One LIST request: a page of up to 1,000 keys after `startAfter`. */
  async listPage(prefix, startAfter) {
    await this.#request('LIST');
    return this.bucket.listPage(prefix, startAfter);
  }

  async *list(prefix, options = {}) {
    let after = options.startAfter;
    for (;;) {
      const { infos, truncated } = await this.listPage(prefix, after);
      yield* infos;
      if (!truncated) return;
      after = infos[infos.length - 1].key;
    }
  }

  /** One ranged GET; [] for an empty range or one past the end. */
  async range(key, { start, end, ifMatch }) {
    if (end !== undefined && end <= start) return new Uint8Array(0);
    await this.#request('GET');
    const entry = this.bucket.entry(key);
    if (ifMatch !== undefined && entry.etag !== ifMatch) {
      throw new PreconditionFailedError(
        `${this.uri(key)}: changed since it was planned (If-Match)`,
      );
    }
    const last = Math.min(end ?? entry.size, entry.size);
    return start >= last ? new Uint8Array(0) : this.bucket.bytes(entry, start, last);
  }

  async *readRange(key, options) {
    const bytes = await this.range(key, options);
    const piece = options.pieceSize ?? bytes.length;
    for (let at = 0; at < bytes.length; at += Math.max(1, piece)) {
      yield bytes.subarray(at, at + Math.max(1, piece));
    }
  }

  async get(key) {
    return (await this.getVersion(key)).body;
  }

  async getVersion(key) {
    await this.#request('GET');
    const entry = this.bucket.entry(key);
    return { body: new Uint8Array(this.bucket.bytes(entry)), etag: entry.etag };
  }

  async put(key, body, options = {}) {
    const direct = typeof body === 'string' || body instanceof Uint8Array;
    const conditional = options.ifNoneMatch || options.ifMatch !== undefined;
    if (conditional && !direct) {
      throw new UsageError(`conditional put of ${this.uri(key)} needs a string or byte body`);
    }
    const bytes = await bytesOf(body);
    if (!direct && bytes.length > PART_BYTES) {
      // lib-storage's Upload: create, the parts two at a time, complete.
      const parts = Math.ceil(bytes.length / PART_BYTES);
      await this.#request('MPU');
      for (let p = 0; p < parts; p += 2) {
        await Promise.all([this.#request('PART'), p + 1 < parts && this.#request('PART')]);
      }
      await this.#request('MPU');
    } else await this.#request(conditional ? 'CPUT' : 'PUT');
    // A copy of its own size: a slice of Buffer's shared pool would keep all of its 8 KiB.
    return { etag: this.bucket.write(key, new Uint8Array(bytes), options) };
  }

  /** As S3ObjectStore copies: a HEAD of the source, then one CopyObject. */
  async copy(from, to, options = {}) {
    await this.head(from);
    await this.#request('COPY');
    this.bucket.write(to, new Uint8Array(this.bucket.bytes(this.bucket.entry(from))), options);
  }

  async delete(key, options = {}) {
    await this.#request('DELETE');
    this.bucket.remove(key, options.ifMatch);
  }

  /** As S3ObjectStore deletes many: a DeleteObjects request per 1,000 keys, 4 at once. */
  async deleteMany(keys) {
    const batches = [];
    for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
    for (let i = 0; i < batches.length; i += 4) {
      await Promise.all(batches.slice(i, i + 4).map(() => this.#request('DELETES')));
    }
    for (const key of keys) this.bucket.remove(key);
  }
}
