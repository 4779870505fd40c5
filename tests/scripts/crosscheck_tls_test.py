#!/usr/bin/python3
"""scripts/crosscheck --tls: the case over TLS against the server's TLS port, the capture
decrypted with the key log the server writes only when asked (--tls-keylog), and every figure
checked as over cleartext: the harness's HTTP bytes and the server's byte counters equal the
decrypted bytes, TCP_INFO's payload equals the TLS records on the wire, the SSE chunks and ws
frames are the recording's, byte for byte; over HTTP/2 (ALPN h2) the decrypted frames.

Usage: crosscheck_tls_test.py BUILD_DIR. Needs root and tshark: exit 77 (skipped) without.
"""
import json
import os
import subprocess
import sys
import tempfile

from checks import SKIP, cannot_capture, check, outcome
from ssebench.recordings import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "crosscheck", "crosscheck.py")
RUN_TIMEOUT_S = 120


def run(build_dir, out, *args):
    cmd = [sys.executable, SCRIPT, "--build-dir", build_dir, "--out", out, "--tls",
           "--models", "chat-gpt-4o-mini-text", "--concurrency", "2", "--speed", "4", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-2000:], sep="\n")
    return r


def rows_of(out):
    with open(os.path.join(out, "crosscheck.json")) as f:
        return json.load(f)["rows"]


def exact_rows_agree(out, what):
    """Every row but the timing ones (" ms" in the figure: this shared machine's scheduling, as
    over cleartext) agrees: bytes, segments, connections, requests, frames."""
    bad = [x["figure"] for x in rows_of(out) if " ms" not in x["figure"] and x["verdict"] != "OK"]
    check(not bad, f"{what}: every byte, segment and frame row agrees ({bad or 'all'})")


def main():
    build_dir = sys.argv[1]
    if why := cannot_capture():
        print(f"skipped: {why}")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="crosscheck-tls-") as tmp:
        out = os.path.join(tmp, "h1")
        r = run(build_dir, out, "--cases", "sse,ws,poll", "--http", "1.1")
        check(r.returncode in (0, 1), f"sse, ws, poll over TLS, HTTP/1.1: ran (exit {r.returncode})")
        check(os.path.getsize(os.path.join(out, "tls", "keylog.txt")) > 0,
              "the server wrote the key log the cross-check asked for")
        if r.returncode in (0, 1):
            exact_rows_agree(out, "HTTP/1.1")
            rows = rows_of(out)
            for case in ("sse-chat-gpt-4o-mini-text", "ws-chat-gpt-4o-mini-text",
                         "poll-chat-gpt-4o-mini-text"):
                mine = {x["figure"]: x for x in rows if x["case"] == case}
                http = mine.get("http_bytes_in (client, socket API)")
                tcp = mine.get("tcp_payload_bytes_in (client, TCP_INFO)")
                check(http is not None and http["verdict"] == "OK",
                      f"{case}: HTTP bytes in = the decrypted bytes")
                check(tcp is not None and tcp["verdict"] == "OK",
                      f"{case}: TCP_INFO bytes in = the TLS records on the wire")
                # TLS costs bytes: the records carry more than the HTTP inside them.
                check(http is not None and tcp is not None and tcp["harness"] > http["harness"],
                      f"{case}: TCP payload above the HTTP bytes (TLS's records)")
                srv = mine.get("server bytes_out (/mock/stats)")
                check(srv is not None and srv["verdict"] == "OK",
                      f"{case}: the server's bytes out = the decrypted bytes")
            frames = [x for x in rows if "identical to the recording" in x["figure"]]
            check(len(frames) == 2 and all(x["verdict"] == "OK" for x in frames),
                  "SSE chunks and ws frames identical to the recording's, decrypted")
        out = os.path.join(tmp, "h2")
        r = run(build_dir, out, "--cases", "sse", "--http", "2")
        check(r.returncode in (0, 1), f"sse over TLS, HTTP/2 by ALPN: ran (exit {r.returncode})")
        if r.returncode in (0, 1):
            exact_rows_agree(out, "HTTP/2")
            rows = {x["figure"]: x for x in rows_of(out)}
            check(rows.get("SSE DATA frames identical to the recording's events", {})
                  .get("verdict") == "OK", "HTTP/2: the decrypted DATA frames are the events")
    return outcome()


if __name__ == "__main__":
    sys.exit(main())
