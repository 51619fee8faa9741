/**
 * The HTML report in a real browser (Debian's Chromium, driven by playwright-core): built
 * by the CLI from real counts, opened from file:// with every request recorded, it must
 * draw its three charts, show its figures, make no request and log no error; hostile
 * words must show as text and run nothing. Chromium is required: without it this fails.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportDataFromCounts, totalOfCounts } from '../../lib/report/from-counts.js';
import type { ReportData } from '../../lib/report/report-data.js';
import { findChromium } from '../../scripts/browser.mjs';
import { runCli } from '../support/cli.js';

// npm test finds (or installs) it and sets CHROMIUM_PATH; a bare `vitest run` looks too.
const CHROMIUM = process.env.CHROMIUM_PATH || findChromium();
const GENESIS = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
const number = new Intl.NumberFormat('en-US');

interface Opened {
  text: string;
  requests: string[];
  errors: string[];
  dialogs: string[];
  /** Per canvas id, how many of its pixels are drawn (not transparent). */
  drawn: Record<string, number>;
  /** The labels of the top-words chart, as Chart.js holds them. */
  labels: string[];
  images: number;
  scripts: number;
}

/**
 * Run in the page (as text: this project's types have no DOM): how much of each canvas is
 * drawn, the top chart's labels as Chart.js holds them, and what the document holds.
 */
const PROBE = `(() => {
  const drawn = {};
  for (const canvas of document.querySelectorAll('canvas')) {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
    drawn[canvas.id] = n / (canvas.width * canvas.height);
  }
  const top = Chart.getChart('top-chart');
  return {
    text: document.body.textContent,
    drawn,
    labels: top ? top.data.labels : [],
    images: document.images.length,
    scripts: document.scripts.length,
  };
})()`;

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('no Chromium found: run `npm test`, or set CHROMIUM_PATH');
  browser = await chromium.launch({ executablePath: CHROMIUM });
  dir = await mkdtemp(join(tmpdir(), 'wordcount-report-'));
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(path).href;
  const opened = { requests: [] as string[], errors: [] as string[], dialogs: [] as string[] };
  page.on('request', (request) => {
    if (request.url() !== url) opened.requests.push(request.url());
  });
  await page.route(/^(?!file:)/, (route) => route.abort());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      opened.errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => opened.errors.push(error.message));
  page.on('dialog', async (dialog) => {
    opened.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  const seen = (await page.evaluate(PROBE)) as Omit<Opened, keyof typeof opened>;
  await page.close();
  return { ...opened, ...seen };
}

async function dataOf(counts: string): Promise<ReportData> {
  const total = await totalOfCounts(createReadStream(counts), counts);
  return reportDataFromCounts(createReadStream(counts), total, counts);
}

function expectHealthy(page: Opened): void {
  expect(page.requests).toEqual([]);
  expect(page.errors).toEqual([]);
  expect(page.dialogs).toEqual([]);
  for (const id of ['top-chart', 'zipf-chart', 'coverage-chart']) {
    // An empty canvas is all transparent; a drawn chart has axes, bars, lines, labels.
    expect(page.drawn[id], id).toBeGreaterThan(0.02);
  }
}

function expectFigures(page: Opened, data: ReportData): void {
  expect(page.text).toContain(`Zipf exponent s = ${data.zipf?.exponent.toFixed(3)}`);
  const [half, most] = data.coverage;
  expect(page.text).toContain(
    `the ${number.format(half?.rank ?? 0)} most frequent make up 50% of the text and the ${number.format(most?.rank ?? 0)} most frequent 90%`,
  );
  expect(page.text).toContain(number.format(data.totalWords));
}

describe('the HTML report', () => {
  it('draws the charts and figures of a count, with its summary, offline', async () => {
    const html = join(dir, 'genesis.html');
    const counts = join(dir, 'genesis.tsv');
    const run = await runCli(['count', GENESIS, '--report', html, '--counts', counts]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`report  ${html}`);
    const page = await open(html);
    expectHealthy(page);
    const data = await dataOf(counts);
    expectFigures(page, data);
    expect(page.text).toContain('map tasks');
    expect(page.text).toContain(GENESIS);
    expect(page.labels.slice(0, 3)).toEqual(['and', 'the', 'of']);
  });

  it('draws the report of a counts file alone, without a summary', async () => {
    const counts = join(dir, 'alone.tsv');
    expect((await runCli(['count', GENESIS, '--counts', counts, '--json'])).code).toBe(0);
    const run = await runCli(['report', counts]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const html = join(dir, 'alone.report.html');
    expect(run.stdout).toBe(`report  ${html}\n`);
    const page = await open(html);
    expectHealthy(page);
    expectFigures(page, await dataOf(counts));
    expect(page.text).toContain(counts);
  });

  it('draws the report of counts pruned by --min-count, and of counts pruned to nothing', async () => {
    const html = join(dir, 'pruned.html');
    const run = await runCli(['count', GENESIS, '--min-count', '20', '--report', html]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const page = await open(html);
    expectHealthy(page);
    expect(page.text).toMatch(/distinct words, the [\d,]+ counted at least 20 times make up \d+%/);
    expect(page.labels.slice(0, 3)).toEqual(['and', 'the', 'of']);
    const none = join(dir, 'pruned-to-nothing.html');
    const nothing = await runCli(['count', GENESIS, '--min-count', '1000000', '--report', none]);
    expect(nothing).toMatchObject({ code: 0, stderr: '' });
    const empty = await open(none);
    expect([empty.requests, empty.errors, empty.dialogs, empty.labels]).toEqual([[], [], [], []]);
    expect(empty.text).toContain('the 0 counted at least 1,000,000 times make up 0% of the text');
  });

  it('shows hostile and CJK words as text and runs nothing of them', async () => {
    const hostile = [
      '</script><script>alert(1)</script>',
      '<img/src=x/onerror=alert(2)>',
      '"quoted"&amp;',
      '<!--',
      "';alert(3);'",
      '東京',
      '日本語',
      'ß',
    ];
    // Whitespace mode keeps every one of them as a token; more of the earlier ones.
    const text = hostile.map((w, i) => `${w} `.repeat(hostile.length - i)).join('\n');
    const source = join(dir, 'hostile.txt');
    await writeFile(source, `${text}\n${'filler '.repeat(3)}`);
    const html = join(dir, 'hostile.html');
    const run = await runCli(['count', source, '--mode', 'whitespace', '--report', html]);
    expect(run.code).toBe(0);
    const page = await open(html);
    expectHealthy(page);
    expect(page.labels).toEqual([...hostile.slice(0, 5), 'filler', ...hostile.slice(5)]);
    expect(page.images).toBe(0);
    expect(page.scripts).toBe(3);
  });
});
