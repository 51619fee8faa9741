/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: an upload under input/ in the Data bucket triggers the Orchestrator, which plans
// byte ranges, invokes the Counter once per range and writes the reduced result under output/.
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

    // Counter: streams one 16 MiB byte range through the byte-level counting kernel and returns
    // (or spills under jobs/) a partial-count JSON of up to ~4 MB. The kernel is CPU bound
    // (60-90 MB/s per core measured on the benchmark machine) and Lambda allocates CPU in
    // proportion to memory (1769 MB = 1 full vCPU), so 1769 MB buys one whole vCPU: a range
    // takes well under a second plus S3 latency, with ample heap for the partial map and its
    // JSON. 60 s is a generous ceiling that still fails fast on a stuck S3 read; a counter
    // that times out fails its invocation, and with it the job (nothing is published).
    const counter = new sst.aws.Function('Counter', {
      handler: 'functions/counter.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '1769 MB',
      timeout: '60 seconds',
      // Reads its range from the bucket and may write partials under jobs/.
      link: [bucket],
    });

    // Orchestrator: only plans ranges, invokes counters with bounded concurrency (64 in flight)
    // and reduces their partial counts. CPU is light, but the merged vocabulary can reach
    // millions of distinct words held in memory alongside up to 64 in-flight partials, so it
    // gets 3008 MB. It waits for the whole fan-out of a large input, so it gets Lambda's
    // maximum timeout of 15 minutes.
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
      },
    });

    // Trigger only on uploads under input/. Nothing the system writes (output/ results, jobs/
    // partials) falls under this prefix, so the orchestrator can never re-trigger itself.
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
