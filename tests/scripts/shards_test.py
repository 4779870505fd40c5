#!/usr/bin/python3
"""scripts/shards, the local rehearsal of a sharded run (issue 21), on this build's harness and
server: 3 shards on 3 hosts (network namespaces), started 1 s apart on one common start, against
one server in a fourth, merged; and one process (--shards=1, --client-threads=0) with the same
load. A closed load (sse, ws and poll, 6 streams, 2 rounds) and an open-loop one (sse at 30
streams/s, seeded):
- the merge has the single run's cases, streams, events and content events exactly, and for sse
  and ws, where the protocol fixes them, its requests;
- TTFT and TTLT p50 within LATENCY_PCT % + LATENCY_MS ms of the single run's (generous: the two
  runs are separate runs on a busy 2-core machine, possibly under ASan);
- every shard began every case in its window (schedule_missed 0), its clock offset is in
  shards.json and the merge reports the clock skew; the shards really started a stagger apart,
  before the common start;
- no namespace of ours is left behind.
Then shard 2 started LATE_S after the common start (--late=2:S): the run exits 1, the merge is
refused naming shard 2/3 and nothing is merged; merge_shards --allow-late on the same shards
merges them, the late case carrying shards_late = 1.
Root (network namespaces), else skipped (77).
Usage: shards_test.py BUILD_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys
import time

from ssebench import results, shards

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")
# A 0.56 s recording at speed 8; --start-at's slots padded by 0.3 s (not 1 s) to keep it short:
# a closed case's window is 0.6 s of warm-up and two rounds of 0.07 s × 1.25 + 0.3 s. A slot
# begun 400 ms late (twice the default, for a loaded CI machine) is a missed one.
COMMON = ["--models=chat-gpt-4o-mini-text", "--speed=8", "--http=1.1", "--slot-pad-ms=300",
          "--late-ms=400"]
CLOSED = ["--cases=sse,ws,poll", "--concurrency=6", "--rounds=2", "--intervals=50",
          "--poll-shapes=delta", "--ws-turns=1", *COMMON]
OPEN = ["--cases=sse", "--rate=30", "--duration=1.2", "--warmup-s=0.2", "--cooldown-s=0.2",
        "--max-concurrency=6", "--seed=11", *COMMON]
STAGGER_S = 1
# The common start 2 s after the last shard starts: a shard (debug, ASan) is ready in < 1 s.
SPARE_S = 2
LATE_S = 1.5
LATENCY_PCT, LATENCY_MS = 30, 10
problems = []


def rehearse(name, n, load, *extra):
    out = os.path.join(WORK, name)
    start = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "shards"), f"--shards={n}",
                        f"--stagger-s={STAGGER_S}", f"--lead-s={(n - 1) * STAGGER_S + SPARE_S}",
                        f"--build={BUILD}", f"--out={out}", f"--recordings={RECORDINGS}",
                        *extra, "--", *load],
                       capture_output=True, text=True, timeout=120)
    print(f"shards_test: {name}: {time.monotonic() - start:.1f} s", file=sys.stderr)
    left = shards.namespaces()
    if left:
        problems.append(f"{name}: namespaces left behind: {', '.join(left)}")
    report = None
    if os.path.exists(os.path.join(out, "shards.json")):
        with open(os.path.join(out, "shards.json")) as f:
            report = json.load(f)
    else:
        problems.append(f"{name}: no shards.json")
    return p, out, report


def cases_of(out):
    return {c["name"]: c for c in results.load(out)[1]}


def check_schedule(name, report):
    """Every shard on time in every case, its clock offset read, the stagger kept."""
    if not report["start_at"]:
        problems.append(f"{name}: no common start (the harness has no --start-at?)")
        return
    for h in report["hosts"]:
        s = h["summary"] or {}
        if s.get("schedule_missed"):
            problems.append(f"{name}: shard {h['shard']} missed its window in "
                            f"{', '.join(s['schedule_missed'])}")
        if "clock_offset_ms" not in s:
            problems.append(f"{name}: shard {h['shard']}: no clock offset in shards.json")
        i = int(h["shard"].split("/")[0])
        if abs(h["started_s_after_first"] - i * STAGGER_S) > 0.5:
            problems.append(f"{name}: shard {h['shard']} started "
                            f"{h['started_s_after_first']} s after the first, not {i * STAGGER_S}")
        if h["started_s_after_start_at"] >= 0:
            problems.append(f"{name}: shard {h['shard']} started after the common start")


def compare(name, merged_out, single_out):
    merged, single = cases_of(merged_out), cases_of(single_out)
    if set(merged) != set(single) or not single:
        problems.append(f"{name}: cases {sorted(merged)} vs single {sorted(single)}")
        return
    for case, one in single.items():
        k1, km = one["counters"], merged[case]["counters"]
        for c in (one, merged[case]):
            if c["error"]:
                problems.append(f"{name}: {case} failed: {c['error']}")
        if km.get("shards") != 3:
            problems.append(f"{name}: {case}: merged shards {km.get('shards')}")
        for k in ("streams", "streams_ok", "errors"):
            if km.get(k) != k1.get(k):
                problems.append(f"{name}: {case}: {k} merged {km.get(k)} vs one process "
                                f"{k1.get(k)}")
        totals = ["events_per_stream", "content_events_per_stream"]
        if one["transport"] in ("sse", "ws"):
            totals.append("requests_per_stream")
        for k in totals:
            got, want = (round(c.get(k, -1) * c.get("streams", 0)) for c in (km, k1))
            if got != want:
                problems.append(f"{name}: {case}: {k} × streams merged {got} vs one process "
                                f"{want}")
        for k in ("ttft_ms_p50", "ttlt_ms_p50"):
            if k not in k1 or k not in km:
                problems.append(f"{name}: {case}: no {k}")
            elif abs(km[k] - k1[k]) > k1[k] * LATENCY_PCT / 100 + LATENCY_MS:
                problems.append(f"{name}: {case}: {k} merged {km[k]:.1f} vs one process "
                                f"{k1[k]:.1f} ms, beyond {LATENCY_PCT} % + {LATENCY_MS} ms")
        if not 0 <= km.get("clock_skew_ms", -1) < 50:
            problems.append(f"{name}: {case}: clock_skew_ms {km.get('clock_skew_ms')}")
    context = results.load(merged_out)[0]
    if not isinstance(context.get("clock_skew_ms"), (int, float)):
        problems.append(f"{name}: the merged context has no clock_skew_ms")


def load_pair(name, load):
    p3, out3, r3 = rehearse(f"{name}-3", 3, load)
    p1, out1, r1 = rehearse(f"{name}-1", 1, [*load, "--client-threads=0"])
    for what, p in ((f"{name} 3 shards", p3), (f"{name} 1 process", p1)):
        if p.returncode != 0:
            problems.append(f"{what}: exit {p.returncode}: {p.stderr[-1500:]}")
    if p3.returncode or p1.returncode or not r3 or not r1:
        return
    if len(r1["hosts"]) != 1 or "--shard=0/1" not in r1["hosts"][0]["command"]:
        problems.append(f"{name}: the single run is not one --shard=0/1: {r1['hosts']}")
    check_schedule(f"{name}-3", r3)
    check_schedule(f"{name}-1", r1)
    addresses = [h["address"] for h in r3["hosts"]]
    if len(set(addresses)) != 3:
        problems.append(f"{name}: the shards share addresses: {addresses}")
    compare(name, out3, out1)


def late(load):
    p, out, report = rehearse("late", 3, load, f"--late=2:{LATE_S}")
    if p.returncode != 1:
        problems.append(f"late: exit {p.returncode}, not 1: {p.stderr[-1500:]}")
    refusal = [line for line in p.stderr.splitlines() if "refused" in line]
    if not refusal or "2/3" not in refusal[-1]:
        problems.append(f"late: no refusal naming shard 2/3: {p.stderr[-1500:]}")
    if os.path.exists(os.path.join(out, "benchmark.json")):
        problems.append("late: a merged benchmark.json was written")
    if report and report["merge"]["exit_code"] != 2:
        problems.append(f"late: the merge's exit in shards.json: {report['merge']}")
    if report and report["hosts"][2]["started_s_after_start_at"] < LATE_S:
        problems.append(f"late: shard 2 started {report['hosts'][2]['started_s_after_start_at']}"
                        " s after the common start")
    allowed = os.path.join(out, "allowed")
    m = subprocess.run([sys.executable, os.path.join(SCRIPTS, "merge_shards"), "--allow-late",
                        allowed, *[os.path.join(out, f"shard-{i}") for i in range(3)]],
                       capture_output=True, text=True)
    if m.returncode != 0:
        problems.append(f"late: merge_shards --allow-late exited {m.returncode}: {m.stderr}")
        return
    if "2/3" not in m.stdout + m.stderr:
        problems.append(f"late: merge_shards --allow-late did not name shard 2/3: "
                        f"{m.stdout}{m.stderr}")
    merged = results.load(allowed)[1]
    late_counts = [c["counters"].get("shards_late", 0) for c in merged]
    if late_counts[0] != 1 or max(late_counts) != 1:
        problems.append(f"late: shards_late per case {late_counts}, want 1 in the first")


if os.geteuid() != 0:
    print("shards_test: needs root (network namespaces): skipped", file=sys.stderr)
    sys.exit(77)
BUILD, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shutil.rmtree(WORK, ignore_errors=True)
# The one recording the load plays: the server and each shard load it alone, in a blink.
RECORDINGS = os.path.join(WORK, "recordings")
os.makedirs(RECORDINGS)
shutil.copy(os.path.join(SCRIPTS, "../recordings/chat-gpt-4o-mini-text.jsonl"), RECORDINGS)
t0 = time.monotonic()
load_pair("closed", CLOSED)
load_pair("open", OPEN)
late(OPEN)
print(f"shards_test: {time.monotonic() - t0:.1f} s", file=sys.stderr)
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
