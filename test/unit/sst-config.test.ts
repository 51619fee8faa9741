/**
 * Wiring of sst.config.ts, checked without SST: the platform globals ($config, $app,
 * sst.aws.*) are replaced by recording fakes and the config module is imported after them.
 * The real platform types are checked separately by scripts/typecheck-sst.sh.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Args = Record<string, unknown>;

interface Created {
  kind: 'Bucket' | 'Function';
  name: string;
  args: Args;
  self: FakeResource;
}

class FakeResource {
  readonly name: string;
  readonly arn: string;
  constructor(kind: string, name: string) {
    this.name = `${name}-name`;
    this.arn = `arn:aws:fake:${kind}:${name}`;
  }
}

const created: Created[] = [];
const notifyCalls: { bucket: FakeResource; args: Args }[] = [];

class FakeBucket extends FakeResource {
  constructor(name: string, args: Args = {}) {
    super('s3', name);
    created.push({ kind: 'Bucket', name, args, self: this });
  }
  notify(args: Args): Record<string, never> {
    notifyCalls.push({ bucket: this, args });
    return {};
  }
}

class FakeFunction extends FakeResource {
  constructor(name: string, args: Args = {}) {
    super('lambda', name);
    created.push({ kind: 'Function', name, args, self: this });
  }
}

interface AppSettings {
  name: string;
  home: string;
  removal: string;
  protect?: boolean;
}

interface SstConfig {
  app(input: { stage: string }): AppSettings | Promise<AppSettings>;
  run(): Promise<unknown>;
}

// A non-literal specifier keeps the main typecheck (tsc -p .) from pulling sst.config.ts, and
// through its triple-slash reference the .sst/platform sources, into the program.
const configModule: string = '../../sst.config.ts';

let config: SstConfig;
let outputs: unknown;

function resource(name: string): Created {
  const found = created.find((c) => c.name === name);
  if (!found) throw new Error(`no resource named ${name}`);
  return found;
}

beforeAll(async () => {
  vi.stubGlobal('$config', (input: SstConfig) => input);
  vi.stubGlobal('$app', { name: 'wordcount-fanout', stage: 'test' });
  vi.stubGlobal('sst', { aws: { Bucket: FakeBucket, Function: FakeFunction } });
  const mod = (await import(configModule)) as { default: SstConfig };
  config = mod.default;
  outputs = await config.run();
});

afterAll(() => {
  vi.unstubAllGlobals();
});

describe('sst.config.ts', () => {
  it('app(): aws home, removed on dev stages, retained and protected in production', async () => {
    expect(await config.app({ stage: 'dev' })).toEqual({
      name: 'wordcount-fanout',
      home: 'aws',
      removal: 'remove',
      protect: false,
    });
    expect(await config.app({ stage: 'production' })).toEqual({
      name: 'wordcount-fanout',
      home: 'aws',
      removal: 'retain',
      protect: true,
    });
  });

  it('creates exactly the Data bucket and the Counter and Orchestrator functions', () => {
    expect(created.map((c) => `${c.kind}:${c.name}`).sort()).toEqual([
      'Bucket:Data',
      'Function:Counter',
      'Function:Orchestrator',
    ]);
  });

  it('counter: nodejs22.x on arm64, 1769 MB (one vCPU), 300 s, linked to the bucket', () => {
    const counter = resource('Counter');
    expect(counter.args).toMatchObject({
      handler: 'functions/counter.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '1769 MB',
      timeout: '300 seconds',
    });
    expect(counter.args.link).toEqual([resource('Data').self]);
  });

  it('orchestrator: nodejs22.x on arm64, 3008 MB, 15 minutes, linked to bucket and counter', () => {
    const orchestrator = resource('Orchestrator');
    expect(orchestrator.args).toMatchObject({
      handler: 'functions/orchestrator.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '3008 MB',
      timeout: '15 minutes',
    });
    const link = orchestrator.args.link as unknown[];
    expect(link).toHaveLength(2);
    expect(link[0]).toBe(resource('Data').self);
    expect(link[1]).toBe(resource('Counter').self);
  });

  it('orchestrator environment: concurrency, chunk size, and a task timeout past the counter timeout', () => {
    expect(resource('Orchestrator').args.environment).toEqual({
      WORDCOUNT_CONCURRENCY: '64',
      WORDCOUNT_CHUNK_SIZE: '16MiB',
      WORDCOUNT_TASK_TIMEOUT_SECONDS: '330',
    });
    const counterSeconds = Number.parseInt(String(resource('Counter').args.timeout), 10);
    const environment = resource('Orchestrator').args.environment as Record<string, string>;
    expect(Number(environment.WORDCOUNT_TASK_TIMEOUT_SECONDS)).toBeGreaterThan(counterSeconds);
  });

  it('notifies the orchestrator of object creations under input/ only', () => {
    expect(notifyCalls).toHaveLength(1);
    const call = notifyCalls[0];
    expect(call?.bucket).toBe(resource('Data').self);
    expect(call?.args).toEqual({
      notifications: [
        {
          name: 'OrchestratorOnInput',
          function: resource('Orchestrator').self.arn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: 'input/',
        },
      ],
    });
    // Nothing the system writes may fall under the trigger prefix.
    for (const written of ['output/', 'results/', 'jobs/'])
      expect(written.startsWith('input/')).toBe(false);
  });

  it('returns the bucket, orchestrator and counter names', () => {
    expect(outputs).toEqual({
      bucket: 'Data-name',
      orchestrator: 'Orchestrator-name',
      counter: 'Counter-name',
    });
  });
});
