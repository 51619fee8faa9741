/**
 * Wiring of sst.config.ts, checked without SST: the platform globals ($config, $app,
 * sst.aws.*) are replaced by recording fakes and the config module is imported after them.
 * The real platform types are checked separately by scripts/typecheck-sst.sh.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localPlan } from '../../scripts/local-stack.js';

type Args = Record<string, unknown>;

interface Created {
  kind: 'Bucket' | 'Function' | 'Queue' | 'CronV2';
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

let created: Created[] = [];
let notifyCalls: { bucket: FakeResource; args: Args }[] = [];
let subscriptions: { queue: FakeResource; subscriber: unknown; args: Args }[] = [];

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

class FakeQueue extends FakeResource {
  readonly url: string;
  constructor(name: string, args: Args = {}) {
    super('sqs', name);
    this.url = `https://sqs.fake/${name}`;
    created.push({ kind: 'Queue', name, args, self: this });
  }
  subscribe(subscriber: unknown, args: Args = {}): Record<string, never> {
    subscriptions.push({ queue: this, subscriber, args });
    return {};
  }
}

class FakeCron extends FakeResource {
  constructor(name: string, args: Args = {}) {
    super('scheduler', name);
    created.push({ kind: 'CronV2', name, args, self: this });
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

/** Runs the config as `sst deploy` (dev false) or `sst dev` (dev true) would, in `env`. */
async function load(dev: boolean, env: Record<string, string> = {}): Promise<void> {
  created = [];
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('WORDCOUNT_')) vi.stubEnv(name, undefined);
  }
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  notifyCalls = [];
  subscriptions = [];
  vi.resetModules();
  vi.stubGlobal('$config', (input: SstConfig) => input);
  vi.stubGlobal('$app', { name: 'wordcount-fanout', stage: 'test' });
  vi.stubGlobal('$dev', dev);
  vi.stubGlobal('sst', {
    aws: { Bucket: FakeBucket, Function: FakeFunction, Queue: FakeQueue, CronV2: FakeCron },
  });
  const mod = (await import(configModule)) as { default: SstConfig };
  config = mod.default;
  outputs = await config.run();
}

const seconds = (text: unknown) => Number.parseInt(String(text), 10);

/** The event source mapping's settings of the queue's subscription, as its transform leaves them. */
function mappingOf(queue: string): Args {
  const sub = subscriptions.find((s) => s.queue === resource(queue).self);
  if (!sub) throw new Error(`nothing subscribes to ${queue}`);
  const mapping: Args = {};
  (sub.args.transform as { eventSourceMapping: (a: Args) => void }).eventSourceMapping(mapping);
  return mapping;
}

beforeAll(() => load(false));

afterAll(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe('sst.config.ts', () => {
  it('app(): aws home, resources removed with the stage, production protected', async () => {
    for (const stage of ['dev', 'prod', 'staging']) {
      expect(await config.app({ stage })).toEqual({
        name: 'wordcount-fanout',
        home: 'aws',
        removal: 'remove',
        protect: false,
      });
    }
    expect(await config.app({ stage: 'production' })).toMatchObject({ protect: true });
  });

  it('creates the Data bucket, the queues, the Counter and Orchestrator, and the watchdog schedule', () => {
    expect(created.map((c) => `${c.kind}:${c.name}`).sort()).toEqual([
      'Bucket:Data',
      'CronV2:Watchdog',
      'Function:Counter',
      'Function:Orchestrator',
      'Queue:DeadLetters',
      'Queue:Tasks',
    ]);
  });

  it('keeps the Data bucket (and its data) when any stage is removed, unless the stage opts out', async () => {
    const retained = () => {
      const opts: { retainOnDelete?: boolean } = {};
      const transform = resource('Data').args.transform as {
        bucket: (args: Args, opts: { retainOnDelete?: boolean }) => void;
      };
      transform.bucket({}, opts);
      return opts.retainOnDelete;
    };
    expect(retained()).toBe(true);
    await load(false, { WORDCOUNT_REMOVE_DATA: 'true' });
    expect(retained()).toBe(false);
    await expect(load(false, { WORDCOUNT_REMOVE_DATA: 'yes' })).rejects.toThrow(
      /WORDCOUNT_REMOVE_DATA must be true or false, got 'yes'/,
    );
    await load(false);
  });

  it('runs the watchdog every 5 minutes: the orchestrator with the sweep event', () => {
    expect(resource('Watchdog').args).toEqual({
      function: resource('Orchestrator').self.arn,
      schedule: 'rate(5 minutes)',
      event: { watchdog: 'sweep' },
    });
  });

  it('expires what jobs leave under jobs/ after 7 days', () => {
    expect(resource('Data').args.lifecycle).toEqual([
      { id: 'jobs-safety-net', prefix: 'jobs/', expiresIn: '7 days' },
    ]);
  });

  it('counter: nodejs22.x on arm64, 1769 MB (one vCPU), 300 s, no reserved concurrency, linked to bucket and queue', () => {
    const counter = resource('Counter');
    expect(counter.args).toMatchObject({
      handler: 'functions/counter.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '1769 MB',
      timeout: '300 seconds',
      environment: { WORDCOUNT_MEMORY_MB: '1769' },
    });
    // A reservation fails the deploy on a new account (quota 10): none unless asked for.
    expect(counter.args.concurrency).toBeUndefined();
    expect(counter.args.link).toEqual([resource('Data').self, resource('Tasks').self]);
  });

  it('reserves concurrency and sets the counters when the stage asks, and refuses pollers over the reservation', async () => {
    await load(false, { WORDCOUNT_RESERVED_CONCURRENCY: '20', WORDCOUNT_COUNTERS: '16' });
    expect(resource('Counter').args.concurrency).toEqual({ reserved: 20 });
    expect(mappingOf('Tasks').scalingConfig).toEqual({ maximumConcurrency: 16 });
    await load(false, { WORDCOUNT_RESERVED_CONCURRENCY: '8' });
    expect(mappingOf('Tasks').scalingConfig).toEqual({ maximumConcurrency: 8 });
    await expect(
      load(false, { WORDCOUNT_RESERVED_CONCURRENCY: '8', WORDCOUNT_COUNTERS: '64' }),
    ).rejects.toThrow(/WORDCOUNT_RESERVED_CONCURRENCY \(8\) is below WORDCOUNT_COUNTERS \(64\)/);
    await expect(load(false, { WORDCOUNT_COUNTERS: '1' })).rejects.toThrow(
      /WORDCOUNT_COUNTERS must be a whole number from 2 to 1000, got '1'/,
    );
    await load(false);
  });

  it('tasks: a visibility timeout past the counter timeout, dead letters after 3 receives', () => {
    const tasks = resource('Tasks').args;
    expect(seconds(tasks.visibilityTimeout)).toBeGreaterThan(
      seconds(resource('Counter').args.timeout),
    );
    expect(tasks.dlq).toEqual({ queue: resource('DeadLetters').self.arn, retry: 3 });
  });

  it('the counter consumes Tasks one message at a time with partial batch responses, at most 64 at once', () => {
    const sub = subscriptions.find((s) => s.queue === resource('Tasks').self);
    expect(sub?.subscriber).toBe(resource('Counter').self.arn);
    expect(sub?.args.batch).toEqual({ size: 1, partialResponses: true });
    expect(mappingOf('Tasks').scalingConfig).toEqual({ maximumConcurrency: 64 });
  });

  it('the dead-letters function consumes DeadLetters with partial batch responses', () => {
    const sub = subscriptions.find((s) => s.queue === resource('DeadLetters').self);
    expect(sub?.subscriber).toMatchObject({
      handler: 'functions/dead-letters.handler',
      runtime: 'nodejs22.x',
      link: [resource('Data').self],
    });
    expect(sub?.args.batch).toEqual({ size: 10, partialResponses: true });
  });

  it('every function logs JSON, kept for a month', () => {
    const deadLetters = subscriptions.find((s) => s.queue === resource('DeadLetters').self);
    const functions = [
      resource('Counter').args,
      resource('Orchestrator').args,
      deadLetters?.subscriber as Args,
    ];
    for (const args of functions) {
      expect(args.logging).toEqual({ format: 'json', retention: '1 month' });
    }
  });

  it('orchestrator: nodejs22.x on arm64, 3008 MB, 15 minutes, linked to bucket, counter and queue', () => {
    const orchestrator = resource('Orchestrator');
    expect(orchestrator.args).toMatchObject({
      handler: 'functions/orchestrator.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '3008 MB',
      timeout: '900 seconds',
    });
    expect(orchestrator.args.link).toEqual([
      resource('Data').self,
      resource('Counter').self,
      resource('Tasks').self,
    ]);
  });

  it('orchestrator environment: queue coordination, concurrency, chunk size, a task timeout past the counter timeout', () => {
    expect(resource('Orchestrator').args.environment).toEqual({
      WORDCOUNT_COORDINATION: 'queue',
      WORDCOUNT_CONCURRENCY: '64',
      WORDCOUNT_CHUNK_SIZE: '16MiB',
      WORDCOUNT_TASK_TIMEOUT_SECONDS: '330',
      // Past a task's timeout and its redelivery (the visibility timeout, 600 s).
      WORDCOUNT_STALL_SECONDS: '990',
      WORDCOUNT_MEMORY_MB: '3008',
    });
    const environment = resource('Orchestrator').args.environment as Record<string, string>;
    expect(Number(environment.WORDCOUNT_TASK_TIMEOUT_SECONDS)).toBeGreaterThan(
      seconds(resource('Counter').args.timeout),
    );
  });

  it('sends an upload whose orchestrator failed on every attempt (2 retries) to DeadLetters', () => {
    const orchestrator = resource('Orchestrator').args;
    expect(orchestrator.retries).toBe(2);
    expect(orchestrator.permissions).toEqual([
      { actions: ['sqs:SendMessage'], resources: [resource('DeadLetters').self.arn] },
    ]);
    const config: Args = {};
    (orchestrator.transform as { eventInvokeConfig: (a: Args) => void }).eventInvokeConfig(config);
    expect(config.destinationConfig).toEqual({
      onFailure: { destination: resource('DeadLetters').self.arn },
    });
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

  it('returns the bucket, function names and queue URLs', () => {
    expect(outputs).toEqual({
      bucket: 'Data-name',
      orchestrator: 'Orchestrator-name',
      counter: 'Counter-name',
      tasks: 'https://sqs.fake/Tasks',
      deadLetters: 'https://sqs.fake/DeadLetters',
    });
  });
});

describe('sst.config.ts under sst dev', () => {
  beforeAll(() => load(true));
  afterAll(() => load(false));

  it('runs fewer counters at once, each with a longer timeout, and keeps the visibility timeout past it', () => {
    expect(seconds(resource('Counter').args.timeout)).toBe(900);
    const environment = resource('Orchestrator').args.environment as Record<string, string>;
    expect(environment.WORDCOUNT_CONCURRENCY).toBe('4');
    expect(environment.WORDCOUNT_TASK_TIMEOUT_SECONDS).toBe('930');
    expect(seconds(resource('Tasks').args.visibilityTimeout)).toBeGreaterThan(900);
    expect(mappingOf('Tasks').scalingConfig).toEqual({ maximumConcurrency: 4 });
  });
});

describe('sst.config.ts and the local stack (scripts/local-stack.ts) deploy one topology', () => {
  beforeAll(() => load(false));

  it('gives the functions the same memory, timeouts and settings, and the queues the same rules', () => {
    const plan = localPlan({
      bucket: 'Data-name',
      counterName: 'Counter-name',
      coordination: 'queue',
      counterTimeout: seconds(resource('Counter').args.timeout),
      chunkSize: '16MiB',
      concurrency: '64',
      environment: {},
    });
    const counter = resource('Counter').args;
    expect(counter.memory).toBe(`${plan.counter.memorySize} MB`);
    expect(counter.timeout).toBe(`${plan.counter.timeout} seconds`);
    expect(counter.environment).toEqual({
      WORDCOUNT_MEMORY_MB: plan.counter.environment.WORDCOUNT_MEMORY_MB,
    });
    const orchestrator = resource('Orchestrator').args;
    expect(orchestrator.memory).toBe(`${plan.orchestrator.memorySize} MB`);
    expect(orchestrator.timeout).toBe(`${plan.orchestrator.timeout} seconds`);
    expect(orchestrator.retries).toBe(plan.orchestratorRetries);
    const { WORDCOUNT_BUCKET, WORDCOUNT_COUNTER_FUNCTION, ...local } =
      plan.orchestrator.environment;
    expect(orchestrator.environment).toEqual(local);
    const tasks = resource('Tasks').args;
    expect(tasks.visibilityTimeout).toBe(`${plan.tasks.visibilitySeconds} seconds`);
    expect((tasks.dlq as { retry: number }).retry).toBe(plan.tasks.maxReceives);
    const sub = subscriptions.find((s) => s.queue === resource('Tasks').self);
    expect(sub?.args.batch).toMatchObject({ size: plan.tasks.batchSize });
    expect(mappingOf('Tasks').scalingConfig).toEqual({
      maximumConcurrency: plan.tasks.maximumConcurrency,
    });
    const deadLetters = subscriptions.find((s) => s.queue === resource('DeadLetters').self);
    expect(deadLetters?.subscriber).toMatchObject({
      memory: `${plan.deadLetters.memorySize} MB`,
      timeout: `${plan.deadLetters.timeout} seconds`,
    });
    expect(deadLetters?.args.batch).toMatchObject({ size: plan.deadLetterQueue.batchSize });
  });
});
