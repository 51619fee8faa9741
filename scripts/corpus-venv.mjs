/**
 * The real writers and readers of corpus formats (pyarrow, zstandard, warcio) and DuckDB,
 * in a project-local virtualenv (.corpus/venv, gitignored) installed from
 * scripts/corpus-requirements.txt (every package pinned). The tests write their corpora
 * and extract their oracle texts with scripts/corpus.py through it; the benchmark runs
 * DuckDB and Python's readers from it.
 *
 *   node scripts/corpus-venv.mjs    creates or updates it
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installVenv, runQuiet } from './venv.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENV_DIR = path.join(ROOT, '.corpus', 'venv');
const REQUIREMENTS = path.join(ROOT, 'scripts', 'corpus-requirements.txt');
/** Written after a successful install: the requirements it installed. */
const STAMP = path.join(VENV_DIR, 'installed-requirements.txt');
export const CORPUS_PYTHON = path.join(VENV_DIR, 'bin', 'python');
export const CORPUS_SCRIPT = path.join(ROOT, 'scripts', 'corpus.py');

/** Creates or updates .corpus/venv unless it already holds the pinned requirements. */
export function ensureCorpusVenv({ log = console.log } = {}) {
  const wanted = fs.readFileSync(REQUIREMENTS, 'utf8');
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === wanted) return CORPUS_PYTHON;
  installVenv({
    venvDir: VENV_DIR,
    packages: ['-r', REQUIREMENTS],
    label: 'corpus',
    what: path.relative(ROOT, REQUIREMENTS),
    log,
  });
  fs.writeFileSync(STAMP, wanted);
  return CORPUS_PYTHON;
}

/** Runs scripts/corpus.py with `args` in the venv; returns what it printed. */
export function corpusPy(args) {
  return runQuiet(ensureCorpusVenv(), [CORPUS_SCRIPT, ...args]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureCorpusVenv();
