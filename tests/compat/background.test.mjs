// The official OpenAI Node.js client against the server's background jobs (issue 7): create,
// retrieve until done, background + stream, resume with starting_after, cancel, delete, input
// items, and the ssebench extension of background chat jobs. Expected text and events are rebuilt
// here from the recording files by this file's own reading of them, never taken from the server.
// Speeds are set per client with x-ssebench-speed: 0 (instant) where only bytes and text matter, a
// slow speed where a job must still be running; every time bound is generous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

import { payload, recordings, startServer } from './support.mjs';

const byId = (id) => {
  const rec = recordings.find((r) => r.id === id);
  assert.ok(rec, `recording ${id} exists`);
  return rec;
};

// A job's events: every recorded event but [DONE], parsed, with its recorded offset.
function jobEvents(rec) {
  return rec.events
    .map((e) => ({ t_us: e.t_us, data: payload(e.bytes) }))
    .filter((e) => e.data !== '[DONE]')
    .map((e) => ({ t_us: e.t_us, obj: JSON.parse(e.data) }));
}

// What a Responses recording says: its events, the output_text the SDK would show (output_text
// parts only), each function call's arguments, and how it ends.
function expectedResponses(rec) {
  const events = jobEvents(rec);
  let text = '';
  const args = {};
  let error = null;
  let status = null;
  for (const { obj } of events) {
    if (obj.type === 'response.output_text.delta') text += obj.delta;
    if (obj.type === 'response.function_call_arguments.delta')
      args[obj.item_id] = (args[obj.item_id] ?? '') + obj.delta;
    if (obj.type === 'error') error = obj.error ?? obj;
    if (obj.type === 'response.completed') status = 'completed';
    if (obj.type === 'response.failed') {
      status = 'failed';
      error ??= obj.response.error;
    }
    if (obj.type === 'response.incomplete') status = 'incomplete';
  }
  return { events, types: events.map((e) => e.obj.type), text, args, error, status };
}

// Per chat choice: content + refusal + tool-call arguments, in arrival order; the finish reasons
// and the usage chunk's usage.
function expectedChat(rec) {
  const texts = {};
  const finish = {};
  let usage = null;
  let error = null;
  for (const { obj } of jobEvents(rec)) {
    if (obj.error) error = obj.error;
    if (obj.usage) usage = obj.usage;
    for (const c of obj.choices ?? []) {
      const d = c.delta ?? {};
      let t = (d.content ?? '') + (d.refusal ?? '');
      for (const call of d.tool_calls ?? []) t += call.function?.arguments ?? '';
      texts[c.index] = (texts[c.index] ?? '') + t;
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  return { texts, finish, usage, error };
}

// The text of a Response object the way the SDK's output_text reads it.
function outputText(response) {
  let text = '';
  for (const item of response.output ?? [])
    if (item.type === 'message')
      for (const part of item.content ?? []) if (part.type === 'output_text') text += part.text;
  return text;
}

function functionArgs(response) {
  const args = {};
  for (const item of response.output ?? []) if (item.type === 'function_call') args[item.id] = item.arguments;
  return args;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const terminal = new Set(['completed', 'failed', 'cancelled', 'incomplete']);
const statusOrder = ['queued', 'in_progress', 'completed'];

let server;
let baseURL;
const clientAt = (speed) =>
  new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-ssebench-speed': String(speed) } });
let instant;

/** Retrieves (Responses or chat) until the job's status is terminal; every answer seen, in order. */
async function pollUntilDone(retrieve, id, { deadlineMs = 15000, intervalMs = 5 } = {}) {
  const seen = [];
  const t0 = performance.now();
  for (;;) {
    const r = await retrieve(id);
    seen.push(r);
    if (terminal.has(r.status)) return seen;
    assert.ok(performance.now() - t0 < deadlineMs, `job ${id} still ${r.status} after ${deadlineMs} ms`);
    await sleep(intervalMs);
  }
}

const responseInput = (rec) => JSON.parse(rec.header.request.body).input ?? 'x';

before(async () => {
  ({ server, baseURL } = await startServer());
  instant = clientAt(0);
});

after(() => server?.kill('SIGTERM'));

const responsesRecs = recordings.filter((r) => r.header.api === 'responses' && r.events.length > 0);
const chatRecs = recordings.filter((r) => r.header.api === 'chat.completions' && r.events.length > 0);

test('there are Responses recordings with text, function calls and a failure', () => {
  const exps = responsesRecs.map(expectedResponses);
  assert.ok(exps.filter((e) => e.status === 'completed' && e.text.length > 0).length >= 2);
  assert.ok(exps.some((e) => Object.keys(e.args).length > 0));
  assert.ok(exps.some((e) => e.status === 'failed'));
});

// ---- 1. background create, then retrieve until done ------------------------------------------

for (const rec of responsesRecs) {
  const exp = expectedResponses(rec);
  test(`background: ${rec.id}: retrieve until ${exp.status} gives the recorded output`, { timeout: 20000 }, async () => {
    const created = await instant.responses.create({ model: rec.id, input: responseInput(rec), background: true });
    assert.equal(created.object, 'response');
    assert.match(created.id, /^resp_bg_\d+$/);
    assert.equal(created.background, true);
    const seen = await pollUntilDone((id) => instant.responses.retrieve(id), created.id);
    const done = seen.at(-1);
    assert.equal(done.id, created.id);
    assert.equal(done.object, 'response');
    assert.equal(done.status, exp.status);
    assert.equal(done.output_text, exp.text); // the SDK's own accessor
    assert.equal(outputText(done), exp.text);
    assert.deepEqual(functionArgs(done), exp.args);
    if (exp.status === 'failed') assert.equal(done.error?.message, exp.error.message);
  });
}

test('background create at a slow speed answers a queued/in_progress Response, then polls through to completed', { timeout: 20000 }, async () => {
  const rec = byId('responses-gpt-4o-mini-ok');
  const exp = expectedResponses(rec);
  const speed = 0.25; // the recording lasts ~0.47 s: ~1.9 s here
  const paced = clientAt(speed);
  const created = await paced.responses.create({ model: rec.id, input: 'x', background: true });
  // Before: a TypeError in the SDK (the answer had no `output`). Now a Response, still running.
  assert.ok(created instanceof Object && !(created instanceof Error));
  assert.ok(['queued', 'in_progress'].includes(created.status), `status ${created.status}`);
  assert.deepEqual(created.output, []);
  assert.equal(created.output_text, '');
  const seen = [created, ...(await pollUntilDone((id) => paced.responses.retrieve(id), created.id, { intervalMs: 50 }))];
  // Statuses only move forward; while running the openai shape has no output.
  const ranks = seen.map((r) => statusOrder.indexOf(r.status));
  assert.ok(ranks.every((x) => x >= 0), `statuses ${seen.map((r) => r.status)}`);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
  for (const r of seen) if (r.status !== 'completed') assert.deepEqual(r.output, []);
  assert.equal(seen.at(-1).output_text, exp.text);
});

// ---- 2. background + stream ------------------------------------------------------------------

for (const rec of responsesRecs) {
  const exp = expectedResponses(rec);
  test(`background stream: ${rec.id}: every recorded event in order, with the job's id`, { timeout: 20000 }, async () => {
    const stream = await instant.responses.create({
      model: rec.id,
      input: responseInput(rec),
      background: true,
      stream: true,
    });
    const got = [];
    let text = '';
    const consume = async () => {
      for await (const ev of stream) {
        got.push(ev);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
      }
    };
    let wantTypes = exp.types;
    if (exp.error && exp.types.includes('error')) {
      // The SDK throws at a mid-stream `event: error`, after the events before it.
      await assert.rejects(consume(), (err) => err.message.includes(exp.error.message));
      wantTypes = exp.types.slice(0, exp.types.indexOf('error'));
    } else {
      await consume();
    }
    assert.deepEqual(got.map((e) => e.type), wantTypes);
    assert.deepEqual(
      got.map((e) => e.sequence_number),
      wantTypes.map((_, i) => i),
    );
    assert.equal(text, exp.text);
    assert.equal(got[0].type, 'response.created');
    const id = got[0].response.id;
    assert.match(id, /^resp_bg_\d+$/);
    for (const e of got) if (e.response) assert.equal(e.response.id, id, `${e.type} carries the job id`);
    // The stream was the job's: retrieving it shows the same end.
    const done = (await pollUntilDone((i) => instant.responses.retrieve(i), id)).at(-1);
    assert.equal(done.status, exp.status);
    assert.equal(done.output_text, exp.text);
  });
}

// ---- 3. resume with starting_after ------------------------------------------------------------

for (const id of ['responses-gpt-4o-mini-ok', 'responses-gpt-5.1-codex-max-4', 'responses-gpt-5.1-codex-max-1']) {
  const rec = byId(id);
  const exp = expectedResponses(rec);
  const E = exp.events.length;
  test(`resume: ${rec.id}: cut after each event k, retrieve(stream, starting_after: k) completes it exactly`, { timeout: 30000 }, async () => {
    for (let k = 0; k < E - 1; k++) {
      const first = await instant.responses.create({ model: rec.id, input: responseInput(rec), background: true, stream: true });
      const part1 = [];
      for await (const ev of first) {
        part1.push(ev);
        if (ev.sequence_number === k) break; // closes the connection
      }
      assert.equal(part1.at(-1).sequence_number, k);
      const jobId = part1[0].response.id;
      const resumed = await instant.responses.retrieve(jobId, { stream: true, starting_after: k });
      const part2 = [];
      for await (const ev of resumed) part2.push(ev);
      assert.ok(part2.length > 0, `k=${k}: the resumed stream has events`);
      assert.equal(part2[0].sequence_number, k + 1, `k=${k}: the first resumed event`);
      const all = [...part1, ...part2];
      const seqs = all.map((e) => e.sequence_number);
      assert.equal(new Set(seqs).size, seqs.length, `k=${k}: no duplicate sequence_number`);
      assert.deepEqual(seqs, exp.types.map((_, i) => i), `k=${k}`);
      assert.deepEqual(all.map((e) => e.type), exp.types, `k=${k}`);
      const text = all.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      assert.equal(text, exp.text, `k=${k}`);
      for (const e of part2) if (e.response) assert.equal(e.response.id, jobId, `k=${k}: resumed ${e.type} carries the job id`);
    }
  });
}

test('resume of a job still running: abort after event 1, resume at the job\'s pace, never early', { timeout: 20000 }, async () => {
  const rec = byId('responses-gpt-4o-mini-ok');
  const exp = expectedResponses(rec);
  const speed = 0.5; // ~0.95 s in all; the text is due at ~0.89 s
  const paced = clientAt(speed);
  const ac = new AbortController();
  const t0 = performance.now();
  const first = await paced.responses.create({ model: rec.id, input: 'x', background: true, stream: true }, { signal: ac.signal });
  const part1 = [];
  try {
    for await (const ev of first) {
      part1.push(ev);
      if (ev.sequence_number === 1) ac.abort();
    }
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIUserAbortError || err.name === 'AbortError', `abort: ${err}`);
  }
  assert.deepEqual(part1.map((e) => e.sequence_number), [0, 1]);
  const jobId = part1[0].response.id;
  const resumed = await paced.responses.retrieve(jobId, { stream: true, starting_after: 1 });
  const part2 = [];
  for await (const ev of resumed) part2.push({ ev, ms: performance.now() - t0 });
  assert.deepEqual(part2.map((p) => p.ev.sequence_number), exp.types.map((_, i) => i).slice(2));
  // The server's clock started after t0: no resumed event may arrive before its scaled offset.
  part2.forEach((p, i) => {
    const dueMs = exp.events[i + 2].t_us / 1000 / speed;
    assert.ok(p.ms >= dueMs, `event ${i + 2} arrived at ${p.ms.toFixed(1)} ms, due at ${dueMs.toFixed(1)} ms`);
  });
  const text = part2.filter((p) => p.ev.type === 'response.output_text.delta').map((p) => p.ev.delta).join('');
  assert.equal(text, exp.text);
});

test('responses.stream({response_id, starting_after}) (the SDK helper) resumes to the final response', { timeout: 20000 }, async () => {
  const rec = byId('responses-gpt-5.1-codex-max-4');
  const exp = expectedResponses(rec);
  const created = await instant.responses.create({ model: rec.id, input: responseInput(rec), background: true });
  const k = 5;
  const s = instant.responses.stream({ response_id: created.id, starting_after: k });
  const seqs = [];
  s.on('event', (ev) => seqs.push(ev.sequence_number));
  const final = await s.finalResponse();
  assert.deepEqual(seqs, exp.types.map((_, i) => i).slice(k + 1));
  assert.equal(final.id, created.id);
  assert.equal(final.status, 'completed');
  assert.equal(final.output_text, exp.text);
});

// ---- 4. cancel -------------------------------------------------------------------------------

test('cancel mid-job: status cancelled, the clock stops, cancelling again changes nothing', { timeout: 20000 }, async () => {
  const rec = byId('responses-gpt-5.1-codex-max-4');
  const exp = expectedResponses(rec);
  const speed = 4; // running from ~0.08 s to ~1.6 s
  const paced = clientAt(speed);
  const t0 = performance.now();
  const created = await paced.responses.create({ model: rec.id, input: responseInput(rec), background: true });
  let r = created;
  while (r.status === 'queued') {
    await sleep(5);
    r = await paced.responses.retrieve(created.id);
  }
  assert.equal(r.status, 'in_progress', 'the job is running when it is cancelled');
  const cancelled = await paced.responses.cancel(created.id);
  assert.equal(cancelled.id, created.id);
  assert.equal(cancelled.object, 'response');
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(exp.text.startsWith(outputText(cancelled)), 'the output so far is a prefix of the recording\'s');
  assert.deepEqual(await paced.responses.cancel(created.id), cancelled, 'cancel again: the same object');
  // Wait until the recording would have ended at this speed: the job must not have moved on.
  const endMs = exp.events.at(-1).t_us / 1000 / speed;
  await sleep(Math.max(0, endMs + 300 - (performance.now() - t0)));
  const later = await paced.responses.retrieve(created.id);
  assert.equal(later.status, 'cancelled');
  assert.deepEqual(later.output, cancelled.output);
  // A resumed stream of a cancelled job ends (without the recording's completion).
  const resumed = await paced.responses.retrieve(created.id, { stream: true });
  const types = [];
  for await (const ev of resumed) types.push(ev.type);
  assert.ok(!types.includes('response.completed'), `resumed after cancel: ${types}`);
  assert.ok(types.length < exp.types.length);
});

test('cancelling a completed or failed job is a 400; an unknown id a 404', { timeout: 20000 }, async () => {
  for (const id of ['responses-gpt-4o-mini-ok', 'responses-gpt-5-nano-error-midstream']) {
    const rec = byId(id);
    const created = await instant.responses.create({ model: rec.id, input: 'x', background: true });
    const done = (await pollUntilDone((i) => instant.responses.retrieve(i), created.id)).at(-1);
    assert.equal(done.status, expectedResponses(rec).status);
    await assert.rejects(
      instant.responses.cancel(created.id),
      (err) => err instanceof OpenAI.BadRequestError && err instanceof OpenAI.APIError && err.status === 400,
    );
    assert.equal((await instant.responses.retrieve(created.id)).status, done.status, 'a refused cancel changes nothing');
  }
  await assert.rejects(
    instant.responses.cancel('resp_bg_999999999'),
    (err) => err instanceof OpenAI.NotFoundError && err.status === 404,
  );
});

// ---- 5. delete -------------------------------------------------------------------------------

test('delete: resolves, then the id is a 404 NotFoundError; unknown ids are 404s', { timeout: 20000 }, async () => {
  const rec = byId('responses-gpt-5.1-codex-max-4');
  const created = await instant.responses.create({ model: rec.id, input: responseInput(rec), background: true });
  await pollUntilDone((i) => instant.responses.retrieve(i), created.id);
  await instant.responses.delete(created.id); // resolves
  const notFound = (id) => (err) =>
    err instanceof OpenAI.NotFoundError && err.status === 404 && err.message.includes(`Response with id '${id}' not found.`);
  await assert.rejects(instant.responses.retrieve(created.id), notFound(created.id));
  await assert.rejects(instant.responses.retrieve(created.id, { stream: true }), notFound(created.id));
  await assert.rejects(instant.responses.delete(created.id), notFound(created.id));
  await assert.rejects(instant.responses.inputItems.list(created.id), notFound(created.id));
  for (const id of ['resp_bg_999999999', 'resp_unknown'])
    await assert.rejects(instant.responses.retrieve(id), notFound(id));

  // A running job can be deleted too.
  const slow = clientAt(0.05);
  const running = await slow.responses.create({ model: rec.id, input: responseInput(rec), background: true });
  assert.ok(!terminal.has(running.status));
  await slow.responses.delete(running.id);
  await assert.rejects(slow.responses.retrieve(running.id), notFound(running.id));
});

// ---- 6. input items --------------------------------------------------------------------------

for (const rec of responsesRecs) {
  const input = JSON.parse(rec.header.request.body).input;
  const recorded = Array.isArray(input) ? input : [];
  if (typeof input === 'string') continue; // none recorded; OpenAI turns it into one message item
  test(`input items: ${rec.id}: responses.inputItems.list gives the ${recorded.length} recorded items`, { timeout: 20000 }, async () => {
    const created = await instant.responses.create({ model: rec.id, input: input ?? 'x', background: true });
    const items = [];
    for await (const item of instant.responses.inputItems.list(created.id)) items.push(item);
    assert.equal(items.length, recorded.length);
    const ids = new Set();
    items.forEach((item, i) => {
      const want = recorded[i];
      assert.equal(typeof item.id, 'string', `item ${i} has an id`);
      ids.add(item.id);
      assert.equal(item.type, want.type ?? 'message', `item ${i} type`);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(item[k], v, `item ${i}.${k}`);
    });
    assert.equal(ids.size, items.length, 'item ids are unique');
  });
}

// ---- chat background jobs (an ssebench extension) ----------------------------------------------

async function createChatJob(rec, speed) {
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-ssebench-speed': String(speed) },
    body: JSON.stringify({ model: rec.id, background: true }),
  });
  assert.equal(res.status, 200, `POST background chat job: ${res.status}`);
  return res.json();
}

function chatTexts(completion) {
  const texts = {};
  const finish = {};
  for (const c of completion.choices) {
    let t = (c.message.content ?? '') + (c.message.refusal ?? '');
    for (const call of c.message.tool_calls ?? []) t += call.function.arguments;
    texts[c.index] = t;
    finish[c.index] = c.finish_reason;
  }
  return { texts, finish };
}

for (const rec of chatRecs) {
  const exp = expectedChat(rec);
  test(`chat job: ${rec.id}: chat.completions.retrieve until done gives the recorded completion`, { timeout: 20000 }, async () => {
    const created = await createChatJob(rec, 0);
    assert.match(created.id, /^chatcmpl_bg_\d+$/);
    assert.equal(created.object, 'chat.completion');
    const done = (await pollUntilDone((id) => instant.chat.completions.retrieve(id), created.id)).at(-1);
    assert.equal(done.id, created.id);
    assert.equal(done.object, 'chat.completion');
    assert.equal(done.model, rec.header.model);
    if (exp.error) {
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.message, exp.error.message);
    } else {
      assert.equal(done.status, 'completed');
      const got = chatTexts(done);
      assert.deepEqual(got.texts, exp.texts);
      assert.deepEqual(got.finish, exp.finish);
      if (exp.usage) assert.deepEqual(done.usage, exp.usage);
    }
  });
}

test('chat job at a slow speed: queued/in_progress with no choices, then the completed message', { timeout: 20000 }, async () => {
  const rec = byId('chat-gpt-4o-mini-text');
  const exp = expectedChat(rec);
  const created = await createChatJob(rec, 0.5); // ~1.1 s
  assert.ok(['queued', 'in_progress'].includes(created.status), `status ${created.status}`);
  assert.deepEqual(created.choices, []);
  const seen = await pollUntilDone((id) => instant.chat.completions.retrieve(id), created.id, { intervalMs: 50 });
  for (const r of seen.slice(0, -1)) assert.deepEqual(r.choices, [], `while ${r.status}`);
  assert.equal(seen.at(-1).status, 'completed');
  assert.equal(seen.at(-1).choices[0].message.content, exp.texts[0]);
});

test('chat job cancelled mid-text (raw POST …/cancel: the SDK has no chat cancel) keeps the text so far', { timeout: 20000 }, async () => {
  const rec = byId('chat-gpt-4o-mini-long');
  const exp = expectedChat(rec);
  const speed = 4; // content from ~0.08 s to ~5.4 s
  const created = await createChatJob(rec, speed);
  await sleep(300);
  const res = await fetch(`${baseURL}/chat/completions/${created.id}/cancel`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test' },
  });
  assert.equal(res.status, 200);
  const cancelled = await res.json();
  assert.equal(cancelled.id, created.id);
  assert.equal(cancelled.status, 'cancelled');
  const soFar = cancelled.choices[0]?.message?.content ?? '';
  assert.ok(soFar.length > 0 && soFar.length < exp.texts[0].length, `text so far: ${soFar.length} of ${exp.texts[0].length} chars`);
  assert.ok(exp.texts[0].startsWith(soFar), 'the text so far is a prefix of the recording\'s');
  await sleep(300);
  const later = await instant.chat.completions.retrieve(created.id);
  assert.equal(later.status, 'cancelled');
  assert.equal(later.choices[0].message.content, soFar, 'the clock stopped at the cancel');
});

test('chat job: chat.completions.delete, then a 404 NotFoundError', { timeout: 20000 }, async () => {
  const rec = byId('chat-gpt-4o-mini-text');
  const created = await createChatJob(rec, 0);
  const deleted = await instant.chat.completions.delete(created.id);
  assert.deepEqual(deleted, { id: created.id, object: 'chat.completion.deleted', deleted: true });
  const notFound = (id) => (err) =>
    err instanceof OpenAI.NotFoundError && err.message.includes(`Chat completion with id '${id}' not found.`);
  await assert.rejects(instant.chat.completions.retrieve(created.id), notFound(created.id));
  await assert.rejects(instant.chat.completions.retrieve('chatcmpl_bg_999999999'), notFound('chatcmpl_bg_999999999'));
  // A chat job is not a Response, nor a Response a chat job.
  const resp = await instant.responses.create({ model: 'responses-gpt-4o-mini-ok', input: 'x', background: true });
  await assert.rejects(instant.chat.completions.retrieve(resp.id), notFound(resp.id));
  const chat = await createChatJob(rec, 0);
  await assert.rejects(instant.responses.retrieve(chat.id), (err) => err instanceof OpenAI.NotFoundError);
});

test('chat job as a stream through the SDK: chunks carry the job id, the text is exact', { timeout: 20000 }, async () => {
  const rec = byId('chat-gpt-4o-json');
  const exp = expectedChat(rec);
  const request = JSON.parse(rec.header.request.body);
  const stream = await instant.chat.completions.create({ ...request, model: rec.id, stream: true, background: true });
  const texts = {};
  const ids = new Set();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    for (const c of chunk.choices) texts[c.index] = (texts[c.index] ?? '') + (c.delta.content ?? '');
  }
  assert.equal(ids.size, 1);
  const [id] = ids;
  assert.match(id, /^chatcmpl_bg_\d+$/);
  assert.deepEqual(texts, exp.texts);
  const done = (await pollUntilDone((i) => instant.chat.completions.retrieve(i), id)).at(-1);
  assert.equal(done.choices[0].message.content, exp.texts[0]);
});
