#!/usr/bin/env node
/**
 * Renders the HTML report of a sample text to samples/report.png for the README: the whole
 * King James Bible when Debian's `bible-kjv` is installed (its `bible` command prints it),
 * else the bundled Genesis. Needs `npm run build` and Chromium (found as `npm test` finds
 * it: scripts/browser.mjs). Usage: node scripts/report-screenshot.mjs [--out FILE] [--html FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { findChromium } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'samples/report.png') },
    html: { type: 'string' },
  },
});
const { countFile } = await import(join(ROOT, 'dist/lib/index.js'));
const { writeReportOfCounts } = await import(join(ROOT, 'dist/lib/report/report-file.js'));

function wholeBible(dir) {
  let text;
  try {
    text = execFileSync('bible', ['-f', 'Gen1:1-Rev22:21'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
  } catch {
    return undefined;
  }
  const path = join(dir, 'kjv.txt');
  // Each line starts with its reference (`Ge1:1 In the beginning...`): not words of the text.
  writeFileSync(path, text.replace(/^\S+ /gm, ''));
  return { path, label: 'The King James Bible (Debian bible-kjv)' };
}

const work = mkdtempSync(join(tmpdir(), 'wordcount-screenshot-'));
try {
  const text = wholeBible(work) ?? {
    path: join(ROOT, 'samples/kjv-genesis.txt'),
    label: 'Genesis, King James Version (samples/kjv-genesis.txt)',
  };
  const counts = join(work, 'counts.tsv');
  const summary = await countFile(text.path, { counts });
  const html = values.html ?? join(work, 'report.html');
  await writeReportOfCounts(counts, html, {
    ...summary,
    source: { ...summary.source, uri: text.label },
  });

  const browser = await chromium.launch({
    executablePath: findChromium() ?? '/usr/bin/chromium',
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(html).href);
    await page.screenshot({ path: values.out, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(`${values.out}: ${statSync(values.out).size} bytes (${text.label})\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
