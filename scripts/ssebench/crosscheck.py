#!/usr/bin/python3
"""Checks ssebench-bench's figures against a packet capture of the same traffic.

For each case (transport x recording at one concurrency) it starts a capture of the loopback
interface (tshark), runs ssebench-bench for exactly that case against one mock server, reads the
capture, and compares what the harness counted (HTTP bytes, TCP_INFO payload and segments,
connections, delivery lag) and what the server reported (/mock/stats bytes, lateness) with what
the capture shows. Prints a table, writes crosscheck.json, exits 1 on any mismatch, 2 on an error.
Standard library only; see scripts/crosscheck/README.md.
"""

import atexit
import datetime
import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from . import cli, recordings, server as children
from .recordings import ROOT

# Time limits (seconds) of every child process and wait.
SERVER_START_TIMEOUT_S = 10
TSHARK_START_TIMEOUT_S = 20
TSHARK_STOP_TIMEOUT_S = 20
TSHARK_READ_TIMEOUT_S = 120
BENCH_TIMEOUT_S = 300  # per case; --timeout
HTTP_TIMEOUT_S = 10
CHILD_STOP_TIMEOUT_S = 5
# Pause after the harness exits before the capture stops, so the teardown packets are in it.
CAPTURE_TAIL_S = 0.5

# METRICS.md's wire_bytes: IPv4 20 + TCP 20 + timestamp option 12 per segment.
WIRE_HEADER_BYTES = 52
# --tls: a TLS 1.3 record's bytes beyond its plaintext (header 5, content type 1, AEAD tag 16),
# and a close_notify alert's whole record (2 bytes of alert in one).
TLS_RECORD_OVERHEAD = 22
TLS_CLOSE_NOTIFY_BYTES = 24

# Tolerances; README.md says why each is what it is.
SERVER_LATENESS_TOL_MS = 1.0  # wire lateness - server lateness, per percentile
CLIENT_SLACK_MS = 0.05  # client lag may undershoot wire lag by timestamp granularity only
CLIENT_OVERHEAD_MAX_MS = 5.0  # client lag - wire lag above this is a harness delay
POLL_OVERHEAD_MAX_MS = 5.0

# Content events (METRICS.md / recordings/README.md): the kinds that can carry visible output.
CONTENT_KINDS = {"content", "refusal", "tool_args", "response.output_text.delta",
                 "response.refusal.delta", "response.function_call_arguments.delta",
                 "response.reasoning_summary_text.delta"}


class Fail(Exception):
    """A one-line error that ends the run with exit code 2."""


class EnvFail(Fail):
    """The environment is wrong (not root for --link): one line, exit code 1."""


def last_line(text, returncode):
    lines = text.strip().splitlines()
    return lines[-1] if lines else f"exit status {returncode}"


# ---------------------------------------------------------------------------------------------
# Child processes: every one is registered and stopped on any exit.

_children = []


def _stop(proc, sig=signal.SIGTERM):
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=CHILD_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def _cleanup():
    while _children:
        _stop(_children.pop())
    children.stop_all()


def spawn(argv, **kw):
    proc = subprocess.Popen(argv, **kw)
    _children.append(proc)
    return proc


def release(proc):
    if proc in _children:
        _children.remove(proc)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


# ---------------------------------------------------------------------------------------------
# Set-up

def ensure_tshark():
    """Installs tshark when root (the convention of scripts/lib/deps.sh), else says how."""
    st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "tshark"], capture_output=True,
                        text=True, timeout=30)
    if "install ok installed" in st.stdout and shutil.which("tshark"):
        return
    if os.getuid() != 0:
        raise Fail("tshark is missing. Run:\n  sudo apt-get install -y tshark")
    print("crosscheck: installing tshark", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = "/tmp/ssebench-apt.log"
    with open(log, "a") as out:
        ok = subprocess.run(["apt-get", "install", "-y", "-qq", "tshark"], env=env, stdout=out,
                            stderr=out, timeout=600).returncode == 0
        if not ok:  # a fresh machine has no package lists yet
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=out, stderr=out,
                           timeout=600)
            ok = subprocess.run(["apt-get", "install", "-y", "-qq", "tshark"], env=env,
                                stdout=out, stderr=out, timeout=600).returncode == 0
    if not ok or not shutil.which("tshark"):
        raise Fail(f"apt-get install tshark failed; see {log}")


def find_binaries(args):
    """The server and harness of one build folder: --build-dir, else build/release (what
    scripts/bench builds), else the build folder with the newest harness."""
    if args.build_dir:
        dirs = [args.build_dir]
    else:
        found = glob.glob(os.path.join(ROOT, "build", "*", "bench", "ssebench-bench"))
        found.sort(key=os.path.getmtime, reverse=True)
        dirs = [os.path.join(ROOT, "build", "release")]
        dirs += [os.path.dirname(os.path.dirname(f)) for f in found]
    for d in dirs:
        server = os.path.join(d, "mock_server", "ssebench-mock-server")
        bench = os.path.join(d, "bench", "ssebench-bench")
        if os.access(server, os.X_OK) and os.access(bench, os.X_OK):
            return os.path.abspath(server), os.path.abspath(bench)
    raise Fail("no build with both ssebench-mock-server and ssebench-bench under "
               f"{args.build_dir or os.path.join(ROOT, 'build', '*')}; build them or pass "
               "--build-dir")


def load_recording(path):
    try:
        return recordings.read_lines(path)
    except (OSError, ValueError) as e:
        raise Fail(f"{path}: cannot read the recording ({e})")


def data_payload(event):
    """The event's data payload, the JSON after `data: ` ("[DONE]"): what a ws frame carries."""
    return event["bytes"].split("data: ", 1)[1].rsplit("\n\n", 1)[0]


def is_content(event):
    """METRICS.md's content event: a content kind with a non-empty delta."""
    if event["kind"] not in CONTENT_KINDS:
        return False
    payload = data_payload(event)
    try:
        p = json.loads(payload)
    except ValueError:
        return False
    if "delta" in p and isinstance(p["delta"], str):  # Responses API
        return p["delta"] != ""
    for choice in p.get("choices") or []:
        d = choice.get("delta") or {}
        if d.get("content") or d.get("refusal"):
            return True
        for tc in d.get("tool_calls") or []:
            if (tc.get("function") or {}).get("arguments"):
                return True
    return False


def make_tls(outdir):
    """A throwaway CA and a server certificate for 127.0.0.1 (openssl's command line), in
    OUTDIR/tls: (ca.pem, server.pem, server.key)."""
    d = os.path.join(outdir, "tls")
    os.makedirs(d, exist_ok=True)
    f = {n: os.path.join(d, n) for n in ("ca.key", "ca.pem", "server.key", "server.csr",
                                          "server.pem", "san.cnf")}
    with open(f["san.cnf"], "w") as out:
        out.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for cmd in (["openssl", "req", "-x509", *ec, "-keyout", f["ca.key"], "-out", f["ca.pem"],
                 "-days", "2", "-subj", "/CN=ssebench crosscheck CA"],
                ["openssl", "req", "-new", *ec, "-keyout", f["server.key"], "-out",
                 f["server.csr"], "-subj", "/CN=localhost"],
                ["openssl", "x509", "-req", "-in", f["server.csr"], "-CA", f["ca.pem"], "-CAkey",
                 f["ca.key"], "-CAcreateserial", "-out", f["server.pem"], "-days", "2",
                 "-extfile", f["san.cnf"]]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail(f"--tls: {cmd[0]} {cmd[1]}: {e}")
        if r.returncode != 0:
            raise Fail(f"--tls: {' '.join(cmd[:2])}: {last_line(r.stderr, r.returncode)}")
    return f["ca.pem"], f["server.pem"], f["server.key"]


class Server:
    """The mock server (ssebench/server.py), its stderr in OUTDIR/server.log. With tls, a TLS
    port too (its certificate signed by a throwaway CA) whose session keys the server writes to
    OUTDIR/tls/keylog.txt (NSS key log: what tshark decrypts with)."""

    def __init__(self, binary, recordings_dir, outdir, tls=False):
        self.log = open(os.path.join(outdir, "server.log"), "wb")
        extra = []
        self.ca = self.keylog = self.tls_url = self.tls_port = None
        if tls:
            self.ca, cert, key = make_tls(outdir)
            self.keylog = os.path.join(outdir, "tls", "keylog.txt")
            extra = ["--tls-port=0", f"--tls-cert={cert}", f"--tls-key={key}",
                     f"--tls-keylog={self.keylog}"]
        try:
            self.child = children.mock_server(recordings_dir, *extra, binary=binary,
                                              stderr=self.log,
                                              start_timeout_s=SERVER_START_TIMEOUT_S, track=True)
        except children.StartError as e:
            self.log.close()
            raise Fail(str(e))
        self.url, self.port = self.child.url, self.child.port
        self.tls_url, self.tls_port = self.child.tls_url, self.child.tls_port

    def stats(self):
        try:
            return self.child.stats()
        except (OSError, ValueError) as e:
            raise Fail(f"{self.url}/mock/stats: {e}")

    def stop(self):
        self.child.stop(timeout_s=CHILD_STOP_TIMEOUT_S)
        self.log.close()


class Capture:
    """tshark on one interface (lo, filtered to the server's port; or a TUN end of the link inside
    its namespace, unfiltered) into a pcapng file."""

    def __init__(self, port, path, iface="lo", netns=None, wait=True):
        self.path = path
        self.errpath = path + ".tshark.log"
        self.err = open(self.errpath, "wb")
        argv = ["tshark", "-q", "-i", iface, "-w", path]
        if port is not None:
            argv[4:4] = ["-f", f"tcp port {port}"]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.proc = spawn(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        if wait:
            self.wait_started()

    def wait_started(self):
        # tshark says "Capturing on" before dumpcap has opened the device; the file's header is
        # written once it has, and a failure (no permission) ends tshark.
        end = time.monotonic() + TSHARK_START_TIMEOUT_S
        while "Capturing on" not in self._log() or self._size() == 0:
            if self.proc.poll() is not None:
                raise Fail(f"tshark could not capture: {self._error()}")
            if time.monotonic() > end:
                raise Fail(f"tshark did not start capturing within {TSHARK_START_TIMEOUT_S} s")
            time.sleep(0.05)
        time.sleep(0.2)
        if self.proc.poll() is not None:
            raise Fail(f"tshark could not capture: {self._error()}")

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def _error(self):
        lines = [x for x in self._log().splitlines() if x.strip()]
        errors = [x for x in lines if x.startswith("tshark: ") and x.strip() != "tshark:"]
        return (errors or lines or ["no message"])[0]

    def _log(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        """Stops with SIGINT (tshark flushes the file); returns the drop count it reports."""
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=TSHARK_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise Fail(f"tshark did not stop within {TSHARK_STOP_TIMEOUT_S} s")
        release(self.proc)
        if rc != 0 or self._size() == 0:
            raise Fail(f"tshark failed (exit status {rc}): {self._error()}")
        self.err.close()
        log = self._log()
        m = re.search(r"(\d+) packets? dropped", log)
        return int(m.group(1)) if m else 0


# ---------------------------------------------------------------------------------------------
# Reading the capture

FIELDS = ["frame.time_epoch", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.len",
          "tcp.flags", "tcp.seq", "tcp.payload", "ip.len"]
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


class Conn:
    """One TCP connection of the capture, split by direction (c2s: client to server)."""

    def __init__(self, sid):
        self.sid = sid
        self.frames = []  # (time, is_c2s, tcp len, flags, seq, payload bytes, ip len)
        self.syn_time = None
        self.first_c2s_payload_time = None
        self.ws = None  # an upgraded connection: (client frames, server frames), parse_ws_frames
        self.plain = None  # --tls: [(time, is_c2s, decrypted bytes)] in capture order

    def split(self):
        """What HTTP sees per direction (split_tcp's form): the TCP payload, or over TLS the
        decrypted application data, each frame's at the time of the frame that completed its
        record."""
        if self.plain is None:
            return self.split_tcp()
        out = {}
        for c2s in (True, False):
            data, marks = bytearray(), []
            for t, d, payload in self.plain:
                if d == c2s and payload:
                    data += payload
                    marks.append((len(data), t))
            out[c2s] = (bytes(data), marks)
        return out

    def split_tcp(self):
        """Payload per direction, reassembled by relative sequence number, and per-byte times.

        Returns {dir: (bytes, [(end_offset, time), ...])} where each pair says that the bytes
        before end_offset had all been on the wire by `time`.
        """
        out = {}
        for c2s in (True, False):
            data = bytearray()
            marks = []
            ahead = {}  # start -> payload: segments beyond a gap (one lost on a link), held
            for t, d, n, _flags, seq, payload, _ip_len in self.frames:
                if d != c2s or n == 0:
                    continue
                start = seq - 1  # relative sequence numbers start at 1 after the SYN
                if start + n <= len(data):
                    continue  # a retransmission of bytes already placed
                if start > len(data):
                    if len(payload) > len(ahead.get(start, b"")):
                        ahead[start] = payload
                    continue
                data += payload[len(data) - start:]
                while ahead:  # the gap filled: what was held may follow now
                    s0 = min(ahead)
                    if s0 > len(data):
                        break
                    held = ahead.pop(s0)
                    if s0 + len(held) > len(data):
                        data += held[len(data) - s0:]
                marks.append((len(data), t))
            if ahead:
                raise Fail(f"tcp.stream {self.sid}: a gap in the capture at byte {len(data)} "
                           f"(next segment starts at {min(ahead)}); packets were lost")
            out[c2s] = (bytes(data), marks)
        return out


def read_decrypted(path, keylog):
    """--tls: {frame number: decrypted application data} (tshark with the server's key log; the
    HTTP dissectors off so that the bytes come as they are)."""
    cmd = ["tshark", "-r", path, "-n", "-o", f"tls.keylog_file:{keylog}",
           "--disable-protocol", "http", "--disable-protocol", "http2",
           "--disable-protocol", "websocket", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number", "-e", "data.data"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TSHARK_READ_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Fail(f"tshark -r {path} took more than {TSHARK_READ_TIMEOUT_S} s")
    if r.returncode != 0:
        raise Fail(f"tshark -r {path}: {last_line(r.stderr, r.returncode)}")
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1]:
            out[int(parts[0])] = b"".join(bytes.fromhex(x.replace(":", ""))
                                          for x in parts[1].split(","))
    return out


def read_capture(path, port, keylog=None):
    cmd = ["tshark", "-r", path, "-n", "-o", "tcp.relative_sequence_numbers:TRUE",
           "-o", "tcp.desegment_tcp_streams:FALSE", "--disable-protocol", "http",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f", "-e", "frame.number"]
    plain = read_decrypted(path, keylog) if keylog else None
    for f in FIELDS:
        cmd += ["-e", f]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TSHARK_READ_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Fail(f"tshark -r {path} took more than {TSHARK_READ_TIMEOUT_S} s")
    if r.returncode != 0:
        raise Fail(f"tshark -r {path}: {last_line(r.stderr, r.returncode)}")
    conns = {}
    t_first = None
    for line in r.stdout.splitlines():
        number, _, line = line.partition("\t")
        parts = line.split("\t")
        if len(parts) != len(FIELDS) or not parts[1]:
            continue
        t = float(parts[0])
        t_first = t if t_first is None else t_first
        sid, sport, dport = int(parts[1]), int(parts[2]), int(parts[3])
        n, flags, seq = int(parts[4]), int(parts[5], 16), int(parts[6])
        payload = bytes.fromhex(parts[7].replace(":", "")) if parts[7] else b""
        if len(payload) != n:
            raise Fail(f"tcp.stream {sid}: payload of {len(payload)} bytes where tcp.len is {n} "
                       "(capture truncated by the snap length?)")
        c2s = dport == port
        if not c2s and sport != port:
            continue
        conn = conns.setdefault(sid, Conn(sid))
        conn.frames.append((t, c2s, n, flags, seq, payload, int(parts[8])))
        if plain is not None:
            if conn.plain is None:
                conn.plain = []
            conn.plain.append((t, c2s, plain.get(int(number), b"")))
        if flags & SYN and not flags & ACK and conn.syn_time is None:
            conn.syn_time = t  # the first: a SYN lost on a link is sent again later
        # The first request byte: over TLS the first decrypted one, not the ClientHello.
        sent = n > 0 if plain is None else bool(plain.get(int(number)))
        if c2s and sent and conn.first_c2s_payload_time is None:
            conn.first_c2s_payload_time = t
    return conns


def is_ws_upgrade(headers):
    return headers.get("upgrade", "").lower() == "websocket"


def parse_requests(data, marks):
    """HTTP/1.1 requests in client bytes:
    [(method, target, headers, body, time of last byte, time of first byte)]; a WebSocket upgrade
    is the last (frames follow it)."""
    out, pos = [], 0
    while pos < len(data) and not (out and is_ws_upgrade(out[-1][2])):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            raise Fail("capture: an incomplete request head")
        head = data[pos:end].decode("latin-1").split("\r\n")
        start = pos
        method, target, _ = head[0].split(" ", 2)
        headers = {}
        for h in head[1:]:
            k, v = h.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        body_start = end + 4
        n = int(headers.get("content-length", "0"))
        body = data[body_start:body_start + n]
        pos = body_start + n
        out.append((method, target, headers, body, time_of(marks, pos),
                    time_of(marks, start + 1)))
    return out


def time_of(marks, offset):
    """When the byte just before `offset` had been captured."""
    for end, t in marks:
        if end >= offset:
            return t
    raise Fail(f"capture: byte {offset} was never captured")


def parse_responses(data, marks):
    """HTTP/1.1 responses:
    [(status, headers, [(chunk bytes, chunk done time)], body, done time, head done time)].

    Chunked bodies keep their chunks, each with the time its last byte was captured. A 101
    (Switching Protocols) is the last: WebSocket frames follow it."""
    out, pos = [], 0
    while pos < len(data) and not (out and out[-1][0] == 101):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            raise Fail("capture: an incomplete response head")
        head = data[pos:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for h in head[1:]:
            k, v = h.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        pos = end + 4
        head_time = time_of(marks, pos)
        chunks = []
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    raise Fail("capture: an incomplete chunk header")
                size = int(data[pos:eol].split(b";")[0], 16)
                start = eol + 2
                if size == 0:
                    trailer_end = data.find(b"\r\n", start)
                    pos = trailer_end + 2
                    break
                chunk = data[start:start + size]
                chunks.append((chunk, time_of(marks, start + size)))
                body += chunk
                pos = start + size + 2
            body = bytes(body)
        else:
            n = int(headers.get("content-length", "0"))
            body = data[pos:pos + n]
            pos += n
        out.append((status, headers, chunks, body, time_of(marks, pos), head_time))
    return out


def parse_ws_frames(data, marks):
    """RFC 6455 frames after the upgrade's head: [(opcode, payload, done time, first byte time)],
    the client's unmasked. Read here from the bytes, sharing nothing with Beast."""
    out, pos = [], data.find(b"\r\n\r\n") + 4
    while pos < len(data):
        if len(data) - pos < 2:
            raise Fail("capture: an incomplete WebSocket frame header")
        b0, b1 = data[pos], data[pos + 1]
        n, p = b1 & 0x7F, pos + 2
        if n in (126, 127):
            width = 2 if n == 126 else 8
            n, p = int.from_bytes(data[p:p + width], "big"), p + width
        key = b""
        if b1 & 0x80:
            key, p = data[p:p + 4], p + 4
        payload = data[p:p + n]
        if len(payload) != n:
            raise Fail("capture: an incomplete WebSocket frame")
        if not b0 & 0x80:
            raise Fail("capture: a fragmented WebSocket message (one frame per event expected)")
        if key:
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        out.append((b0 & 0x0F, payload, time_of(marks, p + n), time_of(marks, pos + 1)))
        pos = p + n
    return out


# ---------------------------------------------------------------------------------------------
# Statistics

def percentile(sorted_values, q):
    """Linear between order statistics, as the harness computes (metrics.cpp)."""
    if not sorted_values:
        return float("nan")
    rank = q * (len(sorted_values) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def summary(values):
    s = sorted(values)
    if not s:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    return {"count": len(s), "p50": percentile(s, 0.5), "p99": percentile(s, 0.99),
            "max": s[-1]}


# ---------------------------------------------------------------------------------------------
# One case

def bench_flags(bench, server, model, prefix=()):
    """The optional flags this harness accepts. Its --help cannot say (Google Benchmark's
    Initialize answers --help first), so each flag is tried with --benchmark_list_tests (which
    asks the server for its stats: prefix puts it in the link's client namespace)."""
    supported = set()
    for flag in ("--no-warmup", "--rounds=1", "--speed=1"):
        cmd = [*prefix, bench, flag, f"--server={server.url}", "--cases=sse", f"--models={model}",
               "--benchmark_list_tests=true"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise Fail(f"{' '.join(cmd)} took more than 60 s")
        if "unknown flag" not in r.stderr:
            if r.returncode != 0:
                raise Fail(last_line(r.stderr, r.returncode))
            supported.add(flag.split("=")[0])
    return supported


def run_case(case, args, server, bench, flags, outdir, recordings, link=None,
             link_config=None):
    """One case; with a link (Link) and its configuration (link_model), across it: the harness
    in the client namespace, a capture on each TUN end."""
    transport, model = case
    tag = f"{transport}-{model}"
    pcap = os.path.join(outdir, f"{tag}.pcapng")
    bench_json = os.path.join(outdir, f"{tag}.bench.json")
    prefix = [] if link is None else ["ip", "netns", "exec", link.fields["client_ns"]]
    cmd = [*prefix, bench, f"--server={server.url}", f"--cases={transport}", f"--models={model}",
           f"--concurrency={args.concurrency}", f"--intervals={args.interval_ms}",
           f"--recordings={recordings}", f"--poll-shapes={args.poll_shape}",
           f"--benchmark_out={bench_json}", "--benchmark_out_format=json"]
    cmd.append(f"--http={args.http}")  # one version: the harness's default runs both
    if args.tls:
        cmd += ["--tls=on", f"--server-tls={server.tls_url}", f"--tls-ca={server.ca}"]
    for flag, value in (("--no-warmup", ""), ("--rounds", "=1"), ("--speed", f"={args.speed}")):
        if flag in flags:
            cmd.append(flag + value)
    if transport == "ws":
        cmd.append(f"--ws-turns={args.ws_turns}")  # one setting: the default runs 1 and 4
    print(f"crosscheck: {tag}: capturing; {' '.join(cmd[len(prefix) + 1:])}", file=sys.stderr)

    port = server.tls_port if args.tls else server.port
    if link is None:
        caps = [Capture(port, pcap)]
    else:
        pcap = os.path.join(outdir, f"{tag}.client-tun.pcapng")
        srv_pcap = os.path.join(outdir, f"{tag}.server-tun.pcapng")
        # The probes' and the last case's closing packets may still be held by the link: each
        # capture must start with nothing in flight, or one end sees a packet the other did not.
        link.wait_quiet()
        caps = [Capture(None, pcap, "sblink-cli", link.fields["client_ns"], wait=False),
                Capture(None, srv_pcap, "sblink-srv", link.fields["server_ns"], wait=False)]
        for c in caps:
            c.wait_started()
        link.control("reset")  # the emulator's window: this case's packets only
    with open(os.path.join(outdir, f"{tag}.bench.log"), "wb") as log:
        proc = spawn(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"{tag}: ssebench-bench ran longer than {args.timeout} s (--timeout)")
        release(proc)
    if link is None:
        stats = server.stats()
        time.sleep(CAPTURE_TAIL_S)
    else:
        link.wait_quiet()
        link_stats = link.control("stats")
        stats = server.stats()
    dropped = sum(c.stop() for c in caps)
    if rc != 0:
        raise Fail(f"{tag}: ssebench-bench exited with {rc}; see {log.name}")
    if dropped:
        raise Fail(f"{tag}: tshark dropped {dropped} packets; the capture is incomplete")

    try:
        with open(bench_json) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise Fail(f"{bench_json}: {e}")
    runs = [b for b in report.get("benchmarks", [])
            if b.get("run_type", "iteration") == "iteration"]
    if len(runs) != 1:
        raise Fail(f"{bench_json}: expected one benchmark, found {len(runs)}")
    b = runs[0]
    context = report.get("context", {})
    if "debug" in context.get("ssebench_build_type", ""):
        print(f"crosscheck: {tag}: a debug build; the comparison holds, the figures are slow",
              file=sys.stderr)
    warmup = context.get("warmup", "")
    if warmup not in ("", "none"):
        raise Fail(f"{tag}: the harness ran a warm-up ({warmup!r}) that the capture would mix "
                   "with the measured round; it needs --no-warmup")
    if int(context.get("rounds_per_case", "1")) != 1:
        raise Fail(f"{tag}: the harness ran more than one round")
    if b.get("error_occurred"):
        raise Fail(f"{tag}: the harness reports an error: {b.get('error_message')}")

    def counter(name):
        if name not in b:
            raise Fail(f"{bench_json}: counter '{name}' is missing (the harness's names changed?)")
        return float(b[name])

    streams = counter("streams")

    def total(name):
        """A count summed over the round: the harness reports per-stream means (17 digits), so
        mean x streams is the integer total up to floating-point rounding."""
        return round(counter(name + "_per_stream") * streams)

    header, events = load_recording(os.path.join(recordings, model + ".jsonl"))
    conns = read_capture(pcap, port, server.keylog if args.tls else None)
    if link is None:
        return compare(tag, transport, counter, total, header, events, conns, stats,
                       args, bench_json, pcap)
    rows, figures = compare(tag, transport, counter, total, header, events, conns, stats, args,
                            bench_json, pcap, server_conns=read_capture(srv_pcap, server.port))
    matched = match_link(read_pcapng(srv_pcap), read_pcapng(pcap),
                         (link.fields["server_addr"], link.fields["client_addr"]))
    figures["link"] = link_rows(row_adder(rows, tag), matched, link_config, link_stats)
    figures["link"].update({"emulator_stats": link_stats, "server_pcap": srv_pcap,
                            "ready": link.ready})
    return rows, figures


def row_adder(rows, tag):
    """row(figure, harness, instrument, ok, tolerance, note) appends one comparison to rows."""
    def row(figure, harness, instrument, ok, tolerance, note=""):
        rows.append({"case": tag, "figure": figure, "harness": harness, "instrument": instrument,
                     "difference": None if harness is None or instrument is None
                     else harness - instrument,
                     "verdict": "OK" if ok else "MISMATCH", "tolerance": tolerance,
                     "note": note})
    return row


def case_connections(conns, h2, pcap):
    """The connections that carried the case's requests, not the harness's or our /mock/stats
    (HTTP/1.1 whatever the case's version): ([Conn], [(conn, parts, requests, responses)])."""
    data_conns, data = [], []
    for sid in sorted(conns):
        conn = conns[sid]
        parts = conn.split()
        if h2:
            if not parts[True][0].startswith(H2_PREFACE):
                continue
            data_conns.append(conn)
            data.append((conn, parts, h2_frames(parts[True][0][len(H2_PREFACE):]),
                         h2_frames(parts[False][0])))
            continue
        reqs = parse_requests(*parts[True])
        if not reqs or reqs[0][1].startswith("/mock/"):
            continue
        if is_ws_upgrade(reqs[-1][2]):
            conn.ws = (parse_ws_frames(*parts[True]), parse_ws_frames(*parts[False]))
        data_conns.append(conn)
        data.append((conn, parts, reqs, parse_responses(*parts[False])))
    if not data_conns:
        raise Fail(f"{pcap}: no request of the case in the capture")
    return data_conns, data


def compare(tag, transport, counter, total, header, events, conns, stats, args,
            bench_json, pcap, server_conns=None):
    """conns: the client's view (loopback, or the client's TUN end of a link); server_conns:
    the server's TUN end of a link, where the server's lateness is read (None: conns)."""
    rows = []
    row = row_adder(rows, tag)
    h2 = args.http == "2"
    data_conns, data = case_connections(conns, h2, pcap)

    def prefin(conn, c2s):
        """Segments of one direction before the connection's first FIN or RST."""
        out = []
        for f in conn.frames:
            if f[3] & (FIN | RST):
                break
            if f[1] == c2s:
                out.append(f)
        return out

    cap = {}
    tls = any(c.plain is not None for c in data_conns)
    for c2s, name in ((True, "out"), (False, "in")):
        # What HTTP sees (decrypted under TLS), and the TCP payload (TLS records under TLS).
        cap[f"payload_{name}"] = sum(len(p[c2s][0]) for _c, p, _q, _r in data)
        cap[f"tcp_payload_{name}"] = sum(len(c.split_tcp()[c2s][0]) for c in data_conns)
        cap[f"segs_{name}_all"] = sum(sum(1 for f in c.frames if f[1] == c2s) for c in data_conns)
        cap[f"segs_{name}_data"] = sum(sum(1 for f in c.frames if f[1] == c2s and f[2] > 0)
                                       for c in data_conns)
        cap[f"segs_{name}_prefin"] = sum(len(prefin(c, c2s)) for c in data_conns)
        cap[f"ip_bytes_{name}_prefin"] = sum(f[6] for c in data_conns for f in prefin(c, c2s))
        cap[f"payload_{name}_sum_tcp_len"] = sum(sum(f[2] for f in c.frames if f[1] == c2s)
                                                 for c in data_conns)
    cap["connections"] = sum(1 for c in data_conns if c.syn_time is not None)
    # A ws turn is one request: a client text message; the upgrade is not one.
    cap["requests"] = sum(len(q) if c.ws is None else sum(f[0] == 1 for f in c.ws[0])
                          for c, _p, q, _r in data)
    n_conns = len(data_conns)
    if h2:
        # A request is a client stream that sent HEADERS (trailers would be a second one).
        cap["requests"] = sum(len({f[2] for f in q if f[0] == H2_HEADERS})
                              for _c, _p, q, _r in data)
        h2_rows(row, counter, total, cap, data, stats, transport, events, tls)
    else:
        http1_rows(row, total, cap, stats, tls)
    shared_rows(row, total, cap, data_conns, n_conns, prefin,
                sum(len(h2_late_frames(q)) for _c, _p, q, _r in data) if h2 else 0, tls)
    if h2:
        return rows, {"capture": cap, "server_stats": stats, "bench_json": bench_json,
                      "pcap": pcap, "wire_timing": {}}

    timing = wire_timing(transport, header, events, data, float(args.speed))
    if server_conns is not None:
        # Across a link the client's end sees the request a one-way delay before the server
        # does and the events one after: the server's pacing is read at the server's end.
        at_server = wire_timing(transport, header, events,
                                case_connections(server_conns, h2, pcap)[1], float(args.speed))
        for k in ("lateness_ms", "content_lateness_ms", "headers_delay_ms"):
            timing[k] = at_server[k]
    if transport == "sse":
        # The harness checks each stream's text; the capture checks every byte of every event.
        row("SSE chunks identical to the recording's events", timing["events_expected"],
            timing["events_identical"], timing["events_expected"] == timing["events_identical"],
            "exact", "harness column: recorded events x streams; one HTTP chunk per event")
        sse_rows(row, counter, timing, stats, float(args.speed), server_conns is not None)
    elif transport == "ws":
        row("ws text frames identical to the recording's payloads", timing["events_expected"],
            timing["events_identical"], timing["events_expected"] == timing["events_identical"],
            "exact", "harness column: recorded events x turns; one frame per event's data")
        sse_rows(row, counter, timing, stats, float(args.speed), server_conns is not None)
    else:
        poll_rows(row, counter, timing, transport)
    counts = {k: timing.pop(k) for k in ("empty_polls", "events_expected", "events_identical")}
    figures = {"capture": cap, **counts,
               "wire_timing": {k: summary(v) for k, v in timing.items()},
               "server_stats": stats, "bench_json": bench_json, "pcap": pcap}
    return rows, figures


def http1_rows(row, total, cap, stats, tls=False):
    """Bytes over HTTP/1.1: the same bytes, counted three ways, must agree exactly. Under TLS the
    HTTP bytes are the decrypted ones (tshark with the server's key log), the TCP payload the
    records that carry them."""
    what = "decrypted TLS application data" if tls else "TCP payload"
    for name, c2s_name in (("out", "client to server"), ("in", "server to client")):
        row(f"http_bytes_{name} (client, socket API)", total(f"http_bytes_{name}"),
            cap[f"payload_{name}"], total(f"http_bytes_{name}") == cap[f"payload_{name}"],
            "exact", f"{what} {c2s_name} on the case's connections")
        tcp = cap[f"tcp_payload_{name}"]
        h = total(f"tcp_payload_bytes_{name}")
        # Each side's close_notify alert (TLS 1.3: 24 bytes) when a kept connection closes,
        # after the harness's reading.
        slack = TLS_CLOSE_NOTIFY_BYTES * cap["connections"] if tls else 0
        row(f"tcp_payload_bytes_{name} (client, TCP_INFO)", h, tcp, 0 <= tcp - h <= slack,
            f"0 <= capture - harness <= {slack} (close_notify per connection)" if slack
            else "exact",
            ("bytes_acked - SYN / bytes_received" if name == "out" else "tcpi_bytes_received") +
            ("; TLS records: handshake, tickets, alerts too" if tls else ""))
    eps = stats.get("endpoints", {})
    srv_in = sum(v.get("bytes_in", 0) for k, v in eps.items() if k not in ("mock",))
    srv_out = sum(v.get("bytes_out", 0) for k, v in eps.items() if k not in ("mock",))
    row("server bytes_in (/mock/stats)", srv_in, cap["payload_out"], srv_in == cap["payload_out"],
        "exact", "all endpoints but mock; stats reset by the harness before the round")
    row("server bytes_out (/mock/stats)", srv_out, cap["payload_in"],
        srv_out == cap["payload_in"], "exact", "")


def shared_rows(row, total, cap, data_conns, n_conns, prefin, late_frames=0, tls=False):
    """Segments, wire bytes, connections and requests: the same rule over either version.
    late_frames: HTTP/2 control frames the client may send after the reading (h2_late_frames),
    each in a segment of its own that draws an ACK. tls: each side's close_notify, a segment
    and its ACK, and its bytes, when a connection closes after the reading."""
    # Segments: TCP_INFO counts every segment from the SYN on (pure ACKs too) and is read when
    # the round ends, before the connections close; the capture's comparable count stops at the
    # first FIN. A delayed ACK of the last bytes may leave after the read: at most one per
    # connection and direction.
    slack = n_conns + late_frames + (2 * n_conns if tls else 0)
    late = f" + {late_frames} late HTTP/2 frames" if late_frames else ""
    if tls:
        late += f" + {2 * n_conns} TLS close_notify and its ACK"
    for name, c2s in (("out", True), ("in", False)):
        h = total(f"segments_{name}")
        c = cap[f"segs_{name}_prefin"]
        row(f"segments_{name} (TCP_INFO tcpi_segs_{name})", h, c, 0 <= c - h <= slack,
            f"0 <= capture - harness <= {slack} (connections{late})",
            f"capture: all segments before the first FIN; with payload "
            f"{cap[f'segs_{name}_data']}, all incl. teardown {cap[f'segs_{name}_all']}")
    # wire_bytes: the harness's formula (payload + 52 per segment) on its own counters, against
    # the same formula on the capture's; the note gives the real IP bytes, whose headers differ
    # from 52 where segments carry other options (SYN: MSS, SACK-permitted, window scale).
    for name in ("out", "in"):
        h = total(f"wire_bytes_{name}")
        c = cap[f"tcp_payload_{name}"] + WIRE_HEADER_BYTES * cap[f"segs_{name}_prefin"]
        real = cap[f"ip_bytes_{name}_prefin"]
        alerts = TLS_CLOSE_NOTIFY_BYTES * n_conns if tls else 0
        row(f"wire_bytes_{name} (payload + {WIRE_HEADER_BYTES}/segment)", h, c,
            0 <= c - h <= WIRE_HEADER_BYTES * slack + alerts,
            f"0 <= capture - harness <= {WIRE_HEADER_BYTES} x {slack} (as segments)"
            + (f" + {alerts} (close_notify)" if tls else ""),
            f"capture's real IPv4 bytes {real}: the formula is off by {c - real:+d}")
    h_conn = total("connections")
    row("connections (SYN)", h_conn, cap["connections"], h_conn == cap["connections"], "exact", "")
    h_req = total("requests")
    row("requests", h_req, cap["requests"], h_req == cap["requests"], "exact", "")


# ---------------------------------------------------------------------------------------------
# HTTP/2 (--http 2): the bytes, frame by frame; the timing rows are HTTP/1.1's only

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_RST_STREAM, H2_GOAWAY, H2_WINDOW_UPDATE = 0, 1, 3, 7, 8
H2_FRAME_HEADER = 9


def h2_frames(data):
    """The frames of one direction's bytes: [(type, flags, stream id, payload)]."""
    out, pos = [], 0
    while pos + H2_FRAME_HEADER <= len(data):
        n = int.from_bytes(data[pos:pos + 3], "big")
        stream = int.from_bytes(data[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        out.append((data[pos + 3], data[pos + 4], stream,
                    data[pos + H2_FRAME_HEADER:pos + H2_FRAME_HEADER + n]))
        pos += H2_FRAME_HEADER + n
    if pos != len(data):
        raise Fail(f"capture: {len(data) - pos} bytes of an incomplete HTTP/2 frame")
    return out


def h2_late_frames(frames):
    """The client's frames that may leave after the harness reads TCP_INFO: WINDOW_UPDATE for
    the last DATA, GOAWAY at close, and RST_STREAM (STREAM_CLOSED) for streams already ended,
    which libcurl sends as each stream ends on loopback but at the close across a link."""
    return [f for f in frames if f[0] in (H2_WINDOW_UPDATE, H2_GOAWAY, H2_RST_STREAM)]


def h2_rows(row, counter, total, cap, data, stats, transport, events, tls=False):
    """Bytes over HTTP/2 against the frames on the wire (under TLS: the decrypted frames, and
    the TCP payload of the records)."""
    requests = cap["requests"]
    data_out = sum(len(f[3]) for _c, _p, q, _r in data for f in q if f[0] == H2_DATA)
    data_in = sum(len(f[3]) for _c, _p, _q, r in data for f in r if f[0] == H2_DATA)
    # Sent bytes are acked bytes, read when the round ends: WINDOW_UPDATEs, RST_STREAMs and the
    # GOAWAY of the close that the client sends after that reading are on the wire, not in the
    # harness's count.
    late_frames = [f for _c, _p, q, _r in data for f in h2_late_frames(q)]
    late = sum(H2_FRAME_HEADER + len(f[3]) for f in late_frames)
    if tls:  # each late frame in a record of its own at most, and the close_notify
        late += TLS_RECORD_OVERHEAD * len(late_frames) + TLS_CLOSE_NOTIFY_BYTES * len(data)
    h_out, h_in = total("tcp_payload_bytes_out"), total("tcp_payload_bytes_in")
    row("tcp_payload_bytes_out (client, TCP_INFO)", h_out, cap["tcp_payload_out"],
        0 <= cap["tcp_payload_out"] - h_out <= late,
        f"0 <= capture - harness <= {late} (its WINDOW_UPDATE, RST_STREAM, GOAWAY frames"
        f"{', their TLS records, close_notify' if tls else ''})",
        "bytes_acked - SYN, read at the round's end")
    row("tcp_payload_bytes_in (client, TCP_INFO)", h_in, cap["tcp_payload_in"],
        h_in == cap["tcp_payload_in"], "exact", "tcpi_bytes_received")
    eps = stats.get("endpoints", {})
    conn = stats.get("h2_connection_bytes", {})
    srv_in = sum(v.get("bytes_in", 0) for k, v in eps.items() if k != "mock") + conn.get("in", 0)
    srv_out = sum(v.get("bytes_out", 0) for k, v in eps.items() if k != "mock") + \
        conn.get("out", 0)
    row("server bytes_in + h2_connection_bytes.in", srv_in, cap["payload_out"],
        srv_in == cap["payload_out"], "exact", "every frame, the preface included")
    row("server bytes_out + h2_connection_bytes.out", srv_out, cap["payload_in"],
        srv_out == cap["payload_in"], "exact", "every frame")

    def per_request(name):
        return round(counter(name) * requests)

    for name, body, payload, exact in (("in", data_in, cap["tcp_payload_in"], True),
                                       ("out", data_out, cap["tcp_payload_out"], False)):
        hb = per_request(f"body_bytes_{name}_per_request")
        row(f"body_bytes_{name} (client)", hb, body, hb == body, "exact",
            "DATA frame payloads (no padding)")
        hh = per_request(f"header_bytes_{name}_per_request")
        want = payload - body
        ok = hh == want if exact else 0 <= want - hh <= late
        row(f"header_bytes_{name} (client: TCP payload - body)", hh, want, ok,
            "exact" if exact else f"0 <= capture - harness <= {late} (as tcp_payload_bytes_out)",
            "frame headers, HEADERS, SETTINGS, WINDOW_UPDATE, the preface")
    if transport == "sse":
        # One event per DATA frame: each response stream's DATA payloads are the events.
        want = [e["bytes"].encode() for e in events]
        expected = identical = 0
        for _c, _p, _q, r in data:
            by_stream = {}
            for f in r:
                if f[0] == H2_DATA and f[3]:
                    by_stream.setdefault(f[2], []).append(f[3])
            for got in by_stream.values():
                expected += len(want)
                identical += sum(1 for a, b in zip(got, want) if a == b)
        row("SSE DATA frames identical to the recording's events", expected, identical,
            expected == identical and expected == len(want) * round(counter("streams")),
            "exact", "one DATA frame per event")


def stream_start(conn, req):
    """The wire's t0 of a stream whose first request is `req`: the SYN when that request opened
    its connection (the harness takes t0 just before connect), else the request's first packet."""
    first_on_conn = req[5] == conn.first_c2s_payload_time
    if first_on_conn and conn.syn_time is not None:
        return conn.syn_time
    return req[5]


def add_delivered(out, sent, want, req_done, start, offsets_ms, content):
    """A stream's events on the wire, [(bytes, time)] in order, against the recording's bytes
    `want`: ttft from its first content event, and for each identical event its lateness (from
    the request's last packet) and, if content, its lag (from the stream's start)."""
    first_content = next((t for (_b, t), c in zip(sent, content) if c), None)
    if first_content is not None:
        out["ttft_ms"].append((first_content - start) * 1000)
    for k, (got, t) in enumerate(sent[:len(want)]):
        if got != want[k]:
            continue  # counted by the caller; times of foreign bytes mean nothing
        out["events_identical"] += 1
        late = (t - req_done) * 1000 - offsets_ms[k]
        out["lateness_ms"].append(late)
        if content[k]:
            out["content_lateness_ms"].append(late)
            out["lag_ms"].append((t - start) * 1000 - offsets_ms[k])


def wire_timing(transport, header, events, data, speed):
    """Per-event times from the capture.

    lateness_ms: event packet - (request's last packet + offset/speed): the server's pacing.
    lag_ms (content events): event packet - (stream start + offset/speed), where the stream
    starts at the SYN of a new connection (the harness takes t0 just before connect) or at the
    first request packet on a reused one: what the client's lag would be with a free receiver.
    """
    scale = 1.0 / speed if speed > 0 else 0.0
    offsets_ms = [e["t_us"] / 1000.0 * scale for e in events]
    content = [is_content(e) for e in events]
    out = {"lateness_ms": [], "lag_ms": [], "content_lateness_ms": [], "ttft_ms": [],
           "setup_ms": [], "headers_delay_ms": [], "empty_polls": 0, "events_expected": 0,
           "events_identical": 0}
    headers_offset_ms = header["response"].get("headers_offset_us", 0) / 1000.0 * scale
    if transport == "sse":
        for conn, _parts, reqs, resps in data:
            for req, (status, _hh, chunks, _b, _d, head_time) in zip(reqs, resps):
                req_done = req[4]
                out["headers_delay_ms"].append(
                    (head_time - req_done) * 1000 - headers_offset_ms)
                if status != 200:
                    raise Fail(f"tcp.stream {conn.sid}: HTTP {status}")
                out["events_expected"] += len(events)
                start = stream_start(conn, req)
                out["setup_ms"].append((req_done - start) * 1000)
                add_delivered(out, chunks, [e["bytes"].encode() for e in events], req_done, start,
                              offsets_ms, content)
        return out
    if transport == "ws":
        # Turns in order on each connection: a client message, then the recording's frames. Turn
        # 1 starts at the SYN (t0 before connect), a later one at its message's first packet.
        payloads = [data_payload(e).encode() for e in events]
        for conn, _parts, _reqs, resps in data:
            if not resps or resps[0][0] != 101:
                raise Fail(f"tcp.stream {conn.sid}: the upgrade was not answered with 101")
            msgs = [f for f in conn.ws[0] if f[0] == 1]
            frames = [f for f in conn.ws[1] if f[0] == 1]
            for k, (_op, _msg, req_done, req_start) in enumerate(msgs):
                turn = frames[k * len(events):(k + 1) * len(events)]
                start = conn.syn_time if k == 0 and conn.syn_time is not None else req_start
                out["events_expected"] += len(events)
                out["setup_ms"].append((req_done - start) * 1000)
                add_delivered(out, [(p, t) for _o, p, t, _s in turn], payloads, req_done, start,
                              offsets_ms, content)
        return out
    if transport == "rest":
        # One JSON body: every content event is delivered when the body's last byte is.
        for conn, _parts, reqs, resps in data:
            for req, (status, _hh, _c, _body, resp_done, _head) in zip(reqs, resps):
                if status != 200:
                    raise Fail(f"tcp.stream {conn.sid}: HTTP {status}")
                start = stream_start(conn, req)
                out["setup_ms"].append((req[4] - start) * 1000)
                out["ttft_ms"].append((resp_done - start) * 1000)
                for off, c in zip(offsets_ms, content):
                    out["lateness_ms"].append((resp_done - req[4]) * 1000 - off)
                    if c:
                        out["lag_ms"].append((resp_done - start) * 1000 - off)
        return out
    # Polling: a job's clock starts when the server has read its create request; event k
    # (sequence number k, [DONE] excluded) is delivered by the answer that carries it.
    seq_events = [(off, c) for off, c, e in zip(offsets_ms, content, events)
                  if e["kind"] != "done"]
    # A job's requests move between the pooled connections: take all answers in time order.
    exchanges = sorted(((resp[4], conn, req, resp) for conn, _parts, reqs, resps in data
                        for req, resp in zip(reqs, resps)), key=lambda x: x[0])
    jobs = {}
    for _t, conn, req, (status, _hh, _c, body, resp_done, _head) in exchanges:
        method, _target, _h, _body, req_done, _req_start = req
        if status != 200:
            continue
        try:
            obj = json.loads(body)
        except ValueError:
            continue
        jid = obj.get("id")
        # A job's id: resp_bg_N or chatcmpl_bg_N (mock_server/README.md, "Jobs").
        if method == "POST" and isinstance(jid, str) and "_bg_" in jid:
            jobs[jid] = {"created": req_done, "t0": stream_start(conn, req), "seen": -1}
            out["setup_ms"].append((req_done - jobs[jid]["t0"]) * 1000)
        elif method == "GET" and jid in jobs:
            job = jobs[jid]
            # delta and events: the answer covers the job events after the last cursor up to its
            # own (numbered from 0); null means none yet.
            cursor = obj.get("cursor")
            cursor = job["seen"] if cursor is None else int(cursor)
            for k in range(job["seen"] + 1, cursor + 1):
                off, c = seq_events[k]
                late = (resp_done - job["created"]) * 1000 - off
                out["lateness_ms"].append(late)
                if c:
                    out["content_lateness_ms"].append(late)
                    out["lag_ms"].append((resp_done - job["t0"]) * 1000 - off)
                    if not job.get("ttft"):
                        job["ttft"] = True
                        out["ttft_ms"].append((resp_done - job["t0"]) * 1000)
            out["empty_polls"] += cursor <= job["seen"]  # METRICS.md: nothing new
            job["seen"] = max(job["seen"], cursor)
    return out


def latency_rows(row, counter, timing, max_overhead_ms, note):
    """Client figures against the same figures from the wire: the client's can only be later."""
    n = round(counter("content_events_per_stream") * counter("streams"))
    row("content events delivered", n, len(timing["lag_ms"]), n == len(timing["lag_ms"]),
        "exact", "METRICS.md's content events, found in the capture")
    for figure, key in (("ttft_ms", "ttft_ms"), ("lag_ms", "lag_ms")):
        wire = summary(timing[key])
        for q in ("p50", "p99"):
            client = counter(f"{figure}_{q}")
            over = None if wire[q] is None else client - wire[q]
            row(f"client {figure} {q} (vs wire, from SYN)", client, wire[q],
                over is not None and -CLIENT_SLACK_MS <= over <= max_overhead_ms,
                f"0 <= client - wire <= {max_overhead_ms} ms (-{CLIENT_SLACK_MS} ms slack)",
                f"{wire['count']} samples; " + note)


def sse_rows(row, counter, timing, stats, speed, link=False):
    if speed == 0:  # no schedule: the server records no lateness, and lag is the backlog
        latency_rows(row, counter, timing, CLIENT_OVERHEAD_MAX_MS,
                     "speed 0: every offset is 0")
        return
    wl = summary(timing["lateness_ms"])
    lat = stats.get("lateness_us", {})
    for q in ("p50", "p99"):
        server_ms = counter(f"server_lateness_us_{q}") / 1000.0
        d = None if wl[q] is None else wl[q] - server_ms
        # Across a link TCP may hold written bytes in the socket (congestion window, loss
        # recovery): the wire may then be later than the server's write, never earlier.
        upper = math.inf if link else SERVER_LATENESS_TOL_MS
        row(f"server lateness {q} ms (vs wire, all events)", server_ms, wl[q],
            d is not None and -SERVER_LATENESS_TOL_MS <= d <= upper,
            f"wire - server >= -{SERVER_LATENESS_TOL_MS} ms (above: TCP held the bytes)" if link
            else f"|wire - server| <= {SERVER_LATENESS_TOL_MS} ms",
            f"wire: chunk's packet - (request's last packet + offset); {wl['count']} events; "
            f"/mock/stats afterwards: count {lat.get('count')}")
    n_server = lat.get("count")
    row("events paced (server lateness count)", n_server, wl["count"], n_server == wl["count"],
        "exact", "")
    latency_rows(row, counter, timing, CLIENT_OVERHEAD_MAX_MS,
                 "difference = client-side receive overhead (wake-up, curl, SSE parse)")


def poll_rows(row, counter, timing, transport):
    latency_rows(row, counter, timing, POLL_OVERHEAD_MAX_MS,
                 "wire: the packet completing the answer that carries the event")
    e = round(counter("empty_polls_per_stream") * counter("streams"))
    if transport == "rest":
        return
    row("empty polls", e, timing["empty_polls"], e == timing["empty_polls"], "exact",
        "answers to GET with nothing after the events already received")


# ---------------------------------------------------------------------------------------------
# Across the emulated link (--link): ssebench-link (link/README.md) joins a server namespace and
# a client namespace by two TUN devices; a capture on each TUN end sees every packet before the
# emulator takes it and after it gives it back, on one clock (both are the kernel's
# CLOCK_REALTIME at the packet socket), so each packet's time inside the emulator is measured
# from outside it and compared with the schedule its configuration implies.

LINK_NAME = "xcheck"  # the emulator's --name: namespaces ssebench-xcheck-PID-srv|cli
LINK_READY_TIMEOUT_S = 10
LINK_CONTROL_TIMEOUT_S = 5
# After the harness exits, the traffic is over once no packet entered the link for this long
# (a FIN or ACK lost on a lossy link is sent again after an RTO of 200 ms or more).
LINK_QUIET_S = 1.0
LINK_QUIET_MAX_S = 15.0
# The emulator's bottleneck queue when no --queue-* flag is given (link/README.md, pipe.hpp).
LINK_QUEUE_PACKETS = 1000
LINKTYPE_RAW, LINKTYPE_IPV4 = 101, 228  # a TUN device has no link-layer header
# The capture path's own share of a packet's measured delay, beyond what the emulator states as
# its error (its release lateness): the emulator's wake-up when a packet arrives on a TUN (its
# clock starts when it has read the packet; the sender's capture stamped it before), the TUN
# write into the other namespace's stack up to its packet socket, and the two stamps. Never
# negative. Measured (README.md, "Across the emulated link"): through --link=none, where nothing
# is held, p50 20-60 us, p99 50-130 us, max 0.2-1.2 ms (a wake-up from idle on this VM). The bound
# of each quantile is a few times the worst seen.
CAPTURE_PATH_US = {"p50": 200.0, "p99": 1000.0, "max": 2500.0}
# No packet may leave before its time: the capture's stamps of one packet's two ends can only
# disagree by their resolution (ns) and by CLOCK_REALTIME's slew against the emulator's
# CLOCK_MONOTONIC over the delay (NTP slews at most 500 ppm: 10 µs over 20 ms).
EARLY_SLACK_US = 10.0


def read_pcapng(path):
    """The packets of a pcapng file: [(time ns, bytes)], each interface's if_tsresol honoured.
    Raw IP only (a TUN device's capture); read here, not by tshark, for the bytes and the ns."""
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise Fail(f"{path}: {e}")
    out, ifaces, pos, end = [], [], 0, "<"
    while pos + 12 <= len(buf):
        if buf[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":  # section header: its byte order
            end = "<" if buf[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        btype = int.from_bytes(buf[pos:pos + 4], "little" if end == "<" else "big")
        blen = int.from_bytes(buf[pos + 4:pos + 8], "little" if end == "<" else "big")
        if blen < 12 or pos + blen > len(buf):
            break  # a block cut short: the writer was stopped mid-write
        body = buf[pos + 8:pos + blen - 4]
        order = "little" if end == "<" else "big"
        if btype == 1:  # interface description: link type, then options
            linktype = int.from_bytes(body[0:2], order)
            if linktype not in (LINKTYPE_RAW, LINKTYPE_IPV4):
                raise Fail(f"{path}: link type {linktype}, not raw IP (a TUN capture)")
            ns_per_tick, o = 1000, 8  # default resolution 10^-6 s
            while o + 4 <= len(body):
                code, n = int.from_bytes(body[o:o + 2], order), int.from_bytes(body[o + 2:o + 4],
                                                                               order)
                if code == 0:
                    break
                if code == 9:  # if_tsresol
                    v = body[o + 4]
                    ns_per_tick = 1e9 / (2 ** (v & 0x7F)) if v & 0x80 else 10 ** (9 - v)
                o += 4 + (n + 3) // 4 * 4
            ifaces.append(ns_per_tick)
        elif btype == 6:  # enhanced packet
            iface = int.from_bytes(body[0:4], order)
            ts = (int.from_bytes(body[4:8], order) << 32) | int.from_bytes(body[8:12], order)
            caplen = int.from_bytes(body[12:16], order)
            origlen = int.from_bytes(body[16:20], order)
            if caplen != origlen:
                raise Fail(f"{path}: a packet cut to {caplen} of {origlen} bytes (snap length)")
            out.append((int(ts * ifaces[iface]), bytes(body[20:20 + caplen])))
        pos += blen
    return out


def packet_key(pkt):
    """A packet's identity on both sides: its bytes but the TTL and the header checksum (which
    a router would change; the emulator changes nothing)."""
    return pkt[:8] + pkt[9:10] + pkt[12:]


def ipv4_addrs(pkt):
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None, None
    return ".".join(map(str, pkt[12:16])), ".".join(map(str, pkt[16:20]))


def link_model(exe, args):
    """Each direction's configuration, as ssebench-link builds it (emulator.cpp's
    configured_link): the profile's row of --list-profiles, then the overrides given."""
    if args.link.startswith("trace:"):
        raise Fail("--link: a trace profile is not checked: its delivery opportunities are "
                   "timed from the emulator's start, which no capture sees")
    try:
        r = subprocess.run([exe, "--list-profiles"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise Fail(f"{exe} --list-profiles took more than 30 s")
    if r.returncode != 0:
        raise Fail(f"{exe} --list-profiles: {last_line(r.stderr, r.returncode)}")
    row = next((line.split() for line in r.stdout.splitlines()[1:]
                if line.split() and line.split()[0] == args.link), None)
    if row is None:
        names = ", ".join(line.split()[0] for line in r.stdout.splitlines()[1:]
                          if line.split() and not line.startswith("trace:"))
        raise Fail(f"--link: unknown profile '{args.link}': one of {names}")

    def rate(v):
        return 0.0 if v == "-" else float(v) * 1e6

    rtt_ms, loss = float(row[3]), float(row[4]) / 100
    delay_us = math.floor(rtt_ms * 1000 / 2 + 0.5)
    if args.link_delay_ms is not None:
        delay_us = math.floor(args.link_delay_ms * 1000 + 0.5)
        rtt_ms = args.link_delay_ms * 2
    if args.link_loss is not None:
        loss = args.link_loss
    model = {"profile": args.link, "rtt_ms": rtt_ms}
    for name, col in (("down", 1), ("up", 2)):
        rate_bps = rate(row[col]) if args.link_rate_mbit is None else args.link_rate_mbit * 1e6
        model[name] = {"delay_ns": delay_us * 1000, "rate_bps": rate_bps, "loss": loss,
                       "queue_packets": LINK_QUEUE_PACKETS if rate_bps > 0 else 0}
    return model


def link_argv(exe, args):
    argv = [exe, f"--profile={args.link}", f"--name={LINK_NAME}"]
    for flag, value in (("--delay-ms", args.link_delay_ms), ("--loss", args.link_loss),
                        ("--rate-mbit", args.link_rate_mbit)):
        if value is not None:
            argv.append(f"{flag}={value:g}")
    return argv


class Link:
    """ssebench-link, started here: its ready line's fields, its control socket."""

    def __init__(self, argv, outdir):
        self.logpath = os.path.join(outdir, "link.log")
        self.log = open(self.logpath, "wb")
        self.proc = spawn(argv, stdout=subprocess.PIPE, stderr=self.log)
        line = children._readline(self.proc.stdout, LINK_READY_TIMEOUT_S)
        if not line or not line.startswith("ready "):
            self.stop()
            with open(self.logpath, "rb") as f:
                why = last_line(f.read().decode(errors="replace"), self.proc.returncode)
            cls = Fail if self.proc.returncode == 2 else EnvFail
            raise cls(f"ssebench-link did not start: {why}")
        self.ready = line
        self.fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)

    def control(self, command):
        """One command on the control socket, its JSON answer."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(LINK_CONTROL_TIMEOUT_S)
                s.connect(self.fields["control"])
                s.sendall(command.encode() + b"\n")
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            return json.loads(buf)
        except (OSError, ValueError) as e:
            raise Fail(f"ssebench-link control socket {self.fields.get('control')}: {e}")

    def wait_quiet(self):
        """Until no packet has entered the link for LINK_QUIET_S and none is held."""
        end = time.monotonic() + LINK_QUIET_MAX_S
        last, since = None, time.monotonic()
        while time.monotonic() < end:
            st = self.control("stats")
            moved = (st["down_packets"], st["up_packets"])
            held = sum(st[f"{d}_packets"] - st[f"{d}_delivered"] - st[f"{d}_drops_loss"]
                       - st[f"{d}_drops_queue"] for d in ("down", "up"))
            if moved != last:
                last, since = moved, time.monotonic()
            elif held == 0 and time.monotonic() - since >= LINK_QUIET_S:
                return
            time.sleep(0.1)
        raise Fail(f"packets still crossed the link {LINK_QUIET_MAX_S} s after the harness "
                   "exited")

    def stop(self):
        _stop(self.proc)
        release(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


class NetnsServer(Server):
    """The mock server inside the link's server namespace, bound to its TUN address. Its
    /mock/stats is read from inside that namespace, where the address is local: that request
    never crosses the link or the captures."""

    def __init__(self, binary, recordings_dir, outdir, netns, addr):
        self.netns = netns
        self.log = open(os.path.join(outdir, "server.log"), "wb")
        argv = ["ip", "netns", "exec", netns, binary, "--recordings", recordings_dir,
                "--bind", addr, "--port", "0"]
        try:
            self.child = children.Child(argv, stderr=self.log,
                                        start_timeout_s=SERVER_START_TIMEOUT_S, track=True)
        except children.StartError as e:
            self.log.close()
            raise Fail(str(e))
        self.url, self.port = self.child.url, self.child.port

    def stats(self):
        code = ("import sys, urllib.request as u\n"
                "o = u.build_opener(u.ProxyHandler({}))\n"
                f"sys.stdout.write(o.open(sys.argv[1], timeout={HTTP_TIMEOUT_S}).read().decode())")
        try:
            r = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", code,
                                self.url + "/mock/stats"], capture_output=True, text=True,
                               timeout=HTTP_TIMEOUT_S + 5)
            if r.returncode != 0:
                raise Fail(f"{self.url}/mock/stats: {last_line(r.stderr, r.returncode)}")
            return json.loads(r.stdout)
        except (subprocess.TimeoutExpired, ValueError) as e:
            raise Fail(f"{self.url}/mock/stats: {e}")


def link_schedule(tx, delivered, d):
    """What the emulator's pipe (pipe.cpp) does with one direction's packets, replayed on the
    times the sender's capture stamped them: [(release ns, queue ns) or None], and the packets
    the bottleneck queue refuses. A packet is refused when the queue holds queue_packets not yet
    serialized; otherwise it leaves the bottleneck back to back at the rate and is released a
    delay after; a packet lost on the path (not delivered, not refused) still used the rate."""
    out, backlog, link_free, last_release, refused = [], [], None, None, 0
    head = 0
    for (t, pkt), got in zip(tx, delivered):
        if d["rate_bps"] > 0:
            while head < len(backlog) and backlog[head] <= t:
                head += 1
            if d["queue_packets"] and len(backlog) - head >= d["queue_packets"]:
                refused += 1
                out.append(None)
                continue
            serialize = math.floor(len(pkt) * 8.0 * 1e9 / d["rate_bps"] + 0.5)
            link_free = (t if link_free is None else max(link_free, t)) + serialize
            departs = link_free
            backlog.append(departs)
        else:
            departs = t
        if not got:
            out.append(None)
            continue
        release = departs + d["delay_ns"]
        if last_release is not None:
            release = max(release, last_release)  # order is kept
        last_release = release
        out.append((release, departs - t))
    return out, refused


def match_link(srv_packets, cli_packets, addrs):
    """Every packet of each direction at its sender's TUN end, matched to the same packet at the
    receiver's (first unmatched one with the same bytes, in order: the emulator keeps order).
    {dir: {"tx": [(t, pkt)], "rx_t": [t or None per tx], "unknown": [t]}}."""
    server, client = addrs
    sides = {"down": (srv_packets, cli_packets, server), "up": (cli_packets, srv_packets, client)}
    out = {}
    for name, (at_sender, at_receiver, src) in sides.items():
        tx = [(t, p) for t, p in at_sender if ipv4_addrs(p)[0] == src]
        rx = [(t, p) for t, p in at_receiver if ipv4_addrs(p)[0] == src]
        waiting = {}
        for i, (_t, p) in enumerate(tx):
            waiting.setdefault(packet_key(p), []).append(i)
        heads = {k: 0 for k in waiting}
        rx_t, unknown = [None] * len(tx), []
        for t, p in rx:
            k = packet_key(p)
            ids = waiting.get(k)
            if ids is None or heads[k] >= len(ids):
                unknown.append(t)
                continue
            rx_t[ids[heads[k]]] = t
            heads[k] += 1
        out[name] = {"tx": tx, "rx_t": rx_t, "unknown": unknown, "rx": len(rx)}
    return out


def nearest_rank(sorted_values, q):
    """The emulator's quantile (figures.cpp): the ceil(q n)-th smallest."""
    k = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def ranks(values):
    s = sorted(values)
    if not s:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    return {"count": len(s), "p50": nearest_rank(s, 0.5), "p99": nearest_rank(s, 0.99),
            "max": s[-1]}


def link_rows(row, matched, model, st):
    """The capture's counts against the emulator's per direction, and every packet's delay
    against its schedule. A packet's error (its receiver's stamp - its schedule replayed from its
    sender's stamp) is the emulator's lateness for it plus the capture path's share, which is
    never negative: so over the same packets (the emulator's window is the case's, both
    directions, and its quantiles are nearest-rank as these) each quantile of the errors is at
    least the lateness's, and above it by no more than the capture path's (CAPTURE_PATH_US).
    Returns the figures for the JSON."""
    figures, all_err = {}, []
    for name in ("down", "up"):
        d, m = model[name], matched[name]
        who = "server -> client" if name == "down" else "client -> server"
        delivered = [t is not None for t in m["rx_t"]]
        sched, refused = link_schedule(m["tx"], delivered, d)
        added, err, queue = [], [], []
        for (t, _p), r, s in zip(m["tx"], m["rx_t"], sched):
            if r is None or s is None:
                continue
            added.append((r - t) / 1e6)
            err.append((r - s[0]) / 1e3)
            queue.append(s[1] / 1e6)
        all_err += err
        lost = sum(not x for x in delivered)
        n_tx = len(m["tx"])
        row(f"link {name}: packets into the link ({who})", st[f"{name}_packets"], n_tx,
            st[f"{name}_packets"] == n_tx, "exact",
            "emulator: read from its TUN; capture: sent at the sender's TUN end")
        row(f"link {name}: packets delivered", st[f"{name}_delivered"], len(added),
            st[f"{name}_delivered"] == len(added), "exact",
            "capture: matched at the receiver's end (IP header but TTL/checksum, and payload)")
        drops = st[f"{name}_drops_loss"] + st[f"{name}_drops_queue"]
        row(f"link {name}: packets lost (loss + queue drops)", drops, lost, drops == lost,
            "exact", f"capture: at the sender's end only; emulator loss "
            f"{st[f'{name}_drops_loss']}, queue {st[f'{name}_drops_queue']}")
        if d["rate_bps"] > 0:
            row(f"link {name}: queue drops", st[f"{name}_drops_queue"], refused,
                st[f"{name}_drops_queue"] == refused, "exact",
                f"capture: the bottleneck queue ({d['queue_packets']} packets) replayed")
        row(f"link {name}: packets at the receiver never sent", 0, len(m["unknown"]),
            not m["unknown"], "exact", "")
        if err:
            low = min(err)
            row(f"link {name}: delay error min us (capture - schedule)", 0.0, low,
                low >= -EARLY_SLACK_US, f"min >= -{EARLY_SLACK_US:g} us (never early)",
                f"{len(err)} packets; schedule = sender's stamp + queue + "
                f"{d['delay_ns'] / 1e6:g} ms")
        qs = ranks(queue)
        if d["rate_bps"] > 0 and queue:
            for q in ("p50", "p99"):
                emu = st[f"{name}_queue_delay_ms_{q}"]
                tol = CAPTURE_PATH_US[q] / 1000
                row(f"link {name}: queue ms {q} (serialization + wait)", emu, qs[q],
                    abs(emu - qs[q]) <= tol, f"|capture - emulator| <= {tol:g} ms",
                    "capture: the rate's schedule replayed from the sender's stamps")
        figures[name] = {
            "packets": n_tx, "delivered": len(added), "lost": lost, "refused_by_queue": refused,
            "unknown_at_receiver": len(m["unknown"]), "configured_delay_ms": d["delay_ns"] / 1e6,
            "rate_mbit": d["rate_bps"] / 1e6, "loss": d["loss"],
            "added_delay_ms": ranks(added),
            "added_minus_configured_ms": ranks([a - d["delay_ns"] / 1e6 for a in added]),
            "queue_ms": qs, "error_us": ranks(err), "error_us_min": min(err) if err else None}
    e = ranks(all_err)
    if e["count"]:
        for q in ("p50", "p99", "max"):
            lat = st[f"lateness_us_{q}"]
            row(f"link: delay error {q} us (both ways)", lat, e[q],
                lat - EARLY_SLACK_US <= e[q] <= lat + CAPTURE_PATH_US[q],
                f"lateness {q} <= capture <= lateness {q} + {CAPTURE_PATH_US[q]:g} us "
                "(capture path)", "harness column: the emulator's release lateness")
    figures["error_us"] = e
    return figures


# ---------------------------------------------------------------------------------------------
# Output

def fmt_value(v):
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.3f}"
    return f"{int(v)}"


def print_table(rows):
    cols = [("case", "case"), ("figure", "figure"), ("harness", "harness"),
            ("instrument", "instrument"), ("difference", "difference"), ("verdict", "verdict"),
            ("tolerance", "tolerance")]
    cells = [[r["case"], r["figure"], fmt_value(r["harness"]), fmt_value(r["instrument"]),
              fmt_value(r["difference"]), r["verdict"], r["tolerance"]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(cols)]
    line = " | ".join(h.ljust(w) for (h, _), w in zip(cols, widths))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for c in cells:
        print(" | ".join(x.rjust(w) if 2 <= i <= 4 else x.ljust(w)
                         for i, (x, w) in enumerate(zip(c, widths))))


def print_link(config, figures):
    d = config["down"]
    print(f"\nacross the link {config['profile']} (one-way delay {d['delay_ns'] / 1e6:g} ms, "
          f"rate down/up {config['down']['rate_bps'] / 1e6:g}/{config['up']['rate_bps'] / 1e6:g} "
          f"Mbit/s, 0 = none, loss {d['loss']:g}), per case and direction: packets, lost; "
          "added delay - configured p50/p99/max ms; of it queue (serialization + wait) "
          "p50/p99/max ms; error = capture - schedule p50/p99/max us; the emulator's lateness "
          "p50/p99/max us")
    for name, f in figures.items():
        link = f.get("link")
        if not link:
            continue
        st = link["emulator_stats"]
        late = "/".join(f"{st[f'lateness_us_{q}']:.1f}" for q in ("p50", "p99", "max"))
        for dname in ("down", "up"):
            x = link[dname]
            a, q, e = x["added_minus_configured_ms"], x["queue_ms"], x["error_us"]
            if not a["count"]:
                print(f"  {name} {dname}: {x['packets']} packets, {x['lost']} lost")
                continue
            qtext = (f"{q['p50']:.3f}/{q['p99']:.3f}/{q['max']:.3f}" if q["count"]
                     and x["rate_mbit"] else "none")
            print(f"  {name} {dname}: {x['packets']} packets, {x['lost']} lost; "
                  f"+{a['p50']:.3f}/{a['p99']:.3f}/{a['max']:.3f} ms; queue {qtext}; error "
                  f"{e['p50']:.1f}/{e['p99']:.1f}/{e['max']:.1f} us; lateness {late}")


def main():
    p = cli.parser(__doc__, "crosscheck.py")
    p.add_argument("--cases", default="sse,poll", help="transports (default sse,poll)")
    p.add_argument("--models", default="chat-gpt-4o-mini-text,chat-gpt-4o-json",
                   help="recording ids (default chat-gpt-4o-mini-text,chat-gpt-4o-json)")
    p.add_argument("--concurrency", type=int, default=4, help="streams at once (default 4)")
    p.add_argument("--interval-ms", type=int, default=250, help="poll interval (default 250)")
    p.add_argument("--poll-shape", default="events", choices=("events", "delta"),
                   help="shape of the poll answers, one with a cursor (default events)")
    p.add_argument("--speed", default="1", help="replay speed (default 1)")
    p.add_argument("--ws-turns", type=int, default=1,
                   help="ws: sequential turns per connection (default 1)")
    p.add_argument("--http", default="1.1", choices=("1.1", "2"),
                   help="the harness's --http (default 1.1); 2 compares bytes and frames only")
    p.add_argument("--tls", action="store_true",
                   help="the case over TLS (the harness's --tls=on) against the server's TLS port; "
                   "the server writes a key log that tshark decrypts the capture with, and the "
                   "decrypted bytes are compared as the cleartext ones are")
    p.add_argument("--build-dir", help="build folder with mock_server/ and bench/ (default: "
                   "build/release, else the newest build/*/ that has both)")
    p.add_argument("--recordings", default=os.path.join(ROOT, "recordings"),
                   help="recordings folder (default recordings/)")
    p.add_argument("--timeout", type=float, default=BENCH_TIMEOUT_S,
                   help=f"seconds one case's harness run may take (default {BENCH_TIMEOUT_S})")
    p.add_argument("--out", help="output folder (default results/local/crosscheck-<UTC time>)")
    p.add_argument("--link", metavar="PROFILE",
                   help="across ssebench-link with this profile (root): the server and the "
                   "harness in its namespaces, a capture on each TUN end, every packet's delay "
                   "checked against the link's schedule")
    p.add_argument("--link-delay-ms", type=float, metavar="MS",
                   help="with --link: one-way delay each way instead of the profile's RTT/2")
    p.add_argument("--link-loss", type=float, metavar="P",
                   help="with --link: random loss per packet each way, 0 to 1")
    p.add_argument("--link-rate-mbit", type=float, metavar="MBIT",
                   help="with --link: rate limit each way instead of the profile's")
    args = p.parse_args()
    for name in ("link_delay_ms", "link_loss", "link_rate_mbit"):
        v = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        if v is not None and args.link is None:
            p.error(f"{flag} needs --link")
        if v is not None and not (0 <= v <= (1 if name == "link_loss" else 100_000)):
            p.error(f"{flag}: {v:g} is out of range")
    if args.tls and args.link is not None:
        p.error("--tls is not wired across --link yet")
    if args.link is not None and os.geteuid() != 0:
        print("crosscheck: --link needs root (it makes network namespaces and captures in "
              "them); run it with sudo", file=sys.stderr)
        return 1
    outdir = args.out or os.path.join(
        ROOT, "results", "local",
        "crosscheck-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))

    try:
        ensure_tshark()
        server_bin, bench = find_binaries(args)
        link = link_config = None
        if args.link is not None:
            link_bin = os.path.join(os.path.dirname(os.path.dirname(server_bin)), "link",
                                    "ssebench-link")
            if not os.access(link_bin, os.X_OK):
                raise Fail(f"no {link_bin}: build the target ssebench-link")
            link_config = link_model(link_bin, args)
        os.makedirs(outdir, exist_ok=True)
        if link_config is not None:
            link = Link(link_argv(link_bin, args), outdir)
            if float(link.fields.get("rtt_ms", "nan")) != link_config["rtt_ms"]:
                raise Fail(f"ssebench-link says rtt_ms={link.fields.get('rtt_ms')}, its "
                           f"--list-profiles {link_config['rtt_ms']:g}: the table changed?")
            server = NetnsServer(server_bin, args.recordings, outdir, link.fields["server_ns"],
                                 link.fields["server_addr"])
        else:
            server = Server(server_bin, args.recordings, outdir, tls=args.tls)
        prefix = [] if link is None else ["ip", "netns", "exec", link.fields["client_ns"]]
        flags = bench_flags(bench, server, args.models.split(",")[0], prefix)
        if "--no-warmup" not in flags:
            raise Fail(f"{bench} has no --no-warmup: its uncounted warm-up would be in the "
                       "capture")
        rows, figures = [], {}
        try:
            for t in args.cases.split(","):
                for m in args.models.split(","):
                    r, f = run_case((t, m), args, server, bench, flags, outdir,
                                    args.recordings, link, link_config)
                    rows += r
                    figures[f"{t}/{m}"] = f
        finally:
            server.stop()
            if link is not None:
                link.stop()
    except EnvFail as e:
        print(f"crosscheck: {e}", file=sys.stderr)
        return 1
    except Fail as e:
        print(f"crosscheck: {e}", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as e:
        print(f"crosscheck: {e.cmd[0]} timed out after {e.timeout} s", file=sys.stderr)
        return 2

    print_table(rows)
    print("\nwhere the wire's time goes, per case (p50 / max, ms): setup = SYN (or first request "
          "byte) -> request's last byte; lateness = that -> event's packet - offset;\n"
          "headers late = response head's packet - (request's last byte + recorded headers "
          "offset): the server's delay in reading the request (its lateness clock starts after "
          "it) plus the head's own write delay")
    for name, f in figures.items():
        w = f["wire_timing"]
        if not w:
            continue  # HTTP/2: bytes and frames only
        parts = [f"{label} {w[key]['p50']:.3f} / {w[key]['max']:.3f}"
                 for label, key in (("setup", "setup_ms"), ("lateness", "lateness_ms"),
                                    ("headers late", "headers_delay_ms"))
                 if w[key]["count"]]
        print(f"  {name}: " + "; ".join(parts))
    if link_config is not None:
        print_link(link_config, figures)
    mismatches = sum(r["verdict"] != "OK" for r in rows)
    result = {"format": "ssebench-crosscheck", "version": 1,
              "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "command": sys.argv, "server_binary": server_bin, "bench_binary": bench,
              "concurrency": args.concurrency, "interval_ms": args.interval_ms,
              "speed": args.speed, "link": link_config, "rows": rows, "figures": figures,
              "mismatches": mismatches}
    with open(os.path.join(outdir, "crosscheck.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    print(f"crosscheck: {len(rows) - mismatches}/{len(rows)} OK; wrote "
          f"{os.path.join(outdir, 'crosscheck.json')}", file=sys.stderr)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
