/**
 * Queue coordination on the embedded backend: real files, real worker threads, the
 * in-process queue with SQS's delivery rules, and injected duplicates, losses, lost
 * acknowledgements, crashes and poison tasks. Every run is checked against a single
 * pass over the same bytes, and every output must be written exactly once.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { latestJobId } from '../../lib/job/ledger/status.js';
import { handleDeadLetter } from '../../lib/job/queue/ending.js';
import { startQueuedJob } from '../../lib/job/queue/start.js';
import { startUpload } from '../../lib/job/uploads.js';
import { attemptPrefix, outputKeys, statusKey } from '../../lib/keys.js';
import { corpusPy } from '../../scripts/corpus-venv.mjs';
import { expectedTsv } from '../support/oracle.js';
import {
  activeJobOf,
  expectPublishedOnce,
  files,
  genesis,
  harness,
  keyInput,
  listed,
  put,
  runQueued,
  statusOf,
  sweepUntilEnded,
  text,
  useQueueWorld,
} from '../support/queue-world.js';

useQueueWorld();

describe('queue coordination (in-process queue, worker threads)', () => {
  it('counts a job through the queue, the inline reduce in the task that completes the map phase', async () => {
    const h = harness();
    await put('plain.txt', genesis);
    const { started, jobId } = await runQueued(h, 'plain.txt');
    expect(started.outcome).toBe('queued');
    expect(h.sent.length).toBeGreaterThan(5);
    expect(new Set(h.sent.map((m) => m.phase))).toEqual(new Set(['map']));
    const summary = await expectPublishedOnce(h, 'plain.txt', genesis, jobId);
    expect(summary.stats.mapTasks).toBe(h.sent.length);
    expect(summary.stats.reduceTasks).toBe(0);
    // Asked again, the job answers from its output.
    const again = await startQueuedJob(h.deps, { input: keyInput('plain.txt') });
    expect(again.outcome).toBe('already-published');
  });

  it('runs the map, reduce and finalize phases through the queue with every message delivered twice', async () => {
    const h = harness({ partitioned: true, faults: { duplicate: () => true } });
    await put('twice.txt', genesis);
    const { jobId } = await runQueued(h, 'twice.txt');
    const phases = new Set(h.sent.map((m) => m.phase));
    expect(phases).toEqual(new Set(['map', 'reduce', 'finalize']));
    // Two deliveries of every message, yet each phase started once (its tasks sent once),
    // each task committed once and the output written once.
    const sends = h.sent.map((m) => `${m.phase} ${m.index}`);
    expect(new Set(sends).size).toBe(sends.length);
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    const summary = await expectPublishedOnce(h, 'twice.txt', genesis, jobId);
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
    expect(h.log.some((line) => /committed (before|by a duplicate)/.test(line))).toBe(true);
  });

  it('completes when a delivery is lost, once per message', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 800,
      faults: { lose: (m) => m.receiveCount === 1 },
    });
    await put('lost.txt', genesis);
    const { jobId } = await runQueued(h, 'lost.txt');
    // Each came back at least once (a third delivery follows a phase's lease found held).
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    await expectPublishedOnce(h, 'lost.txt', genesis, jobId);
  });

  it('completes when every consumer dies between its commit and its acknowledgement', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 800,
      faults: { loseAck: (m) => m.receiveCount === 1 },
    });
    await put('noack.txt', genesis);
    const { jobId } = await runQueued(h, 'noack.txt');
    // Each message came back once and found its commit (or its next phase started).
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    await expectPublishedOnce(h, 'noack.txt', genesis, jobId);
  });

  it('restarts a phase whose starter died after planning it, before its tasks were sent', async () => {
    const h = harness({ partitioned: true, visibilityMs: 800, failSendOf: 'reduce' });
    await put('resend.txt', genesis);
    const { jobId } = await runQueued(h, 'resend.txt');
    // The message that completed the map phase came back and sent the reduce tasks.
    expect(h.sent.some((m) => m.phase === 'reduce')).toBe(true);
    expect([...h.queue.deliveries.values()].some((n) => n === 2)).toBe(true);
    await expectPublishedOnce(h, 'resend.txt', genesis, jobId);
  });

  it('finishes a start whose orchestrator died before sending the map tasks: the watchdog starts it again', async () => {
    const h = harness({ failSendOf: 'map' });
    await put('nostart.txt', genesis);
    const request = { input: keyInput('nostart.txt') };
    await expect(startQueuedJob(h.deps, request)).rejects.toThrow(/sender of the map tasks died/);
    const jobId = await activeJobOf('nostart.txt');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions).toContain('restarted');
    await expectPublishedOnce(h, 'nostart.txt', genesis, jobId);
  });

  it('publishes once when the publisher dies after writing the counts, before the summary', async () => {
    const h = harness({ visibilityMs: 800 });
    await put('half.txt', genesis);
    const output = outputKeys(keyInput('half.txt'));
    h.store.failWrite({
      key: new RegExp(`^${output.counts.replace(/\./g, '\\.')}$`),
      landed: true,
    });
    const { jobId } = await runQueued(h, 'half.txt');
    const summary = SummarySchema.parse(JSON.parse(await text(output.summary)));
    expect(summary.jobId).toBe(jobId);
    expect(await text(output.counts)).toBe(expectedTsv('words', genesis));
    // The counts went twice (the crash, then the redelivered publish), the summary once.
    expect(h.store.writesTo(output.counts)).toBe(2);
    expect(h.store.writesTo(output.summary)).toBe(1);
    expect((await statusOf(jobId)).state).toBe('succeeded');
  });

  it('takes over a phase whose starter died holding its lease', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 500,
      faults: { lose: (m) => m.receiveCount === 1 },
    });
    await put('dead.txt', genesis);
    const started = await startQueuedJob(h.deps, { input: keyInput('dead.txt') });
    if (started.outcome !== 'queued') throw new Error(started.outcome);
    // A starter of the reduce phase that died at once: its lease is never renewed.
    const lease = `${attemptPrefix(started.jobId, started.attempt)}phases/reduce.lease`;
    await files.put(
      lease,
      JSON.stringify({ owner: 'dead', heartbeatAt: new Date().toISOString() }),
    );
    await h.queue.idle();
    expect(h.log.some((line) => /took over the reduce phase from dead/.test(line))).toBe(true);
    await expectPublishedOnce(h, 'dead.txt', genesis, started.jobId);
  });

  it('fails the job when a task fails on every delivery: dead letter, reason, nothing published', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 200,
      maxReceives: 3,
      poison: (r) => r.type === 'map' && r.index === 1,
    });
    await put('poison.txt', genesis);
    const { jobId, output } = await runQueued(h, 'poison.txt');
    expect(h.queue.deadLetters).toHaveLength(1);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/^map task 1 failed on every delivery: .*ran out of memory/);
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    await expect(files.head(output.counts)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    // Asked again (the task would now succeed), the job runs as a new attempt and publishes.
    const retry = harness({ partitioned: true });
    const again = await runQueued(retry, 'poison.txt');
    expect(again.started.outcome).toBe('queued');
    await expectPublishedOnce(retry, 'poison.txt', genesis, jobId);
  });

  it('fails the job when a task times out on every delivery, saying it timed out', async () => {
    const h = harness({
      visibilityMs: 200,
      maxReceives: 3,
      overrun: { task: (r) => r.type === 'map' && r.index === 0, deadlineMs: 1600 },
    });
    await put('overrun.txt', genesis);
    const { jobId } = await runQueued(h, 'overrun.txt');
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^map task 0 failed on every delivery: TaskTimeoutError: timed out after 2 s \(the counter's timeout\)$/,
    );
  });

  it('fails a job at once on a corrupt gzip object, without waiting for the retries', async () => {
    const h = harness();
    const gz = gzipSync(genesis);
    await put('broken.txt.gz', gz.subarray(0, gz.length - 1000));
    const { jobId, output } = await runQueued(h, 'broken.txt.gz');
    expect(h.queue.deadLetters).toHaveLength(0);
    expect([...h.queue.deliveries.values()].every((n) => n === 1)).toBe(true);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/map task 0 failed: .*CorruptInputError/);
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
  });

  it('drops the messages of an earlier attempt', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 200,
      maxReceives: 3,
      poison: (r) => r.type === 'map' && r.index === 0,
    });
    await put('attempts.txt', genesis);
    const first = await runQueued(h, 'attempts.txt');
    expect((await statusOf(first.jobId)).state).toBe('failed');
    const stale = h.sent.filter((m) => m.phase === 'map');
    const retry = harness({ partitioned: true });
    const started = await startQueuedJob(retry.deps, { input: keyInput('attempts.txt') });
    expect(started.outcome).toBe('queued');
    // The first attempt's dead letter arrives late: it must not fail the new attempt.
    await handleDeadLetter(retry.deps, stale[0], 'late-dead-letter');
    expect((await statusOf(started.jobId)).state).toBe('running');
    // The first attempt's messages arrive again, before and among the new attempt's.
    await retry.queue.send(stale);
    await retry.queue.idle();
    const dropped = new RegExp(`map task \\d+ of attempt ${stale[0]?.attempt} is dropped`);
    expect(retry.log.filter((line) => dropped.test(line))).toHaveLength(stale.length);
    await expectPublishedOnce(retry, 'attempts.txt', genesis, started.jobId);
  });

  it('counts again when the published counts were deleted (no upload, no --force)', async () => {
    const h = harness();
    await put('deleted.txt', genesis);
    const { jobId, output } = await runQueued(h, 'deleted.txt');
    await files.delete(output.counts);
    const again = await runQueued(h, 'deleted.txt');
    expect(again.started.outcome).toBe('queued');
    expect(again.jobId).toBe(jobId);
    expect(await text(output.counts)).toBe(expectedTsv('words', genesis));
    expect((await statusOf(jobId)).state).toBe('succeeded');
  });

  it('records an upload refused when its manifest names a missing key, and nothing else', async () => {
    const h = harness();
    const key = 'input/missing.manifest.json';
    await files.put(key, JSON.stringify({ keys: ['plain.txt', 'not-there.txt'] }));
    const said = await startUpload(
      { store: h.store, bucket: '', start: (request) => startQueuedJob(h.deps, request) },
      { key, version: 'v1' },
    );
    expect(said).toMatch(/^refused: /);
    const jobId = (await latestJobId(files, outputKeys(keyInput(key)).summary)) as string;
    const status = await statusOf(jobId);
    expect(status.state).toBe('refused');
    expect(status.reason).toMatch(/not-there\.txt: no such file/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
  });

  it('records an upload whose Parquet file cannot be planned once, as its job, with nothing left active', async () => {
    const h = harness();
    const file = join(await mkdtemp(join(tmpdir(), 'wordcount-unplannable-')), 'f.parquet');
    corpusPy([
      'parquet',
      file,
      '--docs',
      '400',
      '--row-groups',
      '4',
      '--text',
      'samples/kjv-genesis.txt',
    ]);
    const key = 'input/no-column.parquet';
    // Bigger than a chunk: its footer is read when the job is planned.
    await files.put(key, await readFile(file), { metadata: { 'wordcount-field': 'body' } });
    const before = new Set(await listed('jobs/'));
    const said = await startUpload(
      { store: h.store, bucket: '', start: (request) => startQueuedJob(h.deps, request) },
      { key, version: 'v1' },
    );
    expect(said).toMatch(
      /^refused: .*no-column\.parquet: no column 'body' \(its columns: id, text\)/,
    );
    const jobId = (await latestJobId(files, outputKeys(keyInput(key)).summary)) as string;
    expect(said).toContain(`(recorded as job ${jobId})`);
    expect((await statusOf(jobId)).state).toBe('refused');
    // One record, the job's own, and its pointer: no second record, nothing active.
    const written = (await listed('jobs/')).filter((k) => !before.has(k));
    expect(written.sort()).toEqual(
      [statusKey(jobId), `jobs/latest/${outputKeys(keyInput(key)).summary}`].sort(),
    );
  });

  it('publishes the newest version when the input is overwritten mid-job', async () => {
    const h = harness({ visibilityMs: 300, faults: { lose: (m) => m.receiveCount === 1 } });
    await put('race.txt', genesis);
    const old = await startQueuedJob(h.deps, { input: keyInput('race.txt') });
    // Overwritten before any of the old job's tasks ran: its reads find a new version.
    const small = new TextEncoder().encode('the newest version of the text\n');
    await new Promise((r) => setTimeout(r, 20));
    await put('race.txt', small);
    const newest = await startQueuedJob(h.deps, { input: keyInput('race.txt') });
    expect(newest.jobId).not.toBe(old.jobId);
    await h.queue.idle();
    const output = outputKeys(keyInput('race.txt'));
    expect(await text(output.counts)).toBe(expectedTsv('words', small));
    expect(SummarySchema.parse(JSON.parse(await text(output.summary))).jobId).toBe(newest.jobId);
    const stale = await statusOf(old.jobId);
    expect(stale.state).toBe('superseded');
    expect(stale.reason).toMatch(/newer version/);
    expect(await listed(`jobs/${old.jobId}/`)).toEqual([statusKey(old.jobId)]);
  });
});
