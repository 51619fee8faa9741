/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: an upload under input/ in the Data bucket triggers the Orchestrator, which plans
// map tasks (byte ranges, packs of small objects, gzip objects), runs them and the reduce
// tasks on the Counter, and writes the result under output/.
export default $config({
  app(input) {
    const production = input?.stage === 'production';
    return {
      name: 'wordcount-fanout',
      home: 'aws',
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    const bucket = new sst.aws.Bucket('Data');

    // Counter: the task function of every job, as in Corral one Lambda runs both phases and
    // the payload's `type` says which. A map task streams a 16 MiB byte range (or a pack of
    // small objects, or one gzip object) through the counting kernel and returns its counts,
    // or writes them hash-partitioned under jobs/ when they are over ~4 MB; a reduce task
    // merges a run of partitions of every map output into one sorted shard. The kernel is CPU
    // bound (60-90 MB/s per core measured on the benchmark machine) and Lambda allocates CPU
    // in proportion to memory (1769 MB = 1 full vCPU), so 1769 MB buys one whole vCPU and
    // ample heap for a reduce task's share of the vocabulary (64 MB of map output at most).
    // A range takes about a second; a gzip object is one task however big, so the timeout is
    // 5 minutes: about 15 GB of decompressed text. The orchestrator's invoke timeout is 30 s
    // longer (WORDCOUNT_TASK_TIMEOUT_SECONDS).
    const counter = new sst.aws.Function('Counter', {
      handler: 'functions/counter.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '1769 MB',
      timeout: '300 seconds',
      // Reads its objects from the bucket and writes partials and shards under jobs/.
      link: [bucket],
    });

    // Orchestrator: lists and plans, invokes counters with bounded concurrency (64 in flight),
    // merges small partials inline (up to 500,000 distinct words), sequences the reduce tasks
    // and streams the k-way merge of their shards into the counts file: its memory is bounded
    // by the inline table and the number of shards, not by the vocabulary. It waits for the
    // whole fan-out of a large input, so it gets Lambda's maximum timeout of 15 minutes.
    const orchestrator = new sst.aws.Function('Orchestrator', {
      handler: 'functions/orchestrator.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '3008 MB',
      timeout: '15 minutes',
      // The bucket link grants S3 access; the counter link grants lambda:InvokeFunction on it
      // and exposes its name as Resource.Counter.name.
      link: [bucket, counter],
      environment: {
        WORDCOUNT_CONCURRENCY: '64',
        WORDCOUNT_CHUNK_SIZE: '16MiB',
        WORDCOUNT_TASK_TIMEOUT_SECONDS: '330',
      },
    });

    // Trigger only on uploads under input/ (text, or NAME.manifest.json naming other objects).
    // Nothing the system writes (output/ and results/, jobs/ partials) falls under this
    // prefix, so the orchestrator can never re-trigger itself.
    bucket.notify({
      notifications: [
        {
          name: 'OrchestratorOnInput',
          function: orchestrator.arn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: 'input/',
        },
      ],
    });

    return {
      bucket: bucket.name,
      orchestrator: orchestrator.name,
      counter: counter.name,
    };
  },
});
