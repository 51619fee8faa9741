/**
 * What local sources name: files, directories (every regular file under them, in path
 * order, symbolic links not followed) and `-` (standard input), as the objects of a
 * store rooted at `/`. Pipes, standard input and generated files are read once into
 * the scratch directory first.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FileObjectStore } from '../adapters/file-store.js';
import { messageOf, ObjectNotFoundError, UsageError } from '../errors.js';
import type { SourceObject } from '../plan.js';

/** Keys of the store rooted at `/` are absolute paths without their leading slash. */
export const ROOT = '/';
export const keyOf = (path: string) => path.slice(1);

/** Copies what is not a regular file (standard input, a pipe) into `dir`, to count it as one. */
async function spool(
  from: NodeJS.ReadableStream,
  dir: string,
  n: number,
  name: string,
): Promise<string> {
  const path = join(dir, `spooled-${n}`);
  await pipeline(from, createWriteStream(path)).catch((error: unknown) => {
    throw new ObjectNotFoundError(name, `cannot be read: ${messageOf(error)}`, { cause: error });
  });
  return path;
}

/** File systems of generated files: their sizes (0, or a page) are not their lengths. */
const PSEUDO_FILE_SYSTEMS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'debugfs', 'tracefs']);

/** Where such file systems are mounted, in path order (Linux; none elsewhere). */
async function pseudoMounts(): Promise<{ at: string; type: string }[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return table
    .split('\n')
    .flatMap((line) => {
      // ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [TAGS...] - TYPE SOURCE OPTIONS
      const fields = line.split(' ');
      const type = fields[fields.indexOf('-') + 1] ?? '';
      const at = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      );
      return fields.includes('-') && PSEUDO_FILE_SYSTEMS.has(type) ? [{ at, type }] : [];
    })
    .sort((a, b) => (a.at < b.at ? -1 : 1));
}

const within = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

export async function resolveSources(
  store: FileObjectStore,
  args: readonly string[],
  scratch: string,
): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  let spooled = 0;
  if (args.filter((a) => a === '-').length > 1) {
    throw new UsageError('-: standard input can be read once: name it once');
  }
  // An unset variable ("$FILE") would otherwise count the current directory.
  if (args.includes('')) throw new UsageError("'': an empty source names no file");
  const pseudo = await pseudoMounts();
  for (const arg of args) {
    if (arg === '-') {
      const info = await store.head(keyOf(await spool(process.stdin, scratch, spooled++, '-')));
      objects.push({ ...info, uri: '-' });
      continue;
    }
    const path = resolve(arg);
    const found = await stat(path).catch((error: { code?: string }) => {
      const denied = error.code === 'EACCES' || error.code === 'EPERM';
      throw new ObjectNotFoundError(
        path,
        denied ? 'permission denied' : 'no such file or directory',
        {
          cause: error,
        },
      );
    });
    // A link named here is followed: the walk below follows none.
    const real = await realpath(path);
    const generated = pseudo.find((m) => within(real, m.at));
    if (found.isDirectory()) {
      // Walking /proc or /sys would plan by sizes that are not lengths, or never end.
      const mount = generated ?? pseudo.find((m) => within(m.at, real));
      if (mount) {
        throw new ObjectNotFoundError(
          mount.at,
          `a ${mount.type} file system of generated files, not walked; name its files one by one`,
        );
      }
      const listed: SourceObject[] = [];
      for await (const info of store.list(keyOf(real === ROOT ? real : `${real}/`)))
        listed.push(info);
      if (listed.length === 0)
        throw new ObjectNotFoundError(path, 'no regular files in this directory');
      objects.push(...listed);
    } else if (found.isFile() && found.size > 0 && !generated) {
      objects.push(await store.head(keyOf(path)));
    } else {
      // A named pipe (`<(zcat x.gz)`), a device, or a file whose size may not be its
      // length (/proc/cpuinfo says 0 bytes): read once, like standard input.
      const copy = await spool(createReadStream(path), scratch, spooled++, path);
      objects.push({ ...(await store.head(keyOf(copy))), uri: path });
    }
  }
  // Each object once, whichever arguments name it.
  const seen = new Set<string>();
  return objects.filter((o) => !seen.has(o.key) && seen.add(o.key));
}

/** Writing the counts (or the report) over one of the inputs would destroy what was counted. */
export async function refuseInputAsCounts(
  path: string,
  objects: readonly SourceObject[],
  option = '--counts',
): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (!target?.isFile()) return;
  for (const o of objects) {
    if (o.size !== target.size) continue;
    const input = await stat(`${ROOT}${o.key}`).catch(() => undefined);
    if (input?.ino === target.ino && input.dev === target.dev) {
      throw new UsageError(`${option} ${path}: is also a source of this count; name another file`);
    }
  }
}
