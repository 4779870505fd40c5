"""Reads a Google Benchmark JSON written by ssebench-bench into one dict per case.

Shared by bench_table.py and charts.py. Reads the fields it needs and ignores the rest.
"""
import json
import re

_SUFFIX = re.compile(r"(/iterations:\d+|/manual_time|/real_time|/repeats:\d+)+$")


# The poll shapes in the harness's default order; a case of sse or rest has none ("").
SHAPES = ["openai", "snapshot", "delta", "events"]


def parse_name(name):
    """'poll/chat-gpt-4o-json/c:100/interval_ms:250/shape:delta/iterations:1/manual_time' -> parts."""
    base = _SUFFIX.sub("", name)
    parts = base.split("/")
    case = {"name": base, "transport": parts[0], "recording": parts[1] if len(parts) > 1 else "",
            "concurrency": 0, "interval_ms": 0, "shape": ""}
    for p in parts[2:]:
        key, _, value = p.partition(":")
        if key == "c":
            case["concurrency"] = int(value)
        elif key == "interval_ms":
            case["interval_ms"] = int(value)
        elif key == "shape":
            case["shape"] = value
    return case


def load(path):
    """(context, cases): cases in run order, each with its counters and error state."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    cases = []
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates of --benchmark_repetitions
        case = parse_name(b.get("run_name") or b["name"])
        case["error"] = b.get("error_message", "") if b.get("error_occurred") else ""
        case["counters"] = {k: v for k, v in b.items() if isinstance(v, (int, float))}
        cases.append(case)
    return data.get("context", {}), cases


def setting(case):
    """The transport with its interval, without the shape: 'poll/250', 'long-poll', 'sse'."""
    t = case["transport"]
    return f"{t}/{case['interval_ms']}" if case["interval_ms"] else t


def variant(case):
    """The transport with its interval and shape: 'poll/250/delta', 'long-poll/events', 'sse'."""
    s = setting(case)
    return f"{s}/{case['shape']}" if case["shape"] else s
