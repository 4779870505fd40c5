"""scripts/shards' logic: a local rehearsal of a sharded run. N harness shards, each a process in a
network namespace of its own (a "host" with its own address), against one mock server in another
namespace, all joined by a bridge; the shards started seconds apart on one common start
(--start-at), then merged by scripts/merge_shards.

    ssebench-shsrv: ssebench-br 10.213.9.1/24 (the bridge) + the mock server bound to it
        ├─ ssebench-p0 ── veth ── ssebench-h0 10.213.9.11/24 in ssebench-sh0 (shard 0/N)
        ├─ ssebench-p1 ── veth ── ssebench-h1 10.213.9.12/24 in ssebench-sh1 (shard 1/N)
        └─ …

10.213.9.0/24 is clear of scripts/netns (10.213.7.0/30) and the link emulator (10.213.8.0/30).
Nothing is made in the host's namespace: the bridge lives in the server's namespace, each veth
pair is created there with its other end moved straight into its host's, and no route leads out.
"""
import datetime
import fcntl
import json
import os
import signal
import subprocess
import sys
import time

from . import results, server
from .recordings import ROOT

SERVER_NS = "ssebench-shsrv"
BRIDGE = "ssebench-br"
SUBNET = "10.213.9"
PREFIX = 24
SERVER_ADDR = f"{SUBNET}.1"
FIRST_HOST = 11  # shard I is SUBNET.(FIRST_HOST + I)
MAX_SHARDS = 200
MTU = 1500
LOCK = "/run/ssebench-shards.lock"
# The flags scripts/shards gives each shard itself: the same on every one but --shard.
OWN_FLAGS = ("--server", "--shard", "--start-at", "--benchmark_out", "--benchmark_out_format",
             "--recordings", "--server-binary", "--server-threads", "--server-args")
STOP_S = 5  # after SIGTERM, before SIGKILL


class ShardsError(RuntimeError):
    """Something scripts/shards cannot go on from: one line."""


def host_ns(i):
    return f"ssebench-sh{i}"


def host_addr(i):
    return f"{SUBNET}.{FIRST_HOST + i}"


def _ip(*args):
    p = subprocess.run(["ip", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise ShardsError(f"ip {' '.join(args)}: {p.stderr.strip() or f'exit {p.returncode}'}")


def _ip_batch(ns, commands):
    """`ip [-n NS] -batch -` over `commands` (one process for many: the set-up takes
    milliseconds, not a second)."""
    argv = ["ip", *(["-n", ns] if ns else []), "-batch", "-"]
    p = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True, text=True)
    if p.returncode != 0:
        raise ShardsError(f"{' '.join(argv)}: {p.stderr.strip() or f'exit {p.returncode}'}")


def namespaces():
    """The names of the namespaces this module makes that exist now."""
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    names = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    return [n for n in names if n == SERVER_NS or
            (n.startswith("ssebench-sh") and n[len("ssebench-sh"):].isdigit())]


def down():
    """Removes every namespace of ours (their veth ends and the bridge go with them)."""
    left = namespaces()
    if left:
        subprocess.run(["ip", "-force", "-batch", "-"], capture_output=True, text=True,
                       input="".join(f"netns delete {ns}\n" for ns in left))


def up(n, mtu=MTU):
    """The server's namespace with its bridge, and N hosts on it; lo up everywhere."""
    _ip_batch(None, [f"netns add {ns}" for ns in (SERVER_NS, *map(host_ns, range(n)))])
    _ip_batch(SERVER_NS, [
        "link set lo up",
        f"link add {BRIDGE} type bridge stp_state 0",
        f"addr add {SERVER_ADDR}/{PREFIX} dev {BRIDGE}",
        # Each pair made here, its host's end moved straight into the host's namespace.
        *[f"link add ssebench-p{i} mtu {mtu} type veth peer name ssebench-h{i} mtu {mtu} "
          f"netns {host_ns(i)}" for i in range(n)],
        *[f"link set ssebench-p{i} master {BRIDGE} up" for i in range(n)],
        f"link set {BRIDGE} mtu {mtu} up"])
    for i in range(n):
        _ip_batch(host_ns(i), [f"addr add {host_addr(i)}/{PREFIX} dev ssebench-h{i}",
                               f"link set ssebench-h{i} up", "link set lo up"])


class Lock:
    """One scripts/shards at a time (the namespace names are fixed): a second one is refused,
    while namespaces left by one that was killed are removed by the next."""

    def __enter__(self):
        self.f = open(LOCK, "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.f.close()
            raise ShardsError(f"another scripts/shards is running (it holds {LOCK})") from None
        return self

    def __exit__(self, *_):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def parse_late(text, n):
    """--late=I:S: (I, S), shard I started S seconds after the common start."""
    try:
        i, s = text.split(":")
        i, s = int(i), float(s)
    except ValueError:
        raise ShardsError(f"--late={text}: want I:S, shard I started S seconds after the "
                          "common start (e.g. --late=2:1.5)") from None
    if not 0 <= i < n or s < 0:
        raise ShardsError(f"--late={text}: want a shard 0 <= I < {n} and S >= 0")
    return i, s


def check_harness_flags(flags):
    for a in flags:
        name = a.split("=", 1)[0]
        if name in OWN_FLAGS:
            raise ShardsError(f"{name} is scripts/shards' to give each shard; drop it"
                              + (" (its --recordings=DIR goes to the server and every shard)"
                                 if name == "--recordings" else ""))


def iso(unix):
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def out_folder(parent, suffix):
    """PARENT/<UTC time>_<commit>_<suffix>, -2, -3, … when taken (scripts/bench's naming)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    p = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                       text=True)
    base = os.path.join(parent, f"{stamp}_{p.stdout.strip() or 'unknown'}_{suffix}")
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    return path


def shard_summary(folder):
    """What a shard's benchmark.json says of its schedule and clock, or None without one."""
    try:
        _, cases = results.load(folder)
    except results.ResultsError:
        return None
    out = {"cases": len(cases), "failed": [c["name"] for c in cases if c["error"]]}
    figures = {}
    for c in cases:
        for k in ("clock_offset_ms", "clock_uncertainty_ms", "schedule_late_ms"):
            if k in c["counters"]:
                figures.setdefault(k, []).append(c["counters"][k])
    for k, values in figures.items():
        out[k] = {"min": min(values), "max": max(values)}
    out["schedule_missed"] = [c["name"] for c in cases if c["counters"].get("schedule_missed")]
    return out


class Run:
    """One rehearsal. Everything it starts is stopped, and every namespace removed, by close()."""

    def __init__(self, n, stagger_s, lead_s, late, out, bench, mock, recordings, harness_flags,
                 allow_late=False, server_threads=None, log=sys.stderr):
        self.n, self.stagger_s, self.lead_s, self.late = n, stagger_s, lead_s, dict(late)
        self.out, self.bench, self.mock = out, bench, mock
        self.recordings, self.flags = recordings, list(harness_flags)
        self.allow_late, self.server_threads, self.log = allow_late, server_threads, log
        self.server = None
        self.procs = {}  # shard -> Popen
        self.rows = {}  # shard -> its row of shards.json's hosts
        self.files = []
        self.report = {"shards": n, "stagger_s": stagger_s, "lead_s": lead_s,
                       "late": {str(i): s for i, s in self.late.items()},
                       "harness_flags": self.flags, "bench": bench, "mock_server": mock,
                       "recordings": recordings, "network": {
                           "server_namespace": SERVER_NS, "bridge": BRIDGE,
                           "server_address": f"{SERVER_ADDR}/{PREFIX}", "mtu": MTU},
                       "load_before": open("/proc/loadavg").read().split()[:3],
                       "hosts": []}

    def say(self, text):
        print(f"shards: {text}", file=self.log, flush=True)

    def start_server(self):
        argv = ["ip", "netns", "exec", SERVER_NS, self.mock, "--recordings", self.recordings,
                "--bind", SERVER_ADDR, "--port", "0"]
        if self.server_threads:
            argv += ["--threads", str(self.server_threads)]
        err = open(os.path.join(self.out, "server.log"), "w")
        self.files.append(err)
        try:
            self.server = server.Child(argv, stderr=err)
        except server.StartError:
            err.flush()
            with open(err.name) as f:
                said = f.read().strip().splitlines()
            raise ShardsError(f"{self.mock} did not start in {SERVER_NS}"
                              + (f": {said[-1]}" if said else "") + f" (see {err.name})") from None
        self.report["server"] = {"command": argv, "url": self.server.url}
        self.say(f"server {self.server.url} in {SERVER_NS}")

    def shard_command(self, i, start_at):
        folder = os.path.join(self.out, f"shard-{i}")
        argv = ["ip", "netns", "exec", host_ns(i), self.bench, f"--server={self.server.url}",
                f"--recordings={self.recordings}", f"--shard={i}/{self.n}",
                f"--start-at={start_at:.3f}",
                f"--benchmark_out={folder}/benchmark.json", "--benchmark_out_format=json",
                *self.flags]
        return folder, argv

    def run(self):
        """Starts the server and the shards, waits for every shard; returns the hosts' rows."""
        self.start_server()
        t0 = time.time()
        start_at = t0 + self.lead_s
        self.report["start_at"] = start_at
        self.report["start_at_iso"] = iso(start_at)
        self.say(f"common start {iso(start_at)} ({self.lead_s:g} s from now); shards "
                 f"{self.stagger_s:g} s apart")
        due = {i: (start_at + self.late[i] if i in self.late else t0 + i * self.stagger_s)
               for i in range(self.n)}
        rows = self.rows
        for i in sorted(due, key=due.get):
            delay = due[i] - time.time()
            if delay > 0:
                time.sleep(delay)
            folder, argv = self.shard_command(i, start_at)
            os.makedirs(folder, exist_ok=True)
            out = open(os.path.join(folder, "stdout.txt"), "w")
            err = open(os.path.join(folder, "stderr.log"), "w")
            self.files += [out, err]
            started = time.time()
            self.procs[i] = subprocess.Popen(argv, stdout=out, stderr=err, cwd=folder,
                                             preexec_fn=server.raise_nofile)
            rows[i] = {"shard": f"{i}/{self.n}", "namespace": host_ns(i),
                       "address": host_addr(i), "command": argv, "started_unix": started,
                       "started_s_after_first": round(started - t0, 3),
                       "started_s_after_start_at":
                           round(started - start_at, 3) if start_at else None}
            self.say(f"shard {i}/{self.n} started on {host_addr(i)} at +{started - t0:.2f} s"
                     + (f" ({started - start_at:+.2f} s from the common start)" if start_at
                        else ""))
        for i in range(self.n):
            code = self.procs[i].wait()
            rows[i]["ended_unix"] = time.time()
            rows[i]["exit_code"] = code
            rows[i]["summary"] = shard_summary(os.path.join(self.out, f"shard-{i}"))
        self.report["hosts"] = [rows[i] for i in range(self.n)]
        return self.report["hosts"]

    def merge(self):
        """scripts/merge_shards into OUT (the shards' folders named relative to it)."""
        argv = [sys.executable, os.path.join(ROOT, "scripts", "merge_shards"), ".",
                *[f"shard-{i}" for i in range(self.n)]]
        if self.allow_late:
            argv.append("--allow-late")
        p = subprocess.run(argv, capture_output=True, text=True, cwd=self.out)
        merged = {"command": argv, "cwd": self.out, "exit_code": p.returncode,
                  "stdout": p.stdout.strip(), "stderr": p.stderr.strip()}
        if p.returncode == 0:
            context, cases = results.load(self.out)
            merged["clock_skew_ms"] = context.get("clock_skew_ms")
            merged["start_at"] = context.get("start_at")
            merged["shards_late"] = {c["name"]: c["counters"]["shards_late"] for c in cases
                                     if c["counters"].get("shards_late")}
        self.report["merge"] = merged
        return merged

    def write_report(self):
        self.report["hosts"] = [self.rows[i] for i in sorted(self.rows)]
        path = os.path.join(self.out, "shards.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.report, f, indent=1)
        os.replace(path + ".tmp", path)

    def close(self):
        for i, p in self.procs.items():
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + STOP_S
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.server:
            self.server.stop()
        for f in self.files:
            f.close()


def _interrupted(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def rehearse(n, stagger_s, lead_s, late, out, bench, mock, recordings, harness_flags,
             allow_late=False, server_threads=None, log=sys.stderr):
    """The whole rehearsal; returns (exit status, problems): 0 when every shard exited 0 and the
    merge was made, else 1 with one line per problem (130 when interrupted). The namespaces are
    removed always."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    with Lock():
        down()  # what a killed run left
        os.makedirs(out, exist_ok=True)
        run = Run(n, stagger_s, lead_s, late, out, bench, mock, recordings, harness_flags,
                  allow_late, server_threads, log)
        problems = []
        try:
            up(n)
            run.say(f"{n} host namespace{'s' if n > 1 else ''} ssebench-sh0..{n - 1} "
                    f"({host_addr(0)}..{host_addr(n - 1)}) and {SERVER_NS} "
                    f"({SERVER_ADDR}) on bridge {BRIDGE}, MTU {MTU}")
            hosts = run.run()
            for h in hosts:
                s = h["summary"]
                if h["exit_code"] != 0:
                    how = (f"was killed by {signal.Signals(-h['exit_code']).name}"
                           if h["exit_code"] < 0 else f"exited {h['exit_code']}")
                    problems.append(f"shard {h['shard']} {how} (see "
                                    f"{os.path.join(out, 'shard-' + h['shard'].split('/')[0])}"
                                    "/stderr.log)")
                if s is None:
                    problems.append(f"shard {h['shard']} wrote no benchmark.json")
                    continue
                offset = s.get("clock_offset_ms")
                run.say(f"shard {h['shard']}: exit {h['exit_code']}, {s['cases']} cases"
                        + (f", clock offset {offset['min']:+.3f}..{offset['max']:+.3f} ms"
                           if offset else "")
                        + (f", late {s['schedule_late_ms']['max']:.1f} ms at most"
                           if "schedule_late_ms" in s else "")
                        + (f", missed its window in {len(s['schedule_missed'])} case(s)"
                           if s["schedule_missed"] else ""))
            if all(h["summary"] is not None for h in hosts):
                merged = run.merge()
                for line in (merged["stdout"] + "\n" + merged["stderr"]).strip().splitlines():
                    print(line, file=log)
                if merged["exit_code"] != 0:
                    late = [h["shard"] for h in hosts if h["summary"]["schedule_missed"]]
                    problems.append("the merge refused"
                                    + (f" the late shard{'s' if len(late) > 1 else ''} "
                                       f"{', '.join(late)}" if late else "")
                                    + f": {merged['stderr'] or 'exit ' + str(merged['exit_code'])}")
                elif merged.get("clock_skew_ms") is not None:
                    run.say(f"clock skew across the shards {merged['clock_skew_ms']:.3f} ms")
            else:
                problems.append("not merged: a shard wrote no benchmark.json")
        except KeyboardInterrupt as e:
            problems.append(f"interrupted ({str(e) or 'SIGINT'}): shards stopped, nothing merged")
            run.report["interrupted"] = True
        except ShardsError as e:
            problems.append(str(e))  # in shards.json too; the command says it
            raise
        finally:
            run.close()
            down()
            run.report["problems"] = problems
            run.write_report()
        return (130 if run.report.get("interrupted") else 1 if problems else 0), problems
