#!/usr/bin/python3
"""Prints the short console table of an ssebench-bench JSON result.

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


def rows(cases):
    for c in cases:
        cells = [c["name"]]
        for _, key, fmt in COLUMNS:
            v = c["counters"].get(key)
            cells.append(fmt.format(v) if v is not None else "-")
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
    header = ["case"] + [h for h, _, _ in COLUMNS]
    table = list(rows(cases))
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * len(COLUMNS)) + "|")
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
