#!/usr/bin/python3
"""Reads the smoke run's JSON: the server on 127.0.0.1 is reached over lo, MTU 65536, and every
case reports its TCP retransmission total. Usage: harness_context_test.py HARNESS_JSON"""
import json
import sys

with open(sys.argv[1]) as f:
    run = json.load(f)
context = run["context"]
problems = []
if context.get("interface") != "lo":
    problems.append(f"interface is {context.get('interface')!r}, want 'lo'")
if str(context.get("interface_mtu_bytes")) != "65536":
    problems.append(f"interface_mtu_bytes is {context.get('interface_mtu_bytes')!r}, want 65536")
cases = [b for b in run["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
if not cases:
    problems.append("no benchmark in the JSON")
for b in cases:
    if "tcp_retransmits" not in b:
        problems.append(f"{b['name']}: no tcp_retransmits counter")
for p in problems:
    print(f"{sys.argv[1]}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
