import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterConfig, memoryOf, orchestratorConfig, sstLinksActive } from '../../lib/config.js';
import { DEFAULT_PRICES } from '../../lib/cost/prices.js';
import { UsageError } from '../../lib/errors.js';
import {
  activeJobKey,
  attemptPrefix,
  claimKey,
  createdObjects,
  decodeS3Key,
  INPUT_PREFIX,
  type InputName,
  inputEtag,
  isExcludedFromListing,
  jobIdFor,
  jobPrefix,
  ledgerKeys,
  mapSpillPart,
  mapSpillPrefix,
  outputKeys,
  shardKey,
  statusKey,
} from '../../lib/keys.js';

describe('keys', () => {
  it('decodes S3 event keys: + is a space, then percent-escapes', () => {
    expect(decodeS3Key('input/some+key+with+spaces.txt')).toBe('input/some key with spaces.txt');
    expect(decodeS3Key('input/plus%2Band%26%3D%C3%BC%E2%82%AC.txt')).toBe('input/plus+and&=ü€.txt');
  });

  it('names an event key that is not valid percent-encoding', () => {
    expect(() => decodeS3Key('input/100%.txt')).toThrow(
      "S3 event key 'input/100%.txt' is not valid percent-encoding",
    );
  });

  it('reads every created object of a notification, decoded, and skips other events', () => {
    const record = (eventName: string, key: string, sequencer?: string) => ({
      eventName,
      s3: { bucket: { name: 'b' }, object: { key, eTag: 'e1', ...(sequencer && { sequencer }) } },
    });
    expect(
      createdObjects({
        Records: [
          record('ObjectCreated:Put', 'input/a+b.txt', '0055AED6DCD90281E5'),
          record('ObjectRemoved:Delete', 'input/c.txt'),
          record('ObjectCreated:CompleteMultipartUpload', 'input/%C3%A9.txt'),
          // What the S3 console's "Create folder" uploads: not an input.
          record('ObjectCreated:Put', 'input/books/'),
        ],
      }),
    ).toEqual([
      // Which upload it was: the sequencer where the event has one, else the ETag.
      { bucket: 'b', key: 'input/a b.txt', version: '0055AED6DCD90281E5' },
      { bucket: 'b', key: 'input/é.txt', version: 'e1' },
    ]);
  });

  it('maps input/REL to output/REL.json, output/REL.counts.tsv and output/REL.report.html', () => {
    expect(outputKeys({ kind: 'key', key: 'input/books/a b.txt' })).toEqual({
      summary: 'output/books/a b.txt.json',
      counts: 'output/books/a b.txt.counts.tsv',
      report: 'output/books/a b.txt.report.html',
    });
    expect(outputKeys({ kind: 'key', key: 'input/books.manifest.json' }).summary).toBe(
      'output/books.manifest.json.json',
    );
  });

  it('gives keys outside input/, prefixes and key lists namespaces of their own', () => {
    expect(outputKeys({ kind: 'key', key: 'col/x.txt' }).summary).toBe(
      'results/key/col/x.txt.json',
    );
    expect(outputKeys({ kind: 'prefix', prefix: 'books/' }).counts).toBe(
      'results/prefix/books/index.counts.tsv',
    );
    expect(outputKeys({ kind: 'keys', keys: ['b', 'a', 'a'] })).toEqual(
      outputKeys({ kind: 'keys', keys: ['a', 'b'] }),
    );
    expect(outputKeys({ kind: 'keys', keys: ['a', 'b'] }).summary).toMatch(
      /^results\/keys\/[0-9a-f]{32}\.json$/,
    );
  });

  it('never publishes two different inputs to the same key', () => {
    const segment = fc.stringMatching(/^[a-z./]{0,6}$/);
    const input: fc.Arbitrary<InputName> = fc.oneof(
      segment.map((key) => ({ kind: 'key' as const, key: `input/${key}x` })),
      segment.map((key) => ({ kind: 'key' as const, key: `${key}x` })),
      segment.map((prefix) => ({ kind: 'prefix' as const, prefix })),
      fc
        .uniqueArray(
          segment.map((k) => `${k}x`),
          { minLength: 1, maxLength: 3 },
        )
        .map((keys) => ({ kind: 'keys' as const, keys })),
    );
    const same = (a: InputName, b: InputName) =>
      JSON.stringify(a.kind === 'keys' ? { ...a, keys: [...a.keys].sort() } : a) ===
      JSON.stringify(b.kind === 'keys' ? { ...b, keys: [...b.keys].sort() } : b);
    fc.assert(
      fc.property(input, input, (a, b) => {
        const ka = outputKeys(a);
        const kb = outputKeys(b);
        const collide = [ka.summary, ka.counts].some((k) => k === kb.summary || k === kb.counts);
        expect(collide).toBe(same(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('derives the same job id from the same object versions and options only', () => {
    const base = {
      bucket: 'b',
      input: { kind: 'key', key: 'input/x' } as InputName,
      objects: [{ key: 'input/x', etag: '"e1"' }],
      mode: 'words',
      chunkSize: 16,
    };
    expect(jobIdFor(base)).toBe(jobIdFor({ ...base }));
    for (const change of [
      { objects: [{ key: 'input/x', etag: '"e2"' }] },
      {
        objects: [
          { key: 'input/x', etag: '"e1"' },
          { key: 'input/y', etag: '"e1"' },
        ],
      },
      { mode: 'whitespace' },
      { chunkSize: 17 },
      { input: { kind: 'prefix', prefix: 'input/' } as InputName },
      { bucket: 'c' },
    ]) {
      expect(jobIdFor({ ...base, ...change })).not.toBe(jobIdFor(base));
    }
  });

  it('versions an input by every object', () => {
    expect(inputEtag([{ key: 'a', etag: '"x"' }])).toBe('"x"');
    const two = inputEtag([
      { key: 'a', etag: '"x"' },
      { key: 'b', etag: '"y"' },
    ]);
    expect(two).toMatch(/^2-[0-9a-f]{32}$/);
    expect(
      inputEtag([
        { key: 'a', etag: '"x"' },
        { key: 'b', etag: '"z"' },
      ]),
    ).not.toBe(two);
  });

  it('keeps everything the system writes out of the trigger prefix and out of listings', () => {
    const id = jobIdFor({
      bucket: 'b',
      input: { kind: 'key', key: 'input/x' },
      objects: [],
      mode: 'words',
      chunkSize: 1,
    });
    const written = [
      ...Object.values(outputKeys({ kind: 'key', key: 'input/x' })),
      ...Object.values(outputKeys({ kind: 'prefix', prefix: 'input/' })),
      statusKey(id),
      claimKey(id),
      activeJobKey(id),
      ledgerKeys.commit(attemptPrefix(id, 'a1'), 'map', 7),
      ledgerKeys.runs(attemptPrefix(id, 'a1'), 'map', 7),
      mapSpillPart(mapSpillPrefix(jobPrefix(id), 3), 1),
      shardKey(jobPrefix(id), 2),
    ];
    for (const key of written) {
      expect(key.startsWith(INPUT_PREFIX)).toBe(false);
      expect(isExcludedFromListing(key)).toBe(true);
    }
    expect(isExcludedFromListing('input/a.manifest.json')).toBe(true);
    expect(isExcludedFromListing('input/a.txt')).toBe(false);
  });
});

describe('function configuration', () => {
  it('reads plain environment variables when SST links are not active', () => {
    const env = {
      WORDCOUNT_BUCKET: 'bkt',
      WORDCOUNT_COORDINATION: 'rpc',
      WORDCOUNT_COUNTER_FUNCTION: 'ctr',
      WORDCOUNT_CONCURRENCY: '8',
      WORDCOUNT_CHUNK_SIZE: '1MiB',
      WORDCOUNT_MEMORY_MB: '3008',
    };
    expect(sstLinksActive(env)).toBe(false);
    expect(orchestratorConfig(env)).toEqual({
      coordination: 'rpc',
      bucket: 'bkt',
      counterFunction: 'ctr',
      concurrency: 8,
      chunkSize: 1024 * 1024,
      taskTimeoutMs: 330_000,
      heartbeatMs: 30_000,
      prices: DEFAULT_PRICES,
      memoryMb: 3008,
      // Three task timeouts: past a timed-out task's redelivery (twice its timeout).
      stallMs: 990_000,
    });
    expect(Object.isFrozen(orchestratorConfig(env))).toBe(true);
    expect(counterConfig(env)).toEqual({
      bucket: 'bkt',
      heartbeatMs: 30_000,
      prices: DEFAULT_PRICES,
      memoryMb: 3008,
    });
    expect(orchestratorConfig({ ...env, WORDCOUNT_STALL_SECONDS: '20' }).stallMs).toBe(20_000);
  });

  it('takes the memory for GB-seconds from the invocation, else from the configuration (sst dev)', () => {
    expect(memoryOf({ memoryLimitInMB: '1769' }, 512)).toBe(1769);
    // `sst dev` runs the function without AWS_LAMBDA_FUNCTION_MEMORY_SIZE: no memoryLimitInMB.
    expect(memoryOf({ memoryLimitInMB: undefined }, 1769)).toBe(1769);
    expect(memoryOf(undefined, 0)).toBe(0);
  });

  it('coordinates through the queue unless told rpc, and then needs the queue', () => {
    const env = { WORDCOUNT_BUCKET: 'b', WORDCOUNT_QUEUE_URL: 'http://q/1/tasks' };
    expect(orchestratorConfig(env)).toMatchObject({
      coordination: 'queue',
      queueUrl: 'http://q/1/tasks',
    });
    expect(counterConfig({ ...env, WORDCOUNT_HEARTBEAT_SECONDS: '5' })).toEqual({
      bucket: 'b',
      queueUrl: 'http://q/1/tasks',
      heartbeatMs: 5000,
      prices: DEFAULT_PRICES,
      memoryMb: 0,
    });
    expect(() => orchestratorConfig({ WORDCOUNT_BUCKET: 'b' })).toThrow(/WORDCOUNT_QUEUE_URL/);
    expect(() => orchestratorConfig({ ...env, WORDCOUNT_COORDINATION: 'carrier-pigeon' })).toThrow(
      /WORDCOUNT_COORDINATION must be queue or rpc, got 'carrier-pigeon'/,
    );
  });

  it('estimates costs at us-east-1 arm64 prices unless WORDCOUNT_PRICES names a table or overrides fields', () => {
    const env = { WORDCOUNT_BUCKET: 'b' };
    expect(counterConfig(env).prices.name).toBe('us-east-1 arm64 list prices');
    expect(
      counterConfig({ ...env, WORDCOUNT_PRICES: 'us-east-1/x86_64' }).prices.lambdaGbSecond,
    ).toBe(0.0000166667);
    const custom = counterConfig({
      ...env,
      WORDCOUNT_PRICES: '{"name":"eu-west-1 arm64","lambdaGbSecond":0.0000134}',
    }).prices;
    expect(custom).toEqual({
      ...DEFAULT_PRICES,
      name: 'eu-west-1 arm64',
      lambdaGbSecond: 0.0000134,
    });
    expect(() => counterConfig({ ...env, WORDCOUNT_PRICES: 'mars/risc-v' })).toThrow(
      /WORDCOUNT_PRICES must be one of us-east-1\/arm64, us-east-1\/x86_64 or a JSON object, got 'mars\/risc-v'/,
    );
    expect(() => counterConfig({ ...env, WORDCOUNT_PRICES: '{"lambdaGbSecnd":1}' })).toThrow(
      /'lambdaGbSecnd' is not a price/,
    );
    expect(() => counterConfig({ ...env, WORDCOUNT_PRICES: '{"sqsRequest":-1}' })).toThrow(
      /'sqsRequest' is not a price/,
    );
  });

  it('prefers linked names', () => {
    expect(sstLinksActive({ SST_RESOURCE_App: '{}' })).toBe(true);
    expect(
      orchestratorConfig(
        {},
        { bucket: 'linked-b', counterFunction: 'linked-c', queueUrl: 'linked-q' },
      ),
    ).toMatchObject({
      coordination: 'queue',
      bucket: 'linked-b',
      queueUrl: 'linked-q',
      concurrency: 64,
      chunkSize: 16 * 1024 * 1024,
    });
  });

  it('names the missing or malformed variable', () => {
    expect(() => counterConfig({})).toThrow(UsageError);
    expect(() => counterConfig({})).toThrow(/WORDCOUNT_BUCKET is not set/);
    expect(() =>
      orchestratorConfig({ WORDCOUNT_BUCKET: 'b', WORDCOUNT_COORDINATION: 'rpc' }),
    ).toThrow(/WORDCOUNT_COUNTER_FUNCTION/);
    expect(() =>
      orchestratorConfig({
        WORDCOUNT_BUCKET: 'b',
        WORDCOUNT_COORDINATION: 'rpc',
        WORDCOUNT_COUNTER_FUNCTION: 'c',
        WORDCOUNT_CONCURRENCY: 'lots',
      }),
    ).toThrow(/WORDCOUNT_CONCURRENCY must be a positive integer, got 'lots'/);
  });
});
