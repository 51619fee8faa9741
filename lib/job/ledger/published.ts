/** Whether a job is published: everything its publish wrote still there, or mended. */
import { type Summary, SummarySchema } from '../../contracts/summary.js';
import { ObjectNotFoundError } from '../../errors.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import { readJson } from '../../stored-json.js';
import { writeReport } from './publish.js';
import { readStatus } from './status.js';

/**
 * The summary job `jobId` published, if everything its publish wrote is still there:
 * the summary and the counts naming the job. A missing report is made again from the
 * counts (it is a view of them); missing counts cannot be, and the job must count again.
 */
export async function publishedSummary(
  store: ObjectStore,
  jobId: string,
  output: { summary: string; counts: string; report?: string },
  log?: Log,
): Promise<Summary | undefined> {
  const summary = SummarySchema.safeParse(await readJson(store, output.summary)).data;
  if (summary?.jobId !== jobId) return undefined;
  const counts = await store.head(output.counts).catch((error: unknown) => {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  });
  if (counts?.metadata?.['job-id'] !== jobId) {
    log?.(`job ${jobId}: ${store.uri(output.counts)} is missing or not its own: counting again`, {
      jobId,
    });
    return undefined;
  }
  if (output.report) {
    const report = await store.head(output.report).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    });
    if (report?.metadata?.['job-id'] !== jobId) {
      log?.(`job ${jobId}: ${store.uri(output.report)} is missing: made again from the counts`, {
        jobId,
      });
      await writeReport(store, { jobId, summary, output, log }, output.report);
    }
  }
  return summary;
}

/** The job's summary if it succeeded and everything it published is still there. */
export async function answeredBefore(
  store: ObjectStore,
  jobId: string,
  output: { summary: string; counts: string; report?: string },
  log?: Log,
): Promise<Summary | undefined> {
  if ((await readStatus(store, jobId))?.state !== 'succeeded') return undefined;
  return publishedSummary(store, jobId, output, log);
}
