/**
 * The script of the report page (plain browser JavaScript, run after Chart.js): reads the
 * report's JSON from its data element and draws the page. Words and every other text
 * reach the page through textContent or the canvas, never as markup.
 */
export const PAGE_SCRIPT = `(() => {
  'use strict';
  const payload = JSON.parse(document.getElementById('report-data').textContent);
  const { data, text } = payload;
  const number = new Intl.NumberFormat('en-US');
  const byId = (id) => document.getElementById(id);
  const put = (id, value) => {
    byId(id).textContent = value;
  };

  document.title = text.subtitle ? text.title + ' — ' + text.subtitle : text.title;
  put('title', text.title);
  put('subtitle', text.subtitle);
  put('zipf', text.zipf);
  put('method', text.method);
  put('coverage', text.coverage);
  put('top-title', data.top.length > 0 ? 'The ' + data.top.length + ' most frequent words' : 'No words');
  const figures = byId('figures');
  for (const [label, value] of text.figures) {
    const item = document.createElement('div');
    const term = document.createElement('dt');
    const detail = document.createElement('dd');
    term.textContent = label;
    detail.textContent = value;
    item.append(term, detail);
    figures.append(item);
  }
  const details = byId('details-list');
  for (const [label, value] of text.details) {
    const term = document.createElement('dt');
    const detail = document.createElement('dd');
    term.textContent = label;
    detail.textContent = value;
    details.append(term, detail);
  }
  byId('details').hidden = text.details.length === 0;
  // No words, or none counted the job's minimum count: nothing to chart.
  if (data.samples.length === 0) return;

  const style = getComputedStyle(document.body);
  const ink = style.getPropertyValue('--ink').trim();
  const muted = style.getPropertyValue('--muted').trim();
  const grid = style.getPropertyValue('--grid').trim();
  const accent = style.getPropertyValue('--accent').trim();
  const second = style.getPropertyValue('--second').trim();
  Chart.defaults.font.family = style.fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = muted;
  Chart.defaults.borderColor = grid;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.legend.labels.boxWidth = 8;
  Chart.defaults.plugins.legend.labels.boxHeight = 8;

  const share = (count) => ((100 * count) / data.totalWords).toFixed(2) + '%';
  // Log axes label each power of ten, and 2 and 5 times it when they span few decades;
  // the other grid lines stay bare.
  const logTick = (value, _, ticks) => {
    const decades = Math.log10(ticks[ticks.length - 1].value / ticks[0].value);
    const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
    const labelled = decades > 2.5 ? [1] : [1, 2, 5];
    return labelled.some((m) => Math.abs(mantissa - m) < 1e-6) ? number.format(value) : '';
  };
  const axisTitle = (label) => ({ display: true, text: label, color: ink, font: { weight: 'bold' } });
  const logAxis = (label) => ({
    type: 'logarithmic',
    title: axisTitle(label),
    ticks: { callback: logTick, maxRotation: 0, autoSkipPadding: 12 },
  });
  // Each bar's count and share at its end, drawn on the canvas (text, never markup).
  const barValues = {
    id: 'barValues',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      ctx.save();
      ctx.font = '12px ' + style.fontFamily;
      ctx.fillStyle = muted;
      ctx.textBaseline = 'middle';
      chart.getDatasetMeta(0).data.forEach((bar, i) => {
        const count = data.top[i].count;
        ctx.fillText(number.format(count) + '  ' + share(count), bar.x + 6, bar.y);
      });
      ctx.restore();
    },
  };
  const shorten = (word) => (word.length > 28 ? word.slice(0, 27) + '…' : word);

  new Chart(byId('top-chart'), {
    type: 'bar',
    plugins: [barValues],
    data: {
      labels: data.top.map((t) => t.word),
      datasets: [{ data: data.top.map((t) => t.count), backgroundColor: accent, borderRadius: 2 }],
    },
    options: {
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => data.top[items[0].dataIndex].word,
            label: (item) => number.format(item.raw) + ' times, ' + share(item.raw) + ' of the text',
          },
        },
      },
      scales: {
        x: {
          title: axisTitle('occurrences'),
          // Room for the first bar's figures.
          suggestedMax: data.top[0].count * 1.22,
          ticks: { callback: (v) => number.format(v), maxRotation: 0, precision: 0 },
        },
        y: {
          grid: { display: false },
          ticks: {
            autoSkip: false,
            color: ink,
            callback: (_, i) => shorten(data.top[i].word),
          },
        },
      },
    },
  });

  const zipf = data.zipf;
  const rankFrequency = [
    {
      label: 'observed',
      data: data.samples.map((s) => ({ x: s.rank, y: s.count })),
      borderColor: accent,
      backgroundColor: accent,
      showLine: true,
      pointRadius: 2,
      borderWidth: 2,
    },
  ];
  if (zipf) {
    rankFrequency.push({
      label: 'fit: ' + number.format(Math.round(zipf.constant)) + ' / r^' + zipf.exponent.toFixed(2),
      data: [zipf.fromRank, zipf.toRank].map((r) => ({ x: r, y: zipf.constant / r ** zipf.exponent })),
      borderColor: second,
      backgroundColor: second,
      borderDash: [6, 4],
      showLine: true,
      pointRadius: 0,
      borderWidth: 2,
    });
  }
  new Chart(byId('zipf-chart'), {
    type: 'scatter',
    data: { datasets: rankFrequency },
    options: {
      plugins: {
        legend: { position: 'top', align: 'end' },
        tooltip: {
          callbacks: {
            label: (item) => 'rank ' + number.format(item.raw.x) + ': ' + number.format(Math.round(item.raw.y)) + ' times',
          },
        },
      },
      scales: {
        x: logAxis('rank (log scale)'),
        y: logAxis('occurrences (log scale)'),
      },
    },
  });

  const last = data.samples[data.samples.length - 1].rank;
  const coverage = [
    {
      label: 'share of the text',
      data: data.samples.map((s) => ({ x: s.rank, y: (100 * s.cumulative) / data.totalWords })),
      borderColor: accent,
      backgroundColor: accent,
      showLine: true,
      pointRadius: 0,
      borderWidth: 2,
    },
  ];
  const markColors = [second, ink];
  data.coverage.forEach((c, i) => {
    const y = 100 * c.share;
    coverage.push({
      label: Math.round(y) + '%: ' + number.format(c.rank) + ' word' + (c.rank === 1 ? '' : 's'),
      data: [{ x: 1, y }, { x: c.rank, y }, { x: c.rank, y: 0 }],
      borderColor: markColors[i % markColors.length],
      backgroundColor: markColors[i % markColors.length],
      borderDash: [5, 4],
      borderWidth: 1.5,
      showLine: true,
      pointRadius: [0, 4, 0],
    });
  });
  new Chart(byId('coverage-chart'), {
    type: 'scatter',
    data: { datasets: coverage },
    options: {
      plugins: {
        legend: { position: 'bottom', align: 'end' },
        tooltip: {
          callbacks: {
            label: (item) => 'the ' + number.format(item.raw.x) + ' most frequent: ' + item.raw.y.toFixed(1) + '%',
          },
        },
      },
      scales: {
        x: {
          ...logAxis('distinct words, most frequent first (log scale)'),
          min: 1,
          max: Math.max(10, last),
        },
        y: {
          min: 0,
          max: 100,
          title: axisTitle('share of the text'),
          ticks: { stepSize: 10, callback: (v) => v + '%' },
        },
      },
    },
  });
})();
`;
