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

  it('names a prefix with its trailing slash', () => {
    expect(store.uri('tree/')).toBe(`${join(root, 'tree')}/`);
    expect(store.uri('')).toBe(`${root}/`);
  });

  it('refuses keys that escape its root', async () => {
    await expect(store.head('../etc/passwd')).rejects.toThrow(UsageError);
  });
});
