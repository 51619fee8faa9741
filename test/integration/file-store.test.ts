import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { ObjectNotFoundError, UsageError } from '../../lib/errors.js';
import { objectStoreContract } from '../contract/object-store.js';

let root: string;
let store: FileObjectStore;
let run = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-store-'));
  store = new FileObjectStore(root);
});

objectStoreContract('FileObjectStore', () => ({ store, prefix: `run-${run++}` }));

describe('FileObjectStore specifics', () => {
  it('says a directory is not a file', async () => {
    await mkdir(join(root, 'a-dir'));
    await expect(store.head('a-dir')).rejects.toThrow(ObjectNotFoundError);
    await expect(store.head('a-dir')).rejects.toThrow(/is a directory/);
  });

  it('lists regular files only, in key order, without following symbolic links', async () => {
    await mkdir(join(root, 'tree', 'b'), { recursive: true });
    await writeFile(join(root, 'tree', 'b', 'z.txt'), 'z');
    await writeFile(join(root, 'tree', 'a.txt'), 'a');
    await writeFile(join(root, 'outside.txt'), 'not under tree');
    await symlink(join(root, 'outside.txt'), join(root, 'tree', 'link.txt'));
    await symlink(join(root, 'tree', 'b'), join(root, 'tree', 'linked-dir'));
    const keys = [];
    for await (const info of store.list('tree/')) keys.push(info.key);
    expect(keys).toEqual(['tree/a.txt', 'tree/b/z.txt']);
  });

  it('lists no put in progress: a commit counted by listing is a whole object', async () => {
    await mkdir(join(root, 'commits'), { recursive: true });
    await writeFile(join(root, 'commits', '0.json'), '{}');
    // What a put writes before it moves the file into place.
    await writeFile(
      join(root, 'commits', '1.json.0b5b2f5e-8d2a-4d4e-9a51-2c7e1f0f9a11.wordcount-tmp'),
      '{',
    );
    const keys = [];
    for await (const info of store.list('commits/')) keys.push(info.key);
    expect(keys).toEqual(['commits/0.json']);
    // Many puts at once while listing: every listed key is a complete object.
    const puts = Array.from({ length: 40 }, (_, i) =>
      store.put(`commits/many/${i}.json`, JSON.stringify({ i }), { ifNoneMatch: true }),
    );
    for (let round = 0; round < 5; round++) {
      for await (const info of store.list('commits/many/')) {
        expect(info.key).toMatch(/^commits\/many\/\d+\.json$/);
      }
    }
    await Promise.all(puts);
  });

  it('names a prefix with its trailing slash', () => {
    expect(store.uri('tree/')).toBe(`${join(root, 'tree')}/`);
    expect(store.uri('')).toBe(`${root}/`);
  });

  it('refuses keys that escape its root', async () => {
    await expect(store.head('../etc/passwd')).rejects.toThrow(UsageError);
  });
});
