/**
 * Packages a Lambda zip ships beside its bundle, in node_modules/, as SST's
 * `nodejs.install` does: native addons (@node-rs/jieba) esbuild cannot bundle. Here the
 * functions run on this machine's emulator, so the package goes with this machine's
 * prebuilt binary (@node-rs/jieba-linux-x64-gnu, say), the one npm installed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Packages the counter loads at run time (lib/segmenter.ts). */
export const COUNTER_INSTALL = ['@node-rs/jieba'];

/** The files of `names` and of their installed platform packages (`NAME-*`), by zip path. */
export function installedFiles(root: string, names: readonly string[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of names) {
    const [scope, base] = name.startsWith('@') ? name.split('/') : ['', name];
    const parent = path.join(root, 'node_modules', scope ?? '');
    const dirs = readdirSync(parent).filter((d) => d === base || d.startsWith(`${base}-`));
    if (!dirs.includes(base as string)) throw new Error(`${name} is not installed: run npm ci`);
    for (const dir of dirs) addTree(files, root, path.join(parent, dir));
  }
  return files;
}

function addTree(files: Map<string, Uint8Array>, root: string, dir: string): void {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) addTree(files, root, full);
    else files.set(path.relative(root, full).split(path.sep).join('/'), readFileSync(full));
  }
}
