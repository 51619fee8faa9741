/**
 * The watchdog over rpc coordination: an orchestrator that died mid-job (its claim
 * silent) or before its claim, restarts bounded, one rpc restart a round, a run that
 * finds itself replaced, an input changed while the job was stopped. Real files, real
 * worker threads; the orchestrators that die are stopped for good mid-run.
 */
import { describe, expect, it } from 'vitest';
import { JobStatusSchema } from '../../lib/contracts/status.js';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { JobFailedError } from '../../lib/errors.js';
import { markActive } from '../../lib/job/ledger/active-jobs.js';
import { SUPERSEDED_REASON } from '../../lib/job/ledger/outcome.js';
import { admit } from '../../lib/job/request/admit.js';
import { sweep } from '../../lib/job/watchdog.js';
import { activeJobKey, attemptPrefix, statusKey } from '../../lib/keys.js';
import type { FunctionRunner } from '../../lib/ports.js';
import { ObservedStore } from '../support/observed-store.js';
import {
  activeJobOf,
  countsKey,
  deps,
  expectedTsv,
  keyInput,
  listed,
  run,
  runner,
  store,
  summaryKey,
  text,
  until,
  useRpcWorld,
  watchdogOf,
} from '../support/rpc-world.js';

useRpcWorld();

const statusOf = async (jobId: string) =>
  JobStatusSchema.parse(JSON.parse(await text(statusKey(jobId))));

/** Starts the job of `key` with an orchestrator that dies at its first task: it writes nothing more. */
function startAndDie(key: string): void {
  const dying = new ObservedStore(store);
  const dies: FunctionRunner = {
    async invoke() {
      dying.die();
      return new Promise(() => undefined);
    },
    close: async () => undefined,
  };
  run(deps({ store: dying, runner: dies, heartbeatMs: 100 }), key).catch(() => undefined);
}

describe('the watchdog over rpc jobs', () => {
  it('finishes a job whose orchestrator died mid-job: the watchdog takes over its silent claim', async () => {
    const key = 'input/orphaned.txt';
    const body = 'orphaned words '.repeat(5000);
    await store.put(key, body);
    const dying = new ObservedStore(store);
    let tasks = 0;
    // The orchestrator dies after two map tasks: it writes nothing more, its tasks hang.
    const dies: FunctionRunner = {
      async invoke(name, payload) {
        if (++tasks > 2) {
          dying.die();
          return new Promise(() => undefined);
        }
        return runner.invoke(name, payload);
      },
      close: async () => undefined,
    };
    const dead = run(
      deps({ store: dying, runner: dies, heartbeatMs: 100, defaultChunkSize: 8192 }),
      key,
    );
    dead.catch(() => undefined);
    const jobId = await until(() => activeJobOf(key));
    await until(() => tasks > 2);
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(jobId))));
    expect(status.state).toBe('running');
    await until(async () => {
      const outcomes = await sweep(watchdogOf({ heartbeatMs: 100, defaultChunkSize: 8192 }));
      return outcomes.some((o) => o.jobId === jobId && o.action === 'restarted');
    });
    const summary = SummarySchema.parse(JSON.parse(await text(summaryKey(key))));
    expect(summary.jobId).toBe(jobId);
    expect(await text(countsKey(key))).toBe(expectedTsv(new TextEncoder().encode(body)));
    const ended = JobStatusSchema.parse(JSON.parse(await text(statusKey(jobId))));
    expect(ended.state).toBe('succeeded');
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });

  it('records a job failed once its orchestrator stopped three times, naming why', async () => {
    const key = 'input/keeps-dying.txt';
    await store.put(key, 'words that are never counted');
    startAndDie(key);
    const jobId = await until(() => activeJobOf(key));
    // Every restart dies at once, as the first run did.
    const restarts: string[] = [];
    const watchdog = {
      ...watchdogOf({ heartbeatMs: 100 }),
      restart: async () => {
        restarts.push('died');
        return { jobId };
      },
    };
    await until(() => listed(statusKey(jobId)).then((k) => k.length > 0));
    let status = JobStatusSchema.parse(JSON.parse(await text(statusKey(jobId))));
    while (status.state === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      await sweep(watchdog);
      status = JobStatusSchema.parse(JSON.parse(await text(statusKey(jobId))));
    }
    expect(restarts).toHaveLength(3);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^its orchestrator has been silent since .*, after 3 restart\(s\) by the watchdog: given up$/,
    );
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });

  it('restarts one stopped rpc job a round, the one waiting longest; the others wait, uncounted', async () => {
    const keys = ['input/stopped-a.txt', 'input/stopped-b.txt'];
    const jobIds: string[] = [];
    // What an orchestrator that died before its claim leaves: the job recorded active.
    for (const [i, key] of keys.entries()) {
      await store.put(key, `stopped words ${i} `.repeat(200));
      const request = { input: keyInput(key) };
      const { jobId } = await admit(deps(), request);
      jobIds.push(jobId);
      await markActive(
        store,
        { jobId, coordination: 'rpc', request },
        new Date(Date.now() - 60_000 + i),
      );
    }
    const watchdog = watchdogOf({ heartbeatMs: 100 });
    const first = await sweep(watchdog);
    const outcome = (id: string, outcomes: typeof first) => outcomes.find((o) => o.jobId === id);
    expect(outcome(jobIds[0] as string, first)).toMatchObject({ action: 'restarted' });
    expect(outcome(jobIds[1] as string, first)).toMatchObject({ action: 'waiting' });
    const waiting = JSON.parse(await text(activeJobKey(jobIds[1] as string)));
    expect(waiting.restarts).toBe(0);
    const second = await sweep(watchdog);
    expect(outcome(jobIds[1] as string, second)).toMatchObject({ action: 'restarted' });
    for (const [i, key] of keys.entries()) {
      const summary = SummarySchema.parse(JSON.parse(await text(summaryKey(key))));
      expect(summary.jobId).toBe(jobIds[i]);
      expect(await listed(activeJobKey(jobIds[i] as string))).toEqual([]);
    }
  });

  it('records a stopped job superseded when its input changed meanwhile, counting nothing', async () => {
    const key = 'input/changed-while-stopped.txt';
    await store.put(key, 'the first version '.repeat(3000));
    startAndDie(key);
    const jobId = await until(() => activeJobOf(key));
    await until(() => listed(statusKey(jobId)).then((k) => k.length > 0));
    await store.put(key, 'the second version, uploaded while the first job was stopped');
    let outcomes = await sweep(watchdogOf({ heartbeatMs: 100 }));
    while (outcomes.find((o) => o.jobId === jobId)?.action === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      outcomes = await sweep(watchdogOf({ heartbeatMs: 100 }));
    }
    expect(outcomes.find((o) => o.jobId === jobId)).toMatchObject({ action: 'superseded' });
    const status = await statusOf(jobId);
    expect(status.state).toBe('superseded');
    expect(status.reason).toBe(
      `its orchestrator has been silent since ${JSON.parse(await text(`jobs/${jobId}/claim.json`)).heartbeatAt}: ${SUPERSEDED_REASON}`,
    );
    expect(await listed(activeJobKey(jobId))).toEqual([]);
    // The new version is its own upload's job: the watchdog counted nothing of it.
    await expect(store.head(summaryKey(key))).rejects.toThrow(/no such/);
  });

  it('removes nothing of the run that replaced it when it finds itself replaced at publish', async () => {
    const key = 'input/replaced.txt';
    const body = 'replaced words '.repeat(2000);
    await store.put(key, body);
    const { jobId } = await admit(deps(), { input: keyInput(key) });
    const theirs = `${attemptPrefix(jobId, 'the-other-run')}counts.tsv`;
    let replaced = false;
    // While this run counts, another run takes the job over: its attempt, its objects.
    const takenOver: FunctionRunner = {
      async invoke(name, payload) {
        if (!replaced) {
          replaced = true;
          const status = await statusOf(jobId);
          await store.put(
            statusKey(jobId),
            JSON.stringify({ ...status, attempt: 'the-other-run' }),
          );
          await store.put(theirs, 'the other run staged these counts\t1\n');
        }
        return runner.invoke(name, payload);
      },
      close: async () => undefined,
    };
    const error: unknown = await run(deps({ runner: takenOver }), key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as Error).message).toMatch(/another run took it over while it published/);
    expect(await text(theirs)).toBe('the other run staged these counts\t1\n');
    const status = await statusOf(jobId);
    expect(status).toMatchObject({ state: 'running', attempt: 'the-other-run' });
    await expect(store.head(summaryKey(key))).rejects.toThrow(/no such/);
  });
});
