#!/usr/bin/python3
"""ssebench-floor serves a recording's exact bytes: read raw (the chunked body decoded by urllib)
it equals the recording's events concatenated; the harness engine (ssebench-soak) rebuilds every
stream's text with zero errors against it; its stats answer carries the fields the soak reads;
a client that resets its connection mid-stream does not end it (no SIGPIPE); SIGTERM ends it with
status 0. Not timed: speeds are high only to keep it short.
Usage: floor_test.py FLOOR SOAK RECORDINGS_DIR"""
import json
import os
import signal
import socket
import struct
import subprocess
import time
import sys
import urllib.request

floor, soak, recordings = sys.argv[1:4]
model = "chat-gpt-4o-mini-text"
rec = os.path.join(recordings, f"{model}.jsonl")
want = "".join(e["bytes"] for e in map(json.loads, open(rec)) if "t_us" in e and "bytes" in e)
problems = []

p = subprocess.Popen([floor, f"--recording={rec}", "--speed=20", "--port", "0"],
                     stdout=subprocess.PIPE, text=True)
try:
    url = p.stdout.readline().split()[-1]
    for _ in range(2):  # twice on one keep-alive-capable server: each answer whole
        req = urllib.request.Request(f"{url}/v1/chat/completions", method="POST",
                                     data=b'{"model":"x","stream":true}',
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.headers.get("Content-Type") != "text/event-stream":
                problems.append(f"Content-Type {r.headers.get('Content-Type')!r}")
            got = r.read().decode()
        if got != want:
            problems.append(f"body differs: {len(got)} bytes, want {len(want)}")
    r = subprocess.run([soak, f"--server={url}", "--sse=5", "--poll=0", "--long-poll=0",
                        f"--model={model}", "--speed=20", "--ramp-s=0", "--duration-s=2",
                        "--window-s=1", f"--recordings={recordings}"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or "0 failed" not in r.stderr:
        problems.append(f"soak against the floor: exit {r.returncode}: {r.stderr[-500:]}")
    # Clients gone mid-stream: the floor's next writes fail, and it must live on. (The write
    # that raised SIGPIPE is the second after a FIN, before the floor reads the EOF: a race
    # this does not force, but it walks both ways a client leaves.)
    host, port = url.removeprefix("http://").split(":")
    for i in range(40):  # half reset, half closed (FIN): the write after either is refused
        with socket.create_connection((host, int(port)), timeout=10) as c:
            c.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 2\r\n\r\n{}")
            c.recv(1)
            if i % 2:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.2)
    if p.poll() is not None:
        problems.append(f"a reset client ended the floor (status {p.returncode})")
    stats = json.load(urllib.request.urlopen(f"{url}/mock/stats", timeout=10))
    for key in ("cpu", "rss_bytes", "fds_open", "connections_open", "streams_active",
                "events_written", "lateness_us"):
        if key not in stats:
            problems.append(f"/mock/stats has no {key}")
    if stats.get("events_written", 0) < 24:
        problems.append(f"events_written {stats.get('events_written')}, want at least 24")
finally:
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=10)
if rc != 0:
    problems.append(f"exit status {rc} after SIGTERM, want 0")
for line in problems:
    print(f"floor_test: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
