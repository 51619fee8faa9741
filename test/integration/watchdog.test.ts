/**
 * The watchdog over queue coordination: messages lost (vanished, throttled until
 * dead-lettered, a sender that died), a step that keeps failing, a backlog, a job run
 * again while a sweep looks at it. Real files, real worker threads, the in-process queue.
 */
import { describe, expect, it } from 'vitest';
import type { TaskMessage } from '../../lib/contracts/queue.js';
import { markActive } from '../../lib/job/ledger/active-jobs.js';
import { DELETED_REASON } from '../../lib/job/ledger/outcome.js';
import { sweep } from '../../lib/job/watchdog.js';
import { activeJobKey, statusKey } from '../../lib/keys.js';
import {
  expectPublishedOnce,
  files,
  firstMessages,
  genesis,
  harness,
  keyInput,
  listed,
  put,
  runQueued,
  sleep,
  statusOf,
  sweepUntilEnded,
  useQueueWorld,
  watchdog,
} from '../support/queue-world.js';

useQueueWorld();

describe('the watchdog (lost messages, throttles, stalls)', () => {
  it('sends tasks whose messages vanished unprocessed again, and the job completes exactly', async () => {
    const h = harness({
      partitioned: true,
      faults: { vanish: firstMessages((m) => m.index % 2 === 0) },
    });
    await put('vanished.txt', genesis);
    const { jobId } = await runQueued(h, 'vanished.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions.filter((a) => a === 'resent').length).toBeGreaterThanOrEqual(1);
    await expectPublishedOnce(h, 'vanished.txt', genesis, jobId);
    expect(h.log.some((line) => /task\(s\) were never committed; sent them again/.test(line))).toBe(
      true,
    );
  });

  it('sends a phase whose sender died and whose message then vanished', async () => {
    const h = harness({
      partitioned: true,
      failSendOf: 'reduce',
      faults: { vanish: (m) => m.receiveCount === 2 },
      visibilityMs: 300,
    });
    await put('unsent.txt', genesis);
    const { jobId } = await runQueued(h, 'unsent.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    await sweepUntilEnded(h, jobId);
    await expectPublishedOnce(h, 'unsent.txt', genesis, jobId);
  });

  it('starts the next phase when the task that completed one died before planning it and its message vanished', async () => {
    const h = harness({
      partitioned: true,
      faults: { vanish: (m) => m.receiveCount === 2 },
      visibilityMs: 300,
    });
    h.store.failWrite({ key: /phases\/reduce\.json$/, landed: false });
    await put('unplanned.txt', genesis);
    const { jobId } = await runQueued(h, 'unplanned.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions).toContain('resent');
    // The step's own error was kept: the watchdog says what it retries.
    expect(
      h.log.some((line) =>
        /the step after its map phase keeps failing: .*crashed before writing .*phases\/reduce\.json; started it/.test(
          line,
        ),
      ),
    ).toBe(true);
    await expectPublishedOnce(h, 'unplanned.txt', genesis, jobId);
  });

  it('does not fail a task that was throttled until dead-lettered: the watchdog sends it again', async () => {
    const h = harness({
      visibilityMs: 150,
      maxReceives: 3,
      // Every receive of map task 1's first message is throttled: received, never run.
      faults: { lose: firstMessages((m) => m.phase === 'map' && m.index === 1) },
    });
    await put('throttled.txt', genesis);
    const { jobId } = await runQueued(h, 'throttled.txt');
    expect(h.queue.deadLetters).toHaveLength(1);
    expect((await statusOf(jobId)).state).toBe('running');
    expect(h.log.some((line) => /map task 1 was dead-lettered after 0 run\(s\)/.test(line))).toBe(
      true,
    );
    await sweepUntilEnded(h, jobId);
    await expectPublishedOnce(h, 'throttled.txt', genesis, jobId);
  });

  it('fails a job whose messages keep vanishing after its resends, saying what was lost', async () => {
    const h = harness({
      faults: { vanish: (m) => (JSON.parse(m.body) as TaskMessage).index === 0 },
    });
    await put('gone.txt', genesis);
    const { jobId, output } = await runQueued(h, 'gone.txt');
    const actions = await sweepUntilEnded(h, jobId, 200);
    expect(actions.filter((a) => a === 'resent')).toHaveLength(3);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^no progress for .* min: 1 of \d+ map task\(s\) were never committed after 3 resend\(s\)/,
    );
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });

  it('fails a job whose step after a phase keeps failing, within the bound, saying why', async () => {
    const h = harness({ partitioned: true, visibilityMs: 150, maxReceives: 3 });
    // Planning the reduce phase fails every time (its record cannot be written).
    for (let i = 0; i < 50; i++) h.store.failWrite({ key: /phases\/reduce\.json$/, landed: false });
    await put('stuck.txt', genesis);
    const { jobId, output } = await runQueued(h, 'stuck.txt');
    // The last map task committed, then failed its step on every delivery: dead-lettered,
    // but it ran and committed, so the dead letter does not fail the job.
    expect(h.queue.deadLetters.length).toBeGreaterThan(0);
    expect(h.log.some((line) => /dead-lettered after its commit/.test(line))).toBe(true);
    expect((await statusOf(jobId)).state).toBe('running');
    const actions = await sweepUntilEnded(h, jobId, 200);
    expect(actions.filter((a) => a === 'error')).toHaveLength(3);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^no progress for .* min: the step after its map phase keeps failing: .*crashed before writing .*phases\/reduce\.json after 3 tries$/,
    );
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });

  it('ends a job whose input was deleted before it published, saying so, publishing nothing', async () => {
    const h = harness();
    const stage = h.store.put.bind(h.store);
    // The input goes once the counts are staged, before the publish looks at it.
    h.store.put = async (key, body, options) => {
      const written = await stage(key, body, options);
      if (/attempts\/[^/]+\/counts\.tsv$/.test(key)) await files.delete('deleted.txt');
      return written;
    };
    await put('deleted.txt', genesis);
    const { jobId, output } = await runQueued(h, 'deleted.txt');
    const status = await statusOf(jobId);
    expect(status.state).toBe('superseded');
    expect(status.reason).toBe(DELETED_REASON);
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    await expect(files.head(output.counts)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });

  it('leaves a stalled job alone while messages wait in the queue, then sends what was lost', async () => {
    const h = harness({
      faults: { vanish: firstMessages((m) => m.phase === 'map' && m.index === 0) },
    });
    await put('backlog.txt', genesis);
    const { jobId } = await runQueued(h, 'backlog.txt');
    // Another job's messages, held back: a backlog the lost task may be waiting behind.
    await h.queue.send([{ backlog: true }], { delaySeconds: 600 });
    const stalled = watchdog(h, 200);
    await sleep(300);
    const [waiting] = await sweep(stalled);
    expect(waiting).toMatchObject({
      jobId,
      action: 'running',
      detail: '1 message(s) wait in the queue',
    });
    expect(h.sent.filter((m) => m.phase === 'map' && m.index === 0)).toHaveLength(1);
    h.queue.close();
    const actions = await sweepUntilEnded(h, jobId, 200);
    expect(actions).toContain('resent');
    await expectPublishedOnce(h, 'backlog.txt', genesis, jobId);
  });

  it('keeps the record of a failed job asked for again, and starts that run again if it was cut short', async () => {
    const failing = harness({
      poison: (r) => r.type === 'map' && r.index === 0,
      visibilityMs: 150,
      maxReceives: 3,
    });
    await put('again.txt', genesis);
    const { jobId } = await runQueued(failing, 'again.txt');
    const failed = await statusOf(jobId);
    expect(failed.state).toBe('failed');
    expect(await listed(activeJobKey(jobId))).toEqual([]);
    // The job is asked for again; its start records it active and dies before its claim.
    const h = harness();
    await markActive(
      h.store,
      { jobId, coordination: 'queue', request: { input: keyInput('again.txt') } },
      new Date(),
    );
    // A sweep reads the old outcome: the new start is under way, not ended (a long
    // heartbeat here, so a loaded machine's slow sweep still finds the start young).
    const [starting] = await sweep({ ...watchdog(h, 200), heartbeatMs: 60_000 });
    expect(starting).toMatchObject({ jobId, action: 'starting' });
    expect(await listed(activeJobKey(jobId))).toEqual([activeJobKey(jobId)]);
    // Past the grace, that start was cut short: the watchdog starts it again.
    await sleep(250);
    const [restarted] = await sweep(watchdog(h, 200));
    expect(restarted).toMatchObject({ jobId, action: 'restarted' });
    await sweepUntilEnded(h, jobId);
    await expectPublishedOnce(h, 'again.txt', genesis, jobId);
  });
});
