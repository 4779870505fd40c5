#!/usr/bin/python3
"""Prints the short console tables of an ssebench-bench JSON result.

Per case: TTFT p50, delivery lag p50/p99, requests per stream, client and server CPU per token,
wire bytes per token in and out, the wire bytes and CPU (client + server) per token relative to
the sse case of the same recording and concurrency (the reference), and failed streams. The poll
shape is the last part of a poll or long-poll case's name.

Then, when the run has poll shapes, one row per recording, concurrency and polling setting
(poll at each interval, long-poll) with the wire bytes per token (in + out) of SSE and of each
shape side by side, each shape's ×sse beside it.

An interrupted run (its context has "interrupted") is said so first, and exits 1 as a failed one.

Usage: scripts/bench_table.py results/<run>/benchmark.json [--markdown]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_results  # noqa: E402

COLUMNS = [  # header, counter, format
    ("ttft p50 ms", "ttft_ms_p50", "{:.1f}"),
    ("lag p50 ms", "lag_ms_p50", "{:.2f}"),
    ("lag p99 ms", "lag_ms_p99", "{:.2f}"),
    ("req/stream", "requests_per_stream", "{:.1f}"),
    ("client CPU µs/tok", "client_cpu_us_per_token", "{:.1f}"),
    ("server CPU µs/tok", "server_cpu_us_per_token", "{:.1f}"),
    ("wire B/tok in", "wire_bytes_in_per_token", "{:.0f}"),
    ("wire B/tok out", "wire_bytes_out_per_token", "{:.0f}"),
    ("errors", "errors", "{:.0f}"),
]


RATIOS = [  # header, counters summed; relative to the sse case of the same recording and concurrency
    ("wire ×sse", ("wire_bytes_in_per_token", "wire_bytes_out_per_token")),
    ("CPU ×sse", ("client_cpu_us_per_token", "server_cpu_us_per_token")),
]


def ratio(case, reference, keys):
    if reference is None or reference is case:
        return "1.00" if reference is case else "-"
    try:
        num = sum(case["counters"][k] for k in keys)
        den = sum(reference["counters"][k] for k in keys)
    except KeyError:
        return "-"
    return f"{num / den:.2f}" if den > 0 else "-"


def sse_references(cases):
    """The reference of every case: the sse case of the same recording and concurrency."""
    return {(c["recording"], c["concurrency"]): c for c in cases
            if c["transport"] == "sse" and not c["error"]}


def rows(cases):
    sse = sse_references(cases)
    for c in cases:
        cells = [c["name"]]
        for _, key, fmt in COLUMNS:
            v = c["counters"].get(key)
            cells.append(fmt.format(v) if v is not None else "-")
        reference = sse.get((c["recording"], c["concurrency"]))
        cells[-1:-1] = [ratio(c, reference, keys) for _, keys in RATIOS]
        if c["error"]:
            cells[-1] = cells[-1] if cells[-1] not in ("-", "0") else "yes"
            cells[-1] += " (FAILED)"
        yield cells


WIRE = ("wire_bytes_in_per_token", "wire_bytes_out_per_token")


def wire_per_token(case):
    try:
        return sum(case["counters"][k] for k in WIRE)
    except KeyError:
        return None


def shape_rows(cases):
    """(header, rows): wire B/token (in + out) of sse and of each poll shape, side by side."""
    shapes = [s for s in bench_results.SHAPES if any(c["shape"] == s for c in cases)]
    shapes += sorted({c["shape"] for c in cases if c["shape"]} - set(shapes))  # unknown, last
    if not shapes:
        return None, []
    sse = sse_references(cases)
    groups = {}  # (recording, concurrency, setting) -> {shape: case}, in run order
    for c in cases:
        if c["shape"]:
            key = (c["recording"], c["concurrency"], bench_results.setting(c))
            groups.setdefault(key, {})[c["shape"]] = c
    header = ["recording", "c", "polling", "sse"] + shapes
    table = []
    order = {}  # recordings in run order; then concurrency; poll by interval, long-poll last
    for c in cases:
        order.setdefault(c["recording"], len(order))
    transports = {"poll": 0, "long-poll": 1}

    def sort_key(item):
        (recording, concurrency, _), by_shape = item
        case = next(iter(by_shape.values()))
        return (order[recording], concurrency, transports.get(case["transport"], 2),
                case["interval_ms"])

    for (recording, concurrency, setting), by_shape in sorted(groups.items(), key=sort_key):
        reference = sse.get((recording, concurrency))
        ref = wire_per_token(reference) if reference else None
        polling = setting.replace("/", " ") + (" ms" if "/" in setting else "")
        cells = [recording, str(concurrency), polling, f"{ref:.0f}" if ref is not None else "-"]
        for shape in shapes:
            c = by_shape.get(shape)
            if c is None and setting == "long-poll" and shape not in ("delta", "events"):
                cells.append("n/a")  # long-poll runs only the cursor shapes
                continue
            v = wire_per_token(c) if c else None
            if v is None:
                cells.append("-")
                continue
            cell = f"{v:.0f}"
            if ref:
                cell += f" ({v / ref:.1f}×)"
            if c["error"]:
                cell += " FAILED"
            cells.append(cell)
        table.append(cells)
    return header, table


def print_table(header, table, markdown, left=1):
    """`left`: how many leading columns are text (left-aligned)."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|")
        for r in table:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        r[i].ljust(widths[i]) if i < left else r[i].rjust(widths[i]) for i in range(len(r)))
    print(line(header))
    for r in table:
        print(line(r))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    context, cases = bench_results.load(args[0])
    if context.get("interrupted"):
        print(f"INTERRUPTED: {context['interrupted']}")
        print()
    header = ["case"] + [h for h, _, _ in COLUMNS[:-1]] + [h for h, _ in RATIOS] + [COLUMNS[-1][0]]
    print_table(header, list(rows(cases)), markdown)
    shape_header, shape_table = shape_rows(cases)
    if shape_table:
        print()
        print("wire bytes per token (in + out) by poll shape, beside sse's; (N×) = relative to sse")
        print()
        print_table(shape_header, shape_table, markdown, left=3)
    failed = [c for c in cases if c["error"]]
    for c in failed:
        print(f"FAILED {c['name']}: {c['error']}")
    return 1 if failed or context.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
