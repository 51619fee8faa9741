/**
 * Project-local Python virtualenvs (MiniStack, LocalStack, the corpus writers): created
 * with WORDCOUNT_PYTHON or python3 when missing, then filled by pip, quietly. One way to
 * make them for scripts/emulator.mjs, scripts/localstack.ts and scripts/corpus-venv.mjs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Runs a command to its end; its output is shown only when it fails (pip's chatter is noise). */
export function runQuiet(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error) throw new Error(`${cmd} failed: ${res.error.message}`);
  if (res.status !== 0) {
    const output = `${res.stdout}${res.stderr}`.trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status}:\n${output}`);
  }
  return res.stdout;
}

/** The version of `pkg` installed for the interpreter `python`, or undefined. */
export function installedVersion(python, pkg) {
  if (!fs.existsSync(python)) return undefined;
  const res = spawnSync(
    python,
    ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(pkg)}))`],
    { encoding: 'utf8' },
  );
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/**
 * Creates the virtualenv `venvDir` unless it is there, then `pip install`s `packages`
 * (names, or `-r FILE`) into it; says what it does as `label: …` to `log`.
 */
export function installVenv({ venvDir, packages, label, what, log = console.log }) {
  const started = Date.now();
  const python = path.join(venvDir, 'bin', 'python');
  fs.mkdirSync(path.dirname(venvDir), { recursive: true });
  if (!fs.existsSync(python)) {
    const base = process.env.WORDCOUNT_PYTHON ?? 'python3';
    log(`${label}: creating ${path.relative(process.cwd(), venvDir) || '.'} with ${base}`);
    runQuiet(base, ['-m', 'venv', venvDir]);
  }
  log(`${label}: installing ${what}`);
  runQuiet(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]);
  log(`${label}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}
