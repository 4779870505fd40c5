"""The latency histograms ssebench-bench writes beside its JSON (NAME.histograms.json), read,
merged and queried exactly as bench/include/ssebench/bench/histogram.hpp does: log-linear
buckets over nanoseconds, 2^sub_bucket_bits sub-buckets per power of two, a percentile linear
between order statistics, each order statistic its bucket's midpoint clamped to the exact
min and max. Shared by merge_shards (ssebench/merge.py) and its test.
"""
import json
import math
import os


def path_for(json_path):
    """benchmark.json (or its run folder) -> benchmark.histograms.json."""
    if os.path.isdir(json_path):
        json_path = os.path.join(json_path, "benchmark.json")
    stem = json_path[:-5] if json_path.endswith(".json") else json_path
    return stem + ".histograms.json"


def load(json_path):
    """{case name: {figure: histogram dict}}; {} when the run wrote none."""
    path = path_for(json_path)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("unit") != "ns" or data.get("sub_bucket_bits") != SUB_BUCKET_BITS:
        raise ValueError(f"{path}: histograms in another format than {SUB_BUCKET_BITS}-bit ns")
    return data["cases"]


SUB_BUCKET_BITS = 8


def index_of(ns, bits=SUB_BUCKET_BITS):
    if ns < 0:
        return -1 - index_of(-ns, bits)
    shift = max(0, ns.bit_length() - bits)
    return shift * (1 << (bits - 1)) + (ns >> shift)


def value_of(index, bits=SUB_BUCKET_BITS):
    if index < 0:
        return -value_of(-1 - index, bits)
    half = 1 << (bits - 1)
    shift = 0 if index < (1 << bits) else index // half - 1
    sub = index - shift * half
    width = 1 << shift
    low = sub * width
    return float(low) if shift == 0 else low + (width - 1) / 2


def empty():
    return {"count": 0, "sum_ns": 0, "min_ns": 0, "max_ns": 0, "buckets": []}


def from_samples_ms(samples):
    """A histogram of samples in ms, as the harness builds it (rounded to the ns)."""
    h = empty()
    for ms in samples:
        add_ns(h, round(ms * 1e6))
    return h


def add_ns(h, ns):
    buckets = dict(map(tuple, h["buckets"]))
    i = index_of(ns)
    buckets[i] = buckets.get(i, 0) + 1
    h["min_ns"] = ns if h["count"] == 0 else min(h["min_ns"], ns)
    h["max_ns"] = ns if h["count"] == 0 else max(h["max_ns"], ns)
    h["count"] += 1
    h["sum_ns"] += ns
    h["buckets"] = sorted([i, n] for i, n in buckets.items())


def merge(a, b):
    """The histogram of both sample sets."""
    if a["count"] == 0:
        return dict(b)
    if b["count"] == 0:
        return dict(a)
    buckets = {}
    for i, n in a["buckets"] + b["buckets"]:
        buckets[i] = buckets.get(i, 0) + n
    return {"count": a["count"] + b["count"], "sum_ns": a["sum_ns"] + b["sum_ns"],
            "min_ns": min(a["min_ns"], b["min_ns"]), "max_ns": max(a["max_ns"], b["max_ns"]),
            "buckets": sorted([i, n] for i, n in buckets.items())}


def _nth_ns(h, k):
    seen = 0
    for i, n in h["buckets"]:
        seen += n
        if k < seen:
            return min(max(value_of(i), h["min_ns"]), h["max_ns"])
    return float(h["max_ns"])


def percentile_ms(h, q):
    if h["count"] == 0:
        return 0.0
    rank = q * (h["count"] - 1)
    lo = math.floor(rank)
    a, b = _nth_ns(h, lo), _nth_ns(h, min(lo + 1, h["count"] - 1))
    return (a + (b - a) * (rank - lo)) / 1e6


def mean_ms(h):
    return h["sum_ns"] / h["count"] / 1e6 if h["count"] else 0.0


# The counter suffixes the harness writes for a figure, and the quantile of each.
QUANTILES = {"p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90, "p95": 0.95,
             "p99": 0.99}


def figures_ms(h):
    """{suffix: value}: the percentiles, min, max and mean the counters carry."""
    out = {k: percentile_ms(h, q) for k, q in QUANTILES.items()}
    out.update(min=h["min_ns"] / 1e6, max=h["max_ns"] / 1e6, mean=mean_ms(h))
    return out
