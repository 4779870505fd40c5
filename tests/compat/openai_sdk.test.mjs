// The official OpenAI Node.js client against the mock server, as its baseURL: it must not be
// able to tell the replay from the real API for the parts that are replayed. Expected text is
// rebuilt here from the recording files by this file's own reading of the chunks, independently
// of the C++ loader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';

const serverBin = process.env.SSEBENCH_MOCK_SERVER;
const recordingsDir = process.env.SSEBENCH_RECORDINGS;
assert.ok(serverBin && recordingsDir, 'set SSEBENCH_MOCK_SERVER and SSEBENCH_RECORDINGS (ctest does)');

function loadRecording(file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = JSON.parse(lines[0]);
  const events = lines.slice(1).map((l) => JSON.parse(l));
  return { id: file.split('/').pop().replace(/\.jsonl$/, ''), header, events };
}

const recordings = readdirSync(recordingsDir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) => loadRecording(join(recordingsDir, f)));
const chatStreams = recordings.filter((r) => r.header.api === 'chat.completions' && r.events.length > 0);

// The SSE payload of one recorded event: its single `data: ` line.
function payload(bytes) {
  const line = bytes.split('\n').find((l) => l.startsWith('data: '));
  return line.slice('data: '.length);
}

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
  server = spawn(serverBin, ['--recordings', recordingsDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: server.stdout });
    rl.once('line', resolve);
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine);
  assert.ok(m, `unexpected first line: ${firstLine}`);
  baseURL = `${m[1]}/v1`;
  // Replay as fast as possible: these tests check bytes and text, not pace.
  client = new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-ssebench-speed': '0' } });
});

after(() => server?.kill('SIGTERM'));

test('models.list returns every recording', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), recordings.map((r) => r.id).sort());
});

test('an unknown model is a 404 model_not_found', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [], stream: true }),
    (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
  );
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
      const completion = await client.chat.completions.create({ ...request, model: rec.id, stream: false });
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
