/**
 * The corpus section: one text (the King James Bible) cut into documents and stored as
 * a corpus is: C4-shaped JSON Lines gzip, FineWeb-shaped Parquet (snappy, 10,000 rows
 * per row group) and Common Crawl-shaped WET, written by the real writers
 * (scripts/corpus.py bench). Counted by the CLI (whitespace mode, 1 and 2 workers), by
 * the same texts as plain files, and by what a user reaches for instead: DuckDB
 * (read_json / read_parquet, regexp_split_to_array, GROUP BY, the counts written out),
 * `zcat | jq -r .text | tr | sort | uniq -c`, and Python's json / pyarrow with a Counter.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { corpusPy, ensureCorpusVenv } from '../corpus-venv.mjs';
import { bibleText } from './data.mjs';
import { log, markdownTable, runCases, scratch, wordcountCase } from './measure.mjs';

/** MB of text in the corpora (BENCH_CORPUS_MB to try a smaller one). */
const TEXT_MB = Number(process.env.BENCH_CORPUS_MB ?? 200);
const FILES = 4;

const TARGETS = {
  /** At least this many times faster than DuckDB (2 workers, 2 threads). */
  vsDuckdb: 5,
  /** JSONL.gz at most this many times our time on the same texts as plain files. */
  jsonlVsPlain: 1.6,
  /** Parquet at most this many times our time on the same texts as plain files. */
  parquetVsPlain: 1.4,
  /** At least this many times faster than the jq pipeline. */
  vsJq: 10,
};

/** DuckDB with 2 threads: the counts written as TSV, the totals printed as JSON. */
const duckdbProgram = `
import duckdb, json, sys
source, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET enable_progress_bar = false")
con.execute(f"""CREATE TABLE c AS SELECT word, count(*) AS n FROM (
  SELECT unnest(regexp_split_to_array(text, '\\\\s+')) AS word FROM {source}
) WHERE word <> '' GROUP BY word""")
con.execute(f"COPY (SELECT word, n FROM c ORDER BY n DESC, word) TO '{out}' (FORMAT csv, DELIMITER '\\t', HEADER false, QUOTE '')")
total, distinct = con.execute("SELECT sum(n), count(*) FROM c").fetchone()
print(json.dumps({"totalWords": int(total), "distinctWords": int(distinct)}))
`;

const pythonJsonProgram = `
import collections, glob, gzip, json, sys
c = collections.Counter()
for name in sorted(glob.glob(sys.argv[1])):
    with gzip.open(name, "rt", encoding="utf-8") as f:
        for line in f:
            c.update(json.loads(line)["text"].split())
print(json.dumps({"totalWords": sum(c.values()), "distinctWords": len(c)}))
`;

const pythonParquetProgram = `
import collections, glob, json, sys
import pyarrow.parquet as pq
c = collections.Counter()
for name in sorted(glob.glob(sys.argv[1])):
    for batch in pq.ParquetFile(name).iter_batches(columns=["text"]):
        for text in batch.column(0).to_pylist():
            if text is not None:
                c.update(text.split())
print(json.dumps({"totalWords": sum(c.values()), "distinctWords": len(c)}))
`;

/** Writes the corpora once (bench-data/corpus-200m/), reusing them after. */
function ensureCorpora(dataDir, root) {
  const dir = join(dataDir, `corpus-${TEXT_MB}m`);
  const stamp = join(dir, 'sizes.json');
  if (existsSync(stamp)) return { dir, ...JSON.parse(readFileSync(stamp, 'utf8')) };
  ensureCorpusVenv({ log });
  const text = join(scratch, 'kjv.txt');
  writeFileSync(text, bibleText());
  log(`creating ${relative(root, dir)} (${TEXT_MB} MB of text in ${FILES} files per format)…`);
  const sizes = corpusPy([
    'bench',
    dir,
    '--text',
    text,
    '--mb',
    String(TEXT_MB),
    '--files',
    String(FILES),
  ]);
  writeFileSync(stamp, sizes);
  return { dir, ...JSON.parse(sizes) };
}

/** Runs the section; returns its markdown lines, its correctness checks and its targets. */
export async function corpusSection({ cli, root, dataDir, runs }) {
  const corpora = ensureCorpora(dataDir, root);
  const { dir, stored, textBytes, documents } = corpora;
  const python = ensureCorpusVenv({ log });
  const ours = (name, kind, workers) => ({
    ...wordcountCase(cli, name, [join(dir, kind)], 'whitespace', workers, ['--top', '0']),
    kind,
  });
  const duckdb = (name, kind, source) => ({
    name,
    kind,
    command: python,
    args: ['-c', duckdbProgram, source, join(scratch, `duckdb-${kind}.tsv`)],
    parse: (stdout) => JSON.parse(stdout),
  });
  const jq = {
    name: 'zcat | jq -r .text | tr | sort | uniq -c',
    kind: 'jsonl',
    command: 'sh',
    args: [
      '-c',
      `zcat "${dir}"/jsonl/*.json.gz | jq -r .text | tr -s '[:space:]' '\\n' | LC_ALL=C sort -S 1G | uniq -c > "${scratch}/jq.txt" && awk '$2 != "" {t += $1; n++} END {print t, n}' "${scratch}/jq.txt"`,
    ],
    parse: (stdout) => {
      const [total, distinct] = stdout.trim().split(/\s+/).map(Number);
      return { totalWords: total, distinctWords: distinct };
    },
  };
  const cases = [
    ours('wordcount, plain texts, 1 worker', 'plain', 1),
    ours('wordcount, plain texts, 2 workers', 'plain', 2),
    ours('wordcount, JSONL.gz, 1 worker', 'jsonl', 1),
    ours('wordcount, JSONL.gz, 2 workers', 'jsonl', 2),
    ours('wordcount, Parquet, 1 worker', 'parquet', 1),
    ours('wordcount, Parquet, 2 workers', 'parquet', 2),
    ours('wordcount, WET, 1 worker', 'wet', 1),
    ours('wordcount, WET, 2 workers', 'wet', 2),
    duckdb(
      'DuckDB read_json, 2 threads',
      'jsonl',
      `read_json('${dir}/jsonl/*.json.gz', format = 'newline_delimited', columns = {text: 'VARCHAR'})`,
    ),
    duckdb('DuckDB read_parquet, 2 threads', 'parquet', `read_parquet('${dir}/parquet/*.parquet')`),
    jq,
    {
      name: 'Python json + Counter',
      kind: 'jsonl',
      command: python,
      args: ['-c', pythonJsonProgram, `${dir}/jsonl/*.json.gz`],
      parse: (stdout) => JSON.parse(stdout),
    },
    {
      name: 'Python pyarrow + Counter',
      kind: 'parquet',
      command: python,
      args: ['-c', pythonParquetProgram, `${dir}/parquet/*.parquet`],
      parse: (stdout) => JSON.parse(stdout),
    },
  ];
  log(`corpus: ${(textBytes / 1e6).toFixed(0)} MB of text, ${documents} documents, ${runs} run(s)`);
  const results = runCases(cases, runs, textBytes);
  const byName = (name) => results.find((r) => r.name === name);
  const plain2 = byName('wordcount, plain texts, 2 workers');
  const out = [
    `## Corpora: ${(textBytes / 1e6).toFixed(0)} MB of text (${documents.toLocaleString('en-US')} documents of the King James Bible) as JSONL.gz, Parquet and WET, ${FILES} files each; whitespace mode; median of ${runs} run(s)`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s stored', 'MB/s text', 'vs our 2 workers', 'peak RSS MiB'],
      results.map((r) => {
        const mine = byName(
          `wordcount, ${{ plain: 'plain texts', jsonl: 'JSONL.gz', parquet: 'Parquet', wet: 'WET' }[r.kind]}, 2 workers`,
        );
        return [
          r.name,
          r.seconds.toFixed(2),
          (stored[r.kind] / 1e6 / r.seconds).toFixed(1),
          (textBytes / 1e6 / r.seconds).toFixed(1),
          `${(r.seconds / mine.seconds).toFixed(2)}×`,
          r.rssMiB === null ? 'n/a' : r.rssMiB.toFixed(0),
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Stored: plain ${(stored.plain / 1e6).toFixed(0)} MB, JSONL.gz ${(stored.jsonl / 1e6).toFixed(0)} MB, Parquet ${(stored.parquet / 1e6).toFixed(0)} MB, WET ${(stored.wet / 1e6).toFixed(0)} MB. vs our 2 workers: the row's time over ours on the same format with 2 workers.`,
    '',
  ];
  const ratio = (a, b) => byName(a).seconds / byName(b).seconds;
  const met = (ok) => (ok ? 'met' : '**missed**');
  const duckJson = ratio('DuckDB read_json, 2 threads', 'wordcount, JSONL.gz, 2 workers');
  const duckParquet = ratio('DuckDB read_parquet, 2 threads', 'wordcount, Parquet, 2 workers');
  const jsonlPlain = ratio('wordcount, JSONL.gz, 2 workers', 'wordcount, plain texts, 2 workers');
  const parquetPlain = ratio('wordcount, Parquet, 2 workers', 'wordcount, plain texts, 2 workers');
  const vsJq = ratio('zcat | jq -r .text | tr | sort | uniq -c', 'wordcount, JSONL.gz, 2 workers');
  const targets = [
    `- ${met(duckJson >= TARGETS.vsDuckdb)}: JSONL.gz ${duckJson.toFixed(1)}× faster than DuckDB read_json (target ≥ ${TARGETS.vsDuckdb}×)`,
    `- ${met(duckParquet >= TARGETS.vsDuckdb)}: Parquet ${duckParquet.toFixed(1)}× faster than DuckDB read_parquet (target ≥ ${TARGETS.vsDuckdb}×)`,
    `- ${met(jsonlPlain <= TARGETS.jsonlVsPlain)}: JSONL.gz ${jsonlPlain.toFixed(2)}× our time on the same texts as plain files (target ≤ ${TARGETS.jsonlVsPlain}×)`,
    `- ${met(parquetPlain <= TARGETS.parquetVsPlain)}: Parquet ${parquetPlain.toFixed(2)}× our time on plain files (target ≤ ${TARGETS.parquetVsPlain}×)`,
    `- ${met(vsJq >= TARGETS.vsJq)}: JSONL.gz ${vsJq.toFixed(1)}× faster than the jq pipeline (target ≥ ${TARGETS.vsJq}×)`,
  ];
  const want = plain2.outputs[0];
  const checks = results.flatMap((r) => [
    {
      label: `corpus: ${r.name} total words`,
      actual: r.outputs[0].totalWords,
      want: want.totalWords,
      fatal: true,
    },
    {
      label: `corpus: ${r.name} distinct words`,
      actual: r.outputs[0].distinctWords,
      want: want.distinctWords,
      fatal: true,
    },
  ]);
  for (const r of results.filter((c) => c.name.startsWith('wordcount') && c.kind !== 'plain')) {
    checks.push({
      label: `corpus: ${r.name} records`,
      actual: r.outputs[0].records,
      want: documents,
      fatal: true,
    });
  }
  return { lines: out, checks, targets };
}
