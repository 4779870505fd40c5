#!/usr/bin/python3
"""The README's WebSocket / HTTP/2 figures from a run: the markdown table of one recording at one
concurrency (sse, ws, poll, long-poll, rest, each over HTTP/1.1 and HTTP/2), then the ratios the
findings quote, over every recording and concurrency of the run: HTTP/2 against HTTP/1.1 (wire
bytes, server CPU per token) and ws against sse (wire bytes, server CPU, lag p50).
Rows of the optional second run replace the first run's cases of the same name."""
import sys

from ssebench import cli, variants


def main():
    ap = cli.parser(__doc__, "variants_table.py")
    ap.add_argument("run", metavar="RUN")
    ap.add_argument("recording", metavar="RECORDING")
    ap.add_argument("concurrency", metavar="CONCURRENCY", type=int)
    ap.add_argument("replacing", metavar="RUN_FOR_REPLACED_ROWS", nargs="?")
    a = ap.parse_args()
    _, cases = cli.load("variants_table", a.run)
    replaced = {}
    if a.replacing:
        replaced = {c["name"]: c for c in cli.load("variants_table", a.replacing)[1]}
    variants.table(cases, a.recording, a.concurrency, replaced)
    variants.ratios(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
