// examples/: each reference client runs in headless Chromium against the real server, with the
// connection dropped mid-stream, and must rebuild the recording's text exactly, taking every job
// event once, in order. Faults: the server's own `drop_after` (a stream ended cleanly after K
// events: the resume streams only), and a proxy between the browser and the server that cuts the
// answers to GETs every 6,000 bytes (the stream is 49 KB), mid-event, 4 times: a reset (RST) or a
// close (FIN). SSE heartbeats every 5 ms (and WebSocket pings, when the server has them) are on.
// Run as `node examples.test.mjs` (ctest sets SSEBENCH_MOCK_SERVER, SSEBENCH_RECORDINGS,
// SSEBENCH_CHROMIUM); exit 77 when Chromium or bench/browser's puppeteer-core is missing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const chromium = process.env.SSEBENCH_CHROMIUM;
let puppeteer;
try {
  accessSync(chromium, constants.X_OK);
  puppeteer = createRequire(join(repo, 'bench', 'browser', 'package.json'))('puppeteer-core');
} catch (e) {
  console.log(`skipped: no Chromium or no puppeteer-core (npm ci in bench/browser): ${e.message}`);
  process.exit(77);
}
const { recording, startServer } = await import('../browser/support.mjs');

const rec = recording('chat-gpt-4o-json'); // 180 events over 2.8 s, one choice
const SPEED = 4;
const CUT = { every: 6000, max: 4 }; // a cut every 6,000 bytes of answers, 4 at most

/** A TCP proxy to the server on `targetPort` that cuts answers to GETs (streams, polls, upgrades):
 *  each time `every` more bytes of them have passed, it passes the bytes up to that point, then
 *  resets the connection (`mode` 'rst') or closes it ('fin'); `max` times. Bytes, not reads, so
 *  that where the cuts fall does not depend on how the kernel batched the writes; `max`, because a
 *  poll's answer is whole or nothing: one longer than `every` would be cut at every try. */
function startProxy(targetPort) {
  const state = { mode: null, every: 0, max: 0, bytes: 0, cuts: 0, sockets: new Set() };
  const server = createTcpServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    state.sockets.add(client).add(upstream);
    let armed = false; // the connection's last request is a GET
    client.on('data', (d) => {
      const m = /^(GET|POST|OPTIONS|DELETE|HEAD) /.exec(d.toString('latin1', 0, 8));
      if (m) armed = m[1] === 'GET';
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      const room = (state.cuts + 1) * state.every - state.bytes; // bytes before the next cut
      const on = armed && state.mode && state.cuts < state.max;
      if (!on || d.length < room) {
        if (on) state.bytes += d.length;
        client.write(d);
        return;
      }
      ++state.cuts;
      state.bytes += room;
      const head = d.subarray(0, room);
      upstream.destroy();
      if (state.mode === 'rst') client.write(head, () => client.resetAndDestroy());
      else client.end(head);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      state.base = `http://127.0.0.1:${server.address().port}`;
      state.close = () => {
        for (const s of state.sockets) s.destroy();
        server.close();
      };
      resolve(state);
    });
  });
}

/** The page's origin: a blank page and the examples, another origin than the server's. */
function startPageServer() {
  const server = createServer((req, res) => {
    const m = /^\/examples\/([a-z-]+\.js)$/.exec(req.url);
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>examples</title>');
    else if (m && existsSync(join(repo, 'examples', m[1])))
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(repo, 'examples', m[1])));
    else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server, serverBase, proxy, pages, browser, page, profile, origin;
before(async () => {
  const help = execFileSync(process.env.SSEBENCH_MOCK_SERVER, ['--help'], { encoding: 'utf8' });
  const pings = help.includes('--ws-ping-ms') ? ['--ws-ping-ms', '5'] : [];
  let base;
  ({ server, base } = await startServer(['--speed', String(SPEED), '--sse-heartbeat-ms', '5', ...pings]));
  serverBase = base;
  proxy = await startProxy(Number(new URL(base).port));
  pages = await startPageServer();
  origin = `http://127.0.0.1:${pages.address().port}`;
  profile = mkdtempSync(join(tmpdir(), 'ssebench-chromium-'));
  const args = ['--headless=new', '--no-first-run', '--no-default-browser-check', '--disable-gpu'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, userDataDir: profile, args, pipe: true });
  page = await browser.newPage();
  await page.goto(`${origin}/`); // Chromium's first load, apart from the first test's time
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  proxy?.close();
  pages?.close();
  server?.kill();
});

/** Runs examples/NAME.js in the page against `base`; resolves to { text | error, events }. */
async function run(name, base, opts = {}) {
  await page.goto(`${origin}/`);
  return page.evaluate(async (src, base, request, opts) => {
    const { streamText } = await import(src);
    const events = [];
    const timeout = new Promise((resolve) => setTimeout(() => resolve({ error: 'timeout (20 s)' }), 20000));
    const done = streamText(base, request, { ...opts, onEvent: (n, text) => events.push([n, text]) })
      .then((text) => ({ text }), (e) => ({ error: String(e) }));
    return { ...(await Promise.race([done, timeout])), events };
  }, `${origin}/examples/${name}.js`, base, { model: rec.id }, opts);
}

const expected = rec.text[0];

/** Every event once, in order, from 0; their texts are the text. */
function checkEvents(got, count) {
  assert.deepEqual(got.events.map(([n]) => n), [...Array(count).keys()], 'each event once, in order');
  return got.events.map(([, t]) => t).join('');
}

const clients = {
  'sse-fetch': {},
  eventsource: { query: '&retry_ms=50' },
  poll: { intervalMs: 40 },
  'long-poll': { waitMs: 5000 },
};

/** The server's count of SSE heartbeats written so far. */
const heartbeats = async () => (await (await fetch(`${serverBase}/mock/stats`)).json()).heartbeats_written;

for (const [name, opts] of Object.entries(clients)) {
  test(`${name}: no fault`, async () => {
    const before = await heartbeats();
    const got = await run(name, serverBase, opts);
    if (name === 'sse-fetch' || name === 'eventsource') assert.ok((await heartbeats()) > before, 'heartbeats were sent');
    assert.equal(got.error, undefined);
    assert.equal(got.text, expected);
    assert.equal(checkEvents(got, rec.jobEvents), expected);
  });
  for (const mode of ['rst', 'fin']) {
    test(`${name}: the connection ${mode === 'rst' ? 'reset' : 'closed'} mid-answer, again and again`, async () => {
      Object.assign(proxy, { mode, ...CUT, bytes: 0, cuts: 0 });
      const got = await run(name, proxy.base, opts);
      proxy.mode = null;
      assert.equal(proxy.cuts, CUT.max);
      assert.equal(got.error, undefined);
      assert.equal(got.text, expected);
      assert.equal(checkEvents(got, rec.jobEvents), expected);
    });
  }
}

for (const name of ['sse-fetch', 'eventsource']) {
  test(`${name}: the server ends the stream every 25 events`, async () => {
    const got = await run(name, serverBase, { query: '&drop_after=25&retry_ms=50' });
    assert.equal(got.error, undefined);
    assert.equal(got.text, expected);
    assert.equal(checkEvents(got, rec.jobEvents), expected);
  });
}

test('websocket: no fault', async () => {
  const got = await run('websocket', serverBase);
  assert.equal(got.error, undefined);
  assert.equal(got.text, expected);
  assert.equal(checkEvents(got, got.events.length), expected);
});

for (const mode of ['rst', 'fin']) {
  test(`websocket: a socket ${mode === 'rst' ? 'reset' : 'closed'} mid-turn is lost, nothing repeated`, async () => {
    Object.assign(proxy, { mode, ...CUT, bytes: 0, cuts: 0 });
    const got = await run('websocket', proxy.base);
    proxy.mode = null;
    assert.equal(proxy.cuts, 1);
    assert.match(got.error, /the socket closed after \d+ events \(code 1006\): no resume/);
    const text = checkEvents(got, got.events.length);
    assert.ok(text.length < expected.length && expected.startsWith(text), 'a strict prefix');
  });
}
