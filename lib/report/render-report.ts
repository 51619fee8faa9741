/**
 * The report as one self-contained HTML page: Chart.js and the page's script inlined, the
 * data as JSON in a non-executed script element. Words are user data (`</script>`,
 * `<img onerror=...>` are tokens in whitespace mode): they travel only as escaped JSON
 * and are placed as text, and a Content-Security-Policy lets nothing but the page's two
 * scripts run and nothing be fetched.
 */
import { createHash } from 'node:crypto';
import type { Summary } from '../contracts/summary.js';
import { CHART_JS_SOURCE, CHART_JS_VERSION } from './chart-source.js';
import { PAGE_SCRIPT } from './page-script.js';
import type { ReportData } from './report-data.js';
import { reportText } from './report-text.js';

/** Latin first, then CJK (and Thai) faces of each platform, so any script reads in a proper font. */
export const FONT_STACK = [
  'system-ui',
  '-apple-system',
  '"Segoe UI"',
  'Roboto',
  '"Helvetica Neue"',
  'Arial',
  '"Noto Sans"',
  '"Noto Sans CJK SC"',
  '"Noto Sans CJK JP"',
  '"Source Han Sans SC"',
  '"PingFang SC"',
  '"Hiragino Sans"',
  '"Microsoft YaHei"',
  '"WenQuanYi Zen Hei"',
  '"Noto Sans Thai"',
  '"Leelawadee UI"',
  'Loma',
  'sans-serif',
].join(', ');

/**
 * JSON that an HTML parser cannot end early: `<`, `>` and `&` (so no `</script>` or
 * `<!--`), and U+2028/U+2029 (line terminators to older JavaScript) as \u escapes.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const scriptHash = (text: string) =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
let chartHash: string | undefined;

const STYLE = `
:root { --ink: #1f2933; --muted: #52606d; --grid: #e4e7eb; --accent: #2f6fb3; --second: #d9534f;
  --card: #ffffff; --page: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink); font-family: ${FONT_STACK};
  font-size: 15px; line-height: 1.45; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { margin: 0; font-size: 26px; }
h2 { margin: 0 0 4px; font-size: 18px; }
#subtitle { margin: 2px 0 12px; color: var(--muted); overflow-wrap: anywhere; }
#figures { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 16px; padding: 0; }
#figures div { background: var(--card); border: 1px solid var(--grid); border-radius: 6px;
  padding: 6px 12px; min-width: 110px; }
#figures dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
#figures dd { margin: 0; font-size: 17px; font-weight: 600; overflow-wrap: anywhere; }
#details { margin: -6px 0 16px; color: var(--muted); font-size: 13px; }
#details summary { cursor: pointer; }
#details-list { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0 0; }
#details-list dd { margin: 0; color: var(--ink); overflow-wrap: anywhere; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
section { background: var(--card); border: 1px solid var(--grid); border-radius: 8px; padding: 14px 16px; }
section.top { grid-row: span 2; display: flex; flex-direction: column; }
section.top .chart { flex: 1; min-height: 640px; }
section p { margin: 0 0 8px; }
.chart { position: relative; height: 330px; }
.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12px; padding-top: 12px; padding-bottom: 20px; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } section.top { grid-row: auto; } }
`;

/** The HTML page of `data`; the summary's figures when there is one, else `counts` names the file. */
export function renderReport(data: ReportData, summary?: Summary, counts?: string): string {
  chartHash ??= scriptHash(CHART_JS_SOURCE);
  const payload = jsonForScript({ data, text: reportText(data, summary, counts) });
  const policy = [
    "default-src 'none'",
    `script-src ${chartHash} ${scriptHash(PAGE_SCRIPT)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Word frequencies</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1 id="title">Word frequencies</h1>
<p id="subtitle"></p>
<dl id="figures"></dl>
<details id="details" hidden><summary>More figures</summary><dl id="details-list"></dl></details>
</header>
<main>
<section class="top">
<h2 id="top-title">Most frequent words</h2>
<div class="chart"><canvas id="top-chart" role="img" aria-label="bar chart of the most frequent words"></canvas></div>
</section>
<section>
<h2>Rank and frequency</h2>
<p id="zipf"></p>
<div class="chart"><canvas id="zipf-chart" role="img" aria-label="occurrences by rank, log-log"></canvas></div>
<p id="method" class="note"></p>
</section>
<section>
<h2>Coverage</h2>
<p id="coverage"></p>
<div class="chart"><canvas id="coverage-chart" role="img" aria-label="share of the text by number of distinct words"></canvas></div>
</section>
</main>
<footer>Made by wordcount-fanout with Chart.js ${CHART_JS_VERSION} (MIT License).</footer>
<noscript><p>This report draws its charts with JavaScript.</p></noscript>
<script type="application/json" id="report-data">${payload}</script>
<script>${CHART_JS_SOURCE}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
