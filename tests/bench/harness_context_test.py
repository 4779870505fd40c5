#!/usr/bin/python3
"""Reads the smoke run's JSON: the server on 127.0.0.1 is reached over lo, MTU 65536, every case
reports its TCP retransmission total, the context lists the poll shapes, and every poll or
long-poll case names its shape last (long-poll only a cursor shape).
Usage: harness_context_test.py HARNESS_JSON"""
import sys

from ssebench import results

context, cases = results.load(sys.argv[1])
problems = []
if context.get("interface") != "lo":
    problems.append(f"interface is {context.get('interface')!r}, want 'lo'")
if str(context.get("interface_mtu_bytes")) != "65536":
    problems.append(f"interface_mtu_bytes is {context.get('interface_mtu_bytes')!r}, want 65536")
listed = context.get("poll_shapes", "").split(",")
if not listed or not set(listed) <= set(results.SHAPES):
    problems.append(f"poll_shapes is {context.get('poll_shapes')!r}")
if not cases:
    problems.append("no benchmark in the JSON")
for c in cases:
    if "tcp_retransmits" not in c["counters"]:
        problems.append(f"{c['name']}: no tcp_retransmits counter")
    polled = c["transport"] in ("poll", "long-poll")
    # The shape is the last part of the setting: only the variants (/http:2 …) come after it.
    tail = "/shape:" + c["shape"] + "".join("/" + v for v in results.via(c).split())
    if polled != bool(c["shape"]) or (polled and not c["name"].endswith(tail)):
        problems.append(f"{c['name']}: the shape is not the name's last part but the variants")
    if c["load"] != "closed" or c["concurrency"] != 2 or c["recording"] not in c["name"]:
        problems.append(f"{c['name']}: fields load {c['load']}, concurrency {c['concurrency']}, "
                        f"recording {c['recording']}")
    if c["shape"] and c["shape"] not in listed:
        problems.append(f"{c['name']}: shape {c['shape']} is not in poll_shapes")
    if c["transport"] == "long-poll" and c["shape"] not in ("delta", "events"):
        problems.append(f"{c['name']}: long-poll runs only the cursor shapes")
if not any(c["transport"] == "poll" and c["shape"] for c in cases):
    problems.append("no poll case with a shape")
for p in problems:
    print(f"{sys.argv[1]}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
