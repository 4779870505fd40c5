#!/usr/bin/python3
"""The proxy axis end to end, with the real nginx and HAProxy (exit 77 skips when one is not
installed). Three checks, one per mode:

transports  every transport (sse, rest, ws, poll in each shape, long-poll in the cursor shapes)
            over HTTP/1.1 and HTTP/2 (not ws: its upgrade is HTTP/1.1) straight to the server and
            through nginx, nginx-stream and haproxy: every case passes the harness's byte-exact
            checks (a case with a wrong text fails and the run exits 1); the names end in
            /proxy:NAME, the records' proxy fields say so; a proxied case has the proxy_*
            figures (CPU > 0, the master and workers' RSS), an unproxied one none; every counter
            has its row in scripts/ssebench/figures.py; the context names each proxy's version.
missing     PATH without the proxy: one line naming it, exit 2, before anything is measured (no
            JSON written, no server left).
link        (root, else skipped) through a proxy over an emulated link (lan): the proxy runs in
            the server's namespace, the streams pass, their packets crossed the link.
killed      the proxy SIGKILLed mid-run (its whole process group): the case it cut fails saying
            so, the cases through it after that are not run, a case straight to the server still
            runs, the run exits 1 within seconds and leaves no proxy process.

Usage: harness_proxy_test.py MODE HARNESS_BINARY OUT_DIR"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from ssebench import figures, results

mode, harness, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out_dir, exist_ok=True)
PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
PROXIES = ("nginx", "nginx-stream", "haproxy")
if not shutil.which("nginx", path=PATH) or not shutil.which("haproxy", path=PATH):
    print("harness_proxy_test: nginx or haproxy is not installed, skipped")
    sys.exit(77)
problems = []


def children_named(pid, names):
    """The pids of `pid`'s child processes whose command is one of `names`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and comm in names:
            found.append(int(entry))
    return found


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def transports():
    out = os.path.join(out_dir, "harness_proxy.json")
    cmd = [harness, "--proxy=none," + ",".join(PROXIES), "--cases=sse,rest,poll,long-poll,ws",
           "--ws-turns=1", "--poll-shapes=openai,snapshot,delta,events", "--intervals=50", "--http=1.1,2",
           "--models=chat-gpt-4o-mini-text", "--concurrency=2", "--speed=4",
           f"--benchmark_out={out}", "--benchmark_out_format=json"]
    run = subprocess.run(cmd, env=dict(os.environ, PATH=PATH), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=240)
    if run.returncode != 0:
        problems.append(f"exit {run.returncode}: {run.stderr[-3000:]}")
        return
    context, cases = results.load(out)
    # sse, rest: 2 HTTP versions; poll: 4 shapes x 2; long-poll: 2 shapes x 2; ws: 1.
    per_proxy = 2 + 2 + 8 + 4 + 1
    by_proxy = {}
    for c in cases:
        by_proxy.setdefault(c["proxy"], []).append(c)
    for proxy in ("none",) + PROXIES:
        got = by_proxy.get(proxy, [])
        if len(got) != per_proxy:
            problems.append(f"proxy {proxy}: {len(got)} cases, want {per_proxy}")
        transports_seen = {(c["transport"], c["http"]) for c in got}
        for want in (("sse", "2"), ("rest", "2"), ("poll", "2"), ("long-poll", "2"),
                     ("ws", "1.1"), ("sse", "1.1")):
            if want not in transports_seen:
                problems.append(f"proxy {proxy}: no {want[0]} case over HTTP/{want[1]}")
        for c in got:
            k = c["counters"]
            name = c["name"]
            if proxy == "none":
                if "/proxy:" in name or any(n.startswith("proxy_") for n in k):
                    problems.append(f"{name}: a proxy part or figure without a proxy")
                continue
            if not name.endswith("/proxy:" + proxy):
                problems.append(f"{name}: the name does not end in /proxy:{proxy}")
            if k.get("streams_ok") != k.get("streams") or not k.get("streams"):
                problems.append(f"{name}: {k.get('streams_ok')} of {k.get('streams')} ok")
            missing = [n for n in ("proxy_cpu_ms", "proxy_cpu_us_per_request",
                                   "proxy_cpu_us_per_token", "proxy_rss_bytes_before",
                                   "proxy_rss_bytes_peak", "proxy_rss_bytes_per_stream")
                       if n not in k]
            if missing:
                problems.append(f"{name}: no {', '.join(missing)}")
                continue
            if not k["proxy_cpu_ms"] > 0 or not k["proxy_rss_bytes_before"] > 1e6:
                problems.append(f"{name}: proxy CPU {k['proxy_cpu_ms']} ms, RSS "
                                f"{k['proxy_rss_bytes_before']} B")
            if k["proxy_rss_bytes_peak"] < k["proxy_rss_bytes_before"]:
                problems.append(f"{name}: RSS peak below the RSS before")
        names = {n for c in got for n in c["counters"]}
        for n in figures.unknown(names):
            problems.append(f"counter {n} has no row in scripts/ssebench/figures.py")
    described = context.get("proxies", "")
    for want in ("nginx: nginx/", "nginx-stream: nginx/", "haproxy: HAProxy version"):
        if want not in described:
            problems.append(f"context proxies {described!r} lacks {want!r}")
    print(f"harness_proxy_test: {len(cases)} cases, "
          + ", ".join(f"{p} {len(by_proxy.get(p, []))}" for p in ("none",) + PROXIES))


def missing():
    empty = os.path.join(out_dir, "empty-path")
    os.makedirs(empty, exist_ok=True)
    out = os.path.join(out_dir, "harness_proxy_missing.json")
    if os.path.exists(out):
        os.remove(out)
    run = subprocess.run([harness, "--proxy=none,haproxy", "--cases=sse",
                          "--models=chat-gpt-4o-mini-text", "--concurrency=1",
                          f"--benchmark_out={out}", "--benchmark_out_format=json"],
                         env=dict(os.environ, PATH=empty), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30)
    lines = run.stderr.strip().splitlines()
    if run.returncode != 2:
        problems.append(f"exit {run.returncode}, want 2")
    if lines != ["ssebench-bench: --proxy=haproxy: haproxy is not on PATH (Debian installs it "
                 "in /usr/sbin; package haproxy)"]:
        problems.append(f"stderr {lines}")
    if os.path.exists(out):
        problems.append(f"{out} was written: something ran")


def killed():
    out = os.path.join(out_dir, "harness_proxy_killed.json")
    if os.path.exists(out):
        os.remove(out)
    # Through haproxy: rest (done before the kill), sse (cut), long-poll (not run); then the
    # same straight to the server, which still run.
    h = subprocess.Popen([harness, "--proxy=haproxy,none", "--cases=rest,sse,long-poll",
                          "--poll-shapes=delta", "--http=1.1", "--models=chat-gpt-4o-json",
                          "--concurrency=3", "--no-warmup", f"--benchmark_out={out}",
                          "--benchmark_out_format=json"],
                         env=dict(os.environ, PATH=PATH), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    group = None
    try:
        deadline = time.monotonic() + 30
        first = False
        while time.monotonic() < deadline and h.poll() is None:
            try:
                with open(out, encoding="utf-8") as f:
                    first = bool(json.load(f)["benchmarks"])
            except (OSError, ValueError, KeyError):
                pass
            if first:
                break
            time.sleep(0.05)
        if not first:
            problems.append("the first case never reached the JSON")
            return
        time.sleep(1)  # into the sse case (2.8 s), its streams under way
        pids = children_named(h.pid, {"haproxy"})
        if len(pids) != 1:
            problems.append(f"haproxy children of the harness: {pids}")
            return
        group = pids[0]
        os.killpg(group, signal.SIGKILL)
        try:
            _, err = h.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            problems.append("the harness still runs 30 s after the proxy died")
            return
    finally:
        if h.poll() is None:
            h.kill()
            h.wait()
    if h.returncode != 1:
        problems.append(f"exit {h.returncode}, want 1: {err[-2000:]}")
    if "the proxy haproxy was killed by signal 9 during case 2 of 6" not in err:
        problems.append(f"no closing line naming the proxy and the case: {err[-2000:]}")
    _, cases = results.load(out)
    by_name = {c["name"]: c for c in cases}
    with open(out, encoding="utf-8") as f:
        raw = {b["run_name"].removesuffix("/iterations:1/manual_time"): b
               for b in json.load(f)["benchmarks"]}
    want = ["rest/chat-gpt-4o-json/c:3/proxy:haproxy", "sse/chat-gpt-4o-json/c:3/proxy:haproxy",
            "long-poll/chat-gpt-4o-json/c:3/shape:delta/proxy:haproxy",
            "rest/chat-gpt-4o-json/c:3", "sse/chat-gpt-4o-json/c:3",
            "long-poll/chat-gpt-4o-json/c:3/shape:delta"]
    if list(raw) != want:
        problems.append(f"cases {list(raw)}, want {want}")
        return
    msg = {n: raw[n].get("error_message", "") for n in want}
    if raw[want[0]].get("error_occurred"):
        problems.append(f"{want[0]} failed: {msg[want[0]]}")
    if not msg[want[1]].startswith("the proxy haproxy was killed by signal 9 during this case"):
        problems.append(f"{want[1]}: {msg[want[1]]!r}")
    if not msg[want[2]].startswith("not run: the proxy haproxy was killed by signal 9 before"):
        problems.append(f"{want[2]}: {msg[want[2]]!r}")
    for n in want[3:]:
        if raw[n].get("error_occurred") or n not in by_name:
            problems.append(f"{n} (no proxy) did not run: {msg[n]!r}")
    if group_alive(group):
        problems.append("a haproxy process is left")


def over_link():
    if os.geteuid() != 0:
        print("harness_proxy_test: not root, skipped (the link emulator needs root)")
        sys.exit(77)
    out = os.path.join(out_dir, "harness_proxy_link.json")
    run = subprocess.run([harness, "--link=lan", "--proxy=none,nginx-stream", "--cases=sse",
                          "--http=1.1", "--models=chat-gpt-4o-mini-text", "--concurrency=2",
                          "--speed=4", f"--benchmark_out={out}", "--benchmark_out_format=json"],
                         env=dict(os.environ, PATH=PATH), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    if run.returncode != 0:
        problems.append(f"exit {run.returncode}: {run.stderr[-2000:]}")
        return
    _, cases = results.load(out)
    names = [c["name"] for c in cases]
    want = ["sse/chat-gpt-4o-mini-text/c:2/link:lan",
            "sse/chat-gpt-4o-mini-text/c:2/link:lan/proxy:nginx-stream"]
    if names != want:
        problems.append(f"cases {names}, want {want}")
        return
    k = cases[1]["counters"]
    if k.get("streams_ok") != 2 or not k.get("link_down_packets", 0) > 0 or "proxy_cpu_ms" not in k:
        problems.append(f"{want[1]}: {k.get('streams_ok')} ok, link_down_packets "
                        f"{k.get('link_down_packets')}, proxy_cpu_ms {k.get('proxy_cpu_ms')}")


{"transports": transports, "missing": missing, "killed": killed, "link": over_link}[mode]()
for p in problems:
    print(f"harness_proxy_test {mode}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
