/**
 * LocalStack's S3 and SQS providers, run in-process (no Docker) for the tests that prove
 * the calls the ledger depends on against LocalStack's own code as well as MiniStack's.
 * LocalStack's Lambda needs Docker, which these machines lack; docker-compose.yml runs the
 * whole stack where Docker exists.
 *
 * localstack-core 4.13.1 is the last release that runs on Python 3.11 (4.14 needs 3.12).
 * It lives in a project-local virtualenv (.emulator/localstack-venv, gitignored) installed
 * from scripts/localstack-requirements.txt (every package pinned), and keeps its cache in
 * .emulator/localstack-root so that later starts take a second or two. It listens on
 * 127.0.0.1 only, on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion, installVenv } from './venv.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATE_DIR = path.join(ROOT, '.emulator');
const VENV_DIR = path.join(STATE_DIR, 'localstack-venv');
const DATA_DIR = path.join(STATE_DIR, 'localstack-root');
const PYTHON = path.join(VENV_DIR, 'bin', 'python');
const REQUIREMENTS = path.join(ROOT, 'scripts', 'localstack-requirements.txt');
export const LOCALSTACK_VERSION = '4.13.1';
const START_TIMEOUT_MS = 60_000;

/** Creates the virtualenv with the pinned LocalStack unless it is there already. */
export function ensureLocalStack(log: (line: string) => void = console.log): void {
  if (installedVersion(PYTHON, 'localstack-core') === LOCALSTACK_VERSION) return;
  installVenv({
    venvDir: VENV_DIR,
    packages: ['-r', REQUIREMENTS],
    label: 'localstack',
    what: `localstack-core==${LOCALSTACK_VERSION} (S3 and SQS, in-process)`,
    log,
  });
}

/** A port nothing listens on (LocalStack does not fail on a taken one: it hangs). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/_localstack/health`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { services?: Record<string, string> };
    return body.services?.s3 === 'running' && body.services?.sqs === 'running';
  } catch {
    return false;
  }
}

export interface RunningLocalStack {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts LocalStack's S3 and SQS on 127.0.0.1 and resolves once both are running. */
export async function startLocalStack(
  log: (line: string) => void = console.log,
): Promise<RunningLocalStack> {
  ensureLocalStack(log);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  // Its own settings only: the caller's AWS settings and project variables stay out.
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|WORDCOUNT_|npm_|VITEST|LOCALSTACK_)/.test(key)) env[key] = value;
  }
  Object.assign(env, {
    SERVICES: 's3,sqs',
    EAGER_SERVICE_LOADING: '1',
    DNS_ADDRESS: '0',
    DISABLE_EVENTS: '1',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    // The default server ignores the host to listen on; hypercorn binds loopback only.
    GATEWAY_SERVER: 'hypercorn',
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    LOCALSTACK_HOST: `127.0.0.1:${port}`,
    SQS_ENDPOINT_STRATEGY: 'path',
    // A machine with /.dockerenv looks like a container to it: keep its files here.
    OVERRIDE_IN_DOCKER: '0',
    FILESYSTEM_ROOT: DATA_DIR,
    XDG_CACHE_HOME: path.join(DATA_DIR, 'xdg-cache'),
    PYTHONUNBUFFERED: '1',
  });
  const child: ChildProcess = spawn(PYTHON, ['-m', 'localstack.runtime.main'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = `${output}${d.toString()}`.slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  const stop = async () => {
    if (exited) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };
  // It has no parent-death handling: take it down with this process.
  process.once('exit', () => child.kill('SIGKILL'));
  const started = Date.now();
  while (!(await healthy(endpoint))) {
    if (exited || Date.now() - started > START_TIMEOUT_MS) {
      await stop();
      throw new Error(`LocalStack did not start (${exited ?? 'timed out'}):\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`localstack: S3 and SQS at ${endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { endpoint, stop };
}
