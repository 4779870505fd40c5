#!/usr/bin/python3
"""Prints the short console table of an ssebench-bench JSON result.

Per case: TTFT p50, delivery lag p50/p99, requests per stream, client and server CPU per token,
wire bytes per token in and out, the wire bytes and CPU (client + server) per token relative to
the sse case of the same recording and concurrency (the reference), and failed streams.

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


def rows(cases):
    sse = {(c["recording"], c["concurrency"]): c for c in cases
           if c["transport"] == "sse" and not c["error"]}
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


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    _, cases = bench_results.load(args[0])
    header = ["case"] + [h for h, _, _ in COLUMNS[:-1]] + [h for h, _ in RATIOS] + [COLUMNS[-1][0]]
    table = list(rows(cases))
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in table:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
        line = lambda r: "  ".join(  # noqa: E731
            r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r)))
        print(line(header))
        for r in table:
            print(line(r))
    failed = [c for c in cases if c["error"]]
    for c in failed:
        print(f"FAILED {c['name']}: {c['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
