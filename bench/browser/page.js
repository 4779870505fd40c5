// The page: plays one round of the harness in the browser (README.md, "The page"). driver.mjs
// calls ssebench.playRound(round), then ssebench.result(); every stream starts in the same task
// (a closed round) from this one origin, so the browser's own per-host connection limit applies.
// Times are performance.timeOrigin + performance.now(): ms since the Unix epoch on the machine's
// clock, the same clock the harness reads (METRICS.md).

import { RESPONSES_EVENT_TYPES, SseParser, deltaTexts, endsTurn, nonstreamTranscript } from './sse.js';

const now = () => performance.timeOrigin + performance.now();

// ---- Streams ---------------------------------------------------------------------------------

let requestSeq = 0; // the order of every request the page makes

const errorText = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function newStream() {
  return {
    t0: null,
    dispatched: null,
    first_byte: null,
    end: null,
    requests: 0,
    preflights: null, // the driver counts them (CDP's Network domain) when asked
    events: 0,
    arrivals: [],
    error: null,
    // Page-side only (not in the reply):
    first: null, // { url, startRel } of the first request, matched to its Resource Timing entry
    requestLog: [], // [{ url, seq }]: every request the page made, for the driver's preflight count
    cleanup: [], // what abort() must stop
  };
}

function postHeaders(r) {
  const h = { 'content-type': 'application/json' };
  if (r.speed !== null && r.speed !== undefined) h['x-ssebench-speed'] = String(r.speed);
  return h;
}

/** fetch, counted, its first call remembered for Resource Timing. */
async function request(s, url, init = {}) {
  const controller = new AbortController();
  s.cleanup.push(() => controller.abort());
  if (s.first === null) s.first = { url, startRel: performance.now() };
  s.requestLog.push({ url, seq: requestSeq++ });
  ++s.requests;
  return fetch(url, { ...init, signal: controller.signal });
}

async function httpError(res) {
  let body = '';
  try {
    body = (await res.text()).slice(0, 300);
  } catch {}
  return new Error(`HTTP ${res.status}: ${body}`);
}

function addArrivals(s, t, texts) {
  for (const { choice, text } of texts) s.arrivals.push({ t, choice, text });
}

// sse: fetch POST + ReadableStream + the SSE parser + JSON.parse per event (the JS SDK's way).
async function sseFetch(r, s) {
  const url = r.base_url + r.job_path;
  s.t0 = now();
  const res = await request(s, url, { method: 'POST', headers: postHeaders(r), body: r.sse_body });
  if (!res.ok) throw await httpError(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let t = 0;
  let done = false;
  const parser = new SseParser((ev) => {
    ++s.events;
    if (ev.data === '[DONE]') {
      done = true;
      return;
    }
    addArrivals(s, t, deltaTexts(r.api, JSON.parse(ev.data)));
  });
  for (;;) {
    const { value, done: eof } = await reader.read();
    t = now(); // the bytes that complete an event were read: it is received (before parsing)
    if (eof) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  parser.feed(decoder.decode());
  s.end = t;
  if (parser.pending()) throw new Error('the stream ended inside an event');
  void done;
}

// rest: fetch POST, one JSON body once generation has ended.
async function rest(r, s) {
  s.t0 = now();
  const res = await request(s, r.base_url + r.job_path, {
    method: 'POST',
    headers: postHeaders(r),
    body: r.rest_body,
  });
  if (!res.ok) throw await httpError(res);
  const body = await res.text();
  s.end = now();
  s.events = 1;
  const text = nonstreamTranscript(r.api, JSON.parse(body));
  if (!text) throw new Error('the body is not a completion object');
  for (const [choice, t] of text) s.arrivals.push({ t: s.end, choice, text: t });
}

/** The background job the stream reads: POST job_body; its id. */
async function createJob(r, s) {
  const res = await request(s, r.base_url + r.job_path, {
    method: 'POST',
    headers: postHeaders(r),
    body: r.job_body,
  });
  if (!res.ok) throw await httpError(res);
  const o = await res.json();
  if (!o || typeof o.id !== 'string' || o.id === '') throw new Error('the job answer has no id');
  return o.id;
}

const sleepUntil = (s, at) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, at - now()));
    s.cleanup.push(() => clearTimeout(timer));
  });

// poll / long-poll: a job, then GET ?shape=S (&starting_after=C) in setTimeout loops (fixed rate:
// slot k at t0 + k·interval, a late answer moves to the next slot; long-poll: re-issued at once).
// The GETs carry no custom header: CORS-simple requests, no preflight.
async function poll(r, s) {
  const longPoll = r.transport === 'long-poll';
  const shape = r.shape ?? 'openai';
  const cursorShape = shape === 'events' || shape === 'delta';
  s.t0 = now();
  const id = await createJob(r, s);
  let cursor = null;
  const held = new Map(); // snapshot: the text per choice so far
  let slot = 0;
  for (;;) {
    if (!longPoll) {
      const interval = r.interval_ms > 0 ? r.interval_ms : 0; // 0: back to back (a timer of 0)
      let at = s.t0 + ++slot * interval;
      const t = now();
      if (at <= t && interval > 0) {
        slot = Math.floor((t - s.t0) / interval) + 1;
        at = s.t0 + slot * interval;
      }
      await sleepUntil(s, at);
    }
    let url = `${r.base_url}${r.job_path}/${id}?shape=${shape}`;
    if (cursorShape && cursor !== null) url += `&starting_after=${cursor}`;
    if (longPoll) url += `&wait_ms=${r.long_poll_wait_ms}`;
    const res = await request(s, url);
    if (!res.ok) throw await httpError(res);
    const body = await res.text();
    const t = now(); // the answer has been read completely
    const o = JSON.parse(body);
    if (!o || o.id !== id) throw new Error(`an answer for ${id} carries id ${o?.id}`);
    if (o.status === 'cancelled') throw new Error('the job was cancelled');
    const ended = o.status === 'completed' || o.status === 'failed';
    if (shape === 'events') {
      if (!Array.isArray(o.events)) throw new Error('the events answer has no events array');
      for (const p of o.events) addArrivals(s, t, deltaTexts(r.api, p));
      s.events += o.events.length;
      if (o.events.length > 0) cursor = o.cursor;
    } else if (shape === 'delta') {
      if (Number.isInteger(o.cursor)) {
        s.events += o.cursor - (cursor ?? -1);
        cursor = o.cursor;
      }
      if (typeof o.delta === 'string') {
        if (o.delta !== '') s.arrivals.push({ t, choice: 0, text: o.delta });
      } else if (o.deltas && typeof o.deltas === 'object') {
        for (const [k, text] of Object.entries(o.deltas))
          if (typeof text === 'string' && text !== '') s.arrivals.push({ t, choice: Number(k), text });
      } else {
        throw new Error('the delta answer has neither delta nor deltas');
      }
    } else if (shape === 'snapshot' || ended) {
      // snapshot: all output so far, the new text is what extends the text held; openai: the
      // whole object once the job has ended (status only before).
      const text = nonstreamTranscript(r.api, o);
      if (!text) throw new Error('the answer is not a completion object');
      for (const [choice, full] of text) {
        const before = held.get(choice) ?? '';
        if (!full.startsWith(before))
          throw new Error(`choice ${choice}: the snapshot's text does not extend the text before`);
        if (full.length > before.length) {
          s.arrivals.push({ t, choice, text: full.slice(before.length) });
          ++s.events; // the answers that carried new text: the only events these shapes show
        }
        held.set(choice, full);
      }
    }
    if (ended) {
      s.end = t;
      return;
    }
  }
}

// sse by EventSource on the job's resume endpoint (GET {job_path}/{id}?stream=true): the
// browser's own reconnect (retry:, Last-Event-ID) does the resuming. r.eventsource_query (an
// ssebench test hook, e.g. "&drop_after=5&retry_ms=300") is appended to the URL.
async function eventSource(r, s) {
  s.t0 = now();
  const id = await createJob(r, s);
  s.eventsource_opens = [];
  s.event_ids = [];
  await new Promise((resolve, reject) => {
    const url = `${r.base_url}${r.job_path}/${id}?stream=true${r.eventsource_query ?? ''}`;
    ++s.requests;
    s.requestLog.push({ url, seq: requestSeq++ });
    s.esUrl = url;
    const es = new EventSource(url);
    s.cleanup.push(() => es.close());
    es.onopen = () => {
      const t = now();
      s.eventsource_opens.push(t);
      if (s.eventsource_opens.length > 1) ++s.requests;
    };
    const onMessage = (ev) => {
      // An SSE event named "error" (the Responses API's) and EventSource's own error event
      // (the connection ended) share a name: only the first is a MessageEvent.
      if (!(ev instanceof MessageEvent)) return;
      const t = now();
      ++s.events;
      s.event_ids.push(ev.lastEventId);
      try {
        const obj = ev.data === '[DONE]' ? null : JSON.parse(ev.data);
        if (obj) addArrivals(s, t, deltaTexts(r.api, obj));
        if (endsTurn(r.api, ev.data, obj)) {
          s.end = t;
          es.close();
          resolve();
        }
      } catch (e) {
        es.close();
        reject(e);
      }
    };
    // A Responses stream names its events (event: response.output_text.delta): EventSource
    // hands those only to listeners of that name, never to onmessage.
    es.onmessage = onMessage;
    if (r.api === 'responses') for (const type of RESPONSES_EVENT_TYPES) es.addEventListener(type, onMessage);
    es.onerror = () => {
      // CONNECTING: the browser reconnects by itself (after retry); CLOSED: it gave up.
      if (es.readyState === EventSource.CLOSED) reject(new Error('EventSource failed (closed by the browser)'));
    };
  });
}

// ws: the Responses WebSocket mode (chat: the ssebench extension) — `turns` turns, one after the
// other, each one stream measured from its own message (turn 1 from new WebSocket).
async function wsSocket(r, turns) {
  const scheme = r.base_url.replace(/^http/, 'ws');
  const query = r.speed !== null && r.speed !== undefined ? `?x-ssebench-speed=${r.speed}` : '';
  const first = turns[0];
  first.t0 = now();
  first.requests = 1;
  const ws = new WebSocket(`${scheme}${r.job_path}${query}`);
  for (const s of turns) s.cleanup.push(() => ws.close());
  let current = 0;
  let resolveTurn;
  let rejectTurn;
  let turnDone = null;
  const startTurn = (k) => {
    current = k;
    turnDone = new Promise((res, rej) => {
      resolveTurn = res;
      rejectTurn = rej;
    });
    const s = turns[k];
    if (k > 0) {
      s.t0 = now();
      s.requests = 1;
    }
    ws.send(r.ws_message);
  };
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = () => {
        first.first_byte = now();
        resolve();
      };
      // The browser gives a page no detail of a failed WebSocket (by design): the close code.
      ws.onclose = (ev) => reject(new Error(`WebSocket closed before open (code ${ev.code})`));
    });
  } catch (e) {
    for (const s of turns) s.error = errorText(e);
    return;
  }
  ws.onmessage = (ev) => {
    const t = now();
    const s = turns[current];
    if (s.first_byte === null) s.first_byte = t;
    ++s.events;
    try {
      const data = String(ev.data);
      const obj = data === '[DONE]' ? null : JSON.parse(data);
      if (s.events === 1 && obj && obj.type === 'error' && 'status' in obj)
        throw new Error(`error event, status ${obj.status}: ${JSON.stringify(obj.error?.message ?? obj.error)}`);
      if (obj) addArrivals(s, t, deltaTexts(r.api, obj));
      if (endsTurn(r.api, data, obj)) {
        s.end = t;
        resolveTurn();
      }
    } catch (e) {
      rejectTurn(e);
    }
  };
  ws.onclose = (ev) => rejectTurn?.(new Error(`WebSocket closed mid-turn (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`));
  ws.onerror = () => {};
  try {
    for (let k = 0; k < turns.length; ++k) {
      startTurn(k);
      await turnDone;
    }
  } catch (e) {
    turns[current].error = errorText(e);
    for (let k = current + 1; k < turns.length; ++k)
      turns[k].error = `not run: turn ${current + 1} of ${turns.length} on its connection failed`;
  } finally {
    ws.onclose = null;
    ws.close();
  }
}

// ---- Rounds ----------------------------------------------------------------------------------

let longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push(e);
}).observe({ type: 'longtask', buffered: true });
performance.setResourceTimingBufferSize(1_000_000);

let current = null; // the round in play: { streams, startRel, done }

/** Resource Timing of each stream's first request: entries of one URL are taken in the order
 *  their fetches were called (startTime), as the streams called them. */
function takeTimings(streams) {
  const byName = new Map();
  for (const e of performance.getEntriesByType('resource')) {
    if (!byName.has(e.name)) byName.set(e.name, []);
    byName.get(e.name).push(e);
  }
  for (const list of byName.values()) list.sort((a, b) => a.startTime - b.startTime);
  const firsts = streams.filter((s) => s.first).sort((a, b) => a.first.startRel - b.first.startRel);
  for (const s of firsts) {
    const list = byName.get(s.first.url) ?? [];
    const k = list.findIndex((e) => e.startTime >= s.first.startRel - 0.5);
    if (k < 0) continue;
    const [e] = list.splice(k, 1);
    if (e.requestStart > 0) s.dispatched = performance.timeOrigin + e.requestStart;
    if (e.responseStart > 0) s.first_byte = performance.timeOrigin + e.responseStart;
  }
  // EventSource: its first connection's request (the URL is the job's own; reconnects come later).
  for (const s of streams) {
    const e = s.esUrl && byName.get(s.esUrl)?.[0];
    if (e && e.requestStart > 0) s.eventsource_dispatched = performance.timeOrigin + e.requestStart;
  }
}

function reply(s, withLog) {
  const out = {
    t0: s.t0,
    dispatched: s.dispatched,
    first_byte: s.first_byte,
    end: s.end,
    requests: s.requests,
    preflights: s.preflights,
    events: s.events,
    arrivals: s.arrivals,
    error: s.error,
  };
  if (s.eventsource_opens) {
    out.eventsource_dispatched = s.eventsource_dispatched ?? null;
    out.eventsource_opens = s.eventsource_opens;
    out.event_ids = s.event_ids;
  }
  if (withLog) out.request_log = s.requestLog;
  return out;
}

async function playRound(r) {
  performance.clearResourceTimings();
  const startRel = performance.now();
  const streams = [];
  const runs = [];
  const guard = (s, p) => p.catch((e) => {
    s.error = errorText(e);
  });
  current = { streams, startRel, done: false };
  const c = Math.max(1, r.concurrency | 0);
  if (r.transport === 'ws') {
    const t = Math.max(1, r.ws_turns | 0);
    for (let k = 0; k < c; ++k) {
      const turns = Array.from({ length: t }, newStream);
      streams.push(...turns);
      runs.push(guard(turns[0], wsSocket(r, turns)));
    }
  } else {
    const play = {
      sse: r.eventsource ? eventSource : sseFetch,
      rest,
      poll,
      'long-poll': poll,
    }[r.transport];
    if (!play) throw new Error(`unknown transport ${JSON.stringify(r.transport)}`);
    for (let k = 0; k < c; ++k) {
      const s = newStream();
      streams.push(s);
      runs.push(guard(s, play(r, s)));
    }
  }
  await Promise.all(runs);
  current.done = true;
  return true;
}

/** The finished round's reply (streams and long tasks), fetched apart so that the driver reads
 *  the processes' CPU between the round's end and this serialization. */
function result(withLog = false) {
  const { streams, startRel } = current;
  takeTimings(streams);
  const mine = longTasks.filter((e) => e.startTime >= startRel);
  longTasks = [];
  return {
    streams: streams.map((s) => reply(s, withLog)),
    long_tasks: mine.length,
    long_tasks_ms: mine.reduce((a, e) => a + e.duration, 0),
  };
}

/** Stops whatever the round still runs (a deadline); its streams so far, unfinished ones failed. */
function abort(reason, withLog = false) {
  if (!current) return { streams: [], long_tasks: 0, long_tasks_ms: 0 };
  for (const s of current.streams) {
    for (const f of s.cleanup) {
      try {
        f();
      } catch {}
    }
    if (s.end === null && s.error === null) s.error = reason;
  }
  return result(withLog);
}

window.ssebench = { playRound, result, abort, isolated: self.crossOriginIsolated };
document.getElementById('status').textContent = 'ready';
