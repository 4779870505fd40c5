// The page's stream reading without a browser (bench/browser/sse.js): the SSE parser against the
// WHATWG rules' edge cases, split at every byte, and the content rule against this folder's own
// reading of every recording (support.mjs) and on whole objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';

import { SseParser, deltaTexts, endsTurn, nonstreamTranscript } from '../../bench/browser/sse.js';
import { recording, recordingsDir } from './support.mjs';

function parse(chunks) {
  const events = [];
  const p = new SseParser((e) => events.push(e));
  for (const c of chunks) p.feed(c);
  return { events, pending: p.pending() };
}

const stream = 'retry: 300\nid: 7\nevent: response.created\ndata: {"a":1}\n\n' +
  ': keep-alive\n\ndata: line one\ndata: line two\n\ndata:no space\n\ndata: [DONE]\n\n';
const want = [
  { event: 'response.created', data: '{"a":1}', id: '7' },
  { event: null, data: 'line one\nline two', id: '7' },
  { event: null, data: 'no space', id: '7' },
  { event: null, data: '[DONE]', id: '7' },
];

test('events, split anywhere, with LF, CRLF or CR line ends', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = stream.replaceAll('\n', eol);
    for (let cut = 0; cut <= text.length; ++cut) {
      const got = parse([text.slice(0, cut), text.slice(cut)]);
      assert.deepEqual(got.events, want, `${JSON.stringify(eol)} cut at ${cut}`);
      assert.equal(got.pending, false);
    }
    // one character per read: a CR ending one read pairs with the LF opening the next
    assert.deepEqual(parse([...text]).events, want, JSON.stringify(eol));
  }
});

test('a stream that ends inside an event is pending; a blank line alone dispatches nothing', () => {
  assert.equal(parse(['data: {"a"']).pending, true);
  assert.equal(parse(['data: {"a":1}\n']).pending, true); // no blank line yet
  assert.deepEqual(parse(['\n\n\n']).events, []);
  assert.deepEqual(parse(['event: x\n\n']).events, []); // no data: no event (WHATWG)
});

test("the content rule rebuilds every recording's streamed text; each stream has a last event", () => {
  const ids = readdirSync(recordingsDir).filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -6));
  assert.ok(ids.length >= 10);
  for (const id of ids) {
    const rec = recording(id);
    const text = {};
    let ended = 0;
    for (const e of rec.events) {
      const { events } = parse([e.bytes]);
      assert.equal(events.length, 1, `${id}: one event per recorded event`);
      const data = events[0].data;
      const obj = data === '[DONE]' ? null : JSON.parse(data);
      for (const d of deltaTexts(rec.api, obj)) text[d.choice] = (text[d.choice] ?? '') + d.text;
      if (endsTurn(rec.api, data, obj)) ++ended;
    }
    assert.deepEqual(text, rec.text, id);
    if (rec.events.length > 0) assert.ok(ended >= 1, `${id}: a last event`);
  }
});

test('whole objects: a chat completion with choices, a Response and an event wrapping one', () => {
  // A choice's index, or its position when it has none (core's choice_index).
  const chat = { choices: [{ index: 2, message: { content: 'a', refusal: 'b', tool_calls: [{ function: { arguments: '{}' } }] } }, { message: { content: 'z' } }] };
  assert.deepEqual([...nonstreamTranscript('chat', chat)], [[2, 'ab{}'], [1, 'z']]);
  const response = { output: [{ type: 'reasoning', summary: [{ text: 'r' }] }, { type: 'message', content: [{ type: 'output_text', text: 'hi' }, { type: 'refusal', refusal: '!' }] }, { type: 'function_call', arguments: '{"x":1}' }] };
  assert.deepEqual([...nonstreamTranscript('responses', response)], [[0, 'rhi!{"x":1}']]);
  assert.deepEqual([...nonstreamTranscript('responses', { type: 'response.completed', response })], [[0, 'rhi!{"x":1}']]);
  assert.equal(nonstreamTranscript('chat', { id: 'x' }), null);
  assert.equal(nonstreamTranscript('responses', [1]), null);
});
