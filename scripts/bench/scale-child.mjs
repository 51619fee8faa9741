/**
 * A child of the scale section (scale-run.mjs forks it): runs one step of the queue
 * driver through its entry points over the parent's bucket (served over IPC, as S3 would
 * be), a Lambda's part alone in a process, and answers with its peak RSS
 * (process.resourceUsage().maxRSS), its RSS before the step and its largest sampled heap
 * (JS heap and buffers). Steps: `start`
 * (startQueuedJob: the orchestrator planning and sending the map tasks) and `message`
 * (handleQueueMessage: one task message, here the one that completes the map phase).
 */
import { packBatches } from '../../dist/lib/adapters/sqs-queue.js';
import { RequestMeter } from '../../dist/lib/cost/request-meter.js';
import { messageOf } from '../../dist/lib/errors.js';
import { startQueuedJob } from '../../dist/lib/job/queue/start.js';
import { handleQueueMessage } from '../../dist/lib/job/queue/task-messages.js';
import { driverDeps, RemoteStore } from './scale-remote.mjs';

function answer(message) {
  process.send({ done: true, ...message }, () => process.exit(0));
}

process.once('message', async (step) => {
  const meter = new RequestMeter();
  const store = new RemoteStore(step.bucket, meter);
  const queue = {
    async send(messages) {
      const batches = packBatches(messages.map((m) => JSON.stringify(m))).length;
      await store.call('send', batches);
    },
    waiting: async () => 0,
  };
  const deps = driverDeps({ store, queue, counters: step.counters, meter });
  const baselineBytes = process.memoryUsage().rss;
  // The JS heap and buffers at their largest, sampled: how much of the peak RSS was live.
  let heapBytes = 0;
  const sample = setInterval(() => {
    const { heapUsed, external } = process.memoryUsage();
    heapBytes = Math.max(heapBytes, heapUsed + external);
  }, 20);
  const started = performance.now();
  try {
    if (step.mode === 'start') await startQueuedJob(deps, step.request, 'scale-child');
    else await handleQueueMessage(deps, step.body, step.messageId, 1);
  } catch (error) {
    answer({ error: messageOf(error) });
    return;
  }
  clearInterval(sample);
  answer({
    peakBytes: process.resourceUsage().maxRSS * 1024,
    heapBytes,
    baselineBytes,
    seconds: (performance.now() - started) / 1000,
  });
});
