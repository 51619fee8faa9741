/**
 * Finding (or installing) the Chromium that the report's browser tests and the
 * screenshot script drive through playwright-core.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { aptInstall, executable } from './debian.mjs';

/** Commands that start Chromium on the PATH, in the order they are tried. */
export const CHROMIUM_COMMANDS = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
];

/** The browser answers `--version`: a stale link or a broken install does not count. */
function answers(file) {
  const run = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return run.status === 0 && /\d+\.\d+/.test(run.stdout);
}

/** Browsers Playwright downloaded on some other machine or earlier (its cache layout). */
function playwrightCache(env) {
  const root =
    env.PLAYWRIGHT_BROWSERS_PATH && env.PLAYWRIGHT_BROWSERS_PATH !== '0'
      ? env.PLAYWRIGHT_BROWSERS_PATH
      : path.join(env.HOME ?? homedir(), '.cache', 'ms-playwright');
  let dirs;
  try {
    dirs = readdirSync(root).sort().reverse();
  } catch {
    return [];
  }
  const found = [];
  for (const dir of dirs) {
    if (dir.startsWith('chromium_headless_shell-')) {
      for (const sub of ['chrome-linux', 'chrome-headless-shell-linux64']) {
        found.push(path.join(root, dir, sub, 'headless_shell'));
        found.push(path.join(root, dir, sub, 'chrome-headless-shell'));
      }
    } else if (dir.startsWith('chromium-')) {
      for (const sub of ['chrome-linux', 'chrome-linux64'])
        found.push(path.join(root, dir, sub, 'chrome'));
    }
  }
  return found;
}

function onPath(env) {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return CHROMIUM_COMMANDS.flatMap((command) => dirs.map((dir) => path.join(dir, command)));
}

/**
 * The first working Chromium: CHROMIUM_PATH, Playwright's browser cache, then the usual
 * commands on the PATH. Undefined when there is none. CHROMIUM_PATH naming something
 * that does not run is an error, not a reason to look elsewhere.
 */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) {
    if (executable(env.CHROMIUM_PATH) && answers(env.CHROMIUM_PATH)) return env.CHROMIUM_PATH;
    throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not a Chromium that runs`);
  }
  for (const file of [...playwrightCache(env), ...onPath(env)]) {
    if (executable(file) && answers(file)) return file;
  }
  return undefined;
}

/**
 * Installs Debian's `chromium` where this process may (root, with apt-get), then finds
 * it. Returns `{ path }`, or `{ reason }`: one line saying what to install.
 */
export function installChromium(log = () => {}, env = process.env) {
  const hint =
    'no Chromium found for the report tests: install one (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH';
  const installed = aptInstall(['chromium'], log, env);
  if (!installed.ok) return { reason: `${hint} (${installed.reason})` };
  const found = findChromium({ ...env, CHROMIUM_PATH: '' });
  return found ? { path: found } : { reason: hint };
}
