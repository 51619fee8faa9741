#!/usr/bin/env node
/**
 * Local AWS emulator (MiniStack, PyPI `ministack`) for the e2e tests and the offline demo.
 *
 *   node scripts/emulator.mjs start|stop|status
 *
 * The emulator lives in a project-local virtualenv (.emulator/venv, gitignored) and runs
 * detached; its log and pid are in .emulator/. Port: WORDCOUNT_EMULATOR_PORT (default 4566).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion, installVenv } from './venv.mjs';

export const MINISTACK_VERSION = '1.5.33';
export const DEFAULT_PORT = 4566;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATE_DIR = path.join(ROOT, '.emulator');
const VENV_DIR = path.join(STATE_DIR, 'venv');
const BIN_DIR = path.join(VENV_DIR, process.platform === 'win32' ? 'Scripts' : 'bin');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rel = (p) => path.relative(process.cwd(), p) || '.';

/** Port from the argument, else WORDCOUNT_EMULATOR_PORT, else 4566. */
export function emulatorPort(port = process.env.WORDCOUNT_EMULATOR_PORT) {
  const value = Number(port ?? DEFAULT_PORT);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`invalid emulator port: ${port}`);
  }
  return value;
}

export const emulatorEndpoint = (port) => `http://127.0.0.1:${emulatorPort(port)}`;

// The default port keeps the plain file names; other ports (parallel test runs) get their own.
function emulatorFiles(port) {
  const suffix = port === DEFAULT_PORT ? '' : `-${port}`;
  return {
    pidFile: path.join(STATE_DIR, `ministack${suffix}.pid`),
    logFile: path.join(STATE_DIR, `ministack${suffix}.log`),
    // Lambda code is unpacked under TMPDIR: outside the project, or Node would resolve the
    // project's node_modules from there and hide bundling bugs.
    tmpDir: path.join(os.tmpdir(), `wordcount-ministack-${port}`),
  };
}

/**
 * HTTP status of a GET to `url`, or undefined when nothing answers within `timeoutMs`.
 * Plain node:http rather than fetch: fetch's AbortSignal.timeout timer is unref'd, so a peer
 * that accepts and never answers let the CLI exit silently with code 0.
 */
export function httpStatus(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

/** True when a MiniStack health endpoint answers 200 at `endpoint`. */
export async function emulatorHealthy(endpoint = emulatorEndpoint()) {
  return (await httpStatus(`${endpoint}/_ministack/health`)) === 200;
}

// Anything listening (LocalStack answers too, just not on /_ministack/health).
const portAnswers = async (endpoint) => (await httpStatus(endpoint)) !== undefined;

function readPid(pidFile) {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// Guards against a stale pid file whose pid now belongs to an unrelated process.
function isMinistack(pid) {
  if (!alive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ministack');
  } catch {
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.includes('ministack') : true;
  }
}

function logTail(logFile, lines = 25) {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Creates .emulator/venv with the pinned ministack unless it is already there. */
export function ensureVenv({ log = console.log } = {}) {
  if (installedVersion(path.join(BIN_DIR, 'python'), 'ministack') === MINISTACK_VERSION) {
    return false;
  }
  installVenv({
    venvDir: VENV_DIR,
    packages: [`ministack==${MINISTACK_VERSION}`],
    label: 'emulator',
    what: `ministack==${MINISTACK_VERSION} into ${rel(VENV_DIR)}`,
    log,
  });
  return true;
}

// Lambda processes inherit the emulator's environment: keep the caller's AWS settings
// (credentials, region, profile, endpoint), Node flags and our own config out of them.
function emulatorEnv(port, tmpDir) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|WORDCOUNT_|npm_|VITEST)/.test(key) || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return {
    ...env,
    BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    TMPDIR: tmpDir,
    STATE_DIR: path.join(tmpDir, 'state'),
    S3_DATA_DIR: path.join(tmpDir, 's3'),
    SFTP_ENABLED: '0',
    // A live log (block buffering would lose the tail that explains a failed start).
    PYTHONUNBUFFERED: '1',
    // The host node stands in for nodejs22.x; the SDK's "use node >= 22" warning is noise there.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * Starts MiniStack detached on 127.0.0.1:`port` and resolves once it is healthy.
 * A no-op when an emulator already answers there.
 */
export async function startEmulator({ port, log = console.log } = {}) {
  const p = emulatorPort(port);
  const endpoint = emulatorEndpoint(p);
  const { pidFile, logFile, tmpDir } = emulatorFiles(p);
  if (await emulatorHealthy(endpoint)) {
    log(`emulator: already running at ${endpoint}`);
    return { endpoint, pid: readPid(pidFile), alreadyRunning: true };
  }
  if (await portAnswers(endpoint)) {
    throw new Error(`port ${p} is taken by something that is not MiniStack (LocalStack?)`);
  }
  if (tmpDir.startsWith(`${ROOT}${path.sep}`)) {
    throw new Error(`TMPDIR ${os.tmpdir()} is inside the project; point it elsewhere`);
  }
  ensureVenv({ log });

  const stale = readPid(pidFile);
  if (stale && isMinistack(stale)) process.kill(stale, 'SIGTERM');
  fs.mkdirSync(tmpDir, { recursive: true });
  const out = fs.openSync(logFile, 'w');
  const started = Date.now();
  const child = spawn(path.join(BIN_DIR, 'ministack'), [], {
    cwd: STATE_DIR,
    env: emulatorEnv(p, tmpDir),
    detached: true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exited;
  child.on('error', (error) => {
    exited = error.message;
  });
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);

  while (Date.now() - started < START_TIMEOUT_MS && exited === undefined) {
    if (await emulatorHealthy(endpoint)) {
      log(
        `emulator: MiniStack ${MINISTACK_VERSION} ready at ${endpoint} (pid ${child.pid}, ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s, log ${rel(logFile)})`,
      );
      return { endpoint, pid: child.pid, alreadyRunning: false };
    }
    await sleep(200);
  }
  if (exited === undefined && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
  fs.rmSync(pidFile, { force: true });
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const reason = exited ?? `not healthy after ${START_TIMEOUT_MS / 1000} s`;
  throw new Error(`MiniStack ${reason}; ${rel(logFile)} ends with:\n${logTail(logFile)}`);
}

/** Stops the emulator this script started on `port`; a no-op when none is running. */
export async function stopEmulator({ port, log = console.log } = {}) {
  const p = emulatorPort(port);
  const endpoint = emulatorEndpoint(p);
  const { pidFile, tmpDir } = emulatorFiles(p);
  const pid = readPid(pidFile);
  if (!pid || !isMinistack(pid)) {
    fs.rmSync(pidFile, { force: true });
    if (await portAnswers(endpoint)) {
      throw new Error(`something answers at ${endpoint} but was not started by this script`);
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
    log(`emulator: not running on port ${p}`);
    return { stopped: false };
  }
  const started = Date.now();
  process.kill(pid, 'SIGTERM');
  while (Date.now() - started < STOP_TIMEOUT_MS && (alive(pid) || (await portAnswers(endpoint)))) {
    await sleep(100);
  }
  if (alive(pid)) {
    // Its own process group (spawned detached): take any Lambda workers down with it.
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
    log(`emulator: pid ${pid} ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s, killed`);
  }
  fs.rmSync(pidFile, { force: true });
  fs.rmSync(tmpDir, { recursive: true, force: true });
  log(`emulator: stopped (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { stopped: true, pid };
}

/** `{ running, endpoint, pid }`; `pid` is undefined for an emulator this script did not start. */
export async function emulatorStatus({ port } = {}) {
  const p = emulatorPort(port);
  const endpoint = emulatorEndpoint(p);
  const pid = readPid(emulatorFiles(p).pidFile);
  const running = await emulatorHealthy(endpoint);
  return { running, endpoint, pid: running && pid && isMinistack(pid) ? pid : undefined };
}

async function main(command) {
  switch (command) {
    case 'start':
      await startEmulator();
      return 0;
    case 'stop':
      await stopEmulator();
      return 0;
    case 'status': {
      const { running, endpoint, pid } = await emulatorStatus();
      if (!running) console.log(`emulator: not running at ${endpoint}`);
      else console.log(`emulator: running at ${endpoint}${pid ? ` (pid ${pid})` : ''}`);
      return running ? 0 : 1;
    }
    default:
      console.error('usage: node scripts/emulator.mjs start|stop|status');
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`emulator: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
