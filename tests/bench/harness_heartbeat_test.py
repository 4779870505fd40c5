#!/usr/bin/python3
"""The harness's clients against a server sending heartbeats and pings (issue 19): the same SSE
(HTTP/1.1 and HTTP/2) and ws cases over a recording with a 70 s pause (0.7 s at speed 100), once
with `--server-args='--sse-heartbeat=0.05 --ws-ping=0.05'` and once without. Every case passes in
both (the SSE parser skips the comments, the ws client answers the pings; each checks its text
whole), the run context's server command names the options, and the bytes each client counts
are larger with them: the comments' in SSE's bytes in, the pings' in ws's bytes in and the pongs'
in its bytes out.
Usage: harness_heartbeat_test.py SSEBENCH_BENCH WORK_DIR"""
import os
import subprocess
import sys

from ssebench import results

FLAGS = ["--cases=sse,ws", "--http=1.1,2", "--ws-turns=1",
         "--models=responses-gpt-5.1-codex-max-pause70", "--speed=100", "--concurrency=1",
         "--rounds=1"]
OPTIONS = "--sse-heartbeat=0.05 --ws-ping=0.05"
problems = []


def harness(name, *extra):
    out = os.path.join(sys.argv[2], f"{name}.json")
    os.makedirs(sys.argv[2], exist_ok=True)
    p = subprocess.run([sys.argv[1], *FLAGS, *extra, f"--benchmark_out={out}",
                        "--benchmark_out_format=json"], capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"{name}: the harness exited {p.returncode}: {p.stderr[-800:]}")
        return {}, {}
    context, cases = results.load(out)
    for c in cases:
        if c["error"]:
            problems.append(f"{name}: {c['name']}: failed: {c['error']}")
    return context, {c["name"]: c for c in cases}


on_context, on = harness("heartbeats", f"--server-args={OPTIONS}")
off_context, off = harness("none")
if on and OPTIONS not in on_context.get("server", ""):
    problems.append(f"the context's server does not name {OPTIONS!r}: {on_context.get('server')!r}")
if on and {c["transport"] for c in on.values()} != {"sse", "ws"}:
    problems.append(f"cases {sorted(on)}: want sse and ws")
if on and not any(c["http"] == "2" for c in on.values()):
    problems.append(f"cases {sorted(on)}: no SSE case over HTTP/2")
for name, c in on.items():
    if name not in off:
        problems.append(f"{name}: not in the run without heartbeats")
        continue
    with_, without = c["counters"], off[name]["counters"]
    grew = ["http_bytes_in_per_stream"] + (["http_bytes_out_per_stream"]
                                           if c["transport"] == "ws" else [])
    for counter in grew:
        if not with_.get(counter, 0) > without.get(counter, 0):
            problems.append(f"{name}: {counter} {with_.get(counter)} with heartbeats, "
                            f"{without.get(counter)} without: not larger")
    # One stream, one round: the differences are whole frames. ws: a pong (6 bytes out) for every
    # ping (2 in); SSE over HTTP/2: a DATA frame (12 bytes of TCP payload) per comment (3).
    d_in = with_.get("http_bytes_in_per_stream", 0) - without.get("http_bytes_in_per_stream", 0)
    d_out = with_.get("http_bytes_out_per_stream", 0) - without.get("http_bytes_out_per_stream", 0)
    d_tcp = (with_.get("tcp_payload_bytes_in_per_stream", 0)
             - without.get("tcp_payload_bytes_in_per_stream", 0))
    if c["transport"] == "ws" and d_out != 3 * d_in:
        problems.append(f"{name}: {d_in} bytes of pings in, {d_out} of pongs out: want 3 times")
    if c["transport"] == "sse" and c["http"] == "2" and d_tcp != 4 * d_in:
        problems.append(f"{name}: {d_in} bytes of comments, {d_tcp} of TCP payload: want 4 times")
for p in problems:
    print(f"harness_heartbeat_test: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
