// Opens a report.html or compare.html (scripts/report.py RUN --html, scripts/compare --html) from
// file:// in headless Chromium and fails on what a person would see broken: a console error or
// page error, a request that leaves the file (the page must open with no network), a chart
// canvas left blank, a hovered point not naming its case, a legend click hiding nothing, the
// answers missing, the table empty or its filter and sort not working.
// --screenshot=PNG saves the whole page (the README's picture).
//
//   node bench/browser/report_check.mjs results/RUN/report.html [--screenshot=docs/report.png]
//                                       [--chromium=/usr/bin/chromium]
// Exit 0 when the page is whole, 1 with the reasons (one a line), 2 on bad usage or no browser.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const USAGE = 'usage: node bench/browser/report_check.mjs FILE.html [--screenshot=PNG [--screenshot-to=SECTION]] [--chromium=PATH]\n' +
  '  --screenshot-to=SECTION  the picture ends with that section (answers, charts, table, context): a\n' +
  '                           README picture of the answers and charts without the whole table';
const limits = {
  launch_timeout_ms: 30000, // Chromium up and answering
  load_timeout_ms: 30000, // the page and its inline scripts (Chart.js is ≈ 200 kB)
  settle_ms: 300, // after load: Chart.js draws in the next animation frame
  event_timeout_ms: 5000, // a hover or click handled (Chart.js: in an animation frame)
};
const viewport = { width: 1366, height: 900 }; // a laptop screen

function usage(message) {
  console.error(`report_check: ${message} (see --help)`);
  process.exit(2);
}

const opts = { file: null, screenshot: null, 'screenshot-to': null, chromium: process.env.SSEBENCH_CHROMIUM || '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, null];
  const take = () => (value !== null ? value : process.argv[++i]);
  if (name === '--help' || name === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (name === '--screenshot') opts.screenshot = take();
  else if (name === '--screenshot-to') opts['screenshot-to'] = take();
  else if (name === '--chromium') opts.chromium = take();
  else if (a.startsWith('-')) usage(`unknown option ${name}`);
  else if (opts.file === null) opts.file = a;
  else usage(`unexpected argument '${a}'`);
  if (['--screenshot', '--screenshot-to', '--chromium'].includes(name) && !opts[name.slice(2)]) usage(`${name} takes a value`);
}
if (!opts.file) usage('missing FILE');
const SECTIONS = ['answers', 'charts', 'table', 'context'];
if (opts['screenshot-to'] && !SECTIONS.includes(opts['screenshot-to'])) {
  usage(`--screenshot-to takes one of ${SECTIONS.join(', ')} (got '${opts['screenshot-to']}')`);
}
if (!existsSync(opts.file)) usage(`${opts.file}: no such file`);
if (!existsSync(opts.chromium)) {
  console.error(`report_check: no Chromium at ${opts.chromium} (apt-get install chromium, or --chromium=PATH)`);
  process.exit(2);
}

let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch {
  console.error('report_check: puppeteer-core is missing: run npm ci in bench/browser');
  process.exit(2);
}

const problems = [];
const dir = mkdtempSync(path.join(tmpdir(), 'ssebench-report-check-'));
const args = ['--headless=new', '--no-first-run', '--no-default-browser-check', '--disable-gpu'];
if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses root with the sandbox
let browser;
try {
  browser = await puppeteer.launch({
    executablePath: opts.chromium, headless: true, userDataDir: dir, args, pipe: true,
    timeout: limits.launch_timeout_ms,
  });
} catch (e) {
  rmSync(dir, { recursive: true, force: true });
  console.error(`report_check: cannot start Chromium: ${String(e.message).split('\n')[0]}`);
  process.exit(2);
}

try {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e.message).split('\n')[0]}`));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const url = r.url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:')) {
      r.continue();
    } else {
      problems.push(`the page asks the network for ${url}: it must be self-contained`);
      r.abort();
    }
  });
  const url = pathToFileURL(path.resolve(opts.file)).href;
  await page.goto(url, { waitUntil: 'load', timeout: limits.load_timeout_ms });
  await new Promise((r) => setTimeout(r, limits.settle_ms));
  // Chart.js handles events and may draw in an animation frame, late on a loaded machine: wait
  // (a bounded time) for what should happen, then look.
  const settled = (fn, arg) => page.waitForFunction(fn, { timeout: limits.event_timeout_ms }, arg).catch(() => {});
  await settled(() => Array.from(document.querySelectorAll('canvas')).every((c) => {
    if (!c.width || !c.height) return false;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }));

  const seen = await page.evaluate(() => {
    const out = { answers: 0, paragraphs: 0, canvases: [], rows: 0, charts: 0 };
    const answers = document.querySelector('#answers');
    if (answers) {
      out.answers = answers.textContent.trim().length;
      out.paragraphs = answers.querySelectorAll('p, li').length;
    }
    out.charts = (window.ssebenchCharts || []).length;
    // A compare page with no change past its threshold has no chart, and says so.
    const data = document.getElementById('data');
    out.chartless = !!data && JSON.parse(data.textContent).kind === 'compare' &&
      JSON.parse(data.textContent).changes.length === 0;
    for (const canvas of document.querySelectorAll('canvas')) {
      const c = { id: canvas.id, width: canvas.width, height: canvas.height, inked: 0, points: 0, chart: false };
      if (canvas.width && canvas.height) {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) c.inked++;
      }
      const chart = typeof Chart !== 'undefined' ? Chart.getChart(canvas) : undefined;
      if (chart) {
        c.chart = true;
        const area = chart.chartArea;
        for (const meta of chart.getSortedVisibleDatasetMetas()) {
          for (const el of meta.data) {
            // A drawn mark inside the plot area (a point, or a bar's end).
            if (!el.skip && Number.isFinite(el.x) && Number.isFinite(el.y) &&
                el.x >= area.left - 1 && el.x <= area.right + 1 && el.y >= area.top - 1 && el.y <= area.bottom + 1) c.points++;
          }
        }
      }
      out.canvases.push(c);
    }
    const table = document.querySelector('table.data');
    out.rows = table ? table.tBodies[0].rows.length : 0;
    return out;
  });
  if (seen.answers < 100 || seen.paragraphs < 1) {
    problems.push(`the answers section is missing or empty (${seen.answers} characters, ${seen.paragraphs} paragraphs)`);
  }
  if (!seen.canvases.length && !seen.chartless) problems.push('no chart on the page');
  if (seen.charts !== seen.canvases.length) {
    problems.push(`${seen.canvases.length} chart canvases but ${seen.charts} charts made`);
  }
  for (const c of seen.canvases) {
    if (!c.chart) problems.push(`chart ${c.id}: no Chart.js chart on the canvas`);
    else if (!c.inked) problems.push(`chart ${c.id}: the canvas is blank (${c.width}×${c.height}, no pixel drawn)`);
    else if (!c.points) problems.push(`chart ${c.id}: axes but no data drawn`);
  }
  if (!seen.rows) problems.push('the table has no rows');

  // Hover: the first mark of the first chart shows its case's name; a legend click hides that
  // transport. Chart.js's own events, driven by the mouse as a person would.
  const where = (dataset) => page.evaluate((d) => {
    const chart = window.ssebenchCharts[0];
    chart.canvas.scrollIntoView({ block: 'center' });
    const box = chart.canvas.getBoundingClientRect();
    const metas = chart.getSortedVisibleDatasetMetas().filter((m) => m.data.length);
    const meta = d === null ? metas[0] : chart.getDatasetMeta(d);
    if (!meta || !meta.data.length) return null;
    const p = meta.data[0].getCenterPoint(), raw = chart.data.datasets[meta.index].data[0];
    const hit = (chart.legend && chart.legend.options.display !== false && chart.legend.legendHitBoxes) || [];
    const lb = hit[meta.index];
    return {
      dataset: meta.index, x: box.left + p.x, y: box.top + p.y,
      name: raw && raw.c ? raw.c.name : String(chart.data.labels[0] || ''),
      legend: lb ? { x: box.left + lb.left + lb.width / 2, y: box.top + lb.top + lb.height / 2 } : null,
    };
  }, dataset);
  const first = seen.charts ? await where(null) : null;
  if (first) {
    await page.mouse.move(first.x, first.y);
    await settled(() => { const t = window.ssebenchCharts[0].tooltip; return t && t.opacity > 0; });
    const title = await page.evaluate(() => {
      const tip = window.ssebenchCharts[0].tooltip;
      return tip && tip.opacity > 0 ? (tip.title || []).join(' ') : '';
    });
    if (!title.includes(first.name)) problems.push(`hover: the first mark shows '${title}', not its case '${first.name}'`);
    if (first.legend) {
      await page.mouse.click(first.legend.x, first.legend.y);
      await settled((d) => !window.ssebenchCharts[0].isDatasetVisible(d), first.dataset);
      const hidden = await page.evaluate((d) => !window.ssebenchCharts[0].isDatasetVisible(d), first.dataset);
      if (!hidden) problems.push('legend: a click on an entry does not hide its transport');
      await page.mouse.click(first.legend.x, first.legend.y); // shown again for the picture
      await settled((d) => window.ssebenchCharts[0].isDatasetVisible(d), first.dataset);
    }
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
  }

  // The picture before the table is touched below.
  if (opts.screenshot) {
    await page.evaluate(() => window.scrollTo(0, 0));
    const to = opts['screenshot-to'];
    const bottom = to ? await page.evaluate((id) => {
      const el = document.getElementById(id);
      return el ? Math.ceil(el.getBoundingClientRect().bottom + window.scrollY + 16) : null;
    }, to) : null;
    if (to && bottom === null) problems.push(`--screenshot-to=${to}: no such section on the page`);
    else if (bottom) {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.screenshot({ path: opts.screenshot, clip: { x: 0, y: 0, width, height: bottom }, captureBeyondViewport: true });
    } else await page.screenshot({ path: opts.screenshot, fullPage: true });
  }

  // The table's filter hides what does not match and its header sorts.
  const filtered = await page.evaluate(() => {
    const box = document.querySelector('input[data-filter]');
    if (!box) return 'no filter box';
    const table = document.getElementById(box.dataset.filter);
    const rows = () => Array.from(table.tBodies[0].rows).filter((r) => r.style.display !== 'none').length;
    const all = rows();
    box.value = 'no-case-is-called-this';
    box.dispatchEvent(new Event('input'));
    const none = rows();
    box.value = '';
    box.dispatchEvent(new Event('input'));
    if (none !== 0 || rows() !== all) return `the filter shows ${none} rows for a word no row has, ${rows()} of ${all} when cleared`;
    const th = table.querySelectorAll('thead th')[1];
    th.click();
    th.click();
    return th.getAttribute('aria-sort') === 'descending' ? '' : 'a header click does not sort';
  });
  if (filtered) problems.push(`table: ${filtered}`);

  if (!problems.length) {
    console.log(`report_check: ${opts.file}: ok — answers present, ${seen.canvases.length} charts drawn, ` +
      `${seen.rows} table rows, no console error, no network` +
      (opts.screenshot ? `; screenshot ${opts.screenshot}` : ''));
  }
} catch (e) {
  problems.push(`cannot check the page: ${String(e.message).split('\n')[0]}`);
} finally {
  await browser.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
for (const p of problems) console.error(`report_check: ${opts.file}: ${p}`);
process.exit(problems.length ? 1 : 0);
