"""Reads a Google Benchmark JSON written by ssebench-bench into one dict per case.

Shared by bench_table.py, charts.py, compare, model.py, crossover.py and report.py. Reads the fields it needs and ignores the rest.
"""
import json
import os
import re
import statistics

_SUFFIX = re.compile(r"(/iterations:\d+|/manual_time|/real_time|/repeats:\d+)+$")


# Per-entry fields of Google Benchmark's that are bookkeeping, not figures of the case.
_NOT_FIGURES = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                "threads"}

# The poll shapes in the harness's default order; a case of sse or rest has none ("").
SHAPES = ["openai", "snapshot", "delta", "events"]


def parse_name(name):
    """'poll/chat-gpt-4o-json/c:100/interval_ms:250/shape:delta/iterations:1/manual_time' -> parts.

    Any other 'key:value' part says how the transport runs ('http:2', 'host_conns:6',
    'turns:4'): those are kept in `via` ('http:2 host_conns:6') and folded into `transport`
    ('sse http:2'), so that every script tells the variants apart and the plain transports
    ('sse', 'poll') stay the references they were; `base` is the harness's transport alone.
    `http` is "2" for a '/http:2' case, else "1.1"; `turns` a ws case's turns (1 without).
    """
    base = _SUFFIX.sub("", name)
    parts = base.split("/")
    case = {"name": base, "transport": parts[0], "base": parts[0],
            "recording": parts[1] if len(parts) > 1 else "",
            "concurrency": 0, "interval_ms": 0, "shape": "", "via": "", "turns": 1,
            "http": "1.1"}
    via = []
    for p in parts[2:]:
        key, _, value = p.partition(":")
        if key == "c":
            case["concurrency"] = int(value)
        elif key == "interval_ms":
            case["interval_ms"] = int(value)
        elif key == "shape":
            case["shape"] = value
        elif value:
            if key == "turns":  # ws: sequential turns per connection
                case["turns"] = int(value)
            elif key == "http":
                case["http"] = value
            via.append(p)
    if via:
        case["via"] = " ".join(via)
        case["transport"] = f"{parts[0]} {case['via']}"
    return case


def load(path):
    """(context, cases): cases in run order, each with its counters and error state.

    `path` is a benchmark.json or the run folder holding one. With --benchmark_repetitions=N a
    case has N iteration entries (and aggregate ones, skipped): its counters are then the mean
    of the repetitions' and `repetitions` holds each repetition's counters in order (one entry
    without repetitions), for scripts/compare's significance test. A case failed when any
    repetition did.
    """
    if os.path.isdir(path):
        path = os.path.join(path, "benchmark.json")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    cases = {}  # name -> case, in run order
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates of --benchmark_repetitions (mean, median, stddev, cv)
        parsed = parse_name(b.get("run_name") or b["name"])
        case = cases.setdefault(parsed["name"], dict(parsed, error="", repetitions=[]))
        if b.get("error_occurred") and not case["error"]:
            case["error"] = b.get("error_message", "") or "failed"
        case["repetitions"].append(
            {k: v for k, v in b.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
             and k not in _NOT_FIGURES})
    for case in cases.values():
        reps = case["repetitions"]
        keys = dict.fromkeys(k for r in reps for k in r)  # first seen order
        case["counters"] = {k: statistics.fmean(r[k] for r in reps if k in r) for k in keys}
    return data.get("context", {}), list(cases.values())


def setting(case):
    """The transport (with its variants: 'ws turns:4', 'sse http:2') and its interval, without
    the shape: 'poll/250', 'sse'."""
    t = case["transport"]
    return f"{t}/{case['interval_ms']}" if case["interval_ms"] else t


def variant(case):
    """The transport with its interval and shape: 'poll/250/delta', 'long-poll/events', 'sse'."""
    s = setting(case)
    return f"{s}/{case['shape']}" if case["shape"] else s
