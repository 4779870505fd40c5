// What the browser tests share: the recordings' expected text (read here, by this folder's own
// code, never by the page's), the real server binary on port 0, and the driver as a child process
// speaking its JSON lines (ctest sets SSEBENCH_MOCK_SERVER, SSEBENCH_RECORDINGS, SSEBENCH_CHROMIUM).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const driverPath = join(here, '..', '..', 'bench', 'browser', 'driver.mjs');
export const serverBin = process.env.SSEBENCH_MOCK_SERVER;
export const recordingsDir = process.env.SSEBENCH_RECORDINGS;
export const chromium = process.env.SSEBENCH_CHROMIUM;
assert.ok(serverBin && recordingsDir && chromium,
  'set SSEBENCH_MOCK_SERVER, SSEBENCH_RECORDINGS and SSEBENCH_CHROMIUM (ctest does)');

/** A recording: its api, its events' payloads, the text per choice the user sees. */
export function recording(id) {
  const lines = readFileSync(join(recordingsDir, `${id}.jsonl`), 'utf8').split('\n').filter(Boolean);
  const header = JSON.parse(lines[0]);
  const events = lines.slice(1).map((l) => JSON.parse(l));
  const api = header.api === 'responses' ? 'responses' : 'chat';
  const text = {};
  for (const e of events) {
    const line = e.bytes.split('\n').find((l) => l.startsWith('data: '));
    const data = line.slice('data: '.length);
    if (data === '[DONE]') continue;
    const p = JSON.parse(data);
    if (api === 'responses') {
      if (/^response\.(output_text|refusal|function_call_arguments|reasoning_summary_text)\.delta$/.test(p.type))
        text[0] = (text[0] ?? '') + p.delta;
      continue;
    }
    for (const c of p.choices ?? []) {
      const d = c.delta ?? {};
      let t = (d.content ?? '') + (d.refusal ?? '');
      for (const call of d.tool_calls ?? []) t += call.function?.arguments ?? '';
      if (t) text[c.index] = (text[c.index] ?? '') + t;
    }
  }
  return {
    id,
    api,
    events,
    text,
    jobEvents: events.filter((e) => e.kind !== 'done').length,
    postEvents: events.filter((e) => e.kind !== 'usage').length, // a POST stream without include_usage
  };
}

/** The text per choice a stream's arrivals rebuild. */
export function rebuilt(stream) {
  const text = {};
  for (const a of stream.arrivals) text[a.choice] = (text[a.choice] ?? '') + a.text;
  return text;
}

/** A throwaway self-signed certificate for localhost and 127.0.0.1 (openssl's CLI), in `dir`. */
export function makeCert(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/** Starts the server; resolves to { server, base, tls } once its first line names the port
 *  (tls: the https line's base, when `extra` asks for a TLS port). */
export async function startServer(extra = []) {
  const server = spawn(serverBin, ['--recordings', recordingsDir, '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const want = extra.includes('--tls-port') ? 2 : 1;
  const lines = await new Promise((resolve, reject) => {
    const got = [];
    createInterface({ input: server.stdout }).on('line', (l) => {
      got.push(l);
      if (got.length === want) resolve(got);
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0]);
  assert.ok(m, `unexpected first line: ${lines[0]}`);
  const tls = lines[1] && /^listening on https:\/\/127\.0\.0\.1:(\d+)$/.exec(lines[1]);
  return { server, base: m[1], tls: tls ? `https://localhost:${tls[1]}` : null };
}

/** A round line for `rec` (the harness's fields), with `extra` over them. */
export function round(base, rec, extra) {
  const chat = rec.api === 'chat';
  return {
    base_url: base,
    api: rec.api,
    job_path: chat ? '/v1/chat/completions' : '/v1/responses',
    sse_body: JSON.stringify({ model: rec.id, stream: true }),
    rest_body: JSON.stringify({ model: rec.id, stream: false }),
    job_body: JSON.stringify({ model: rec.id, background: true }),
    ws_message: JSON.stringify({ type: chat ? 'chat.completions.create' : 'response.create', model: rec.id }),
    eventsource: false,
    concurrency: 1,
    speed: 8,
    interval_ms: 20,
    shape: null,
    long_poll_wait_ms: 2000,
    ws_turns: 1,
    deadline_ms: 20000,
    ...extra,
  };
}

let driverTmp = null;
/** The drivers started from now on get `dir` as TMPDIR (their profiles, Chromium's sockets), so
 *  that a test can see what they leave behind. */
export function setDriverTmp(dir) {
  driverTmp = dir;
}

/** The driver as a child: `ready` is its first line; `play(round)` sends one round and resolves
 *  to its reply; `exited` resolves to the exit code. */
export function startDriver(args = [`--chromium=${chromium}`]) {
  const env = driverTmp ? { ...process.env, TMPDIR: driverTmp } : process.env;
  const child = spawn(process.execPath, [driverPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const lines = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  const next = () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => waiting.push(r)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let n = 0;
  return {
    child,
    exited,
    stderr: () => stderr,
    ready: next().then((l) => JSON.parse(l)),
    async play(r) {
      const line = { round: ++n, ...r };
      child.stdin.write(`${JSON.stringify(line)}\n`);
      const reply = JSON.parse(await next());
      assert.equal(reply.round, line.round);
      return reply;
    },
  };
}

/** Is a process there (and not a zombie)? */
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `root` (pid list), from /proc. */
export function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid), hops = 0; p > 1 && hops < 16; p = parent.get(p) ?? 0, ++hops) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** The value of a flag in a process's command line. */
export function flagOf(pid, name) {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? a.slice(name.length + 1) : null;
}
