// What both compat test files share: the recordings, read by this folder's own code (never the
// server's), and the real server binary started on port 0 (ctest sets both variables).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const serverBin = process.env.SSEBENCH_MOCK_SERVER;
const recordingsDir = process.env.SSEBENCH_RECORDINGS;
assert.ok(serverBin && recordingsDir, 'set SSEBENCH_MOCK_SERVER and SSEBENCH_RECORDINGS (ctest does)');

function loadRecording(file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = JSON.parse(lines[0]);
  const events = lines.slice(1).map((l) => JSON.parse(l));
  return { id: file.split('/').pop().replace(/\.jsonl$/, ''), header, events };
}

/** Every recording of the folder, sorted by file name. */
export const recordings = readdirSync(recordingsDir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) => loadRecording(join(recordingsDir, f)));

/** The SSE payload of one recorded event: its single `data: ` line. */
export function payload(bytes) {
  const line = bytes.split('\n').find((l) => l.startsWith('data: '));
  return line.slice('data: '.length);
}

/** Starts the server; resolves to { server, baseURL } once its first line names the port. */
export async function startServer() {
  const server = spawn(serverBin, ['--recordings', recordingsDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: server.stdout });
    rl.once('line', resolve);
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine);
  assert.ok(m, `unexpected first line: ${firstLine}`);
  return { server, baseURL: `${m[1]}/v1` };
}
