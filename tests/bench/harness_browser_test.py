#!/usr/bin/python3
"""A real browser as the client (--client=browser), end to end: headless Chromium driven by
bench/browser/driver.mjs against the real server. Skipped (77) where Chromium, node or the
driver's packages (npm ci in bench/browser) are missing. Modes:
- run: short recordings at fast replay over sse, rest, poll, long-poll and ws, and sse by
  EventSource (browser-eventsource): every case passes (the harness checks every stream's
  rebuilt text against the recording, as for its own clients); names end in /client:browser,
  the records' client field says so; the browser-only counters are there and plausible (CPU of
  the renderer and network service per token, main-thread busy time, the connection queue);
  bytes per token come from the server's counters; scripts/ssebench/figures.py has a row for
  every counter of the run.
- tls: sse of 8 streams in cleartext (HTTP/1.1: h2c is skipped, browsers never speak it) and
  over TLS (HTTP/2 by ALPN: HTTP/1.1 is skipped, browsers always offer h2), Chromium accepting
  the run's throwaway certificate: both pass; over HTTP/2 the streams share one connection, so
  the browser's queue (queue_ms p99) is well under the six-connection queue of HTTP/1.1.
- missing: --client=browser with a Chromium that is not there ($SSEBENCH_CHROMIUM): exit 2,
  one line, before any case runs.
- killed: Chromium SIGKILLed while the first case plays: that case fails with the browser's
  text, the next case runs and passes, the run exits 1, no Chromium is left behind.
- driver: the same with the driver process (node) SIGKILLed: the harness starts it again for
  the next case, and the orphaned Chromium is not left behind either.
Usage: harness_browser_test.py run|tls|missing|killed|driver HARNESS_BINARY OUT_DIR"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

from ssebench import figures, results

mode, harness, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out_dir, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
browser_dir = os.path.join(here, "..", "..", "bench", "browser")
chromium = os.environ.get("SSEBENCH_CHROMIUM", "/usr/bin/chromium")
problems = []


def skip(why):
    print(f"harness_browser_test: skipped: {why}", file=sys.stderr)
    sys.exit(77)


def descendants(root):
    """The processes under `root` now (from /proc), by pid: their command lines."""
    children, cmd = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd[int(d)] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = {}, [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out[c] = cmd.get(c, "")
            todo.append(c)
    return out


class Watch:
    """The Chromium processes a harness started, seen every 0.2 s while it runs (other runs on
    the machine have their own): after it exits, none may be left."""

    def __init__(self, proc):
        self.proc, self.seen = proc, {}
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        while self.proc.poll() is None:
            for pid, cmd in descendants(self.proc.pid).items():
                if "chromium" in cmd:
                    self.seen[pid] = cmd
            time.sleep(0.2)

    def left(self):
        self.thread.join()
        time.sleep(0.5)
        alive = []
        for pid, cmd in self.seen.items():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().replace(b"\0", b" ").decode(errors="replace") == cmd:
                        alive.append(pid)
            except OSError:
                pass
        return alive


if mode != "missing":
    if not os.access(chromium, os.X_OK):
        skip(f"no Chromium at {chromium} (Debian's package chromium)")
    if not shutil.which("node"):
        skip("no node on PATH")
    if not os.path.isdir(os.path.join(browser_dir, "node_modules")):
        skip("no bench/browser/node_modules (scripts/test runs npm ci there)")

if mode == "missing":
    env = dict(os.environ, SSEBENCH_CHROMIUM="/nonexistent/chromium")
    run = subprocess.run([harness, "--client=browser", "--cases=sse", "--http=1.1",
                          "--models=chat-gpt-4o-mini-text", "--concurrency=1"],
                         capture_output=True, text=True, timeout=60, env=env)
    lines = run.stderr.strip().splitlines()
    if run.returncode != 2:
        problems.append(f"exit {run.returncode}, want 2: {run.stderr[-1000:]}")
    if len(lines) != 1 or "/nonexistent/chromium" not in lines[0]:
        problems.append(f"want one line naming the path, got {lines}")
    if re.search(r"^\[\d+/\d+\]", run.stderr, re.M):
        problems.append("a case ran")
elif mode == "run":
    out = os.path.join(out_dir, "harness_browser.json")
    proc = subprocess.Popen(
        [harness, "--client=browser,browser-eventsource", "--cases=sse,rest,poll,long-poll,ws",
         "--http=1.1", "--intervals=50", "--poll-shapes=delta,snapshot", "--ws-turns=1",
         "--models=chat-gpt-4o-mini-text,responses-gpt-4o-mini-ok", "--concurrency=8",
         "--speed=4", f"--benchmark_out={out}", "--benchmark_out_format=json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = Watch(proc)
    _, stderr = proc.communicate(timeout=400)
    run = subprocess.CompletedProcess(proc.args, proc.returncode, None, stderr)
    if run.returncode != 0:
        problems.append(f"exit {run.returncode}: {run.stderr[-3000:]}")
    else:
        _context, cases = results.load(out)
        # 2 recordings × (sse, rest, poll × 2 shapes, long-poll delta, ws) by the browser, and sse
        # by EventSource: the other transports are skipped for it, with a line each.
        if len(cases) != 14:
            problems.append(f"{len(cases)} cases, want 14: {[c['name'] for c in cases]}")
        if run.stderr.count("EventSource plays sse only, skipped") != 10:
            problems.append("want 10 lines skipping the EventSource cases that are not sse")
        for c in cases:
            name, k = c["name"], c["counters"]
            if c["error"]:
                problems.append(f"{name}: failed: {c['error']}")
                continue
            if c["client"] not in ("browser", "browser-eventsource") or \
                    not name.endswith(f"/client:{c['client']}"):
                problems.append(f"{name}: client field {c['client']!r} and the name disagree")
            if k["streams_ok"] != k["streams"] or k["streams"] != 8:
                problems.append(f"{name}: {k['streams_ok']} of {k['streams']} streams ok")
            # Every content event received (the text check counts them), each at a time.
            if not k.get("content_events_per_stream", 0) > 0 or "lag_ms_p50" not in k:
                problems.append(f"{name}: no content events received")
            for n in ("browser_renderer_cpu_us_per_token", "browser_network_cpu_us_per_token",
                      "browser_process_cpu_us_per_token", "client_cpu_us_per_token"):
                if not k.get(n, 0) > 0:
                    problems.append(f"{name}: {n} = {k.get(n)}")
            for n in ("browser_main_thread_busy_ms_per_stream", "browser_long_tasks"):
                if n not in k:
                    problems.append(f"{name}: no {n}")
            # The sum is the browser's client CPU.
            parts = sum(k.get(n, 0) for n in ("browser_renderer_cpu_us_per_token",
                                              "browser_network_cpu_us_per_token",
                                              "browser_process_cpu_us_per_token"))
            if abs(parts - k.get("client_cpu_us_per_token", 0)) > 1e-6 * max(parts, 1):
                problems.append(f"{name}: client CPU {k.get('client_cpu_us_per_token')} is not "
                                f"the sum of its processes' {parts}")
            if not k.get("tcp_payload_bytes_in_per_token", 0) > 0 or \
                    not k.get("http_bytes_in_per_token", 0) > 0:
                problems.append(f"{name}: no bytes per token from the server's counters")
            if "segments_in_per_stream" in k or "wire_bytes_in_per_token" in k:
                problems.append(f"{name}: segment figures the browser cannot measure")
            # 8 streams over HTTP/1.1 in one page: the browser's six connections per origin hold
            # two back (ws has no resource timing, hence no queue figure).
            if c["transport"] in ("sse", "rest") and c["client"] == "browser":
                if "queue_ms_p99" not in k:
                    problems.append(f"{name}: no queue_ms")
                elif not k["queue_ms_p99"] > k["queue_ms_p50"]:
                    problems.append(f"{name}: queue p99 {k['queue_ms_p99']} ms not above p50 "
                                    f"{k['queue_ms_p50']} ms: no six-connection queue")
        seen = {n for c in cases for n in c["counters"]}
        for n in figures.unknown(seen):
            problems.append(f"counter {n} has no row in scripts/ssebench/figures.py")
    if not watch.seen:
        problems.append("no Chromium process was seen under the harness")
    if watch.left():
        problems.append(f"Chromium processes left behind: {watch.left()}")
elif mode == "tls":
    out = os.path.join(out_dir, "harness_browser_tls.json")
    run = subprocess.run(
        [harness, "--client=browser", "--tls=off,on", "--http=1.1,2", "--cases=sse",
         "--models=chat-gpt-4o-mini-text", "--concurrency=8", "--speed=4",
         f"--benchmark_out={out}", "--benchmark_out_format=json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    if run.returncode != 0:
        problems.append(f"exit {run.returncode}: {run.stderr[-3000:]}")
    else:
        for why in ("h2c", "ALPN"):
            if run.stderr.count(why) != 1:
                problems.append(f"want one skip line saying {why}")
        _context, cases = results.load(out)
        by = {(c["tls"], c["http"]): c for c in cases}
        if set(by) != {("off", "1.1"), ("on", "2")}:
            problems.append(f"cases {[c['name'] for c in cases]}")
        else:
            for c in cases:
                if c["error"]:
                    problems.append(f"{c['name']}: failed: {c['error']}")
            h1, h2 = (by[k]["counters"].get("queue_ms_p99") for k in (("off", "1.1"), ("on", "2")))
            if h1 is None or h2 is None or not h2 < h1 / 2:
                problems.append(f"queue p99 over HTTP/2 {h2} ms, over HTTP/1.1 {h1} ms: "
                                "HTTP/2 should not queue")
            if "tls_overhead_bytes_in_per_token" not in by[("on", "2")]["counters"]:
                problems.append("no tls_overhead_bytes_in_per_token over TLS")
elif mode in ("killed", "driver"):
    out = os.path.join(out_dir, f"harness_browser_{mode}.json")
    # Two cases, the first 2.8 s long (chat-gpt-4o-json at speed 1, no warm-up): Chromium is
    # killed a second into it.
    proc = subprocess.Popen(
        [harness, "--client=browser", "--cases=sse,ws", "--http=1.1", "--ws-turns=1",
         "--models=chat-gpt-4o-json", "--concurrency=2", "--speed=1", "--no-warmup",
         f"--benchmark_out={out}", "--benchmark_out_format=json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = Watch(proc)
    err = []
    killed = []

    def read():
        for line in proc.stderr:
            err.append(line)
            m = re.search(r"browser started: Chromium \S+ \(pid (\d+), driver pid (\d+)", line)
            if m and not killed:
                pid = int(m.group(1) if mode == "killed" else m.group(2))
                time.sleep(1.0)
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        problems.append("the harness did not end within 180 s")
    reader.join()
    text = "".join(err)
    if not killed:
        problems.append(f"no browser start line: {text[-2000:]}")
    elif proc.returncode != 1:
        problems.append(f"exit {proc.returncode}, want 1: {text[-2000:]}")
    else:
        _context, cases = results.load(out)
        by = {c["transport"]: c for c in cases}
        if set(by) != {"sse", "ws"}:
            problems.append(f"cases {[c['name'] for c in cases]}")
        else:
            if not by["sse"]["error"]:
                problems.append("the case Chromium was killed in passed")
            elif mode == "killed" and "browser" not in by["sse"]["error"]:
                problems.append(f"the failure does not say it was the browser: {by['sse']['error']}")
            if by["ws"]["error"]:
                problems.append(f"the next case failed: {by['ws']['error']}")
            if mode == "driver" and "browser started again" not in text:
                problems.append("the driver was not started again")
    if watch.left():
        problems.append(f"Chromium processes left behind: {watch.left()}")
else:
    problems.append(f"unknown mode {mode}")
for p in problems:
    print(f"harness_browser_test {mode}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
