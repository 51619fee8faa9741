/// <reference path="./.sst/platform/config.d.ts" />

// SST v4 app: an upload under input/ in the Data bucket triggers the Orchestrator, which plans
// map tasks (byte ranges, packs of small objects, gzip objects) and, with queue coordination
// (the default), sends them to the Tasks queue and returns: the Counter consumes the queue,
// commits each task's result under jobs/, and the task that completes a phase starts the next
// (reduce, finalize, publish). With WORDCOUNT_COORDINATION=rpc the Orchestrator instead
// invokes the Counter itself and waits for the whole job (15 minutes at most). Every few
// minutes a schedule runs the Orchestrator's watchdog: a job that stopped is started or sent
// again, or recorded failed. Sizes, timeouts and queue settings come from lib/topology.ts,
// which the emulator's deployer reads too; per-stage settings from the environment SST loads
// for the stage (.env.STAGE): see lib/topology.ts and the README's "On AWS".
export default $config({
  app(input) {
    return {
      name: 'wordcount-fanout',
      home: 'aws',
      // Everything goes with `sst remove` but the Data bucket, which keeps its data (below).
      removal: 'remove',
      protect: input?.stage === 'production',
    };
  },
  async run() {
    const topology = await import('./lib/topology.js');
    const { COUNTER, DEAD_LETTERS, ORCHESTRATOR } = topology;
    const settings = topology.stageSettings(process.env, $dev);
    const { counters, counterTimeoutSeconds } = settings;

    // Users' inputs and outputs: kept when the stage is removed, unless the stage says
    // WORDCOUNT_REMOVE_DATA=true. Jobs remove their temporaries under jobs/ when they end;
    // the lifecycle rule is the safety net for one whose process died first.
    const bucket = new sst.aws.Bucket('Data', {
      lifecycle: [
        { id: 'jobs-safety-net', prefix: 'jobs/', expiresIn: `${topology.JOBS_EXPIRE_DAYS} days` },
      ],
      transform: {
        bucket: (_args, opts) => {
          opts.retainOnDelete = settings.retainData;
        },
      },
    });

    // Every function logs JSON lines (Powertools Logger: the job, task, phase and request id
    // as keys; job metrics as Embedded Metric Format), and Lambda's own lines as JSON too.
    // A month of logs: enough to look into a job, not a growing bill.
    const logging = { format: 'json', retention: '1 month' } as const;

    // Queue coordination. A message comes back when it is not acknowledged within the
    // visibility timeout (twice the counter's timeout). After 3 receives it goes to
    // DeadLetters, whose function fails the job if its task really ran 3 times; one that
    // was only throttled is sent again by the watchdog. DeadLetters also receives the
    // S3 notifications whose Orchestrator invocation failed on every attempt.
    const deadLetters = new sst.aws.Queue('DeadLetters', { visibilityTimeout: '5 minutes' });
    const tasks = new sst.aws.Queue('Tasks', {
      visibilityTimeout: `${topology.visibilitySeconds(counterTimeoutSeconds)} seconds`,
      dlq: { queue: deadLetters.arn, retry: topology.MAX_RECEIVES },
    });

    // Counter: the task function of every job, as in Corral one Lambda runs every phase and
    // the payload's `type` says which. A map task streams a 16 MiB byte range (or a pack of
    // small objects, or one gzip object) through the counting kernel and returns its counts,
    // or writes them hash-partitioned under jobs/ when they are over ~4 MB; a reduce task
    // merges a run of partitions of every map output into one sorted shard. The kernel is CPU
    // bound and Lambda gives CPU in proportion to memory: 1769 MB buys one whole vCPU. A gzip
    // object is one task however big, so the timeout is 5 minutes (15 under `sst dev`, where
    // counters run on the developer's machine). No concurrency is reserved unless the stage
    // asks (WORDCOUNT_RESERVED_CONCURRENCY): a reservation fails the deploy on an account
    // whose quota cannot spare it, and the queue mapping's maximum concurrency caps the
    // counters anyway.
    const counter = new sst.aws.Function('Counter', {
      handler: 'functions/counter.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: `${COUNTER.memoryMb} MB`,
      logging,
      timeout: `${counterTimeoutSeconds} seconds`,
      ...(settings.reservedConcurrency !== undefined && {
        concurrency: { reserved: settings.reservedConcurrency },
      }),
      // Reads its objects from the bucket and writes partials and shards under jobs/; the
      // queue link grants consuming Tasks and sending the next phase's tasks to it.
      link: [bucket, tasks],
      environment: { WORDCOUNT_MEMORY_MB: String(COUNTER.memoryMb) },
      // jieba is a native addon esbuild cannot bundle: SST installs it into the function's
      // node_modules for the function's architecture (arm64: @node-rs/jieba-linux-arm64-gnu).
      nodejs: { install: { '@node-rs/jieba': '2.0.3' } },
    });

    // One task per invocation (a task uses the function's whole memory and core), failures
    // reported per message; at most `counters` counters poll at once.
    tasks.subscribe(counter.arn, {
      batch: { size: 1, partialResponses: true },
      transform: {
        eventSourceMapping: (args) => {
          args.scalingConfig = { maximumConcurrency: counters };
        },
      },
    });
    deadLetters.subscribe(
      {
        handler: 'functions/dead-letters.handler',
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        memory: `${DEAD_LETTERS.memoryMb} MB`,
        logging,
        timeout: `${DEAD_LETTERS.timeoutSeconds} seconds`,
        link: [bucket],
      },
      { batch: { size: 10, partialResponses: true } },
    );

    // Orchestrator: lists and plans. With queue coordination it sends the map tasks and
    // returns in seconds. With RPC it invokes counters with bounded concurrency, merges small
    // partials inline, sequences the reduce tasks and streams the k-way merge of their shards
    // into the counts file, waiting for the whole fan-out: hence Lambda's longest timeout. An
    // S3 notification it fails on every attempt (2 retries) goes to DeadLetters, which
    // records the upload failed with the error.
    const orchestrator = new sst.aws.Function('Orchestrator', {
      handler: 'functions/orchestrator.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: `${ORCHESTRATOR.memoryMb} MB`,
      logging,
      timeout: `${ORCHESTRATOR.timeoutSeconds} seconds`,
      // The bucket link grants S3 access; the counter link grants lambda:InvokeFunction on it
      // (RPC) and the queue link sending to Tasks (queue).
      link: [bucket, counter, tasks],
      retries: 2,
      permissions: [{ actions: ['sqs:SendMessage'], resources: [deadLetters.arn] }],
      transform: {
        eventInvokeConfig: (args) => {
          args.destinationConfig = { onFailure: { destination: deadLetters.arn } };
        },
      },
      environment: {
        WORDCOUNT_COORDINATION: 'queue',
        WORDCOUNT_CONCURRENCY: String(counters),
        WORDCOUNT_CHUNK_SIZE: topology.DEFAULT_CHUNK_SIZE,
        WORDCOUNT_TASK_TIMEOUT_SECONDS: String(topology.taskTimeoutSeconds(counterTimeoutSeconds)),
        WORDCOUNT_STALL_SECONDS: String(topology.stallSeconds(counterTimeoutSeconds)),
        WORDCOUNT_MEMORY_MB: String(ORCHESTRATOR.memoryMb),
      },
    });

    // The watchdog: a stateless sweep of the active jobs, so a lost run (the schedule keeps
    // running while `sst dev` is closed, and its stand-in answers without running) costs
    // nothing; the next one sees the same state.
    new sst.aws.CronV2('Watchdog', {
      function: orchestrator.arn,
      schedule: `rate(${topology.SWEEP_MINUTES} minutes)`,
      event: { ...topology.SWEEP_EVENT },
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
          filterPrefix: topology.INPUT_PREFIX,
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
