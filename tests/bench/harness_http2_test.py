#!/usr/bin/python3
"""Reads the --http=2 smoke run's JSON: the context says http 2, every case's http field is "2"
and its name ends in /http:2 (for people and filters), every case succeeded over one connection
and reports header bytes apart from body bytes.
Usage: harness_http2_test.py HARNESS_JSON"""
import sys

from ssebench import results

context, cases = results.load(sys.argv[1])
problems = []
if context.get("http") != "2":
    problems.append(f"context http is {context.get('http')!r}, want '2'")
if not cases:
    problems.append("no benchmark in the JSON")
for c in cases:
    counters = c["counters"]
    if c["error"]:
        problems.append(f"{c['name']}: failed: {c['error']}")
    if not c["name"].endswith("/http:2") or c["http"] != "2":
        problems.append(f"{c['name']}: http {c['http']!r}, or the name does not end in /http:2")
    if c["transport"] in ("poll", "long-poll") and not c["shape"]:
        problems.append(f"{c['name']}: no shape field")
    if results.label(c) != f"{c['transport']} http:2":
        problems.append(f"{c['name']}: label {results.label(c)!r}")
    for name in ("header_bytes_in_per_request", "header_bytes_out_per_request",
                 "body_bytes_in_per_request", "header_share_in"):
        if name not in counters:
            problems.append(f"{c['name']}: no {name} counter")
    # The warm-up round opened the connection; measured rounds reuse it.
    if counters.get("connections_per_stream", 1) > 0:
        problems.append(f"{c['name']}: "
                        f"connections_per_stream {counters.get('connections_per_stream')}")
for p in problems:
    print(f"{sys.argv[1]}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
