/** The benchmark's inputs: the King James Bible and Chinese text repeated, and generated vocabularies. */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, relative } from 'node:path';
import { die, log, MiB } from './measure.mjs';

/** The whole King James Bible as printed by the bible-kjv package (about 4.4 MB). */
export function bibleText() {
  const result = spawnSync('bible', ['-f', 'Gen1:1-Rev22:21'], {
    maxBuffer: 64 * MiB,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error?.code === 'ENOENT') {
    die(
      'the `bible` command was not found. The benchmark uses the King James Bible as its prose\n' +
        'sample; install it with:\n\n    sudo apt-get install bible-kjv\n',
    );
  }
  if (result.error) die(`bible: ${result.error.message}`);
  if (result.status !== 0 || result.stdout.length < 4_000_000) {
    die(
      `\`bible -f Gen1:1-Rev22:21\` failed (exit ${result.status}, ${result.stdout.length} bytes): ${result.stderr}`,
    );
  }
  return result.stdout;
}

const FORTUNES_ZH = ['chinese', 'tang300', 'song100'].map((f) => `/usr/share/games/fortunes/${f}`);

/**
 * Chinese prose and Tang and Song poetry from Debian's fortunes-zh package (about 2 MB),
 * without its colour escapes and `%` separators.
 */
export function chineseText() {
  const missing = FORTUNES_ZH.find((path) => !existsSync(path));
  if (missing) {
    die(
      `${missing} was not found. The benchmark's Chinese sample is Debian's fortunes-zh;\n` +
        'install it with:\n\n    sudo apt-get install fortunes-zh\n',
    );
  }
  const text = FORTUNES_ZH.map((path) => readFileSync(path, 'utf8'))
    .join('\n')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .replace(/^%$/gm, '');
  return Buffer.from(text);
}

/**
 * Writes the file at `path` with `write(fd)` unless a file of `expectedBytes` is
 * already there (`expectedBytes` undefined: any existing file is reused). Written aside
 * and renamed, so an interrupted run never leaves a file that looks reusable.
 */
export function ensureFile(path, expectedBytes, write, root) {
  if (existsSync(path) && (expectedBytes === undefined || statSync(path).size === expectedBytes))
    return statSync(path).size;
  log(`creating ${relative(root, path)}…`);
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    write(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return statSync(path).size;
}

/** `block` repeated (whole copies, so every count is an exact multiple) to at least `minBytes`. */
export function ensureRepeated(path, block, minBytes, root) {
  const copies = Math.ceil(minBytes / block.length);
  const bytes = copies * block.length;
  ensureFile(
    path,
    bytes,
    (fd) => {
      const perBatch = Math.max(1, Math.floor((16 * MiB) / block.length));
      const batch = Buffer.concat(Array(Math.min(perBatch, copies)).fill(block));
      for (let left = copies; left > 0; ) {
        const n = Math.min(left, perBatch);
        const piece = batch.subarray(0, n * block.length);
        for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off);
        left -= n;
      }
    },
    root,
  );
  return { bytes, copies };
}

const FREQUENT = 'the and of to that in he shall unto for'.split(' ');

/**
 * `distinct` tokens ('v' + a bijection of i, base 36, so no two are equal and they come
 * in no sorted order), each once, one per line, with `perDistinct` frequent words after
 * each on lines of their own: what `sort | uniq -c` counts without any preprocessing.
 */
export function writeVocabulary(fd, distinct, perDistinct) {
  const buf = Buffer.allocUnsafe(1 << 22);
  let o = 0;
  let f = 0;
  for (let i = 0; i < distinct; i++) {
    o += buf.write(`v${(Math.imul(i, 0x9e3779b1) >>> 0).toString(36)}\n`, o, 'latin1');
    for (let k = 0; k < perDistinct; k++) {
      o += buf.write(`${FREQUENT[f++ % FREQUENT.length]}\n`, o, 'latin1');
    }
    if (o > buf.length - 1024) {
      for (let off = 0; off < o; ) off += writeSync(fd, buf, off, o - off);
      o = 0;
    }
  }
  for (let off = 0; off < o; ) off += writeSync(fd, buf, off, o - off);
}

/** About `bytes` of tokens drawn at random from `vocabulary` words (half of them frequent ones). */
export function writeDrawn(fd, vocabulary, bytes) {
  const buf = Buffer.allocUnsafe(1 << 22);
  let o = 0;
  let total = 0;
  let x = 12345;
  while (total < bytes) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const token =
      x & 1
        ? FREQUENT[(x >>> 1) % FREQUENT.length]
        : `w${(Math.imul((x >>> 1) % vocabulary, 0x9e3779b1) >>> 0).toString(36)}`;
    const n = buf.write(token, o, 'latin1');
    o += n;
    buf[o++] = x & 0x70 ? 32 : 10;
    total += n + 1;
    if (o > buf.length - 64) {
      for (let off = 0; off < o; ) off += writeSync(fd, buf, off, o - off);
      o = 0;
    }
  }
  for (let off = 0; off < o; ) off += writeSync(fd, buf, off, o - off);
}

/** Reads a file once so that no timed run pays for the disk. */
export function warmPageCache(path) {
  const buffer = Buffer.allocUnsafe(16 * MiB);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}
