"""Child processes of the scripts, and the mock server among them: started on port 0, its URL read
from its first line ("listening on http://ADDR:PORT"), stopped with SIGTERM (then SIGKILL).
Used by scale.py, crosscheck and the recorder's round trip."""
import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import time
import urllib.request

from .recordings import ROOT

START_TIMEOUT_S = 10  # until the "listening on" line
STOP_TIMEOUT_S = 10   # after SIGTERM, before SIGKILL
HTTP_TIMEOUT_S = 10
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")
# An idle user's transports, as ssebench-soak holds them (scripts/hold, scripts/radio --run):
# name -> (soak flag, poll period in seconds or None).
HELD_TRANSPORTS = {
    "sse": ("--sse", None), "ws": ("--ws", None), "long-poll": ("--long-poll", None),
    "poll5": ("--poll", 5), "poll30": ("--poll", 30), "poll60": ("--poll", 60)}
_LISTENING = re.compile(r"listening on (http://\S+)")


def held_server_args(recordings, heartbeat_ms, long_poll_wait_ms, period_ms=None):
    """The mock server's flags for held idle users (scripts/hold, scripts/radio --run): SSE
    comments and ws pings every heartbeat_ms, long polls held up to long_poll_wait_ms, idle
    connections kept three poll periods (a minute at least), and no stream or job ended by age."""
    return ["--recordings", recordings, "--sse-heartbeat-ms", str(heartbeat_ms),
            "--ws-ping-ms", str(heartbeat_ms), "--long-poll-max-wait-ms",
            str(max(long_poll_wait_ms, 1)), "--idle-timeout-ms",
            str(max(60_000, 3 * (period_ms or 0))), "--stream-lifetime-limit-ms", "86400000",
            "--job-retention-ms", "86400000"]


def held_soak_argv(binary, url, transport, users, *, model, recordings, speed, ramp_s,
                   duration_s, long_poll_wait_ms, out, period_ms=None, client="libcurl"):
    """ssebench-soak's command line holding `users` idle users of one HELD_TRANSPORTS flag,
    their HTTP requests sent by `client` (libcurl, or epoll: the soak's own HTTP/1.1 client)."""
    argv = [binary, f"--server={url.rstrip('/')}", "--sse=0", "--poll=0", "--long-poll=0",
            f"{transport}={users}", f"--model={model}", f"--recordings={recordings}",
            f"--speed={speed!r}", f"--ramp-s={ramp_s}", f"--duration-s={duration_s}",
            "--window-s=1", "--no-sampling", f"--client={client}", f"--long-poll-wait-ms={max(long_poll_wait_ms, 1)}",
            f"--out={out}"]
    if period_ms:
        argv.append(f"--poll-interval-ms={period_ms}")
    return argv


# Every tracked child, stopped by stop_all() (crosscheck registers it at exit).
_children = []


class StartError(RuntimeError):
    """A child that did not say where it listens: one line."""


def build_binary(relative, preset="release", build_dir=None):
    """build/<preset>/<relative> (or <build_dir>/<relative>)."""
    return os.path.join(build_dir or os.path.join(ROOT, "build", preset), relative)


def mock_server_binary(preset="release", build_dir=None):
    return build_binary(os.path.join("mock_server", "ssebench-mock-server"), preset, build_dir)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (for a program that cannot be told
    port 0, such as nginx)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout_s=20):
    """Until something accepts on 127.0.0.1:port; RuntimeError after timeout_s."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def tree_pids(pid):
    """pid and its children (nginx's master and its workers; heaptrack's program)."""
    pids = [pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pinned(cpu):
    """A preexec_fn: the descriptor limit raised, and the child on CPU `cpu` (None: any)."""
    def pre():
        raise_nofile()
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
    return pre


def _readlines(stream, n, timeout_s):
    """The first n lines of a child's stdout within timeout_s; fewer if they do not come."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    buf = b""
    end = time.monotonic() + timeout_s
    while buf.count(b"\n") < n:
        left = end - time.monotonic()
        if left <= 0 or not sel.select(left):
            break
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
    sel.close()
    return [x.decode(errors="replace") for x in buf.split(b"\n")[:n] if x]


def _readline(stream, timeout_s):
    """The first line of a child's stdout within timeout_s, or None."""
    lines = _readlines(stream, 1, timeout_s)
    return lines[0] if lines else None


class Child:
    """A child process; with wait_url, one that prints "listening on URL" first (the mock
    server, the floor). cpu: pin it to that CPU; raised descriptor limit always."""

    def __init__(self, argv, cpu=None, env=None, wait_url=True, stderr=subprocess.DEVNULL,
                 start_timeout_s=START_TIMEOUT_S, track=False):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE if wait_url else subprocess.DEVNULL,
                                  stderr=stderr, preexec_fn=pinned(cpu), env=env)
        if track:
            _children.append(self)
        self.url = None
        self.port = None
        self.tls_url = None  # with --tls-port: the second line's https:// URL
        self.tls_port = None
        if wait_url:
            tls = any(a.startswith("--tls-port") for a in argv)
            lines = _readlines(self.p.stdout, 2 if tls else 1, start_timeout_s)
            line = lines[0] if lines else None
            m = _LISTENING.search(line or "")
            if not m:
                self.stop()
                raise StartError(f"{argv[0]} did not start: no 'listening on' line "
                                 f"(got {line!r})")
            self.url = m.group(1)
            self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
            if tls:
                m = re.search(r"listening on (https://\S+)", lines[1] if len(lines) > 1 else "")
                if not m:
                    self.stop()
                    raise StartError(f"{argv[0]} did not start: no 'listening on https://' line")
                self.tls_url = m.group(1).rstrip("/")
                self.tls_port = int(self.tls_url.rsplit(":", 1)[1])

    @property
    def pid(self):
        return self.p.pid

    def cpu_us(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * TICK_US

    def rss_bytes(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stats(self):
        """The mock server's GET /mock/stats."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.url + "/mock/stats", timeout=HTTP_TIMEOUT_S) as r:
            return json.load(r)

    def stop(self, sig=signal.SIGTERM, timeout_s=STOP_TIMEOUT_S):
        if self in _children:
            _children.remove(self)
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
                self.p.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
            except ProcessLookupError:
                pass
        if self.p.stdout:
            self.p.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def mock_server(recordings, *args, binary=None, preset="release", build_dir=None, **kw):
    """ssebench-mock-server on 127.0.0.1 port 0 serving `recordings`, `args` added."""
    exe = binary or mock_server_binary(preset, build_dir)
    return Child([exe, "--recordings", recordings, *args, "--port", "0"], **kw)


def stop_all():
    """Stops every tracked child (at exit, on a signal)."""
    while _children:
        _children[-1].stop()
