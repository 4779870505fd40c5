#!/usr/bin/python3
"""scripts/scale_table.py on a synthetic scale.json: the sustained step of a ladder, every ratio
and its verdict, and a table that names them. Nothing is run or timed."""
import sys

from ssebench import scale_table


def point(eps, p99, cpu=10.0, rss=4096.0, errors=0):
    return {"events_per_s": eps, "lateness_us_p99": p99, "lateness_us_p50": 50.0,
            "cpu_us_per_event": cpu, "rss_bytes_per_stream": rss, "streams_held": 100,
            "errors": errors}


problems = []
# Medians of three; the step past 1 ms and the step with an error are not sustained.
s1 = dict(scale_table.summarise([point(1000, 300), point(1100, 900), point(900, 200)]), speed=1)
s2 = scale_table.summarise([point(4000, 1500), point(4000, 2000), point(4000, 800)])
s3 = scale_table.summarise([point(2000, 100, errors=1), point(2000, 100), point(2000, 100)])
if (s1["events_per_s"], s1["lateness_us_p99"]) != (1000, 300):
    problems.append(f"summarise: {s1}")
# A repetition that measured nothing (no final stats) is left out and counted.
s4 = scale_table.summarise([point(0, 0), point(3000, 400), point(3100, 500)])
if (s4["events_per_s"], s4["repetitions"], s4["unmeasured"]) != (3050, 2, 1):
    problems.append(f"summarise with an unmeasured repetition: {s4}")
if scale_table.sustained([s1, s2, s3]) is not s1:
    problems.append("sustained is not the 1,000 events/s step")
if scale_table.sustained([s2]) is not None:
    problems.append("a ladder with no step within 1 ms has a sustained rate")

floor = scale_table.summarise([point(1600, 100, cpu=5.0, rss=2048.0)] * 3)
scale = {
    "context": {"commit": "abc1234", "cores": 2, "load_before": "1 1 1", "load_after": "2 2 2",
                "repetitions": 3},
    "capacity": {"100": {"model": "m", "speeds": [1, 2],
                         "steps": {"floor": [dict(floor, speed=1)], "server": [s1]},
                         "server_sustained": s1, "floor_sustained": floor}},
    "capacity_none": None,
    "peer": {"version": "0.1.29", "ours": {"server_cpu_us_per_event": 10.0,
                                            "timing_error_ms_p50": 1.0, "timing_error_ms_p99": 2.0,
                                            "timing_error_ms_max": 3.0},
             "peer": {"server_cpu_us_per_event": 60.0, "timing_error_ms_p50": 5.0,
                      "timing_error_ms_p99": 10.0, "timing_error_ms_max": 20.0}},
    "client": {"openai_cpu_us_per_event": 80.0, "harness_cpu_us_per_event": 8.0},
    "poll": {"path": "GET /x", "body_bytes": 600, "wrk": "wrk -t1", "nginx_version": "1.22.1",
             "server_rps": 10000.0, "nginx_rps": 25000.0},
}
del scale["capacity_none"]
# A ladder where neither server held 1 ms: its first step's figures, no verdict.
scale["capacity"]["1000"] = {"model": "m", "speeds": [1], "server_sustained": None,
                             "floor_sustained": None,
                             "steps": {"server": [dict(s2, speed=1)], "floor": [dict(s2, speed=1)]}}
v = scale_table.verdicts(scale)
want = {"capacity_100": (0.625, True), "peer_cpu": (6.0, True), "peer_accuracy": (5.0, False),
        "client_cpu": (0.1, True), "poll_rps": (0.4, False)}
for key, (value, met) in want.items():
    if key not in v or abs(v[key]["value"] - value) > 1e-9 or v[key]["met"] != met:
        problems.append(f"{key}: {v.get(key)}, want {value} met={met}")
text = scale_table.table(scale)
for needle in ("none: at 4,000 events/s p99 1.5 ms", "not decided", "0.62 met", "× 1: 10.0 / 5.0 µs = 2.0×", "6.0× (met", "5.0× (missed", "0.10 (met", "0.40 (missed", "abc1234"):
    if needle not in text:
        problems.append(f"the table has no {needle!r}")
for line in problems:
    print(f"scale_table_test: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
