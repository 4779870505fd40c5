// bench/browser/driver.mjs against the real server and real headless Chromium (issue 18): every
// transport's text, the browser's own six-connection queue over HTTP/1.1, EventSource's reconnect
// with Last-Event-ID after the server's retry delay, a deadline, a page that throws, a browser
// killed mid-round, Chromium missing, and nothing left behind at EOF or SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import {
  alive, chromium, descendants, flagOf, makeCert, rebuilt, recording, round, setDriverTmp, startDriver,
  startServer,
} from './support.mjs';

const chat = recording('chat-gpt-4o-mini-text'); // 11 events, 0.57 s at speed 1
const n3 = recording('chat-gpt-4o-n3'); // three choices
const resp = recording('responses-gpt-4o-mini-ok');

let srv;
let driver;
const driverTmp = mkdtempSync(join(tmpdir(), 'ssebench-browser-tmp-'));
before(async () => {
  setDriverTmp(driverTmp); // every driver's temp files go here: after() checks none is left
  srv = await startServer();
  driver = startDriver();
  const ready = await driver.ready;
  assert.equal(ready.ready, true, JSON.stringify(ready));
  assert.match(ready.chromium, /^\d+\.\d+\.\d+\.\d+$/);
  assert.ok(alive(ready.browser_pid));
  assert.match(ready.page_origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(ready.page_origin, srv.base); // another origin: real CORS
});

after(async () => {
  driver?.child.stdin.end();
  await driver?.exited;
  srv?.server.kill('SIGTERM');
  const left = readdirSync(driverTmp);
  rmSync(driverTmp, { recursive: true, force: true });
  assert.deepEqual(left, [], 'the drivers left these in their TMPDIR');
});

/** Every stream of a reply passed and rebuilt the recording's text; the times are in order. */
function checkStreams(reply, rec, what, count) {
  assert.equal(reply.error, null, `${what}: ${reply.error}`);
  assert.equal(reply.streams.length, count, what);
  for (const [k, s] of reply.streams.entries()) {
    assert.equal(s.error, null, `${what} stream ${k}: ${s.error}`);
    assert.deepEqual(rebuilt(s), rec.text, `${what} stream ${k}: text`);
    assert.ok(s.t0 > 1.6e12 && s.end >= s.t0, `${what} stream ${k}: t0 ${s.t0}, end ${s.end}`);
    for (const a of s.arrivals) assert.ok(a.t >= s.t0 && a.t <= s.end, `${what}: arrival at ${a.t}`);
    if (s.first_byte !== null) assert.ok(s.first_byte >= s.t0 && s.first_byte <= s.end, what);
    assert.ok(s.requests >= 1 && s.events >= 1, what);
  }
  for (const f of ['renderer_cpu_us', 'network_cpu_us', 'browser_cpu_us', 'main_thread_busy_ms', 'main_thread_cpu_us'])
    assert.ok(reply[f] > 0, `${what}: ${f} ${reply[f]}`);
  assert.ok(reply.main_thread_cpu_us <= reply.renderer_cpu_us, what); // one of its threads
  assert.ok(Number.isInteger(reply.long_tasks), what);
}

test('every transport rebuilds the recording', async () => {
  const cases = [
    [chat, { transport: 'sse', concurrency: 2 }],
    [chat, { transport: 'rest' }],
    [chat, { transport: 'poll', shape: 'events' }],
    [chat, { transport: 'poll', shape: 'delta' }],
    [chat, { transport: 'poll', shape: 'snapshot' }],
    [chat, { transport: 'poll', shape: 'openai' }],
    [chat, { transport: 'long-poll', shape: 'delta' }],
    [chat, { transport: 'long-poll', shape: 'events' }],
    [chat, { transport: 'ws', concurrency: 2, ws_turns: 2 }],
    [chat, { transport: 'sse', eventsource: true }],
    [n3, { transport: 'sse' }],
    [n3, { transport: 'poll', shape: 'delta' }],
    [n3, { transport: 'poll', shape: 'snapshot' }],
    [resp, { transport: 'sse' }],
    [resp, { transport: 'ws' }],
    [resp, { transport: 'poll', shape: 'events' }],
    [resp, { transport: 'sse', eventsource: true }],
  ];
  for (const [rec, extra] of cases) {
    const what = `${rec.id} ${JSON.stringify(extra)}`;
    const reply = await driver.play(round(srv.base, rec, extra));
    const count = (extra.concurrency ?? 1) * (extra.transport === 'ws' ? extra.ws_turns ?? 1 : 1);
    checkStreams(reply, rec, what, count);
    const s = reply.streams[0];
    if (extra.transport === 'sse' && !extra.eventsource) assert.equal(s.events, rec.postEvents, what);
    if (extra.eventsource) {
      assert.equal(s.events, rec.jobEvents + (rec.api === 'chat' ? 1 : 0), what);
      // The EventSource's own request leaves after the job's answer, before its stream opens.
      assert.ok(s.eventsource_dispatched > s.first_byte && s.eventsource_dispatched <= s.eventsource_opens[0],
        `${what}: ${JSON.stringify(s)}`);
    }
    if (extra.transport === 'ws') {
      assert.equal(s.dispatched, null, what); // no Resource Timing for a WebSocket
      assert.equal(reply.streams[1]?.requests ?? 1, 1, what);
    } else {
      // Timing-Allow-Origin: the browser shows when the request left, and its first byte.
      assert.ok(s.dispatched >= s.t0 && s.first_byte >= s.dispatched, `${what}: ${JSON.stringify(s)}`);
    }
    if (extra.transport === 'poll' || extra.transport === 'long-poll') assert.ok(s.requests >= 2, what);
  }
});

test('eight fetch streams over HTTP/1.1: the 7th and 8th wait for a connection', async () => {
  const r = round(srv.base, chat, { transport: 'sse', speed: 1, count_preflights: true });
  // A POST (content-type JSON, x-ssebench-speed) is preflighted once, then the preflight is
  // cached (Access-Control-Max-Age: 600): after this warm-up none of the eight has one.
  await driver.play(r);
  const reply = await driver.play({ ...r, concurrency: 8 });
  checkStreams(reply, chat, 'c:8', 8);
  for (const s of reply.streams) assert.equal(s.preflights, 0); // Access-Control-Max-Age: 600
  const queued = reply.streams.map((s) => s.dispatched - s.t0);
  const order = [...queued].sort((a, b) => a - b);
  // A stream holds its connection 0.57 s at speed 1: the two that wait, wait about that long.
  assert.ok(order[5] < 100, `the first six waited ${order.slice(0, 6)} ms`);
  assert.ok(order[6] > 300 && order[7] > 300, `the 7th and 8th waited ${order.slice(6)} ms`);
  assert.ok(queued[6] > 300 && queued[7] > 300, `the last two started are the ones queued: ${queued}`);
  const firstEnd = Math.min(...reply.streams.map((s) => s.end));
  assert.ok(Math.min(reply.streams[6].dispatched, reply.streams[7].dispatched) >= firstEnd - 5,
    'a queued stream leaves once a connection is free');
});

test('EventSource reconnects with Last-Event-ID after the retry delay: every event once', async () => {
  const retry = 300;
  const drop = 3;
  const reply = await driver.play(round(srv.base, chat, {
    transport: 'sse',
    eventsource: true,
    speed: 0, // every event is due: each connection gets its 3 at once, then the retry wait
    eventsource_query: `&drop_after=${drop}&retry_ms=${retry}`,
  }));
  checkStreams(reply, chat, 'eventsource drop', 1);
  const s = reply.streams[0];
  // Job events 0..N-1, each once, in order; [DONE] carries no id (the last one stays).
  const ids = s.event_ids.slice(0, chat.jobEvents);
  assert.deepEqual(ids, Array.from({ length: chat.jobEvents }, (_, k) => String(k)));
  assert.equal(s.events, chat.jobEvents + 1);
  const connections = Math.ceil((chat.jobEvents + 1) / drop);
  assert.equal(s.eventsource_opens.length, connections);
  assert.equal(s.requests, 1 + connections); // the job's POST, then each connection
  for (let k = 1; k < connections; ++k) {
    const gap = s.eventsource_opens[k] - s.eventsource_opens[k - 1];
    // retry: 300 honoured (not EventSource's default of about 3 s).
    assert.ok(gap >= retry && gap < retry + 1000, `reconnect ${k} after ${gap} ms`);
  }
});

test('a deadline fails the round with its text; the next round works', async () => {
  const slow = await driver.play(round(srv.base, chat, { transport: 'sse', speed: 0.1, deadline_ms: 300 }));
  assert.match(slow.error, /^deadline: the round did not end within 300 ms/);
  assert.equal(slow.streams.length, 1);
  assert.match(slow.streams[0].error, /deadline/); // the stream so far, failed
  checkStreams(await driver.play(round(srv.base, chat, { transport: 'sse' })), chat, 'after a deadline', 1);
});

test("a stream's own error carries the browser's text; a page that throws fails the round", async () => {
  const wrong = await driver.play(round(srv.base, chat, { transport: 'sse', sse_body: '{"model":"nope","stream":true}' }));
  assert.equal(wrong.error, null);
  assert.match(wrong.streams[0].error, /^Error: HTTP 404: {"error":{"message":"The model `nope` does not exist/);
  const thrown = await driver.play(round(srv.base, chat, { transport: 'carrier-pigeon' }));
  assert.match(thrown.error, /unknown transport "carrier-pigeon"/);
  checkStreams(await driver.play(round(srv.base, chat, { transport: 'sse' })), chat, 'after a throw', 1);
});

test('a renderer, then the browser, killed mid-round: the round fails, Chromium is relaunched', async () => {
  const d = startDriver();
  const ready = await d.ready;
  assert.equal(ready.ready, true);
  let pid = ready.browser_pid;
  const renderer = (browser) => descendants(browser).filter((p) => {
    const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    return cmd.includes('--type=renderer') && !cmd.includes('--top-chrome-webui');
  });
  for (const victim of ['renderer', 'browser']) {
    const playing = d.play(round(srv.base, chat, { transport: 'sse', speed: 0.2 }));
    await new Promise((r) => setTimeout(r, 500));
    const pids = victim === 'browser' ? [pid] : renderer(pid);
    assert.equal(pids.length, 1, `the page's renderer: ${pids}`);
    process.kill(pids[0], 'SIGKILL');
    const crashed = await playing;
    assert.match(crashed.error, victim === 'browser' ? /browser process exited/ : /page crashed/, victim);
    const next = await d.play(round(srv.base, chat, { transport: 'sse' }));
    checkStreams(next, chat, `after the ${victim} was killed`, 1);
    assert.ok(next.browser_pid > 0 && next.browser_pid !== pid, 'a new Chromium');
    assert.ok(!alive(pid), 'the old one is gone');
    pid = next.browser_pid;
  }
  d.child.stdin.end();
  assert.equal(await d.exited, 0);
  assert.ok(!alive(pid));
});

for (const how of ['EOF', 'SIGTERM']) {
  test(`${how}: Chromium closed, nothing left behind, exit 0`, async () => {
    const d = startDriver();
    const ready = await d.ready;
    assert.equal(ready.ready, true);
    const procs = [ready.browser_pid, ...descendants(ready.browser_pid)];
    assert.ok(procs.length >= 3, `Chromium's processes: ${procs}`);
    const profile = flagOf(ready.browser_pid, '--user-data-dir');
    assert.ok(profile && existsSync(profile));
    const socketDir = dirname(readlinkSync(join(profile, 'SingletonSocket')));
    // A fresh profile: the first POST is preflighted, once per URL, and counted when asked.
    const counted = await d.play(round(srv.base, chat, { transport: 'sse', count_preflights: true }));
    checkStreams(counted, chat, how, 1);
    assert.equal(counted.streams[0].preflights, 1);
    const again = await d.play(round(srv.base, chat, { transport: 'sse', concurrency: 2 }));
    checkStreams(again, chat, how, 2);
    assert.deepEqual(again.streams.map((s) => s.preflights), [null, null]); // not asked: not counted
    if (how === 'EOF') d.child.stdin.end();
    else d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
    assert.deepEqual(procs.filter(alive), []);
    assert.equal(existsSync(profile), false);
    assert.equal(existsSync(socketDir), false);
  });
}

test('the driver SIGKILLed: Chromium exits by itself (its DevTools pipe closes)', async () => {
  const d = startDriver();
  const ready = await d.ready;
  assert.equal(ready.ready, true);
  const procs = [ready.browser_pid, ...descendants(ready.browser_pid)];
  const profile = flagOf(ready.browser_pid, '--user-data-dir');
  const socketDir = dirname(readlinkSync(join(profile, 'SingletonSocket')));
  d.child.kill('SIGKILL');
  await d.exited;
  const t0 = Date.now();
  while (procs.some(alive) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(procs.filter(alive), [], 'no Chromium process 5 s after its driver died');
  // A killed driver cannot remove its temp dirs itself.
  for (const dir of [profile, socketDir]) rmSync(dir, { recursive: true, force: true });
});

test('over TLS (--cert): HTTP/2 multiplexes eight fetch streams, none queued; wss works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssebench-browser-test-'));
  const { cert, key } = makeCert(dir);
  const tlsSrv = await startServer(['--tls-port', '0', '--tls-cert', cert, '--tls-key', key]);
  const d = startDriver([`--chromium=${chromium}`, `--cert=${cert}`]);
  try {
    assert.equal((await d.ready).ready, true);
    const r = round(tlsSrv.tls, chat, { transport: 'sse', speed: 1 });
    await d.play(r); // the connection and the preflight
    const reply = await d.play({ ...r, concurrency: 8 });
    checkStreams(reply, chat, 'https c:8', 8);
    const queued = reply.streams.map((s) => s.dispatched - s.t0);
    assert.ok(Math.max(...queued) < 100, `over HTTP/2 none waits for a connection: ${queued} ms`);
    const stats = await (await fetch(`${tlsSrv.base}/mock/stats`)).json();
    assert.ok(stats.tls.alpn.h2 >= 1 && stats.connections_h2 >= 1, JSON.stringify(stats.tls));
    checkStreams(await d.play(round(tlsSrv.tls, chat, { transport: 'ws', concurrency: 2 })), chat, 'wss', 2);
  } finally {
    d.child.stdin.end();
    await d.exited;
    tlsSrv.server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Chromium missing or failing to start: ready:false, exit 2', async () => {
  for (const bogus of ['/nonexistent/chromium', '/bin/false']) {
    const d = startDriver([`--chromium=${bogus}`]);
    const ready = await d.ready;
    assert.equal(ready.ready, false);
    assert.match(ready.error, /Chromium/);
    assert.ok(!ready.error.includes('\n'));
    assert.equal(await d.exited, 2);
  }
  const bad = startDriver(['--chromium']);
  assert.match((await bad.ready).error, /--chromium needs a value/);
  assert.equal(await bad.exited, 2);
});
