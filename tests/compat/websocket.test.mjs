// The official OpenAI Node.js client's Responses WebSocket mode (ResponsesWS, over the `ws`
// package) against the mock server: every Responses recording as turns on one socket, each
// event as the recording has it; the server's error event as the SDK's error; the socket
// serving on afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';

import { payload, recordings, startServer } from './support.mjs';

const responsesStreams = recordings.filter((r) => r.header.api === 'responses' && r.events.length > 0);
const lastTypes = new Set(['response.completed', 'response.failed', 'response.incomplete']);

let server;
let client;

before(async () => {
  const started = await startServer();
  server = started.server;
  client = new OpenAI({ baseURL: started.baseURL, apiKey: 'sk-test', maxRetries: 0 });
});

after(() => server?.kill('SIGTERM'));

/** A socket at speed 0 whose events and errors are collected turn by turn. */
async function open() {
  const ws = new ResponsesWS(client, { headers: { 'x-ssebench-speed': '0' } });
  const state = { events: [], errors: [], waiters: [] };
  const wake = () => {
    for (const w of state.waiters.splice(0)) w();
  };
  ws.on('event', (e) => {
    state.events.push(e);
    wake();
  });
  ws.on('error', (err) => {
    state.errors.push(err);
    wake();
  });
  await new Promise((resolve, reject) => {
    ws.socket.on('open', resolve);
    ws.socket.on('error', reject);
  });
  /** Sends a turn and resolves with its events once `done(events)` holds. */
  ws.turn = async (event, done) => {
    state.events = [];
    state.errors = [];
    ws.send(event);
    while (!done(state)) await new Promise((resolve) => state.waiters.push(resolve));
    return { events: state.events, errors: state.errors };
  };
  return ws;
}

const turnEnded = (s) => s.events.some((e) => lastTypes.has(e.type));

test('every Responses recording plays as turns on one socket, each event as recorded', async () => {
  assert.ok(responsesStreams.length >= 3);
  const ws = await open();
  for (const rec of responsesStreams) {
    const { events } = await ws.turn({ type: 'response.create', model: rec.id, input: 'x' }, turnEnded);
    const want = rec.events.map((e) => JSON.parse(payload(e.bytes)));
    assert.deepEqual(events, want, rec.id);
  }
  ws.close();
});

test('an unknown model is an error event with status 404, and the socket serves on', async () => {
  const ws = await open();
  const { errors } = await ws.turn(
    { type: 'response.create', model: 'no-such-model', input: 'x' },
    (s) => s.errors.length > 0,
  );
  assert.equal(errors[0].error.type, 'error');
  assert.equal(errors[0].error.status, 404);
  assert.equal(errors[0].error.error.code, 'model_not_found');
  const rec = responsesStreams.find((r) => r.id === 'responses-gpt-4o-mini-ok');
  const { events } = await ws.turn({ type: 'response.create', model: rec.id, input: 'x' }, turnEnded);
  assert.equal(events.at(-1).type, 'response.completed');
  ws.close();
});

test('background is refused over a WebSocket, as OpenAI documents', async () => {
  const ws = await open();
  const { errors } = await ws.turn(
    { type: 'response.create', model: 'responses-gpt-4o-mini-ok', input: 'x', background: true },
    (s) => s.errors.length > 0,
  );
  assert.equal(errors[0].error.status, 400);
  assert.equal(errors[0].error.error.param, 'background');
  ws.close();
});
