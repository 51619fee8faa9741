/** The corpora the format suite counts, written once per test file (formatSuite). */
import { join } from 'node:path';
import type { Corpora } from '../contract/format-suite.js';
import { writeCorpus } from './corpus.js';

export async function writeCorpora(root: string): Promise<Corpora> {
  const corpus = await writeCorpus(join(root, 'corpus'), { docs: 200 });
  const nested = await writeCorpus(join(root, 'nested'), { docs: 80, seed: 5, field: 'meta.body' });
  const nestedNames = nested.names.filter((n) => /\.(jsonl|json\.gz|jsonl\.zst)$/.test(n));
  return {
    corpus,
    oracle: await corpus.oracle(),
    nested,
    nestedNames,
    nestedOracle: await nested.oracle({ names: nestedNames, field: 'meta.body' }),
  };
}
