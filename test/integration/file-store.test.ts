import { mkdir, mkdtemp } from 'node:fs/promises';
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

  it('refuses keys that escape its root', async () => {
    await expect(store.head('../etc/passwd')).rejects.toThrow(UsageError);
  });
});
