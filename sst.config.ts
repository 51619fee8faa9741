/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: an upload under input/ in the Data bucket triggers the Orchestrator, which plans
// map tasks (byte ranges, packs of small objects, gzip objects) and, with queue coordination
// (the default), sends them to the Tasks queue and returns: the Counter consumes the queue,
// commits each task's result under jobs/, and the task that completes a phase starts the next
// (reduce, finalize, publish). With WORDCOUNT_COORDINATION=rpc the Orchestrator instead
// invokes the Counter itself and waits for the whole job (15 minutes at most).
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
    // Jobs remove their temporaries under jobs/ when they end; the lifecycle rule is the
    // safety net for one whose process died first (status records expire with it).
    const bucket = new sst.aws.Bucket('Data', {
      lifecycle: [{ id: 'jobs-safety-net', prefix: 'jobs/', expiresIn: '7 days' }],
    });

    // `sst dev` runs every counter on the developer's machine over their connection: fewer
    // at once, and more time each.
    const counterTimeoutSeconds = $dev ? 900 : 300;
    const concurrency = $dev ? 4 : 64;
    // Every function logs JSON lines (Powertools Logger: the job, task, phase and request id
    // as keys; job metrics as Embedded Metric Format), and Lambda's own lines as JSON too.
    // A month of logs: enough to look into a job, not a growing bill.
    const logging = { format: 'json', retention: '1 month' } as const;

    // Queue coordination. A message comes back when it is not acknowledged within the
    // visibility timeout: twice the counter's timeout, so a message is never handed to a
    // second counter while the first may still run it (a timed-out or killed counter's
    // message returns after it). After 3 receives it goes to DeadLetters, whose function
    // records the job failed.
    const deadLetters = new sst.aws.Queue('DeadLetters', { visibilityTimeout: '5 minutes' });
    const tasks = new sst.aws.Queue('Tasks', {
      visibilityTimeout: `${2 * counterTimeoutSeconds} seconds`,
      dlq: { queue: deadLetters.arn, retry: 3 },
    });

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
      logging,
      timeout: `${counterTimeoutSeconds} seconds`,
      // Held back from the account's pool, and above the queue's pollers (so they are never
      // throttled, which would count receives against the dead-letter limit).
      concurrency: { reserved: concurrency + 16 },
      // Reads its objects from the bucket and writes partials and shards under jobs/; the
      // queue link grants consuming Tasks and sending the next phase's tasks to it.
      link: [bucket, tasks],
    });

    // One task per invocation (a task uses the function's whole memory and core), failures
    // reported per message; at most `concurrency` counters poll at once.
    tasks.subscribe(counter.arn, {
      batch: { size: 1, partialResponses: true },
      transform: {
        eventSourceMapping: (args) => {
          args.scalingConfig = { maximumConcurrency: Math.max(2, concurrency) };
        },
      },
    });
    deadLetters.subscribe(
      {
        handler: 'functions/dead-letters.handler',
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        memory: '512 MB',
        logging,
        timeout: '60 seconds',
        link: [bucket],
      },
      { batch: { size: 10, partialResponses: true } },
    );

    // Orchestrator: lists and plans. With queue coordination it sends the map tasks and
    // returns in seconds. With RPC it invokes counters with bounded concurrency (64 in
    // flight), merges small partials inline (up to 500,000 distinct words), sequences the
    // reduce tasks and streams the k-way merge of their shards into the counts file, waiting
    // for the whole fan-out: hence Lambda's maximum timeout of 15 minutes.
    const orchestrator = new sst.aws.Function('Orchestrator', {
      handler: 'functions/orchestrator.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '3008 MB',
      logging,
      timeout: '15 minutes',
      // The bucket link grants S3 access; the counter link grants lambda:InvokeFunction on it
      // (RPC) and the queue link sending to Tasks (queue).
      link: [bucket, counter, tasks],
      environment: {
        WORDCOUNT_COORDINATION: 'queue',
        WORDCOUNT_CONCURRENCY: String(concurrency),
        WORDCOUNT_CHUNK_SIZE: '16MiB',
        WORDCOUNT_TASK_TIMEOUT_SECONDS: String(counterTimeoutSeconds + 30),
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
      tasks: tasks.url,
      deadLetters: deadLetters.url,
    };
  },
});
