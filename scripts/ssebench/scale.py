"""scripts/scale.py's runs (scripts/scale builds and installs first): server capacity against the
raw-socket floor, the mock-llm peer, the openai client, and polling against nginx, in one run.
Writes OUT/scale.json and OUT/table.md (scale_table.py). Standard library only."""
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from . import scale_table, server
from .recordings import FOLDER as RECORDINGS, ROOT

SERVER = server.mock_server_binary("release")
FLOOR = server.build_binary(os.path.join("bench", "ssebench-floor"), "release")
SOAK = server.build_binary(os.path.join("bench", "ssebench-soak"), "release")
PEERS = os.path.join(ROOT, "scripts", "peers")


def log(msg):
    print(f"scale: {msg}", file=sys.stderr, flush=True)


raise_nofile = server.raise_nofile
pinned = server.pinned


def Proc(argv, cpu=None, env=None, wait_url=True):  # noqa: N802 (a child, as before)
    return server.Child(argv, cpu=cpu, env=env, wait_url=wait_url)


def start_server(kind, model, speed):
    if kind == "floor":
        return Proc([FLOOR, f"--recording={RECORDINGS}/{model}.jsonl", f"--speed={speed}",
                     "--port=0"])
    return server.mock_server(RECORDINGS, "--max-connections", "30000", "--job-retention-ms",
                              "600000", binary=SERVER)


def soak_point(kind, n, model, speed, ramp_s, duration_s, tmp):
    """One capacity point: a fresh server, n looping streams through ssebench-soak."""
    srv = start_server(kind, model, speed)
    try:
        rss_idle = srv.rss_bytes()
        out = os.path.join(tmp, f"soak_{kind}_{n}_{speed}.json")
        window = max(1, duration_s // 3)
        # --server-pid: the soak lists the server's descriptors itself; asked over HTTP, each
        # server would list 10,000 of them on its own loop once a second, ms of lateness.
        rc = subprocess.run([SOAK, f"--server={srv.url}", f"--server-pid={srv.pid}",
                             f"--sse={n}", "--poll=0",
                             "--long-poll=0", f"--model={model}", f"--speed={speed}",
                             f"--ramp-s={ramp_s}", f"--duration-s={duration_s}",
                             f"--window-s={window}", f"--out={out}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=raise_nofile).returncode
    finally:
        srv.stop()
    with open(out) as f:
        r = json.load(f)
    # The measured window's samples, before the soak stops its streams.
    s = [x for x in r["samples"] if x["t_s"] <= duration_s - 0.5]
    span_s = s[-1]["t_s"] - s[0]["t_s"]
    eps = r["server"]["events_per_s"]
    held = sorted(x["streams_active"] for x in s)[len(s) // 2]
    return {
        "server": kind, "streams": n, "model": model, "speed": speed,
        "events_per_s": eps,
        "lateness_us_p50": r["server"]["lateness_us_p50"],
        "lateness_us_p99": r["server"]["lateness_us_p99"],
        "lateness_us_max": r["server"]["lateness_us_max"],
        "cpu_us_per_event": (s[-1]["cpu_us"] - s[0]["cpu_us"]) / max(1.0, eps * span_s),
        "rss_bytes_per_stream": (max(x["rss_bytes"] for x in s) - rss_idle) / n,
        "streams_held": held,
        "errors": sum(g["streams_failed"] for g in r["groups"]) + (rc != 0),
        "soak_rc": rc,
    }


def capacity(n, model, speeds, reps, ramp_s, duration_s, tmp):
    """A speed ladder, floor and server side by side at each step; stops after the step where
    both are beyond p99 1 ms."""
    steps = {"server": [], "floor": []}
    raw = []
    for speed in speeds:
        reps_of = {"server": [], "floor": []}
        for i in range(reps):
            for kind in ("floor", "server") if i % 2 == 0 else ("server", "floor"):
                p = soak_point(kind, n, model, speed, ramp_s, duration_s, tmp)
                log(f"{n} × {speed} {kind}: {p['events_per_s']:.0f} events/s, p99 "
                    f"{p['lateness_us_p99']:.0f} µs, {p['cpu_us_per_event']:.1f} µs/event, "
                    f"held {p['streams_held']}, errors {p['errors']}")
                reps_of[kind].append(p)
                raw.append(p)
        for kind in steps:
            steps[kind].append(dict(scale_table.summarise(reps_of[kind]), speed=speed))
        if all(steps[k][-1]["lateness_us_p99"] > scale_table.P99_LIMIT_US for k in steps):
            break
    return {"model": model, "speeds": speeds, "steps": steps, "points": raw,
            "server_sustained": scale_table.sustained(steps["server"]),
            "floor_sustained": scale_table.sustained(steps["floor"])}


def recording_events(model):
    """(offset_us, payload) of every data event but [DONE], from the recording file."""
    out = []
    with open(os.path.join(RECORDINGS, f"{model}.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if "t_us" in e and "bytes" in e and "[DONE]" not in e["bytes"]:
                out.append((e["t_us"], e["bytes"].split("data: ", 1)[1].strip()))
    return out


def openai_client(url, model, streams, schedule_file, speed=None):
    argv = ["node", os.path.join(PEERS, "stream_client.mjs"), f"--url={url}", f"--model={model}",
            f"--streams={streams}", f"--schedule-ms={schedule_file}"]
    if speed is not None:
        argv.append(f"--speed={speed}")
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def peer_and_client(model, speed, streams, reps, tmp):
    """mock-llm and our server, the same openai client reading `streams` streams of the same
    number of events at the same mean pace; and the harness engine reading ours."""
    events = recording_events(model)
    t0 = events[0][0]
    ours_sched = [(t - t0) / 1000 / speed for t, _ in events]
    text = ""
    for _, payload in events:
        d = json.loads(payload)
        for c in d.get("choices", []):
            text += c.get("delta", {}).get("content") or ""
    k = len(events) - 1  # mock-llm sends a role+text chunk first, then one per chunkSize
    interval_ms = max(1, round(ours_sched[-1] / k))
    chunk = math.ceil(len(text) / k)
    peer_sched = [i * interval_ms for i in range(k + 2)]
    with open(os.path.join(tmp, "ours.json"), "w") as f:
        json.dump(ours_sched, f)
    with open(os.path.join(tmp, "peer.json"), "w") as f:
        json.dump(peer_sched, f)
    body = json.dumps({"id": "chatcmpl-ssebench", "object": "chat.completion", "model": model,
                       "choices": [{"message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}]})
    cfg = os.path.join(tmp, "mock-llm.yaml")
    with open(cfg, "w") as f:  # YAML is a superset of JSON
        json.dump({"streaming": {"chunkSize": chunk, "chunkIntervalMs": interval_ms},
                   "rules": [{"path": "/v1/chat/completions", "method": "POST", "match": "@",
                              "response": {"status": 200, "content": body}}]}, f)
    port = server.free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1")
    mock_llm = os.path.join(PEERS, "node_modules", "@dwmkerr", "mock-llm")
    with open(os.path.join(mock_llm, "package.json")) as f:
        version = json.load(f)["version"]
    runs = {"ours": [], "peer": [], "harness": []}
    for i in range(reps):
        for side in ("ours", "peer") if i % 2 == 0 else ("peer", "ours"):
            if side == "ours":
                srv = start_server("server", model, speed)
                url, sched = srv.url, "ours.json"
            else:
                srv = Proc(["node", os.path.join(mock_llm, "dist", "main.js"), "--config", cfg],
                           env=env, wait_url=False)
                url, sched = f"http://127.0.0.1:{port}", "peer.json"
                server.wait_port(port)
            try:
                c0 = srv.cpu_us()
                r = openai_client(url, model, streams, os.path.join(tmp, sched),
                                  speed if side == "ours" else None)
                r["server_cpu_us_per_event"] = (srv.cpu_us() - c0) / max(1, r["events"])
            finally:
                srv.stop()
            log(f"peer {side}: {r['events']} events, server {r['server_cpu_us_per_event']:.1f} "
                f"µs/event, timing error p99 {r['timing_error_ms']['p99']:.2f} ms, client "
                f"{r['cpu_us_per_event']:.1f} µs/event, failed {r['streams_failed']}")
            runs[side].append(r)
        # The harness engine reading the same streams from ours: one round, ssebench-soak.
        srv = start_server("server", model, speed)
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = os.path.join(tmp, "harness.json")
            secs = math.ceil(ours_sched[-1] / 1000 + events[0][0] / 1e6 / speed)
            subprocess.run([SOAK, f"--server={srv.url}", f"--sse={streams}", "--poll=0",
                            "--long-poll=0", f"--model={model}", f"--speed={speed}",
                            "--ramp-s=0", f"--duration-s={secs + 1}", "--window-s=1",
                            f"--out={out}"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, preexec_fn=raise_nofile)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        finally:
            srv.stop()
        with open(out) as f:
            ev = sum(g["events"] for g in json.load(f)["groups"])
        cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e6
        runs["harness"].append({"events": ev, "cpu_us_per_event": cpu / max(1, ev)})
        log(f"harness: {ev} events, {cpu / max(1, ev):.1f} µs/event")

    def fold(rs):
        return {"server_cpu_us_per_event": scale_table.median(rs, "server_cpu_us_per_event"),
                "client_cpu_us_per_event": scale_table.median(rs, "cpu_us_per_event"),
                "timing_error_ms_p50": statistics_median([r["timing_error_ms"]["p50"] for r in rs]),
                "timing_error_ms_p99": statistics_median([r["timing_error_ms"]["p99"] for r in rs]),
                "timing_error_ms_max": statistics_median([r["timing_error_ms"]["max"] for r in rs]),
                "events": scale_table.median(rs, "events"),
                "streams_failed": sum(r["streams_failed"] for r in rs)}

    ours, peer = fold(runs["ours"]), fold(runs["peer"])
    return ({"version": version, "model": model, "speed": speed, "streams": streams,
             "peer_chunk_chars": chunk, "peer_interval_ms": interval_ms, "ours": ours,
             "peer": peer, "runs": runs},
            {"streams": streams, "model": model, "speed": speed,
             "openai_cpu_us_per_event": ours["client_cpu_us_per_event"],
             "harness_cpu_us_per_event": scale_table.median(runs["harness"],
                                                            "cpu_us_per_event")})


def statistics_median(xs):
    return sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs) // 2 - 1:
                                                                      len(xs) // 2 + 1]) / 2


def wrk(url, args):
    r = subprocess.run(["wrk", *args, url], capture_output=True, text=True,
                       preexec_fn=pinned(1))
    m = re.search(r"Requests/sec:\s*([\d.]+)", r.stdout)
    if not m or "Non-2xx" in r.stdout or "Socket errors" in r.stdout:
        raise RuntimeError(f"wrk against {url}: {r.stdout}{r.stderr}")
    return float(m.group(1))


def poll(model, reps, wrk_args, tmp):
    """The poll endpoint of a finished background job against nginx serving its body as a
    static file: each server one process on CPU 0, wrk on CPU 1, same wrk flags."""
    docroot = os.path.join(tmp, "www")
    os.makedirs(docroot, exist_ok=True)
    os.chmod(tmp, 0o755)
    os.chmod(docroot, 0o755)
    port = server.free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"worker_processes 1;\ndaemon off;\npid {tmp}/nginx.pid;\nerror_log stderr;\n"
                "events { worker_connections 4096; }\nhttp {\n  access_log off;\n"
                f"  server {{ listen 127.0.0.1:{port}; root {docroot};\n"
                "    location / { default_type application/json; } }\n}\n")
    version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    version = version.split("/")[-1]
    rps = {"server": [], "nginx": []}
    body_bytes, path = 0, ""
    for i in range(reps):
        for side in ("server", "nginx") if i % 2 == 0 else ("nginx", "server"):
            if side == "server":
                srv = server.mock_server(RECORDINGS, "--job-retention-ms", "600000",
                                         binary=SERVER, cpu=0)
                req = urllib.request.Request(
                    f"{srv.url}/v1/chat/completions", method="POST",
                    data=json.dumps({"model": model, "background": True}).encode(),
                    headers={"Content-Type": "application/json", "x-ssebench-speed": "0"})
                job = json.load(urllib.request.urlopen(req))["id"]
                time.sleep(0.2)
                path = f"/v1/chat/completions/{job}"
                body = urllib.request.urlopen(srv.url + path).read()
                body_bytes = len(body)
                with open(os.path.join(docroot, "job.json"), "wb") as f:
                    f.write(body)
                url = srv.url + path
            else:
                srv = Proc(["nginx", "-p", tmp, "-c", conf], cpu=0, wait_url=False)
                server.wait_port(port)
                url = f"http://127.0.0.1:{port}/job.json"
            try:
                r = wrk(url, wrk_args)
            finally:
                srv.stop()
            log(f"poll {side}: {r:,.0f} requests/s")
            rps[side].append(r)
    return {"path": "GET /v1/chat/completions/{id}", "model": model, "body_bytes": body_bytes,
            "wrk": "wrk " + " ".join(wrk_args), "nginx_version": version,
            "server_rps": statistics_median(rps["server"]),
            "nginx_rps": statistics_median(rps["nginx"]), "runs": rps,
            "pinning": "server or nginx (1 worker) on CPU 0, wrk on CPU 1"}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(a, argv):
    """The parts of `a` (scripts/scale.py's arguments) into a.out."""
    os.makedirs(a.out, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    scale = {"version": 1, "argv": argv, "context": {"commit": commit, "cores": os.cpu_count(),
                                       "load_before": loadavg(), "repetitions": a.repetitions,
                                       "machine": "shared with other engineers' builds"}}
    parts = a.parts.split(",")
    tmp = tempfile.mkdtemp(prefix="ssebench-scale-")
    try:
        if "capacity" in parts:
            scale["capacity"] = {}
            # (streams, recording, speeds, ramp). At 10,000 streams the long recording slowed
            # 20× and 10× (434 s and 217 s streams, 2.8 and 5.5 events/s each; its first event
            # 6.6 and 3.3 s in): every stream is held through the point, none reconnects, and
            # the rates are those of 500 and 1,000 streams at speed 1.
            plan = [(100, "chat-gpt-4o-mini-long", [2, 8], 2),
                    (1000, "chat-gpt-4o-mini-long", [1, 2], 4),
                    (10000, "chat-gpt-4o-mini-long", [0.05, 0.1], 8)]
            for n, model, speeds, ramp in plan:
                if str(n) not in a.streams.split(","):
                    continue
                scale["capacity"][str(n)] = capacity(n, model, speeds, a.repetitions, ramp,
                                                     a.duration_s, tmp)
        if "peer" in parts:
            scale["peer"], scale["client"] = peer_and_client("chat-gpt-4o-mini-long", 2, 20,
                                                             a.repetitions, tmp)
        if "poll" in parts:
            scale["poll"] = poll("chat-gpt-4o-mini-text", a.repetitions,
                                 ["-t1", "-c64", "-d10s"], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    scale["context"]["load_after"] = loadavg()
    with open(os.path.join(a.out, "scale.json.tmp"), "w") as f:
        json.dump(scale, f, indent=1)
    os.replace(os.path.join(a.out, "scale.json.tmp"), os.path.join(a.out, "scale.json"))
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(scale_table.table(scale) + "\n")
    print(scale_table.table(scale))

