// scripts/scale's Node.js client: N concurrent chat-completion streams read with the official
// openai client, one round. Prints one JSON line: streams ok/failed, events (chunks yielded), the
// process's CPU (process.cpuUsage) over the round, and the timing error of every event: its
// arrival after the stream's first event, minus the schedule's (--schedule-ms: a JSON list of
// due times after the first event, ms). The same client reads both servers, so their errors
// compare directly.
// Usage: node stream_client.mjs --url=BASE --model=ID --streams=N --schedule-ms=FILE [--speed=S]
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
);
const streams = Number(args.streams ?? 100);
const schedule = JSON.parse(readFileSync(args['schedule-ms'], 'utf8'));
const client = new OpenAI({
  baseURL: `${args.url}/v1`,
  apiKey: 'ssebench',
  maxRetries: 0,
  defaultHeaders: args.speed ? { 'x-ssebench-speed': args.speed } : {},
});

const errorsMs = [];
let events = 0;
let failed = 0;

async function one() {
  const stream = await client.chat.completions.create({
    model: args.model,
    messages: [{ role: 'user', content: 'ssebench' }],
    stream: true,
  });
  let first = 0;
  let k = 0;
  for await (const _chunk of stream) {
    const now = performance.now();
    if (k === 0) first = now;
    else if (k < schedule.length) errorsMs.push(Math.abs(now - first - schedule[k]));
    ++k;
  }
  events += k;
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const results = await Promise.allSettled(Array.from({ length: streams }, one));
const cpu = process.cpuUsage(cpu0);
for (const r of results) if (r.status === 'rejected') ++failed;
errorsMs.sort((a, b) => a - b);
const q = (p) => (errorsMs.length ? errorsMs[Math.floor(p * (errorsMs.length - 1))] : 0);
console.log(
  JSON.stringify({
    streams,
    streams_failed: failed,
    first_error: results.find((r) => r.status === 'rejected')?.reason?.message ?? '',
    events,
    wall_s: (performance.now() - t0) / 1000,
    cpu_us: cpu.user + cpu.system,
    cpu_us_per_event: events ? (cpu.user + cpu.system) / events : 0,
    timing_error_ms: { p50: q(0.5), p99: q(0.99), max: q(1) },
  }),
);
