/**
 * The real writers and readers of corpus formats (pyarrow, zstandard, warcio) and DuckDB,
 * in a project-local virtualenv (.corpus/venv, gitignored) installed from
 * scripts/corpus-requirements.txt (every package pinned). The tests write their corpora
 * and extract their oracle texts with scripts/corpus.py through it; the benchmark runs
 * DuckDB and Python's readers from it.
 *
 *   node scripts/corpus-venv.mjs    creates or updates it
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENV_DIR = path.join(ROOT, '.corpus', 'venv');
const REQUIREMENTS = path.join(ROOT, 'scripts', 'corpus-requirements.txt');
/** Written after a successful install: the requirements it installed. */
const STAMP = path.join(VENV_DIR, 'installed-requirements.txt');
export const CORPUS_PYTHON = path.join(VENV_DIR, 'bin', 'python');
export const CORPUS_SCRIPT = path.join(ROOT, 'scripts', 'corpus.py');

function run(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error) throw new Error(`${cmd} failed: ${res.error.message}`);
  if (res.status !== 0) {
    const output = `${res.stdout}${res.stderr}`.trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status}:\n${output}`);
  }
  return res.stdout;
}

/** Creates or updates .corpus/venv unless it already holds the pinned requirements. */
export function ensureCorpusVenv({ log = console.log } = {}) {
  const wanted = fs.readFileSync(REQUIREMENTS, 'utf8');
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === wanted) return CORPUS_PYTHON;
  const started = Date.now();
  if (!fs.existsSync(CORPUS_PYTHON)) {
    const python = process.env.WORDCOUNT_PYTHON ?? 'python3';
    log(`corpus: creating ${path.relative(ROOT, VENV_DIR)} with ${python}`);
    run(python, ['-m', 'venv', VENV_DIR]);
  }
  log(`corpus: installing ${path.relative(ROOT, REQUIREMENTS)}`);
  run(CORPUS_PYTHON, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    REQUIREMENTS,
  ]);
  fs.writeFileSync(STAMP, wanted);
  log(`corpus: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return CORPUS_PYTHON;
}

/** Runs scripts/corpus.py with `args` in the venv; returns what it printed. */
export function corpusPy(args) {
  return run(ensureCorpusVenv(), [CORPUS_SCRIPT, ...args]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureCorpusVenv();
