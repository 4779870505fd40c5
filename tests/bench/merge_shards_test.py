#!/usr/bin/python3
"""scripts/merge_shards over real harness runs: one process, and the same open-loop cases as two
shards (--shard 0/2, 1/2, the same seed). The merge of the two has the single run's counts
(streams, counted streams, events, content events; sse's requests), and the merge of the single
run alone gives its exact percentiles within the histograms' precision. On synthetic samples,
the merge of two halves' histograms is the whole's, and its percentiles are within precision of
the exact ones over every sample.
Usage: merge_shards_test.py SSEBENCH_BENCH WORK_DIR"""
import os
import random
import shutil
import subprocess
import sys

from ssebench import histograms, results

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")

PRECISION = 1 / 256
FLAGS = ["--cases=sse,poll", "--poll-shapes=delta", "--intervals=50", "--http=1.1",
         "--models=chat-gpt-4o-mini-text", "--speed=8", "--rate=30", "--duration=1.2",
         "--warmup-s=0.2", "--cooldown-s=0.2", "--max-concurrency=6", "--seed=11"]
problems = []


def harness(work, name, *extra):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    p = subprocess.run([sys.argv[1], *FLAGS, *extra,
                        f"--benchmark_out={folder}/benchmark.json", "--benchmark_out_format=json"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"{name}: the harness exited {p.returncode}: {p.stderr[-800:]}")
    return folder


def merge(out, *shards):
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "merge_shards"), out, *shards],
                       capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"merge_shards exited {p.returncode}: {p.stderr[-800:]}")
    return {c["name"]: c for c in results.load(out)[1]}


def near(got, want):
    return abs(got - want) <= abs(want) * PRECISION + 1e-5


def exact_percentile(sorted_v, q):
    rank = q * (len(sorted_v) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(sorted_v) - 1)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (rank - lo)


# Synthetic: two halves merge to the whole, within precision of the exact percentiles.
rng = random.Random(3)
samples = [rng.lognormvariate(0.7, 1.5) for _ in range(5000)] + [-0.002, 0.0, 1e-4]
a = histograms.from_samples_ms(samples[::2])
b = histograms.from_samples_ms(samples[1::2])
whole = histograms.from_samples_ms(samples)
if histograms.merge(a, b) != whole:
    problems.append("synthetic: the merge of two halves is not the whole")
s = sorted(round(x * 1e6) / 1e6 for x in samples)
for q in (0, 0.1, 0.5, 0.9, 0.99, 0.999, 1):
    got = histograms.percentile_ms(histograms.merge(a, b), q)
    if not near(got, exact_percentile(s, q)):
        problems.append(f"synthetic: p{q}: {got} vs exact {exact_percentile(s, q)}")

work = sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
single = harness(work, "single")
shard0 = harness(work, "shard0", "--shard=0/2")
shard1 = harness(work, "shard1", "--shard=1/2", "--client-threads=2")
if not problems:
    _, cases = results.load(single)
    exact = {c["name"]: c for c in cases}
    alone = merge(os.path.join(work, "merged_single"), single)
    merged = merge(os.path.join(work, "merged"), shard0, shard1)
    if len(exact) != 2 or set(merged) != set(exact):
        problems.append(f"cases: {sorted(exact)} vs merged {sorted(merged)}")
    for name, one in exact.items():
        if one["error"]:
            problems.append(f"{name}: failed: {one['error']}")
        k1, km = one["counters"], merged.get(name, {}).get("counters", {})
        if (one["load"], one["rate"], one["max_concurrency"], one["concurrency"]) != \
                ("open", 30, 6, None):
            problems.append(f"{name}: load fields {one['load']} rate {one['rate']} max "
                            f"{one['max_concurrency']} concurrency {one['concurrency']}")
        if km.get("rate_per_s") is not None or "rate" in km:
            problems.append(f"{name}: the rate is a counter")
        totals = ["streams", "streams_ok", "streams_run", "errors"]
        for k in totals:
            if km.get(k) != k1.get(k):
                problems.append(f"{name}: {k} merged {km.get(k)} vs one process {k1.get(k)}")
        per_stream = ["events_per_stream", "content_events_per_stream"]
        if one["transport"] == "sse":
            per_stream.append("requests_per_stream")
        for k in per_stream:
            if round(km.get(k, -1) * km.get("streams", 0)) != round(k1[k] * k1["streams"]):
                problems.append(f"{name}: {k} × streams differs after the merge")
        if k1["streams"] >= k1["streams_run"]:
            problems.append(f"{name}: the warm-up and cool-down windows counted every stream")
        ka = alone[name]["counters"]
        for fig in ("ttft_ms", "ttlt_ms", "lag_ms", "dispatch_lag_ms", "harness_lag_ms"):
            for suffix in ("p50", "p99", "mean"):
                k = f"{fig}_{suffix}"
                if k in k1 and not near(ka[k], k1[k]):
                    problems.append(f"{name}: {k} from the histogram {ka[k]} vs exact {k1[k]}")
        if km.get("shards") != 2:
            problems.append(f"{name}: merged shards {km.get('shards')}")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
