// The dashboard: one SSE stream (/api/events) feeds six uPlot charts, the figures, the hot-key table,
// the health verdict and the scenario log. Plain script, no build step: what you read is what runs.
/* global uPlot */

const KEEP = 300; // seconds of history on the charts
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);

/** A ratio as a percentage; null (no reads yet) stays a gap in the chart. */
const percent = (ratio) => (ratio === null ? null : ratio * 100);

const CHARTS = [
  {
    title: 'Requests/s',
    series: [
      ['requests', (p) => p.rates.requests, '#2b6cb0'],
      ['failed', (p) => p.rates.errors, '#c53030'],
    ],
  },
  {
    title: 'Database queries/s',
    series: [
      ['reads', (p) => p.rates.dbReads, '#dd6b20'],
      ['writes', (p) => p.rates.dbWrites, '#805ad5'],
    ],
  },
  {
    title: 'Hit rate (%)',
    range: [0, 100],
    series: [
      ['all tiers', (p) => percent(p.hitRate), '#2f855a'],
      ['L1', (p) => percent(p.l1HitRate), '#38b2ac'],
      ['L2 (of L1 misses)', (p) => percent(p.l2HitRate), '#805ad5'],
    ],
  },
  {
    title: 'Latency (ms)',
    series: [
      ['p50', (p) => p.p50Ms, '#2b6cb0'],
      ['p99', (p) => p.p99Ms, '#c53030'],
    ],
  },
  {
    title: 'Protections at work (/s)',
    series: [
      ['stale served', (p) => p.rates.staleServed, '#b7791f'],
      ['loads collapsed', (p) => p.rates.collapsed, '#2f855a'],
      ['L2 errors absorbed', (p) => p.rates.l2Errors, '#c53030'],
      ['early refreshes', (p) => p.rates.refreshes, '#805ad5'],
    ],
  },
  {
    title: 'Miss causes (/s)',
    series: [
      ['cold', (p) => p.rates.cold, '#718096'],
      ['expired', (p) => p.rates.expired, '#dd6b20'],
      ['evicted', (p) => p.rates.evicted, '#805ad5'],
      ['invalidated', (p) => p.rates.invalidated, '#c53030'],
    ],
  },
];

const charts = CHARTS.map((spec) => {
  const box = document.createElement('div');
  box.className = 'chart';
  box.innerHTML = `<h3>${spec.title}</h3>`;
  document.getElementById('charts').append(box);
  const width = () => box.clientWidth - 16;
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      scales: { x: { time: false }, ...(spec.range ? { y: { range: spec.range } } : {}) },
      axes: [{ label: 's' }, { size: 60 }],
      series: [
        { label: 't (s)' },
        ...spec.series.map(([label, , stroke]) => ({ label, stroke, width: 2, spanGaps: true })),
      ],
    },
    [[], ...spec.series.map(() => [])],
    box,
  );
  return { spec, plot, width, data: [[], ...spec.series.map(() => [])] };
});
// The plotted columns of a chart by title, [t, series…]: for tests and for poking at in devtools.
window.dashboardData = (title) => charts.find((c) => c.spec.title === title)?.data;

addEventListener('resize', () => {
  for (const c of charts) c.plot.setSize({ width: c.width(), height: 220 });
});

let points = 0;
function addPoint(point, redraw = true) {
  for (const c of charts) {
    c.data[0].push(point.t);
    c.spec.series.forEach(([, value], i) => {
      c.data[i + 1].push(value(point));
    });
    if (c.data[0].length > KEEP) for (const column of c.data) column.shift();
    if (redraw) c.plot.setData(c.data);
  }
  points++;
  document.getElementById('points').textContent = String(points);
  if (redraw) showFigures(point);
}

function showFigures(p) {
  const queries = p.rates.dbReads + p.rates.dbWrites;
  document.getElementById('n-rps').textContent = fmt(p.rates.requests);
  document.getElementById('n-db').textContent = fmt(queries);
  document.getElementById('n-hit').textContent = pct(p.hitRate);
  document.getElementById('n-p99').textContent = `${p.p99Ms.toFixed(2)} ms`;
  document.getElementById('n-offload').textContent = queries === 0 ? '∞' : `${fmt(p.rates.requests / queries)}×`;
  document.getElementById('status').textContent = `live, ${p.t.toFixed(0)} s since start`;
  document.getElementById('running').textContent = p.scenario ? `running: ${p.scenario}` : '';
  const requests = Math.max(1, p.rates.requests);
  document.querySelector('#hot tbody').innerHTML =
    p.topKeys
      .map(
        ([id, reads]) =>
          `<tr><td>menu:${id}</td><td>${fmt(reads)}</td><td>${((reads / requests) * 100).toFixed(1)}%</td></tr>`,
      )
      .join('') || '<tr><td colspan="3">no key is hot right now</td></tr>';
  const health = document.getElementById('health');
  health.textContent = p.diagnosis ?? `hit rate ${pct(p.hitRate)}: no diagnosis needed`;
  health.className = p.diagnosis ? 'warn' : '';
  // The database's change stream (--change-stream): who consumes it, its lag, what it applied.
  const stream = document.getElementById('change-stream');
  stream.hidden = !p.changeStream;
  stream.textContent = p.changeStream ? `Change stream: ${p.changeStream}` : '';
  if (p.curve && p.curve.length > 0) {
    // One row per simulated size; the bar's length is the hit rate, the current size marked.
    document.querySelector('#curve tbody').innerHTML = p.curve
      .map(({ scale, hitRate }) => {
        const width = Math.round(hitRate * 100);
        const label = scale === 1 ? '<b>1× (now)</b>' : `${scale}×`;
        return `<tr><td>${label}</td><td><span class="bar" style="width:${width}px"></span> ${pct(hitRate)}</td></tr>`;
      })
      .join('');
  }
  const t = p.totals;
  document.getElementById('totals').textContent =
    `${fmt(t.requests)} requests, ${fmt(t.dbReads + t.dbWrites)} database queries, ${fmt(t.staleServed)} served stale, ` +
    `${fmt(t.collapsed)} loads collapsed, ${fmt(t.errors)} failed, L1 holds ${fmt(t.l1Entries)} menus` +
    (p.lastError ? `. Last failure: ${p.lastError}` : '');
}

function addResult(result) {
  const item = document.createElement('li');
  item.dataset.name = result.name;
  for (const [key, value] of Object.entries(result.figures)) item.dataset[key] = String(value);
  item.innerHTML = `<b></b>: <span></span>`;
  item.querySelector('b').textContent = result.title;
  item.querySelector('span').textContent = result.summary;
  document.getElementById('log').prepend(item);
}

function showScenarios(scenarios) {
  const box = document.getElementById('buttons');
  box.innerHTML = '';
  for (const s of scenarios) {
    const button = document.createElement('button');
    button.dataset.scenario = s.name;
    button.innerHTML = '<b></b><span></span>';
    button.querySelector('b').textContent = s.title;
    button.querySelector('span').textContent = s.unavailable ?? s.explanation;
    button.disabled = s.unavailable !== undefined;
    button.addEventListener('click', async () => {
      const response = await fetch(`/api/scenarios/${s.name}`, { method: 'POST' });
      if (!response.ok) document.getElementById('running').textContent = (await response.json()).error;
      else document.getElementById('running').textContent = `running: ${s.name}`;
    });
    box.append(button);
  }
}

const events = new EventSource('/api/events');
events.addEventListener('hello', (event) => {
  const hello = JSON.parse(event.data);
  document.getElementById('setup').textContent = Object.entries(hello.setup)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  showScenarios(hello.scenarios);
  for (const c of charts) for (const column of c.data) column.length = 0;
  points = 0;
  for (const point of hello.history) addPoint(point, false);
  for (const c of charts) c.plot.setData(c.data);
  if (hello.history.length > 0) showFigures(hello.history[hello.history.length - 1]);
  document.getElementById('log').innerHTML = '';
  for (const result of hello.log) addResult(result);
});
events.addEventListener('point', (event) => addPoint(JSON.parse(event.data)));
events.addEventListener('scenario', (event) => addResult(JSON.parse(event.data)));
events.onerror = () => {
  document.getElementById('status').textContent = 'disconnected — is the demo still running?';
};
