/**
 * The ObjectStore contract: one suite, run against every adapter (files now, S3 on
 * the emulator in e2e), so the twins cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, PreconditionFailedError } from '../../lib/errors.js';
import type { ObjectStore } from '../../lib/ports.js';

export interface StoreFixture {
  store: ObjectStore;
  /** A key prefix unique to this run. */
  prefix: string;
}

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of pieces) parts.push(Buffer.from(piece));
  return Buffer.concat(parts).toString('utf8');
}

export function objectStoreContract(name: string, fixture: () => StoreFixture): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('puts, heads and gets an object', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/hello world é.txt`;
      await store.put(key, 'hello, world');
      const info = await store.head(key);
      expect(info.size).toBe(12);
      expect(info.etag).not.toBe('');
      expect(info.uri).toContain('hello world é.txt');
      expect(Buffer.from(await store.get(key)).toString()).toBe('hello, world');
    });

    it('gets an object with the etag of what was read, for a compare-and-swap', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/versioned.json`;
      const { etag } = await store.put(key, '{"n":1}');
      const read = await store.getVersion(key);
      expect(Buffer.from(read.body).toString()).toBe('{"n":1}');
      expect(read.etag).toBe(etag);
      await store.put(key, '{"n":2}', { ifMatch: read.etag });
      await expect(store.put(key, '{"n":3}', { ifMatch: read.etag })).rejects.toThrow(
        PreconditionFailedError,
      );
      await expect(store.getVersion(`${prefix}/absent.json`)).rejects.toThrow(ObjectNotFoundError);
    });

    it('lists every object under a prefix with its key, size and etag', async () => {
      const { store, prefix } = fixture();
      const keys = [
        `${prefix}/list/a.txt`,
        `${prefix}/list/sub/b.txt`,
        `${prefix}/list/sub/deeper/c d.txt`,
      ];
      for (const key of keys) await store.put(key, key);
      await store.put(`${prefix}/listed-not.txt`, 'outside the prefix');
      const listed = [];
      for await (const info of store.list(`${prefix}/list/`)) listed.push(info);
      expect(listed.map((i) => i.key).sort()).toEqual([...keys].sort());
      for (const info of listed) {
        expect(info.size).toBe(info.key.length);
        expect(info.etag).toBe((await store.head(info.key)).etag);
      }
      // A prefix need not end at a slash.
      const partial = [];
      for await (const info of store.list(`${prefix}/list/su`)) partial.push(info.key);
      expect(partial.sort()).toEqual(keys.slice(1).sort());
      const none = [];
      for await (const info of store.list(`${prefix}/nothing-here/`)) none.push(info);
      expect(none).toEqual([]);
    });

    it('answers a put with the etag head reports, and keeps metadata', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/with-metadata.txt`;
      const { etag } = await store.put(key, 'tagged', { metadata: { 'job-id': 'j1' } });
      const info = await store.head(key);
      expect(info.etag).toBe(etag);
      expect(info.metadata).toEqual({ 'job-id': 'j1' });
      // A later If-Match on that etag succeeds exactly once.
      const second = await store.put(key, 'tagged again', { ifMatch: etag });
      await expect(store.put(key, 'stale', { ifMatch: etag })).rejects.toThrow(
        PreconditionFailedError,
      );
      expect((await store.head(key)).etag).toBe(second.etag);
    });

    it('copies an object with new metadata, the source untouched', async () => {
      const { store, prefix } = fixture();
      await store.put(`${prefix}/copy-from.tsv`, 'a\t1\n', { metadata: { 'job-id': 'old' } });
      await store.copy(`${prefix}/copy-from.tsv`, `${prefix}/copied/to.tsv`, {
        metadata: { 'job-id': 'new' },
      });
      expect(Buffer.from(await store.get(`${prefix}/copied/to.tsv`)).toString()).toBe('a\t1\n');
      expect((await store.head(`${prefix}/copied/to.tsv`)).metadata).toEqual({ 'job-id': 'new' });
      expect((await store.head(`${prefix}/copy-from.tsv`)).metadata).toEqual({ 'job-id': 'old' });
      await expect(store.copy(`${prefix}/nothing.tsv`, `${prefix}/x.tsv`)).rejects.toThrow(
        ObjectNotFoundError,
      );
    });

    it('streams a put body made of pieces', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/pieces.tsv`;
      await store.put(key, ['a\t1\n', new TextEncoder().encode('b\t2\n')]);
      expect(Buffer.from(await store.get(key)).toString()).toBe('a\t1\nb\t2\n');
    });

    it('changes the etag when the content changes', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/etag.txt`;
      await store.put(key, 'one');
      const first = await store.head(key);
      await store.put(key, 'three');
      expect((await store.head(key)).etag).not.toBe(first.etag);
    });

    it('reads byte ranges, clamped to the object', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/digits.txt`;
      await store.put(key, '0123456789');
      expect(await collect(store.readRange(key, { start: 2, end: 6 }))).toBe('2345');
      expect(await collect(store.readRange(key, { start: 7 }))).toBe('789');
      expect(await collect(store.readRange(key, { start: 8, end: 100 }))).toBe('89');
      expect(await collect(store.readRange(key, { start: 0, pieceSize: 3 }))).toBe('0123456789');
    });

    it('stops reading when the reader stops iterating', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/big.txt`;
      await store.put(key, 'x'.repeat(1 << 20));
      let seen = 0;
      for await (const piece of store.readRange(key, { start: 0, pieceSize: 1024 })) {
        seen += piece.length;
        if (seen >= 4096) break;
      }
      expect(seen).toBeLessThan(1 << 20);
    });

    it('reports a missing key as ObjectNotFoundError naming it', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/missing.txt`;
      await expect(store.head(key)).rejects.toThrow(ObjectNotFoundError);
      await expect(store.head(key)).rejects.toThrow(/missing\.txt/);
      await expect(store.get(key)).rejects.toThrow(ObjectNotFoundError);
      await expect(collect(store.readRange(key, { start: 0 }))).rejects.toThrow(
        ObjectNotFoundError,
      );
    });

    it('deletes a key, and deleting a missing key is fine', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/doomed.txt`;
      await store.put(key, 'x');
      await store.delete(key);
      await expect(store.head(key)).rejects.toThrow(ObjectNotFoundError);
      await store.delete(key);
    });

    it('deletes many keys at once, past one request of 1,000, missing ones included', async () => {
      const { store, prefix } = fixture();
      const keys = Array.from({ length: 1003 }, (_, i) => `${prefix}/many/${i}.json`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
      }
      const kept = `${prefix}/many-kept.json`;
      await store.put(kept, 'y');
      await store.deleteMany([...keys, `${prefix}/many/missing.json`]);
      const left: string[] = [];
      for await (const info of store.list(`${prefix}/many`)) left.push(info.key);
      expect(left).toEqual([kept]);
      await store.deleteMany([]);
    });

    it('deletes an object only while it still has the etag given', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/marker.json`;
      const first = await store.put(key, 'first');
      const second = await store.put(key, 'second, rewritten');
      await expect(store.delete(key, { ifMatch: first.etag })).rejects.toThrow(
        PreconditionFailedError,
      );
      expect(Buffer.from(await store.get(key)).toString()).toBe('second, rewritten');
      await store.delete(key, { ifMatch: second.etag });
      await expect(store.head(key)).rejects.toThrow(ObjectNotFoundError);
      await expect(store.delete(key, { ifMatch: second.etag })).rejects.toThrow(
        ObjectNotFoundError,
      );
    });

    it('replaces an object only while it still has the etag given', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/cas.json`;
      await store.put(key, 'first');
      const { etag } = await store.head(key);
      await store.put(key, 'second!', { ifMatch: etag });
      expect(Buffer.from(await store.get(key)).toString()).toBe('second!');
      await expect(store.put(key, 'third', { ifMatch: etag })).rejects.toThrow(
        PreconditionFailedError,
      );
      await expect(store.put(`${prefix}/absent.json`, 'x', { ifMatch: etag })).rejects.toThrow(
        ObjectNotFoundError,
      );
    });

    it('reads a range only while the object still has the etag given', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/versioned.txt`;
      await store.put(key, 'first version');
      const { etag } = await store.head(key);
      expect(await collect(store.readRange(key, { start: 6, end: 13, ifMatch: etag }))).toBe(
        'version',
      );
      await store.put(key, 'second version');
      await expect(collect(store.readRange(key, { start: 6, ifMatch: etag }))).rejects.toThrow(
        PreconditionFailedError,
      );
    });

    it('lists past one page of 1,000 keys, in key order', async () => {
      const { store, prefix } = fixture();
      const keys = Array.from(
        { length: 1010 },
        (_, i) => `${prefix}/page/${String(i).padStart(4, '0')}`,
      );
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
      }
      const listed: string[] = [];
      for await (const info of store.list(`${prefix}/page/`)) listed.push(info.key);
      expect(listed).toEqual(keys);
    });

    it('lists only the keys after startAfter, which need not exist, across pages', async () => {
      const { store, prefix } = fixture();
      const keys = [
        `${prefix}/after/a.txt`,
        `${prefix}/after/b/c.txt`,
        `${prefix}/after/b/d.txt`,
        `${prefix}/after/c.txt`,
      ];
      for (const key of keys) await store.put(key, key);
      const listed = async (startAfter: string, under = `${prefix}/after/`) => {
        const found: string[] = [];
        for await (const info of store.list(under, { startAfter })) found.push(info.key);
        return found;
      };
      expect(await listed(`${prefix}/after/b/c.txt`)).toEqual(keys.slice(2));
      // A folder's name, a name between two keys, one past them all, one before the prefix.
      expect(await listed(`${prefix}/after/b`)).toEqual(keys.slice(1));
      expect(await listed(`${prefix}/after/b/c.txs`)).toEqual(keys.slice(1));
      expect(await listed(`${prefix}/after/bz`)).toEqual(keys.slice(3));
      expect(await listed(`${prefix}/after/d`)).toEqual([]);
      expect(await listed(`${prefix}/`)).toEqual(keys);
      // Past the first page it goes on from where that page ended.
      const paged = Array.from(
        { length: 1005 },
        (_, i) => `${prefix}/after-pages/${String(i).padStart(4, '0')}`,
      );
      for (let i = 0; i < paged.length; i += 50) {
        await Promise.all(paged.slice(i, i + 50).map((k) => store.put(k, 'x')));
      }
      expect(await listed(paged[2] as string, `${prefix}/after-pages/`)).toEqual(paged.slice(3));
    });

    it('streams a body bigger than an upload part (multipart on S3) and reads it back', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/multipart.tsv`;
      const piece = new TextEncoder().encode(`${'w'.repeat(1023)}\n`);
      // 12 MiB in 1 KiB pieces: more than one of S3's parts.
      const pieces = function* () {
        for (let i = 0; i < 12 * 1024; i++) yield piece;
      };
      await store.put(key, pieces(), { contentType: 'text/tab-separated-values' });
      expect((await store.head(key)).size).toBe(12 * 1024 * 1024);
      const back = await store.get(key);
      expect(back.length).toBe(12 * 1024 * 1024);
      expect(Buffer.from(back.subarray(-1024)).equals(Buffer.from(piece))).toBe(true);
    });

    it('lets exactly one conditional create win', async () => {
      const { store, prefix } = fixture();
      const key = `${prefix}/claim.json`;
      const attempts = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => store.put(key, `{"by":${i}}`, { ifNoneMatch: true })),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const a of attempts) {
        if (a.status === 'rejected') expect(a.reason).toBeInstanceOf(PreconditionFailedError);
      }
      await expect(store.put(key, 'again', { ifNoneMatch: true })).rejects.toThrow(
        PreconditionFailedError,
      );
    });

    it('never lets a compare-and-swap of an older version land over a plain write', async () => {
      const { store, prefix } = fixture();
      for (let round = 0; round < 8; round++) {
        const key = `${prefix}/swapped-${round}.json`;
        const { etag } = await store.put(key, 'version 1');
        // Swaps holding version 1's etag race a plain write of version 2: whatever the
        // order, no swap can win once version 2 is there, so version 2 stays.
        const swaps = Array.from({ length: 4 }, (_, i) =>
          store.put(key, `a swap of version 1, ${i}`, { ifMatch: etag }).catch(() => undefined),
        );
        const plain = store.put(key, 'version 2, written plainly');
        await Promise.all([...swaps, plain]);
        // A swap that landed first is overwritten by the plain write; any other fails.
        expect(Buffer.from(await store.get(key)).toString()).toBe('version 2, written plainly');
      }
    });
  });
}
