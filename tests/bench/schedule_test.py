#!/usr/bin/python3
"""One schedule for all shards (--start-at), with real processes: one mock server, two harness
shards against it given the same start a few seconds ahead and started a second apart. Both
begin each case's window at the same instant of the server's clock (their stderr's "began at"),
neither late, their clocks' offsets to the server small; merge_shards merges them with
clock_skew_ms and shards_late 0. A shard started after its window began is flagged
(schedule_missed=1): merge_shards refuses it, naming the shard and the case, --allow-late merges
it with shards_late=1. Shards of different starts are refused; a start long past, or over a day
away, is a one-line error (exit 2); Ctrl-C stops a shard waiting for its window.
Usage: schedule_test.py SERVER_BINARY HARNESS_BINARY RECORDINGS_DIR WORK_DIR"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from ssebench import figures, results

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")
server_bin, harness_bin, recordings, work = sys.argv[1:5]
# Two short cases (a 0.56 s recording at speed 4), two rounds each: round slots of
# 0.16 s × 1.25 + 0.5 s, warm-up slots of 1 s: windows of about 2.4 s.
FLAGS = ["--cases=sse,poll", "--poll-shapes=delta", "--intervals=50", "--http=1.1",
         "--models=chat-gpt-4o-mini-text", "--concurrency=4", "--speed=4", "--rounds=2",
         "--slot-pad-ms=500", "--late-ms=400"]
TOLERANCE_S = 0.4  # --late-ms: twice the default, for a loaded machine
problems = []


def check(ok, what):
    if not ok:
        problems.append(what)


def start_shard(name, url, index, start_at, *extra):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    err = open(os.path.join(folder, "stderr.txt"), "w")
    p = subprocess.Popen([harness_bin, f"--server={url}", *FLAGS, f"--shard={index}/2",
                          f"--start-at={start_at}", *extra,
                          f"--benchmark_out={folder}/benchmark.json",
                          "--benchmark_out_format=json"],
                         stdout=subprocess.DEVNULL, stderr=err, text=True)
    return p, folder


def finish(p, folder):
    rc = p.wait(timeout=60)
    with open(os.path.join(folder, "stderr.txt")) as f:
        err = f.read()
    if rc != 0:
        problems.append(f"{folder}: the harness exited {rc}: {err[-1200:]}")
    return err


def began(err):
    """{case: (window start, began at)} from the harness's schedule lines."""
    return {m[1]: (float(m[2]), float(m[3])) for m in re.finditer(
        r"^(\S+): schedule: window from ([0-9.]+) \(server clock\), began at ([0-9.]+)", err,
        re.M)}


def iso(t):
    """Unix seconds as the harness writes start_at: ISO-8601 UTC, milliseconds when any."""
    whole = int(t)
    ms = round((t - whole) * 1000)
    text = datetime.datetime.fromtimestamp(whole + (ms == 1000), datetime.timezone.utc)
    text = text.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}Z" if ms in (0, 1000) else f"{text}.{ms:03}Z"


def merge(out, *args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "merge_shards"), out, *args],
                          capture_output=True, text=True)


def cases_of(folder):
    return {c["name"]: c for c in results.load(folder)[1]}


def counters_have_rows(folder):
    with open(results.json_path(folder), encoding="utf-8") as f:
        data = json.load(f)
    names = {k for b in data["benchmarks"] for k, v in b.items() if results.is_counter(k, v)}
    check(not figures.unknown(names), f"{folder}: counters without a figures.py row: "
          f"{figures.unknown(names)}")


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
server = subprocess.Popen([server_bin, "--recordings", recordings, "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    line = server.stdout.readline()
    url = line.removeprefix("listening on ").strip().rstrip("/")
    if not url.startswith("http"):
        sys.exit(f"the server printed no 'listening on' line: {line!r}")

    # 1. Two shards, the same start 4 s ahead, started a second apart.
    t0 = time.time() + 4
    p0, s0 = start_shard("shard0", url, 0, f"{t0:.3f}")
    time.sleep(1)
    p1, s1 = start_shard("shard1", url, 1, f"{t0:.3f}")
    err0, err1 = finish(p0, s0), finish(p1, s1)
    if not problems:
        b0, b1 = began(err0), began(err1)
        check(len(b0) == 2 and set(b0) == set(b1), f"schedule lines: {b0} vs {b1}")
        for case in b0:
            (w0, at0), (w1, at1) = b0[case], b1.get(case, (0, 0))
            check(w0 == w1, f"{case}: windows from {w0} and {w1}: not one schedule")
            check(abs(at0 - at1) < TOLERANCE_S,
                  f"{case}: the shards began {abs(at0 - at1) * 1000:.0f} ms apart")
            check(-0.01 < at0 - w0 < TOLERANCE_S, f"{case}: shard 0 began {at0 - w0:+.3f} s off")
        first = min(w for w, _ in b0.values())
        check(abs(first - round(t0, 3)) < 1e-3, f"the first window at {first}, not {t0:.3f}")
        for folder in (s0, s1):
            context = results.load(folder)[0]
            check(context.get("start_at") == iso(float(f"{t0:.3f}")),
                  f"{folder}: start_at {context.get('start_at')}, not {iso(float(f'{t0:.3f}'))}")
            check("schedule" in context, f"{folder}: no schedule in the context")
            for name, c in cases_of(folder).items():
                k = c["counters"]
                check(k.get("schedule_missed") == 0 and 0 <= k.get("schedule_late_ms", -1)
                      < TOLERANCE_S * 1000, f"{folder} {name}: late {k.get('schedule_late_ms')} "
                      f"missed {k.get('schedule_missed')}")
                check(abs(k.get("clock_offset_ms", 99)) < 5 and
                      0 <= k.get("clock_uncertainty_ms", -1) < 5,
                      f"{folder} {name}: clock offset {k.get('clock_offset_ms')} ± "
                      f"{k.get('clock_uncertainty_ms')} ms on one machine")
                check(k.get("server_cpu_us_per_stream", 0) > 0, f"{name}: no server figures")
            counters_have_rows(folder)
        out = os.path.join(work, "merged")
        m = merge(out, s0, s1)
        check(m.returncode == 0, f"merge_shards exited {m.returncode}: {m.stderr}")
        check("one schedule from" in m.stderr, f"merge_shards said no schedule: {m.stderr}")
        if m.returncode == 0:
            context, merged = results.load(out)
            check(context.get("start_at") == results.load(s0)[0].get("start_at"),
                  f"merged start_at {context.get('start_at')}")
            check(0 <= context.get("clock_skew_ms", -1) < 5,
                  f"merged context clock_skew_ms {context.get('clock_skew_ms')}")
            single = {c["name"]: c for c in merged}
            for name, c in single.items():
                k = c["counters"]
                check(k.get("shards_late") == 0 and 0 <= k.get("clock_skew_ms", -1) < 5,
                      f"merged {name}: shards_late {k.get('shards_late')} skew "
                      f"{k.get('clock_skew_ms')}")
                check(k.get("streams") == 8, f"merged {name}: {k.get('streams')} streams, not 8")
                # Each shard read the server over the slot both ran in: the merged server CPU per
                # stream is their mean total over all 8 streams, not a shard's total over its 4.
                per = [cases_of(s)[name]["counters"]["server_cpu_us_per_stream"]
                       for s in (s0, s1)]
                want = sum(v * 4 for v in per) / 2 / 8
                check(abs(k.get("server_cpu_us_per_stream", 0) - want) < 1e-6 * max(want, 1),
                      f"merged {name}: server CPU per stream {k.get('server_cpu_us_per_stream')} "
                      f"vs {want}")
            counters_have_rows(out)

    # 2. A shard started after its first window began: flagged, refused, merged with
    # --allow-late. One case: a window of about 2.4 s, shard 1 a second late into it.
    late_flags = ["--cases=sse"]
    t1 = time.time() + 3
    q0, l0 = start_shard("late0", url, 0, f"{t1:.3f}", *late_flags)
    time.sleep(max(0.0, t1 + 1 - time.time()))
    q1, l1 = start_shard("late1", url, 1, f"{t1:.3f}", *late_flags)
    finish(q0, l0)
    err = finish(q1, l1)
    if not problems:
        k = next(iter(cases_of(l1).values()))["counters"]
        check(k.get("schedule_missed") == 1 and k.get("schedule_late_ms", 0) > 900,
              f"the late shard: missed {k.get('schedule_missed')} late "
              f"{k.get('schedule_late_ms')} ms")
        check("warning: this shard began a slot of its window" in err,
              "the late shard printed no warning")
        k0 = next(iter(cases_of(l0).values()))["counters"]
        check(k0.get("schedule_missed") == 0, f"the shard on time: missed {k0}")
        out = os.path.join(work, "merged_late")
        m = merge(out, l0, l1)
        check(m.returncode == 2 and not os.path.exists(out),
              f"merge of a late shard: exit {m.returncode}, {out} exists: "
              f"{os.path.exists(out)}")
        check("shard 1/2" in m.stderr and "sse/chat-gpt-4o-mini-text/c:4" in m.stderr and
              "--allow-late" in m.stderr and len(m.stderr.strip().splitlines()) == 1,
              f"merge of a late shard said: {m.stderr}")
        m = merge(out, l0, l1, "--allow-late")
        check(m.returncode == 0 and "warning: shard 1/2" in m.stderr,
              f"--allow-late: exit {m.returncode}: {m.stderr}")
        if m.returncode == 0:
            k = results.load(out)[1][0]["counters"]
            check(k.get("shards_late") == 1 and k.get("schedule_missed") == 1,
                  f"--allow-late: shards_late {k.get('shards_late')}")
        # Shards of two different schedules (and cases): refused for the schedules.
        m = merge(os.path.join(work, "mixed"), s0, l1)
        check(m.returncode == 2 and "different schedules" in m.stderr,
              f"shards of two schedules: exit {m.returncode}: {m.stderr}")

    # 3. Starts that make no sense: one line each, exit 2, nothing run.
    now = time.time()
    for start, says in ((f"{now - 3600:.0f}", "passed 1:00:0"),
                        (f"{now + 25 * 3600:.0f}", "more than 24 h")):
        p = subprocess.run([harness_bin, f"--server={url}", *FLAGS, f"--start-at={start}"],
                           capture_output=True, text=True, timeout=30)
        lines = [l for l in p.stderr.splitlines() if "--start-at" in l]
        check(p.returncode == 2 and len(lines) == 1 and says in lines[0],
              f"--start-at={start}: exit {p.returncode}: {p.stderr}")

    p = subprocess.run([harness_bin, f"--server={url}", *FLAGS, "--start-at=1796433677",
                        "--benchmark_enable_random_interleaving=true"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "shuffles them per process" in p.stderr,
          f"--start-at with random interleaving: exit {p.returncode}: {p.stderr}")
    # --check-flags tells how long the schedule's windows take, from the start to the end.
    p = subprocess.run([harness_bin, *FLAGS, "--start-at=2026-12-05T03:00:00Z", "--check-flags"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "schedule's windows take 0:05, from 2026-12-05T03:00:00Z to "
          "2026-12-05T03:00:04.946Z" in p.stdout, f"--check-flags: {p.stdout} {p.stderr}")

    # 4. Ctrl-C while waiting for the window: the shard stops at once.
    p, folder = start_shard("interrupted", url, 0, f"{time.time() + 60:.3f}")
    time.sleep(1.5)
    sent = time.time()
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=10)
        check(rc == 130 and time.time() - sent < 3,
              f"SIGINT while waiting: exit {rc} after {time.time() - sent:.1f} s")
    except subprocess.TimeoutExpired:
        p.kill()
        problems.append("SIGINT while waiting for the window: still running 10 s later")
finally:
    server.kill()
    server.wait()

for p in problems:
    print(p, file=sys.stderr)
print(f"schedule_test: {len(problems)} problems")
sys.exit(1 if problems else 0)
