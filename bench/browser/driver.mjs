#!/usr/bin/env node
// The browser client of the suite (issue 18; README.md here): headless Chromium, driven over the
// DevTools protocol by puppeteer-core, plays the harness's rounds in a page served from this
// process's own loopback origin. Protocol: JSON lines — rounds on stdin, one reply per round on
// stdout (nothing else goes to stdout; logs go to stderr).
//   node bench/browser/driver.mjs --chromium=PATH [--spki=B64,...] [--cert=PEM]
import { X509Certificate, createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Limits of the driver itself, named (STYLE.md). */
const limits = {
  launch_timeout_ms: 30000, // Chromium must be up and answering CDP within this
  page_load_timeout_ms: 15000, // the page (two small files from loopback) must load within this
  close_timeout_ms: 3000, // browser.close() gets this long before the process is killed
  abort_timeout_ms: 2000, // after a deadline, the page's abort() must answer within this
  default_deadline_ms: 120000, // a round without deadline_ms
  quiesce_polls: 150, // after opening the page, wait up to 150 × 20 ms for the other renderers to exit
  quiesce_poll_ms: 20,
};

const log = (...a) => console.error('driver:', ...a);
const oneLine = (s) => String(s).split('\n')[0].trim();

function send(obj) {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(obj)}\n`, () => resolve()));
}

// ---- Options -------------------------------------------------------------------------------------

const usage = 'usage: driver.mjs --chromium=PATH [--spki=B64,...] [--cert=PEM] [--count-preflights]';

function parseArgs(argv) {
  const o = { chromium: null, spki: [], cert: null, countPreflights: false };
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`bad argument ${JSON.stringify(a)} (${usage})`);
    const [, name, value] = m;
    if (name === 'count-preflights' && value === undefined) {
      o.countPreflights = true;
      continue;
    }
    if (value === undefined || value === '') throw new Error(`--${name} needs a value`);
    if (name === 'chromium') o.chromium = value;
    else if (name === 'spki') o.spki.push(...value.split(',').filter(Boolean));
    else if (name === 'cert') o.cert = value;
    else throw new Error(`unknown option --${name}`);
  }
  if (!o.chromium) throw new Error('--chromium=PATH is required');
  return o;
}

/** SPKI SHA-256 (base64) of every certificate in a PEM file: what
 *  --ignore-certificate-errors-spki-list takes. */
function spkiOfPem(file) {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new Error(`${file}: no certificate in it`);
  return blocks.map((b) => {
    const der = new X509Certificate(b).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(der).digest('base64');
  });
}

// ---- The page's origin ---------------------------------------------------------------------------

const files = {
  '/': ['page.html', 'text/html; charset=utf-8'],
  '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
  '/sse.js': ['sse.js', 'text/javascript; charset=utf-8'],
};

function startPageServer() {
  const server = createServer((req, res) => {
    const f = files[req.url];
    if (!f) {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    // Cross-origin isolated (COOP + COEP): performance.now() at 5 µs, not 100 µs. The mock
    // server's answers pass COEP as CORS answers; WebSockets are outside it.
    res.writeHead(200, {
      'content-type': f[1],
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(path.join(here, f[0])));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---- Chromium's processes and their CPU (/proc) ----------------------------------------------------

/** Every process below `root` (Chromium's zygote forks the renderers), with its kind. */
function processesOf(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
    } catch {}
  }
  const below = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 16; p = parent.get(p) ?? 0, ++hops) if (p === root) return true;
    return false;
  };
  const out = [];
  for (const pid of parent.keys()) {
    if (!below(pid)) continue;
    let kind = 'other';
    if (pid === root) kind = 'browser';
    else {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        // Chromium's own WebUI (--top-chrome-webui: its tab strip, even headless) and
        // extensions have renderers of their own: not the page's.
        if (cmd.includes('--type=renderer') && !/--top-chrome-webui|--extension-process/.test(cmd)) kind = 'renderer';
        else if (cmd.includes('--utility-sub-type=network.mojom.NetworkService')) kind = 'network';
      } catch {}
    }
    out.push({ pid, kind });
  }
  return out;
}

/** CPU per thread, ns, from /proc/PID/task/TID/schedstat (its first field: time on a CPU, user
 *  and system, at the scheduler's ns resolution; /proc/PID/stat's utime+stime are 10 ms ticks). */
function cpuSnapshot(procs) {
  const snap = new Map();
  for (const { pid, kind } of procs) {
    const threads = new Map();
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          threads.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
        } catch {}
      }
    } catch {}
    snap.set(pid, { kind, threads });
  }
  return snap;
}

/** µs of CPU per kind between two snapshots (a thread new in `after` counts from 0; one gone
 *  before `after` is lost — Chromium's threads live as long as their process). */
function cpuDelta(before, after) {
  const us = { browser: 0, renderer: 0, network: 0, other: 0, renderer_main: 0 };
  for (const [pid, { kind, threads }] of after) {
    const was = before.get(pid)?.threads ?? new Map();
    for (const [tid, ns] of threads) {
      const d = Math.max(0, ns - (was.get(tid) ?? 0)) / 1000;
      us[kind] += d;
      // The renderer's main thread (its tid is the process id) runs the page's JavaScript.
      if (kind === 'renderer' && tid === String(pid)) us.renderer_main += d;
    }
  }
  return us;
}

/** The threads that took CPU between two snapshots, by process kind and thread name (stderr). */
function logThreads(before, after) {
  const rows = [];
  for (const [pid, { kind, threads }] of after) {
    const was = before.get(pid)?.threads ?? new Map();
    for (const [tid, ns] of threads) {
      const us = (ns - (was.get(tid) ?? 0)) / 1000;
      if (us < 500) continue;
      let name = '?';
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {}
      rows.push(`${kind}/${pid}/${name}: ${Math.round(us)} us`);
    }
  }
  log(`threads: ${rows.join(', ')}`);
}

// ---- The browser -------------------------------------------------------------------------------------

const opts = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (e) {
    return { bad: e.message };
  }
})();

let puppeteer = null;
let pageServer = null;
let pageOrigin = null;
let browser = null; // { browser, page, cdp, pid, dir, crashed }
let closing = false;

async function launch() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssebench-chromium-'));
  const args = [
    '--headless=new',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-gpu', // no GPU here: the compositor runs in software either way
    // No spare renderer warming up beside the page's (its start-up would count as renderer CPU).
    '--disable-features=SpareRendererForSitePerProcess',
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses root with the sandbox
  if (opts.spki.length) args.push(`--ignore-certificate-errors-spki-list=${opts.spki.join(',')}`);
  let b;
  try {
    b = await puppeteer.launch({
      executablePath: opts.chromium,
      headless: true,
      userDataDir: dir,
      args,
      timeout: limits.launch_timeout_ms,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 0,
      // DevTools over a pipe, not a port: if this process dies, even by SIGKILL, Chromium reads
      // EOF on the pipe and exits by itself.
      pipe: true,
    });
  } catch (e) {
    removeProfile(dir);
    throw e;
  }
  const state = { browser: b, page: null, cdp: null, pid: b.process()?.pid ?? null, dir, crashed: null, known: new Map() };
  b.on('disconnected', () => {
    state.crashed ??= 'the browser process exited (crashed or killed)';
    state.onCrash?.(state.crashed);
  });
  try {
    await openPage(state);
    rememberProcesses(state);
  } catch (e) {
    await closeBrowser(state);
    throw e;
  }
  return state;
}

async function openPage(state) {
  const page = await state.browser.newPage();
  for (const other of await state.browser.pages()) if (other !== page) await other.close();
  state.page = page;
  state.pageErrors = [];
  page.on('pageerror', (e) => state.pageErrors.push(oneLine(e?.message ?? e)));
  page.on('error', (e) => {
    state.crashed ??= `the page crashed: ${oneLine(e?.message ?? e)}`;
    state.onCrash?.(state.crashed);
  });
  page.on('console', (m) => log(`page console.${m.type()}: ${m.text()}`));
  await page.goto(`${pageOrigin}/`, { timeout: limits.page_load_timeout_ms, waitUntil: 'load' });
  await page.waitForFunction(() => window.ssebench !== undefined, { timeout: limits.page_load_timeout_ms });
  state.cdp = await page.createCDPSession();
  await state.cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  // The renderers of the pages closed (about:blank's) take a while to exit, and burn CPU as they
  // go: wait until the page's is the only one, so that renderer_cpu_us is the page's own.
  for (let i = 0; i < limits.quiesce_polls; ++i) {
    if (process.env.SSEBENCH_DRIVER_DEBUG && i % 10 === 0) log(`renderers: ${JSON.stringify(processesOf(state.pid).filter((p) => p.kind === 'renderer'))}`);
    if (state.pid && processesOf(state.pid).filter((p) => p.kind === 'renderer').length <= 1) break;
    await new Promise((r) => setTimeout(r, limits.quiesce_poll_ms));
  }
}

/** A fresh page after a deadline or a throw: the same page reloaded (the same renderer process,
 *  so nothing warms up beside it), or a new page if the reload fails. */
async function resetPage(state) {
  try {
    await state.page.goto(`${pageOrigin}/`, { timeout: limits.page_load_timeout_ms, waitUntil: 'load' });
    await state.page.waitForFunction(() => window.ssebench !== undefined, { timeout: limits.page_load_timeout_ms });
  } catch (e) {
    log(`reload failed (${oneLine(e.message)}): a new page`);
    await state.page.close().catch(() => {});
    await openPage(state);
  }
}

/** Closes Chromium and waits for it (SIGKILL to the process and its children after a grace
 *  period); removes its temp dir. */
/** A process's start time (clock ticks after boot), which tells it from a later one of its pid. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

/** Remembers Chromium's processes: a browser process that is killed leaves its children to init,
 *  where processesOf() no longer finds them, and they must go too. */
function rememberProcesses(state) {
  for (const { pid } of processesOf(state.pid)) {
    if (!state.known.has(pid)) state.known.set(pid, startTime(pid));
  }
}

async function closeBrowser(state) {
  if (!state) return;
  const procs = state.pid ? processesOf(state.pid) : [];
  for (const [pid, start] of state.known ?? []) {
    if (!procs.some((p) => p.pid === pid) && start !== null && startTime(pid) === start) procs.push({ pid });
  }
  try {
    await Promise.race([state.browser.close(), new Promise((r) => setTimeout(r, limits.close_timeout_ms))]);
  } catch {}
  for (const { pid } of procs) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  // Wait until the processes are gone (they are our children or their children).
  for (let i = 0; i < 100 && procs.some(({ pid }) => alive(pid)); ++i) await new Promise((r) => setTimeout(r, 20));
  removeProfile(state.dir);
}

/** The profile, and the temp dir of its SingletonSocket (a link into $TMPDIR/org.chromium.*),
 *  which a Chromium that was killed leaves behind. */
function removeProfile(dir) {
  try {
    const socket = path.dirname(readlinkSync(path.join(dir, 'SingletonSocket')));
    if (path.basename(socket).startsWith('org.chromium.')) rmSync(socket, { recursive: true, force: true });
  } catch {}
  rmSync(dir, { recursive: true, force: true });
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function taskDurationMs(state) {
  const { metrics } = await state.cdp.send('Performance.getMetrics');
  const m = metrics.find((x) => x.name === 'TaskDuration');
  return m ? m.value * 1000 : null;
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---- CORS preflights (CDP's Network domain, only when asked) -------------------------------------
// The Network domain costs: with it on, the browser process took about 40% more CPU and the
// renderer 20% more for the same round of 6 sse streams (README.md, "Preflights"). So it is on
// only in rounds that ask ("count_preflights": true) or with --count-preflights; elsewhere
// preflights is null.

function watchRequests(cdp) {
  const log = { requests: [], preflights: [] };
  const onRequest = (e) => {
    if (e.initiator?.type === 'preflight') log.preflights.push(e.initiator.requestId);
    else if (!e.request.url.startsWith(`${pageOrigin}/`)) log.requests.push({ id: e.requestId, url: e.request.url });
  };
  cdp.on('Network.requestWillBeSent', onRequest);
  log.stop = () => cdp.off('Network.requestWillBeSent', onRequest);
  return log;
}

/** Each stream's preflights: the browser's requests of one URL are the page's requests of that
 *  URL in the order the page made them (a redirect-free page); requests the page did not make
 *  (EventSource's reconnects) belong to the one stream that has that URL. */
function attributePreflights(streams, log) {
  const owner = new Map(); // CDP requestId → stream
  const mine = new Map(); // url → [{ seq, stream }]
  streams.forEach((s) => {
    for (const r of s.request_log ?? []) {
      if (!mine.has(r.url)) mine.set(r.url, []);
      mine.get(r.url).push({ seq: r.seq, stream: s });
    }
  });
  for (const list of mine.values()) list.sort((a, b) => a.seq - b.seq);
  const taken = new Map();
  for (const { id, url } of log.requests) {
    const list = mine.get(url);
    if (!list) continue;
    const k = taken.get(url) ?? 0;
    taken.set(url, k + 1);
    if (k < list.length) owner.set(id, list[k].stream);
    else if (list.every((x) => x.stream === list[0].stream)) owner.set(id, list[0].stream);
  }
  for (const s of streams) s.preflights = 0;
  for (const id of log.preflights) {
    const s = owner.get(id);
    if (s) ++s.preflights;
  }
  for (const s of streams) delete s.request_log;
}

// ---- Rounds ------------------------------------------------------------------------------------------

async function playRound(round) {
  const reply = {
    round: round.round ?? null,
    error: null,
    streams: [],
    renderer_cpu_us: null,
    network_cpu_us: null,
    browser_cpu_us: null,
    main_thread_busy_ms: null,
    long_tasks: null,
  };
  if (!browser || browser.crashed) {
    const old = browser;
    browser = null;
    await closeBrowser(old);
    try {
      browser = await launch();
      reply.browser_pid = browser.pid;
      log(`relaunched Chromium, pid ${browser.pid}`);
    } catch (e) {
      await send({ ...reply, error: `cannot relaunch Chromium: ${oneLine(e.message)}` });
      await shutdown(1);
    }
  }
  const b = browser;
  b.pageErrors = [];
  const deadline = round.deadline_ms ?? limits.default_deadline_ms;
  const procs0 = processesOf(b.pid);
  rememberProcesses(b);
  const cpu0 = cpuSnapshot(procs0);
  let busy0 = null;
  let cpu1 = null;
  let busy1 = null;
  let result = null;
  let crashWatch;
  const crashed = new Promise((_, reject) => {
    crashWatch = (why) => reject(new Error(why));
    b.onCrash = crashWatch;
  });
  crashed.catch(() => {});
  const countPreflights = opts.countPreflights || round.count_preflights === true;
  let requests = null;
  try {
    if (countPreflights) {
      requests = watchRequests(b.cdp);
      await b.cdp.send('Network.enable');
    }
    busy0 = await taskDurationMs(b);
    await Promise.race([
      withTimeout(
        b.page.evaluate((r) => window.ssebench.playRound(r), round),
        deadline,
        `deadline: the round did not end within ${deadline} ms`,
      ),
      crashed,
    ]);
    cpu1 = cpuSnapshot(processesOf(b.pid));
    busy1 = await taskDurationMs(b);
    result = await Promise.race([b.page.evaluate((log) => window.ssebench.result(log), countPreflights), crashed]);
    if (b.pageErrors.length) reply.error = `the page threw: ${b.pageErrors[0]}`;
  } catch (e) {
    reply.error = b.crashed ?? oneLine(e.message);
    cpu1 ??= cpuSnapshot(processesOf(b.pid));
    if (!b.crashed) {
      // A deadline or a page that threw: its streams so far, then a fresh page for the next round.
      try {
        result = await withTimeout(
          b.page.evaluate((why, log) => window.ssebench.abort(why, log), reply.error, countPreflights),
          limits.abort_timeout_ms,
          'abort timed out',
        );
      } catch {}
      try {
        await resetPage(b);
      } catch (e2) {
        b.crashed = `the page could not be reopened: ${oneLine(e2.message)}`;
      }
    }
  } finally {
    b.onCrash = null;
    if (requests) {
      requests.stop();
      if (!b.crashed) await b.cdp.send('Network.disable').catch(() => {});
    }
  }
  const cpu = cpuDelta(cpu0, cpu1);
  if (process.env.SSEBENCH_DRIVER_DEBUG) logThreads(cpu0, cpu1);
  reply.renderer_cpu_us = Math.round(cpu.renderer);
  reply.network_cpu_us = Math.round(cpu.network);
  reply.browser_cpu_us = Math.round(cpu.browser);
  reply.other_cpu_us = Math.round(cpu.other);
  reply.main_thread_cpu_us = Math.round(cpu.renderer_main);
  if (busy0 !== null && busy1 !== null) reply.main_thread_busy_ms = busy1 - busy0;
  if (result) {
    if (requests) attributePreflights(result.streams, requests);
    reply.streams = result.streams;
    reply.long_tasks = result.long_tasks;
    reply.long_tasks_ms = result.long_tasks_ms;
  }
  await send(reply);
}

async function shutdown(code) {
  if (closing) return;
  closing = true;
  const b = browser;
  browser = null;
  await closeBrowser(b);
  pageServer?.close();
  pageServer?.closeAllConnections?.();
  process.exit(code);
}

async function main() {
  if (opts.bad) {
    await send({ ready: false, error: opts.bad });
    process.exit(2);
  }
  try {
    accessSync(opts.chromium, constants.X_OK);
  } catch {
    await send({ ready: false, error: `Chromium not found or not executable: ${opts.chromium}` });
    process.exit(2);
  }
  try {
    if (opts.cert) opts.spki.push(...spkiOfPem(opts.cert));
  } catch (e) {
    await send({ ready: false, error: `--cert: ${oneLine(e.message)}` });
    process.exit(2);
  }
  try {
    ({ default: puppeteer } = await import('puppeteer-core'));
  } catch (e) {
    await send({ ready: false, error: `puppeteer-core is not installed (npm ci in ${here}): ${oneLine(e.message)}` });
    process.exit(2);
  }
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  // The harness went away (EPIPE on stdout): nobody reads the replies; close Chromium and go.
  process.stdout.on('error', () => shutdown(1));
  pageServer = await startPageServer();
  pageOrigin = `http://127.0.0.1:${pageServer.address().port}`;
  let version;
  try {
    browser = await launch();
    version = (await browser.browser.version()).replace(/^[^/]*\//, '');
  } catch (e) {
    await send({ ready: false, error: `Chromium failed to start: ${oneLine(e.message)}` });
    pageServer.close();
    process.exit(2);
  }
  await send({ ready: true, chromium: version, browser_pid: browser.pid, page_origin: pageOrigin });

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let round;
    try {
      round = JSON.parse(line);
      if (!round || typeof round !== 'object' || Array.isArray(round)) throw new Error('not an object');
    } catch (e) {
      await send({ round: null, error: `bad round line: ${oneLine(e.message)}`, streams: [] });
      continue;
    }
    await playRound(round);
  }
  await shutdown(0);
}

main().catch(async (e) => {
  log(e?.stack ?? e);
  await shutdown(1);
});
