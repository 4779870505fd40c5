#!/usr/bin/python3
"""Reads a run made with --benchmark_repetitions=2: every case has two iteration entries
(repetition_index 0 and 1) and Google Benchmark's aggregates; ssebench.results reads one case
per name with both repetitions; the counters issue 10 added are there (the lag CDF's points, the
header bytes); the table reads it; and scripts/compare finds the run equal to itself.
Usage: harness_repetitions_test.py HARNESS_JSON"""
import json
import os
import subprocess
import sys

from ssebench import results

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    data = json.load(f)
problems = []
iterations = {}
aggregates = set()
for b in data["benchmarks"]:
    name = results.display_name(b["run_name"])
    if "transport" not in b:
        problems.append(f"{b['name']}: no case fields ({b.get('run_type')} entry)")
    if b.get("run_type") == "aggregate":
        aggregates.add(name)
    else:
        iterations.setdefault(name, []).append(b.get("repetition_index"))
if not iterations:
    problems.append("no case")
for name, reps in iterations.items():
    if sorted(reps) != [0, 1]:
        problems.append(f"{name}: repetitions {reps}, want [0, 1]")
    if name not in aggregates:
        problems.append(f"{name}: no aggregate entries")
_, cases = results.load(path)
if [c["name"] for c in cases] != list(iterations):
    problems.append("ssebench.results does not give one case per name in run order")
for c in cases:
    if len(c["repetitions"]) != 2:
        problems.append(f"{c['name']}: {len(c['repetitions'])} repetitions read")
    for k in ("lag_ms_p10", "lag_ms_p25", "lag_ms_p75", "lag_ms_p95",
              "http_header_bytes_in_per_token"):
        if k not in c["counters"]:
            problems.append(f"{c['name']}: no {k}")
    k = c["counters"]
    if not (k.get("lag_ms_min", 0) <= k.get("lag_ms_p10", -1) <= k.get("lag_ms_p25", -1)
            <= k.get("lag_ms_p50", -1) <= k.get("lag_ms_p75", -1) <= k.get("lag_ms_p90", -1)
            <= k.get("lag_ms_p95", -1) <= k.get("lag_ms_p99", -1) <= k.get("lag_ms_max", -1)):
        problems.append(f"{c['name']}: the lag percentiles are not in order")
    if not 0 < k.get("http_header_bytes_in_per_token", 0) < k.get("http_bytes_in_per_token", 0):
        problems.append(f"{c['name']}: header bytes not a part of http bytes")
for cmd in (["bench_table.py", path], ["compare", path, path, "--fail-on-regression=1"]):
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, cmd[0]), *cmd[1:]],
                       capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"{cmd[0]} exited {p.returncode}: {p.stdout[-500:]}{p.stderr[-500:]}")
for p in problems:
    print(f"{path}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
