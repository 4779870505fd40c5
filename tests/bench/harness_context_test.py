#!/usr/bin/python3
"""Reads the smoke run's JSON: the server on 127.0.0.1 is reached over lo, MTU 65536, and every
case reports its TCP retransmission total. Usage: harness_context_test.py HARNESS_JSON"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
import bench_results  # noqa: E402

context, cases = bench_results.load(sys.argv[1])
problems = []
if context.get("interface") != "lo":
    problems.append(f"interface is {context.get('interface')!r}, want 'lo'")
if str(context.get("interface_mtu_bytes")) != "65536":
    problems.append(f"interface_mtu_bytes is {context.get('interface_mtu_bytes')!r}, want 65536")
if not cases:
    problems.append("no benchmark in the JSON")
for c in cases:
    if "tcp_retransmits" not in c["counters"]:
        problems.append(f"{c['name']}: no tcp_retransmits counter")
for p in problems:
    print(f"{sys.argv[1]}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
