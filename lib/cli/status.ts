/** `wordcount status s3://…`: the latest job for an input, as a table or the JSON record. */
import { UsageError } from '../errors.js';
import { type JobView, viewJob } from '../job/ledger/job-view.js';
import { latestJobId } from '../job/ledger/status.js';
import { outputKeys } from '../keys.js';
import { formatSize } from '../sizes.js';
import { awsAccess, remoteInput } from './remote.js';

export async function latestReport(uris: readonly string[]): Promise<JobView> {
  const bad = uris.find((u) => !u.startsWith('s3://'));
  if (bad) throw new UsageError(`${bad}: status is kept for s3:// sources only`);
  const { bucket, input } = remoteInput(uris);
  const store = (await awsAccess()).store(bucket);
  const output = outputKeys(input);
  const jobId = await latestJobId(store, output.summary);
  const report = jobId === undefined ? undefined : await viewJob(store, jobId);
  if (!report) {
    throw new UsageError(
      `${uris.join(' ')}: no job is recorded for this input (none started, or its record expired)`,
    );
  }
  return report;
}

/** How long ago `at` was, roughly: "40 s", "12 min", "3 h". */
function ago(at: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(at)) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export function statusTable({ status, progress }: JobView, now = new Date()): string {
  const s = status.input.objects === 1 ? '' : 's';
  const rows: [string, string][] = [
    [
      'job',
      `${status.jobId}${status.coordination ? ` (${status.coordination} coordination)` : ''}`,
    ],
    [
      'state',
      progress
        ? `${status.state}: ${progress.phase} phase, ${progress.committed} of ${progress.tasks} task(s) done`
        : status.state,
    ],
    [
      'input',
      status.input.etag === ''
        ? status.input.uri
        : `${status.input.uri}, ${formatSize(status.input.bytes)} in ${status.input.objects} object${s}, version ${status.input.etag}`,
    ],
    ['updated', status.updatedAt],
  ];
  if (progress) {
    const silent =
      progress.orchestrator === 'silent'
        ? '; its orchestrator has stopped renewing its claim: the watchdog starts it again within minutes'
        : '';
    rows.push([
      'progress',
      `last progress ${ago(progress.lastProgressAt, now)} ago (${progress.lastProgressAt})${silent}`,
    ]);
  }
  if (status.reason) rows.push(['reason', status.reason]);
  const bucket = status.input.bucket;
  rows.push(['output', `s3://${bucket}/${status.output.summary}`]);
  rows.push(['', `s3://${bucket}/${status.output.counts}`]);
  return `${rows.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n')}\n`;
}
