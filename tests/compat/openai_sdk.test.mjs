// The official OpenAI Node.js client against the mock server, as its baseURL: it must not be
// able to tell the replay from the real API for the parts that are replayed. Expected text is
// rebuilt here from the recording files by this file's own reading of the chunks, independently
// of the C++ loader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

import { payload, recordings, startServer } from './support.mjs';

const chatStreams = recordings.filter((r) => r.header.api === 'chat.completions' && r.events.length > 0);

// Per choice: content + refusal + tool-call arguments, in arrival order.
function addDelta(texts, choice) {
  const d = choice.delta ?? {};
  let t = (d.content ?? '') + (d.refusal ?? '');
  for (const call of d.tool_calls ?? []) t += call.function?.arguments ?? '';
  texts[choice.index] = (texts[choice.index] ?? '') + t;
}

function expectedChat(rec) {
  const texts = {};
  let error = null;
  for (const ev of rec.events) {
    const p = payload(ev.bytes);
    if (p === '[DONE]') continue;
    const obj = JSON.parse(p);
    if (obj.error) error = obj.error;
    for (const c of obj.choices ?? []) addDelta(texts, c);
  }
  return { texts, error };
}

let server;
let baseURL;
let client;

before(async () => {
  ({ server, baseURL } = await startServer());
  // Replay as fast as possible: these tests check bytes and text, not pace.
  client = new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-ssebench-speed': '0' } });
});

after(() => server?.kill('SIGTERM'));

// The real model names the recordings were made with, dated and undated ("gpt-4o-mini-2024-07-18"
// and "gpt-4o-mini"), each standing for the first recording of it by id, per API; a name that is
// itself a recording id is not an alias.
function undated(model) {
  return /-\d{4}-\d{2}-\d{2}$/.test(model) ? model.slice(0, -11) : model;
}
const aliases = {};
const byIdOrder = [...recordings].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // ids, not file names
for (const r of byIdOrder) {
  for (const name of new Set([r.header.model, undated(r.header.model)])) {
    if (recordings.some((x) => x.id === name)) continue;
    aliases[name] ??= {};
    aliases[name][r.header.api] ??= r.id;
  }
}

test('models.list returns every recording, then every real model name with its recordings', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  for (const m of models) assert.equal(m.object, 'model');
  const plain = models.filter((m) => !('recordings' in m)).map((m) => m.id);
  assert.deepEqual(plain.sort(), recordings.map((r) => r.id).sort());
  const named = Object.fromEntries(models.filter((m) => 'recordings' in m).map((m) => [m.id, m.recordings]));
  assert.deepEqual(named, aliases);
});

test('an unknown model is a 404 model_not_found whose message points to /v1/models', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [], stream: true }),
    (err) =>
      err instanceof OpenAI.NotFoundError &&
      err.status === 404 &&
      err.code === 'model_not_found' &&
      err.message.includes('no-such-model') &&
      err.message.includes('/v1/models'),
  );
  await assert.rejects(
    client.responses.create({ model: 'no-such-model', input: 'x' }),
    (err) => err instanceof OpenAI.NotFoundError && err.message.includes('/v1/models'),
  );
  await assert.rejects(client.models.retrieve('no-such-model'), (err) => err instanceof OpenAI.NotFoundError);
});

test('there are chat recordings to replay', () => assert.ok(chatStreams.length >= 8));

for (const rec of chatStreams) {
  const request = JSON.parse(rec.header.request.body);
  const { texts, error } = expectedChat(rec);

  test(`stream: ${rec.id} reconstructs the recorded text`, async () => {
    const stream = await client.chat.completions.create({ ...request, model: rec.id, stream: true });
    const got = {};
    let chunks = 0;
    const consume = async () => {
      for await (const chunk of stream) {
        chunks += 1;
        assert.equal(chunk.model, rec.header.model);
        for (const c of chunk.choices) addDelta(got, c);
      }
    };
    if (error) {
      // The SDK turns a mid-stream {"error":…} into an exception, after the text before it.
      await assert.rejects(consume(), (err) => err.message.includes(error.message));
    } else {
      await consume();
      const dataEvents = rec.events.filter((e) => payload(e.bytes) !== '[DONE]').length;
      assert.equal(chunks, dataEvents);
    }
    assert.deepEqual(got, texts);
  });

  if (rec.header.nonstream && !error) {
    test(`non-stream: ${rec.id} returns the same text`, async () => {
      // stream_options is only allowed with stream:true (as on OpenAI): the recorded request's goes.
      const { stream_options: _, ...plain } = request;
      const completion = await client.chat.completions.create({ ...plain, model: rec.id, stream: false });
      const got = {};
      for (const c of completion.choices) {
        let t = (c.message.content ?? '') + (c.message.refusal ?? '');
        for (const call of c.message.tool_calls ?? []) t += call.function.arguments;
        got[c.index] = t;
      }
      assert.deepEqual(got, texts);
    });
  }
}

test('responses.create streams a Responses recording', async () => {
  const rec = recordings.find((r) => r.id === 'responses-gpt-4o-mini-ok');
  assert.ok(rec, 'responses-gpt-4o-mini-ok recording exists');
  const stream = await client.responses.create({ model: rec.id, input: 'x', stream: true });
  let text = '';
  const types = [];
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
  }
  assert.equal(text, 'OK');
  assert.deepEqual(types, rec.events.map((e) => e.kind));
});

test('at speed 1 the SDK sees the recorded pace: never early, and spread over the recorded span', async () => {
  const rec = recordings.find((r) => r.id === 'chat-gpt-4o-json');
  const paced = new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-ssebench-speed': '1' } });
  const contentOffsetsUs = rec.events
    .filter((e) => e.kind === 'content')
    .map((e) => e.t_us);
  const t0 = performance.now();
  const stream = await paced.chat.completions.create({ ...JSON.parse(rec.header.request.body), model: rec.id, stream: true });
  const arrivalsMs = [];
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) arrivalsMs.push(performance.now() - t0);
  }
  assert.equal(arrivalsMs.length, contentOffsetsUs.length);
  // The server's clock starts after t0, so no token may arrive before its recorded offset.
  arrivalsMs.forEach((ms, i) => assert.ok(ms >= contentOffsetsUs[i] / 1000, `token ${i} early`));
  // Tokens are streamed, not batched: the first-to-last spread keeps most of the recorded span
  // (a generous bound: a loaded machine may delay the first token, never speed up the last).
  const recordedSpanMs = (contentOffsetsUs.at(-1) - contentOffsetsUs[0]) / 1000;
  assert.ok(arrivalsMs.at(-1) - arrivalsMs[0] >= 0.5 * recordedSpanMs);
});

// ---- a recording's API decides its endpoint ----------------------------------------------------

const responsesRecs = recordings.filter((r) => r.header.api === 'responses');
const chatRecs = recordings.filter((r) => r.header.api === 'chat.completions');

test('a Responses recording on chat.completions.create, or a chat one on responses.create, is a 400 naming the right endpoint', async () => {
  const wrongApi = (endpoint) => (err) =>
    err instanceof OpenAI.BadRequestError &&
    err.status === 400 &&
    err.code === 'wrong_api' &&
    err.param === 'model' &&
    err.message.includes(endpoint);
  assert.ok(responsesRecs.length > 0 && chatRecs.length > 0);
  for (const rec of responsesRecs) {
    for (const extra of [{ stream: true }, { stream: false }, { background: true }]) {
      await assert.rejects(
        client.chat.completions.create({ model: rec.id, messages: [{ role: 'user', content: 'x' }], ...extra }),
        wrongApi('/v1/responses'),
        `${rec.id} ${JSON.stringify(extra)}`,
      );
    }
  }
  for (const rec of chatRecs) {
    for (const extra of [{ stream: true }, { stream: false }, { background: true }]) {
      await assert.rejects(
        client.responses.create({ model: rec.id, input: 'x', ...extra }),
        wrongApi('/v1/chat/completions'),
        `${rec.id} ${JSON.stringify(extra)}`,
      );
    }
  }
});

// ---- stream_options.include_usage --------------------------------------------------------------

for (const rec of chatStreams.filter((r) => r.events.some((e) => e.kind === 'usage'))) {
  const { stream_options: _, ...request } = JSON.parse(rec.header.request.body);
  const { texts } = expectedChat(rec);
  const dataEvents = rec.events.filter((e) => payload(e.bytes) !== '[DONE]');
  const usageChunk = JSON.parse(payload(rec.events.find((e) => e.kind === 'usage').bytes));

  test(`include_usage: ${rec.id}: no usage chunk unless asked for; with include_usage the last chunk carries it`, async () => {
    const run = async (extra) => {
      const stream = await client.chat.completions.create({ ...request, ...extra, model: rec.id, stream: true });
      const chunks = [];
      const got = {};
      for await (const chunk of stream) {
        chunks.push(chunk);
        for (const c of chunk.choices) addDelta(got, c);
      }
      assert.deepEqual(got, texts, `${JSON.stringify(extra)}: the text is exact`);
      return chunks;
    };
    for (const extra of [{}, { stream_options: { include_usage: false } }]) {
      const chunks = await run(extra);
      const withUsage = chunks.filter((c) => c.usage != null);
      assert.equal(withUsage.length, 0, `${JSON.stringify(extra)}: ${withUsage.length} chunk(s) with usage`);
      assert.equal(chunks.length, dataEvents.length - 1, `${JSON.stringify(extra)}: every chunk but the usage one`);
    }
    const chunks = await run({ stream_options: { include_usage: true } });
    assert.equal(chunks.length, dataEvents.length);
    assert.deepEqual(chunks.at(-1).usage, usageChunk.usage);
    assert.deepEqual(chunks.at(-1).choices, []);
  });
}

// ---- real model names ---------------------------------------------------------------------------

test('a real model name streams its recording: chat.completions.create({model: "gpt-4o-mini", stream: true})', async () => {
  const rec = recordings.find((r) => r.id === aliases['gpt-4o-mini']?.['chat.completions']);
  assert.ok(rec, 'gpt-4o-mini names a chat recording');
  assert.equal(undated(rec.header.model), 'gpt-4o-mini');
  const { stream_options: _, ...request } = JSON.parse(rec.header.request.body);
  const stream = await client.chat.completions.create({ ...request, model: 'gpt-4o-mini', stream: true });
  const got = {};
  for await (const chunk of stream) {
    assert.equal(chunk.model, rec.header.model);
    for (const c of chunk.choices) addDelta(got, c);
  }
  assert.deepEqual(got, expectedChat(rec).texts);
  const m = await client.models.retrieve('gpt-4o-mini');
  assert.equal(m.id, 'gpt-4o-mini');
  assert.equal(m.object, 'model');
});

for (const [name, byApi] of Object.entries(aliases)) {
  for (const [api, id] of Object.entries(byApi)) {
    const rec = recordings.find((r) => r.id === id);
    const request = JSON.parse(rec.header.request.body);
    delete request.stream_options;
    test(`alias: ${name} on the ${api} API replays ${id}`, async () => {
      if (api === 'chat.completions') {
        const { texts, error } = expectedChat(rec);
        const got = {};
        if (rec.events.length > 0) {
          const stream = await client.chat.completions.create({ ...request, model: name, stream: true });
          const consume = async () => {
            for await (const chunk of stream) for (const c of chunk.choices) addDelta(got, c);
          };
          if (error) await assert.rejects(consume(), (err) => err.message.includes(error.message));
          else await consume();
        } else {
          const completion = await client.chat.completions.create({ ...request, model: name, stream: false });
          for (const c of completion.choices) got[c.index] = c.message.content ?? '';
          const body = JSON.parse(rec.header.nonstream.body);
          for (const c of body.choices) texts[c.index] = c.message.content ?? '';
        }
        assert.deepEqual(got, texts);
      } else {
        const types = [];
        let text = '';
        const want = rec.events.map((e) => JSON.parse(payload(e.bytes)));
        const stream = await client.responses.create({ model: name, input: request.input ?? 'x', stream: true });
        const consume = async () => {
          for await (const ev of stream) {
            types.push(ev.type);
            if (ev.type === 'response.output_text.delta') text += ev.delta;
          }
        };
        const err = want.find((p) => p.type === 'error');
        if (err) await assert.rejects(consume(), (e) => e.message.includes(err.error.message));
        else await consume();
        const upTo = err ? want.indexOf(err) : want.length;
        assert.deepEqual(types, want.slice(0, upTo).map((p) => p.type));
        assert.equal(text, want.filter((p) => p.type === 'response.output_text.delta').map((p) => p.delta).join(''));
      }
    });
  }
}

// ---- CORS ---------------------------------------------------------------------------------------

test('CORS: an OPTIONS preflight with Origin is a 204 allowing it; answers carry access-control-allow-origin', async () => {
  const origin = 'http://localhost:5173';
  const allows = (v) => v === '*' || v === origin;
  for (const [path, method] of [
    ['/chat/completions', 'POST'],
    ['/responses', 'POST'],
    ['/responses/resp_bg_1', 'GET'],
    ['/models', 'GET'],
  ]) {
    const pre = await fetch(`${baseURL}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type, x-ssebench-speed',
      },
    });
    assert.equal(pre.status, 204, `OPTIONS ${path}`);
    assert.ok(allows(pre.headers.get('access-control-allow-origin')), `${path}: allow-origin ${pre.headers.get('access-control-allow-origin')}`);
    assert.ok(pre.headers.get('access-control-allow-methods')?.includes(method), `${path}: allow-methods`);
    const allowedHeaders = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'x-ssebench-speed'])
      assert.ok(allowedHeaders.includes(h) || allowedHeaders === '*', `${path}: allow-headers has ${h}`);
  }
  // The actual requests: a stream, a JSON answer and an error all carry the header.
  const stream = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', 'x-ssebench-speed': '0' },
    body: JSON.stringify({ model: 'chat-gpt-4o-mini-text', stream: true }),
  });
  assert.equal(stream.status, 200);
  assert.ok(allows(stream.headers.get('access-control-allow-origin')));
  await stream.text();
  const models = await fetch(`${baseURL}/models`, { headers: { origin } });
  assert.ok(allows(models.headers.get('access-control-allow-origin')));
  await models.text();
  const missing = await fetch(`${baseURL}/responses/resp_bg_999999999`, { headers: { origin } });
  assert.equal(missing.status, 404);
  assert.ok(allows(missing.headers.get('access-control-allow-origin')));
  await missing.text();
});
