#!/usr/bin/python3
"""How exact is a TUN capture's timestamp? Sends UDP datagrams through ssebench-link
--profile=none from its client namespace to its server namespace, captures both TUN ends as
crosscheck --link does, and places each packet's two stamps against the sender's clock read
just before and after its sendto() and the receiver's just after its recv() returned
(CLOCK_REALTIME, the capture's clock). Prints the figures and writes stamp_error.json (README.md,
"Across the emulated link"). Root; Python standard library and tshark."""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ssebench")
_SPEC = importlib.util.spec_from_file_location(
    "ssebench", os.path.join(_PACKAGE, "__init__.py"), submodule_search_locations=[_PACKAGE])
sys.modules["ssebench"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sys.modules["ssebench"])
from ssebench import cli, crosscheck as xc  # noqa: E402

PORT = 9099
# The sender: its clock around each sendto(), one JSON line per datagram at the end.
SENDER = """
import json, socket, sys, time
n, gap, dst = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out = []
for i in range(n):
    payload = b"%08d" % i + b"x" * 92
    t0 = time.time_ns(); s.sendto(payload, (dst, PORT)); t1 = time.time_ns()
    out.append((i, t0, t1))
    time.sleep(gap)
print(json.dumps(out))
""".replace("PORT", str(PORT))
# The receiver: its clock just after each recv() returned.
RECEIVER = """
import json, socket, sys, time
n, bind = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((bind, PORT)); s.settimeout(5)
print("bound", flush=True)
out = []
try:
    while len(out) < n:
        data = s.recv(2048); t = time.time_ns()
        out.append((int(data[:8]), t))
except socket.timeout:
    pass
print(json.dumps(out))
""".replace("PORT", str(PORT))


def main():
    p = cli.parser(__doc__, "stamp_error.py")
    p.add_argument("--build-dir", default=os.path.join(xc.ROOT, "build", "release"))
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--gap-ms", type=float, default=2.0, help="pause between datagrams")
    p.add_argument("--out", default=None, help="folder (default: a temporary one)")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("stamp_error: needs root (network namespaces, captures)", file=sys.stderr)
        return 1
    out = args.out or tempfile.mkdtemp(prefix="ssebench-stamp-")
    os.makedirs(out, exist_ok=True)
    exe = os.path.join(args.build_dir, "link", "ssebench-link")
    try:
        link = xc.Link([exe, "--profile=none", f"--name={xc.LINK_NAME}"], out)
        f = link.fields
        caps = [xc.Capture(None, os.path.join(out, "cli.pcapng"), "sblink-cli", f["client_ns"],
                           wait=False),
                xc.Capture(None, os.path.join(out, "srv.pcapng"), "sblink-srv", f["server_ns"],
                           wait=False)]
        for c in caps:
            c.wait_started()
        rx = xc.spawn(["ip", "netns", "exec", f["server_ns"], sys.executable, "-c", RECEIVER,
                       str(args.count), f["server_addr"]], stdout=subprocess.PIPE, text=True)
        if rx.stdout.readline().strip() != "bound":
            raise xc.Fail("the receiver did not start")
        tx = subprocess.run(["ip", "netns", "exec", f["client_ns"], sys.executable, "-c", SENDER,
                             str(args.count), str(args.gap_ms / 1000), f["server_addr"]],
                            capture_output=True, text=True, timeout=600)
        sent = {i: (t0, t1) for i, t0, t1 in json.loads(tx.stdout)}
        got = {i: t for i, t in json.loads(rx.communicate(timeout=30)[0])}
        xc.release(rx)
        time.sleep(0.3)
        for c in caps:
            c.stop()
        stats = link.control("stats")
        link.stop()
    except xc.Fail as e:
        print(f"stamp_error: {e}", file=sys.stderr)
        return 2

    def udp_seq(pkt):
        ihl = (pkt[0] & 0x0F) * 4
        return int(pkt[ihl + 8:ihl + 16]) if len(pkt) >= ihl + 16 and pkt[9] == 17 else None

    at = {}
    for name in ("cli", "srv"):
        for t, pkt in xc.read_pcapng(os.path.join(out, f"{name}.pcapng")):
            seq = udp_seq(pkt)
            if seq is not None:
                at[(name, seq)] = t
    after_call_start, before_call_end, recv_after, transit = [], [], [], []
    for i, (t0, t1) in sent.items():
        c, s = at.get(("cli", i)), at.get(("srv", i))
        if c is not None:
            after_call_start.append((c - t0) / 1e3)
            before_call_end.append((t1 - c) / 1e3)
        if s is not None and i in got:
            recv_after.append((got[i] - s) / 1e3)
        if c is not None and s is not None:
            transit.append((s - c) / 1e3)
    result = {
        "count": args.count, "gap_ms": args.gap_ms, "ready": link.ready, "emulator": stats,
        "sender_stamp_minus_sendto_start_us": xc.ranks(after_call_start),
        "sendto_end_minus_sender_stamp_us": xc.ranks(before_call_end),
        "stamps_outside_sendto": sum(1 for a, b in zip(after_call_start, before_call_end)
                                     if a < 0 or b < 0),
        "recv_return_minus_receiver_stamp_us": xc.ranks(recv_after),
        "receiver_stamp_minus_sender_stamp_us": xc.ranks(transit),
        "receiver_stamps_after_recv": sum(1 for x in recv_after if x < 0)}
    with open(os.path.join(out, "stamp_error.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    for k, v in result.items():
        if isinstance(v, dict) and "p50" in v:
            print(f"{k}: n {v['count']}, p50 {v['p50']:.1f}, p99 {v['p99']:.1f}, "
                  f"max {v['max']:.1f}")
    print(f"stamps outside their sendto(): {result['stamps_outside_sendto']}; receiver stamps "
          f"after recv() returned: {result['receiver_stamps_after_recv']}; emulator lateness "
          f"p50/p99/max {stats['lateness_us_p50']}/{stats['lateness_us_p99']}/"
          f"{stats['lateness_us_max']} us; wrote {os.path.join(out, 'stamp_error.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
