"""Synthetic Google Benchmark JSON in ssebench-bench's shape, for the script tests: no benchmark
runs in a test. A run is a list of cases, each with N repetitions whose counters vary by a
small, seeded noise around the given values. Each entry carries its case fields, made here from
the case's name by ssebench.migrate (the one name reader), as the harness writes them."""
import json
import os
import random

from ssebench import migrate

CONTEXT = {"host_name": "ci-runner", "cpu_model": "Test CPU", "num_cpus": 2,
           "recordings": "", "ssebench_commit": "0000000"}

# Counters of a plausible case (chat-gpt-4o-json-like figures).
BASE_COUNTERS = {
    "ttft_ms_p50": 570.0, "ttft_ms_p99": 580.0, "lag_ms_mean": 0.3, "lag_ms_p50": 0.28,
    "lag_ms_p99": 0.5, "requests_per_stream": 1.0, "wire_bytes_in_per_token": 329.0,
    "wire_bytes_out_per_token": 40.0, "http_bytes_in_per_token": 275.0,
    "segments_in_per_token": 1.04, "client_cpu_us_per_token": 30.0,
    "server_cpu_us_per_token": 17.0, "errors": 0.0, "streams": 10.0,
    "lag_ms_min": 0.1, "lag_ms_p10": 0.15, "lag_ms_p25": 0.2, "lag_ms_p75": 0.35,
    "lag_ms_p90": 0.4, "lag_ms_p95": 0.45, "lag_ms_max": 0.9, "tcp_payload_bytes_in_per_token": 275.0,
    "http_header_bytes_in_per_token": 1.0, "tokens_per_stream": 177.0, "ttlt_ms_p50": 2750.0,
    "speed": 1.0,
}

CASES = ["sse/chat-gpt-4o-json/c:10", "poll/chat-gpt-4o-json/c:10/interval_ms:250/shape:delta",
         "long-poll/chat-gpt-4o-json/c:10/shape:events"]
# The poll case's own figures (P/2, P, 13 requests), unless a run gives others.
POLL_COUNTERS = {"lag_ms_mean": 125.0, "lag_ms_p50": 124.0, "lag_ms_p99": 248.0,
                 "ttft_ms_p50": 750.0, "ttft_ms_p99": 752.0, "requests_per_stream": 13.0,
                 "wire_bytes_in_per_token": 30.0, "http_bytes_in_per_token": 25.0,
                 "client_cpu_us_per_token": 4.0, "server_cpu_us_per_token": 3.0}


def run(cases=None, repetitions=5, noise=0.01, seed=1, scale=None, context=None, failed=(),
        counters=None):
    """A benchmark.json dict. scale: {(case, counter): factor} plants a change; counters:
    {case: {counter: value}} sets a case's own values (before the noise)."""
    rng = random.Random(seed)
    scale = scale or {}
    benchmarks = []
    for name in cases or CASES:
        for rep in range(repetitions):
            entry = {"name": name + "/iterations:1/manual_time", **migrate.fields_from_name(name),
                     "run_name": name + "/iterations:1/manual_time", "run_type": "iteration",
                     "repetitions": repetitions, "repetition_index": rep, "threads": 1,
                     "iterations": 1, "real_time": 3000.0, "cpu_time": 10.0, "time_unit": "ms"}
            own = (counters or {}).get(name, POLL_COUNTERS if name == CASES[1] else {})
            for k, v in dict(BASE_COUNTERS, **own).items():
                fixed = ("errors", "streams", "tokens_per_stream", "speed")
                jitter = 1 + rng.uniform(-noise, noise) if k not in fixed else 1
                entry[k] = v * jitter * scale.get((name, k), 1.0)
            if name in failed:
                entry["error_occurred"] = True
                entry["error_message"] = "1/10 streams failed (timeout 1); first: timeout"
            benchmarks.append(entry)
        if repetitions > 1:  # Google Benchmark's aggregates, which readers must skip
            benchmarks.append({"name": name + "/iterations:1/manual_time_mean",
                               **migrate.fields_from_name(name),
                               "run_name": name + "/iterations:1/manual_time",
                               "run_type": "aggregate", "aggregate_name": "mean",
                               "lag_ms_p99": 999.0})
    return {"context": dict(context or CONTEXT), "benchmarks": benchmarks}


def write(folder, name, data):
    """Writes data as FOLDER/NAME/benchmark.json and returns the run folder."""
    d = os.path.join(folder, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "benchmark.json"), "w", encoding="utf-8") as f:
        json.dump(data, f)
    return d


REC = "chat-gpt-4o-json"  # a committed recording: charts and the model read it
INTERVALS = [50, 100, 250, 1000]


def sweep():
    """sse, rest, long-poll and poll delta at four intervals, at c:1 and c:10. Poll's wire bytes
    fall as 400 × (100 / P)^0.2 and its server CPU as 17 × (40 / P): they cross SSE's 369 B and
    17 µs at P = 100 × (400/369)^5 ≈ 150 ms and P = 40 ms (cheaper at every interval)."""
    cases, counters = [], {}
    for c in (1, 10):
        for name in (f"sse/{REC}/c:{c}", f"rest/{REC}/c:{c}", f"long-poll/{REC}/c:{c}/shape:delta"):
            cases.append(name)
            counters[name] = {}
        for p in INTERVALS:
            name = f"poll/{REC}/c:{c}/interval_ms:{p}/shape:delta"
            cases.append(name)
            wire = 400 * (100 / p) ** 0.2
            counters[name] = {"lag_ms_mean": p / 2,
                              "lag_ms_p99": 0.99 * p, "wire_bytes_in_per_token": wire,
                              "wire_bytes_out_per_token": 0.0,
                              "server_cpu_us_per_token": 17 * 40 / p}
    counters.update({n: dict(counters[n], wire_bytes_out_per_token=40.0) for n in cases
                     if n.startswith("sse/")})
    return run(cases=cases, repetitions=1, noise=0, counters=counters)
