/** The `plan` command's arguments and options; what it does loads when it runs. */
import { type Command, Option } from 'commander';
import { FORMAT_OPTIONS } from '../records/formats.js';
import { MODES } from '../tokenize.js';
import { chunkSize, positiveInteger } from './options.js';
import type { PlanOptions } from './plan.js';

async function plan(sources: string[], options: PlanOptions): Promise<void> {
  const summary = await (await import('./plan.js')).planSources(sources, options);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : (await import('./plan-render.js')).planTable(summary),
  );
}

export function addPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show what a job would do on AWS and what it would cost, reading no data')
    .argument(
      '<source...>',
      'files and directories (planned as if uploaded), s3://bucket/key or s3://bucket/prefix/',
    )
    .addOption(new Option('--mode <mode>', 'token rules').choices(MODES).default('words'))
    .addOption(
      new Option('--format <format>', 'how objects are read (auto: by name, in a plan)')
        .choices(FORMAT_OPTIONS)
        .default('auto'),
    )
    .option('--doc-freq', 'a job counting documents: a text file is one, read whole by one task')
    .option(
      '--chunk-size <size>',
      'bytes per map task (default: 16MiB, grown with the input)',
      chunkSize,
    )
    .option(
      '--width <n>',
      "counters at once (default: 1000, an account's default concurrency)",
      positiveInteger('--width', 10_000),
    )
    .option('--json', 'print the plan as one JSON object')
    .option(
      '--function <name>',
      's3:// sources: plan with this orchestrator (default: $WORDCOUNT_ORCHESTRATOR_FUNCTION)',
    )
    .action(plan);
}
