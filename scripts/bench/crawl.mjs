/**
 * The crawl section (issue 19): one job over a prefix of 2,000 small objects and a 1 GiB
 * object on MiniStack, under RPC and under queue coordination, started by a manifest
 * upload; each job's published counts file compared byte for byte with the embedded
 * backend's counts of the same files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapLimit } from '../../dist/lib/concurrency.js';
import { outputKeys } from '../../dist/lib/keys.js';
import { startEmulator, stopEmulator } from '../emulator.mjs';
import { deployStack, localClients } from '../local-stack.js';
import { bibleText, ensureRepeated } from './data.mjs';
import { waitForObject } from './emulator.mjs';
import { log, markdownTable, scratch } from './measure.mjs';

const SMALL_OBJECTS = 2000;
const BIG_BYTES = 1024 ** 3;
const PREFIX = 'data/crawl/';

/** 2,000 small files of verses (Genesis to Revelation, about 2 KB each) and a 1 GiB one. */
function crawlFiles(dataDir, root) {
  const dir = join(dataDir, 'crawl');
  const small = join(dir, 'small');
  if (!existsSync(small) || readdirSync(small).length !== SMALL_OBJECTS) {
    mkdirSync(small, { recursive: true });
    const lines = bibleText().toString('utf8').split('\n');
    const per = Math.ceil(lines.length / SMALL_OBJECTS);
    for (let i = 0; i < SMALL_OBJECTS; i++) {
      const name = join(small, `${String(i).padStart(4, '0')}.txt`);
      writeFileSync(name, `${lines.slice(i * per, (i + 1) * per).join('\n')}\n`);
    }
  }
  ensureRepeated(join(dir, 'big.txt'), bibleText(), BIG_BYTES, root);
  return dir;
}

export async function crawlSection({ root, dataDir, cli }) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dir = crawlFiles(dataDir, root);
  const smallNames = readdirSync(join(dir, 'small')).sort();
  log('crawl: counting the files with the embedded backend');
  const embeddedCounts = join(scratch, 'crawl-embedded.tsv');
  const embeddedStarted = performance.now();
  const embedded = JSON.parse(
    execFileSync(process.execPath, [cli, 'count', dir, '--counts', embeddedCounts, '--json'], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString(),
  );
  const embeddedSeconds = (performance.now() - embeddedStarted) / 1000;
  const expected = readFileSync(embeddedCounts);
  const { endpoint, alreadyRunning } = await startEmulator({ log });
  const { s3 } = localClients({ endpoint });
  try {
    const stacks = [
      { name: 'rpc', bucket: 'wordcount-crawl', coordination: 'rpc' },
      { name: 'queue', bucket: 'wordcount-crawl-queue', coordination: 'queue' },
    ];
    const rows = [];
    const checks = [];
    for (const stack of stacks) {
      log(`crawl: deploying ${stack.name} and uploading ${SMALL_OBJECTS} objects and 1 GiB`);
      await deployStack({
        endpoint,
        bucket: stack.bucket,
        prefix: stack.bucket,
        concurrency: '8',
        coordination: stack.coordination,
      });
      const put = (key, body) =>
        s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
      await mapLimit(smallNames, 16, (name) =>
        put(`${PREFIX}small/${name}`, readFileSync(join(dir, 'small', name))),
      );
      await put(`${PREFIX}big.txt`, readFileSync(join(dir, 'big.txt')));
      const manifest = `input/crawl-${Date.now()}.manifest.json`;
      await put(manifest, JSON.stringify({ prefix: PREFIX }));
      const uploaded = (
        await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: manifest }))
      ).LastModified.getTime();
      const keys = outputKeys({ kind: 'key', key: manifest });
      const summary = await waitForObject(s3, stack.bucket, keys.summary, 30 * 60_000);
      const seconds = (Date.now() - uploaded) / 1000;
      const counts = await s3.send(
        new GetObjectCommand({ Bucket: stack.bucket, Key: keys.counts }),
      );
      const published = Buffer.from(await counts.Body.transformToByteArray());
      const equal = published.equals(expected);
      log(`  ${stack.name}: ${seconds.toFixed(1)} s, ${summary.chunks} tasks, equal: ${equal}`);
      rows.push([
        stack.name,
        String(smallNames.length + 1),
        String(summary.chunks),
        String(summary.stats.reduceTasks ?? 0),
        seconds.toFixed(1),
        equal ? 'yes' : '**no**',
      ]);
      checks.push({
        label: `crawl ${stack.name}: counts equal the embedded backend's`,
        actual: equal,
        want: true,
        fatal: true,
      });
    }
    return {
      lines: [
        `## Crawl: one job over ${SMALL_OBJECTS.toLocaleString('en-US')} small objects and a 1 GiB object on MiniStack (8 counters), from the manifest's upload to the published summary`,
        '',
        markdownTable(
          [
            'coordination',
            'objects',
            'map tasks',
            'reduce tasks',
            'upload → published s',
            'counts = embedded',
          ],
          rows,
          ['l', 'r', 'r', 'r', 'r', 'l'],
        ),
        '',
        `The embedded backend counted the same files in ${embeddedSeconds.toFixed(1)} s (${embedded.totalWords.toLocaleString('en-US')} words, ${embedded.distinctWords.toLocaleString('en-US')} distinct).`,
        '',
      ],
      checks,
      targets: checks.map((c) => `- ${c.label}: ${c.actual === c.want ? 'met' : '**NOT MET**'}`),
    };
  } finally {
    s3.destroy();
    if (!alreadyRunning) await stopEmulator({ log });
  }
}
