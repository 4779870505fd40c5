#!/usr/bin/python3
"""scripts/radio --run on this build: every transport's packets captured while soak users hold a
scenario, then modelled. A short run (12 s, heartbeats every 2 s) of SSE and 5 s polls: both soak
users end well; each transport's capture has packets both ways; the SSE user's capture shows a
packet at least every heartbeat (the server's comments); the poll user's shows its requests every
5 s; the table and JSON say MODELLED; bad flags are one line and exit 2.

Usage: radio_run_test.py BUILD_DIR. Needs root and tshark: exit 77 (skipped) without."""
import json
import os
import subprocess
import sys
import tempfile

from checks import SKIP, cannot_capture, check, outcome
from ssebench import radio
from ssebench.recordings import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "radio")
DURATION_S, HEARTBEAT_S = 12, 2


def gaps(packets):
    ts = sorted(p.t_s for p in packets)
    return [b - a for a, b in zip(ts, ts[1:])]


def main():
    build = os.path.abspath(sys.argv[1])
    if why := cannot_capture():
        print(f"skipped: {why}")
        return SKIP
    for args, says in ((["--run", "--transports=pigeon"], "unknown transport 'pigeon'"),
                       (["--run", "x.pcap"], "give a FILE to model, or --run"),
                       (["--run", "--model=nope"], "no recording")):
        p = subprocess.run([sys.executable, SCRIPT, *args, f"--build-dir={build}"],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and says in p.stderr,
              f"{args}: exit 2 and one line saying {says!r} (got {p.returncode}: {p.stderr!r})")
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([sys.executable, SCRIPT, "--run", "--transports=sse,poll5",
                            f"--duration-s={DURATION_S}", f"--heartbeat-s={HEARTBEAT_S}",
                            f"--build-dir={build}", f"--out={out}"],
                           capture_output=True, text=True, timeout=DURATION_S + 120)
        check(p.returncode == 0, f"the run exits 0 (got {p.returncode}: {p.stderr[-500:]})")
        if p.returncode != 0:
            return 1
        doc = json.load(open(os.path.join(out, "radio.json")))
        check(doc["context"]["modelled"] and "MODELLED" in p.stdout,
              "the table and the JSON say MODELLED")
        for name in ("sse", "poll5"):
            t = doc["transports"][name]
            check(t["soak_exit"] == 0, f"{name}: its soak user ended well")
            packets, _ = radio.read(os.path.join(out, f"{name}.pcapng"), None, "address")
            up = [x for x in packets if x.up]
            down = [x for x in packets if not x.up]
            check(len(up) > 0 and len(down) > 0, f"{name}: packets both ways "
                  f"({len(up)} up, {len(down)} down)")
            g = max(gaps(packets) or [DURATION_S])
            period = HEARTBEAT_S if name == "sse" else 5
            check(g <= period + 1.0, f"{name}: a packet at least every {period} s "
                  f"(+1 s): the longest silence was {g:.2f} s")
            check(t["mean"]["promotions_per_hour"] > 0, f"{name}: its radio was promoted")
    return outcome()


if __name__ == "__main__":
    sys.exit(main())
