#!/usr/bin/python3
"""The link axis end to end (root: the emulator makes namespaces and TUN devices; exit 77 skips
otherwise). One sse case of a short recording at --speed=4 on `lan` and on `3g`:
- the names end in /link:lan and /link:3g, the records' link fields say so, lan runs first;
- 3g's time to first token is above lan's by most of 3g's 300 ms round trip (its connection was
  opened in the warm-up: the request and the first bytes' round trip; a handshake would add one);
- every link_* counter is there, packets went both ways, the emulator delivered them, and its
  packets are the clients' TCP segments (TCP_INFO), none of the harness's /mock/stats requests;
- scripts/ssebench/figures.py has a row for every counter of the run (figures_test.py);
- the context lists the links, the emulator and 3g's profile (300 ms, 1.6 / 0.768 Mbit/s);
- the interface the clients use is the emulator's TUN end, MTU 1500;
- no ssebench-bench-* namespace is left.
Usage: harness_link_axis_test.py HARNESS_BINARY OUT_DIR"""
import json
import os
import subprocess
import sys

from ssebench import results

if os.geteuid() != 0:
    print("harness_link_axis_test: not root, skipped (the link emulator needs root)")
    sys.exit(77)

harness, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
out = os.path.join(out_dir, "harness_link.json")
run = subprocess.run(
    [harness, "--link=lan,3g", "--cases=sse", "--http=1.1", "--models=chat-gpt-4o-mini-text",
     "--concurrency=2", "--speed=4", f"--benchmark_out={out}", "--benchmark_out_format=json"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
problems = []
if run.returncode != 0:
    problems.append(f"exit {run.returncode}: {run.stderr[-2000:]}")
else:
    context, cases = results.load(out)
    by_link = {c["link"]: c for c in cases}
    if [c["link"] for c in cases] != ["lan", "3g"]:
        problems.append(f"links in order {[c['link'] for c in cases]}, want lan then 3g")
    for link, c in by_link.items():
        if not c["name"].endswith("/link:" + link):
            problems.append(f"{c['name']}: the name does not end in /link:{link}")
        k = c["counters"]
        missing = [n for n in ("link_down_packets", "link_up_packets", "link_down_bytes",
                               "link_up_bytes", "link_down_delivered", "link_up_delivered",
                               "link_down_drops_loss", "link_down_drops_queue",
                               "link_down_queue_delay_ms_p50", "link_down_queue_delay_ms_p99",
                               "link_up_queue_delay_ms_p99", "link_cpu_us_per_packet",
                               "link_lateness_us_p50", "link_lateness_us_p99", "link_behind")
                   if n not in k]
        if missing:
            problems.append(f"{c['name']}: no {', '.join(missing)}")
            continue
        if not (k["link_down_packets"] > 0 and k["link_up_packets"] > 0
                and k["link_down_bytes"] > 0 and k["link_down_delivered"] > 0):
            problems.append(f"{c['name']}: link counters {k}")
        # The emulator saw the clients' TCP segments and nothing else: the harness's /mock/stats
        # requests (three per round, each a connection of ~10 packets) go over the server
        # namespace's loopback. A packet of slack each way: a last ACK after the socket's count.
        for way, seg in (("down", "segments_in_per_stream"), ("up", "segments_out_per_stream")):
            sent = k[seg] * k["streams_run"]
            if abs(k[f"link_{way}_packets"] - sent) > 2:
                problems.append(f"{c['name']}: link_{way}_packets {k[f'link_{way}_packets']}, "
                                f"the clients' sockets counted {sent:.0f} segments")
        # The answer's bytes went down the link: at least the HTTP bytes the client read.
        if k["link_down_bytes"] < k["http_bytes_in_per_stream"] * k["streams"]:
            problems.append(f"{c['name']}: link_down_bytes {k['link_down_bytes']} below the "
                            f"HTTP bytes in ({k['http_bytes_in_per_stream']} x {k['streams']})")
    if "lan" in by_link and "3g" in by_link:
        lan, g3 = by_link["lan"]["counters"], by_link["3g"]["counters"]
        gap = g3.get("ttft_ms_p50", 0) - lan.get("ttft_ms_p50", 0)
        if gap < 0.8 * 300:
            problems.append(f"3g's ttft p50 is {gap:.1f} ms above lan's, want >= 240 (0.8 RTT)")
        print(f"harness_link_axis_test: ttft p50 lan {lan.get('ttft_ms_p50'):.1f} ms, "
              f"3g {g3.get('ttft_ms_p50'):.1f} ms (+{gap:.1f})")
    if context.get("links") != "lan,3g":
        problems.append(f"context links {context.get('links')!r}")
    profiles = json.loads(context.get("link_profiles", "{}"))
    if profiles.get("3g", {}).get("rtt_ms") != 300 or profiles["3g"].get("down_mbit") != 1.6:
        problems.append(f"context link_profiles {profiles}")
    emulator = json.loads(context.get("link_emulator", "{}"))
    if not emulator.get("path", "").endswith("ssebench-link"):
        problems.append(f"context link_emulator {emulator}")
    if context.get("interface") != "sblink-cli" or context.get("interface_mtu_bytes") != "1500":
        problems.append(f"interface {context.get('interface')} MTU "
                        f"{context.get('interface_mtu_bytes')}, want sblink-cli 1500")
    figures = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "..", "scripts",
                                      "figures_test.py"), "--counters-only", out])
    if figures.returncode != 0:
        problems.append("figures_test.py: a counter of the link run has no row")
    ns = {emulator.get("server_ns"), emulator.get("client_ns")}
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    left = [n for n in listed.split() if n in ns]
    if None in ns or left:
        problems.append(f"namespaces left: {left} (of {ns})")
for p in problems:
    print(f"harness_link_axis_test: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
