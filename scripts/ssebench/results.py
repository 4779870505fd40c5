"""Reads a benchmark.json written by ssebench-bench into one record per case, and the figures
derived from cases: wire bytes per token, the SSE reference case, transport order, labels.

A case is the entry's record fields (DIMENSIONS), written by the harness beside the name; the
name is read for display only, never parsed. Runs made before the fields get them once from
scripts/ssebench/migrate.py. Reads the fields it needs and ignores the rest.
"""
import json
import os
import statistics

from . import figures

# A case's dimensions, as the harness writes them into every entry (results/README.md).
DIMENSIONS = ("transport", "recording", "load", "concurrency", "rate", "max_concurrency",
              "users", "interval_ms", "shape", "http", "turns", "host_conns", "link", "tls",
              "proxy", "client")
REQUIRED = ("transport", "recording", "load")
# The value of each variant part in a transport's plain case; any other value is in its label.
# Read in this order: the label reads 'sse http:2', 'ws turns:4', 'poll host_conns:6'.
PLAIN = {"http": "1.1", "turns": 1, "host_conns": 0, "link": "none", "tls": "off",
         "proxy": "none", "client": "harness"}
# A missing field reads as the plain value, a null interval as 0 and a null shape as "" (none).
DEFAULTS = dict(PLAIN, concurrency=None, rate=None, max_concurrency=None, users=None,
                interval_ms=0, shape="", turns=None)

# The base transports in the order every table and chart lists them.
TRANSPORTS = ["sse", "ws", "rest", "long-poll", "poll"]
# The poll shapes in the harness's default order; a case of sse, rest or ws has none ("").
SHAPES = ["openai", "snapshot", "delta", "events"]
# One colour per base transport; poll's intervals get a ramp of their own (plot.color).
COLORS = {"sse": "black", "ws": "tab:cyan", "rest": "0.55", "long-poll": "tab:purple"}
LOADS = ["closed", "open", "users"]

# Parts Google Benchmark appends to a registered name: not shown in tables.
_GB_SUFFIXES = ("iterations:", "manual_time", "real_time", "repeats:")


class ResultsError(ValueError):
    """A run that cannot be read: one line, for a command to print before exit 2."""


def json_path(path):
    """A run folder or its benchmark.json -> the benchmark.json (ResultsError if none)."""
    if os.path.isdir(path):
        path = os.path.join(path, "benchmark.json")
    if not os.path.isfile(path):
        raise ResultsError(f"{path}: no such file (want a run folder with a benchmark.json)")
    return path


def display_name(run_name):
    """The case's name as the harness registered it: Google Benchmark's suffixes
    (/iterations:1/manual_time) left off. For people only: nothing reads a dimension from it."""
    parts = run_name.split("/")
    while len(parts) > 1 and parts[-1].startswith(_GB_SUFFIXES):
        parts.pop()
    return "/".join(parts)


def read_json(path):
    path = json_path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return path, json.load(f)
    except (OSError, ValueError) as e:
        raise ResultsError(f"{path}: {e}") from None


def record(entry, where=""):
    """The case fields of one entry (ResultsError when the entry has none)."""
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise ResultsError(
            f"{where}{entry.get('name', '?')}: no case field {', '.join(missing)}: a run from "
            "before the case fields; add them once with scripts/ssebench/migrate.py")
    out = {}
    for k in DIMENSIONS:
        v = entry[k] if k in REQUIRED else entry.get(k, DEFAULTS[k])
        out[k] = DEFAULTS[k] if v is None and k in ("interval_ms", "shape", "host_conns") else v
    return out


def is_counter(key, value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and key not in DIMENSIONS and key not in figures.BOOKKEEPING)


def load(path):
    """(context, cases): cases in run order, each a dict of its fields (DIMENSIONS) and
    name, run_name, error, counters, repetitions.

    With --benchmark_repetitions=N a case has N iteration entries (and aggregate ones, skipped):
    its counters are the mean of the repetitions' and `repetitions` holds each repetition's
    counters in order, for scripts/compare's significance test. A case failed when any
    repetition did. Cases are keyed by run_name.
    """
    path, data = read_json(path)
    cases = {}  # run_name -> case, in run order
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates of --benchmark_repetitions (mean, median, stddev, cv)
        run_name = b.get("run_name") or b["name"]
        case = cases.get(run_name)
        if case is None:
            case = cases[run_name] = dict(record(b, f"{path}: "), name=display_name(run_name),
                                          run_name=run_name, error="", repetitions=[])
        if b.get("error_occurred") and not case["error"]:
            case["error"] = b.get("error_message", "") or "failed"
        case["repetitions"].append({k: v for k, v in b.items() if is_counter(k, v)})
    for case in cases.values():
        reps = case["repetitions"]
        keys = dict.fromkeys(k for r in reps for k in r)  # first seen order
        case["counters"] = {k: statistics.fmean(r[k] for r in reps if k in r) for k in keys}
    return data.get("context", {}), list(cases.values())


# Derived figures -------------------------------------------------------------------------------

def wire_total(counters, prefix=""):
    """Wire bytes per token, in + out (prefix "predicted_": the model's in, the measured out);
    None without bytes in."""
    k = counters["counters"] if "counters" in counters else counters
    if prefix + "wire_bytes_in_per_token" not in k:
        return None
    out = k.get(prefix + "wire_bytes_out_per_token", k.get("wire_bytes_out_per_token", 0.0))
    return k[prefix + "wire_bytes_in_per_token"] + out


def via(case):
    """The non-plain variant parts: 'http:2', 'turns:4 host_conns:6', '' for a plain case."""
    parts = []
    for k, plain in PLAIN.items():
        v = case.get(k)
        if v is None or v == plain or (k == "http" and str(v) == plain):
            continue
        parts.append(f"{k}:{v}")
    return " ".join(parts)


def is_plain(case):
    return via(case) == ""


def label(case):
    """The base transport with its variant parts: 'sse', 'sse http:2', 'ws turns:4'."""
    v = via(case)
    return f"{case['transport']} {v}" if v else case["transport"]


def setting(case):
    """The label and its interval, without the shape: 'poll/250', 'sse http:2'."""
    t = label(case)
    return f"{t}/{case['interval_ms']}" if case["interval_ms"] else t


def variant(case):
    """The label with its interval and shape: 'poll/250/delta', 'long-poll/events', 'sse'."""
    s = setting(case)
    return f"{s}/{case['shape']}" if case["shape"] else s


def rank(order, value):
    return order.index(value) if value in order else len(order)


def sort_key(case):
    """Tables' and charts' order, on the base transport: sse, ws, rest, long-poll, then poll by
    interval; a setting's shapes together; each variant right after its plain case."""
    return (rank(TRANSPORTS, case["transport"]), case["interval_ms"] or 0,
            rank(SHAPES, case["shape"]), case["shape"] or "", via(case))


def load_key(case):
    """A sortable key of the case's load: closed rounds by concurrency, then open-loop rates,
    then user counts."""
    if case["load"] == "open":
        return (1, case["rate"] or 0, case["max_concurrency"] or 0)
    if case["load"] == "users":
        return (2, case["users"] or 0, 0)
    return (rank(LOADS, case["load"]), case["concurrency"] or 0, 0)


def load_text(case, noun="stream"):
    """'10 streams', '2 arrivals/s, at most 6 at once', '4 users'."""
    if case["load"] == "open":
        cap = case["max_concurrency"]
        return f"{case['rate']:g} arrivals/s" + (f", at most {cap} at once" if cap else "")
    if case["load"] == "users":
        n = case["users"]
        return f"{n} user{'s' if n != 1 else ''}"
    n = case["concurrency"]
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _reference_key(case):
    return (case["recording"], load_key(case), str(case["http"]), case["link"], case["tls"],
            case["proxy"], case["client"])


def sse_references(cases):
    """{key: the sse case} for sse_reference(): plain sse cases that did not fail."""
    return {_reference_key(c): c for c in cases
            if c["transport"] == "sse" and not c["error"] and not c["turns"]
            and not c["host_conns"]}


def sse_reference(case, references):
    """The case every other is read against (×sse): the sse case of the same recording, load,
    HTTP version, link, TLS, proxy and client, without a connection cap. `references` from
    sse_references(cases)."""
    return references.get(_reference_key(case))


def intervals(cases):
    return sorted({c["interval_ms"] for c in cases if c["interval_ms"]})


def recordings(cases):
    """The recordings in run order."""
    return list(dict.fromkeys(c["recording"] for c in cases))
