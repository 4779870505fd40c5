#!/usr/bin/python3
"""Prints the short console tables of an ssebench-bench JSON result.

Per case: TTFT p50, delivery lag p50/p99, requests per stream, client and server CPU per token,
wire bytes per token in and out (the figures whose row in ssebench/figures.py has a column), the
wire bytes and CPU (client + server) per token relative to the case's sse reference (the sse case
of the same recording, load, HTTP version and link; ssebench/results.py), and failed streams.

Then, when the run has poll shapes, one row per recording, load and polling setting (poll at each
interval, long-poll) with the wire bytes per token (in + out) of SSE and of each shape side by
side, each shape's ×sse beside it.

An interrupted run (its context has "interrupted") is said so first, and exits 1 as a failed one.
"""
import sys

from ssebench import cli, table


def main():
    ap = cli.parser(__doc__)
    ap.add_argument("run", help="a run folder or its benchmark.json")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables")
    a = ap.parse_args()
    context, cases = cli.load("bench_table", a.run)
    text, status = table.report(context, cases, a.markdown)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
