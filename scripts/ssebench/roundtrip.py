#!/usr/bin/env python3
"""The recorder's round trip, at the recorded pace.

1. Our server replays each original recording at 1x; ssebench-record records it (gen1).
2. A second server replays gen1 at 1x; ssebench-record records that (gen2).
3. Every event's bytes are compared with the original's, and every offset: gen1 - original (what
   recording adds), gen2 - gen1 (replaying a recorded file reproduces it), gen2 - original.

Usage: scripts/recorder/roundtrip.py [--build build/release] [--repeat 5]
           [--ids chat-gpt-4o-mini-text,responses-gpt-4o-mini-ok] [--keep DIR] [--json FILE]
Exits 1 if any byte differs. Offsets are in microseconds; "median" and "max" are of |delta|.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from . import cli, server as children
from .recordings import ROOT, read_lines as load


def Server(build, folder):  # noqa: N802
    """The mock server of BUILD serving FOLDER (ssebench/server.py)."""
    try:
        return children.mock_server(folder, build_dir=build)
    except children.StartError as e:
        sys.exit(f"roundtrip: the server did not start ({e})")


def record(build, url, header, rec_id, out, repeat, work):
    body = json.loads(header["request"]["body"])
    body["model"] = rec_id
    body_file = os.path.join(work, rec_id + ".body.json")
    with open(body_file, "w", encoding="utf-8") as f:
        json.dump(body, f)
    api = "responses" if header["api"] == "responses" else "chat"
    cmd = [os.path.join(build, "recorder", "ssebench-record"), "--base-url", url + "/v1",
           "--api", api, "--body-file", body_file, "--out", out, "--header",
           "x-ssebench-speed: 1"]
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def members(folder, rec_id, repeat):
    if repeat == 1:
        return [os.path.join(folder, rec_id + ".jsonl")]
    return [os.path.join(folder, f"{rec_id}.{k}.jsonl") for k in range(1, repeat + 1)]


def stats(deltas):
    absolute = [abs(d) for d in deltas]
    return {"n": len(deltas), "median_abs_us": statistics.median(absolute),
            "max_abs_us": max(absolute), "mean_us": round(statistics.mean(deltas), 1),
            "min_us": min(deltas), "max_us": max(deltas)}


def main():
    ap = cli.parser(__doc__, "roundtrip.py")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--ids", default="chat-gpt-4o-mini-text,responses-gpt-4o-mini-ok")
    ap.add_argument("--repeat", type=int, default=5, help="runs per recording (a set)")
    ap.add_argument("--keep", help="keep the recorded files in this folder")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    ids = args.ids.split(",")
    work = tempfile.mkdtemp(prefix="ssebench-roundtrip-")
    gen1 = os.path.join(work, "gen1")
    gen2 = os.path.join(work, "gen2")
    os.makedirs(gen1)
    os.makedirs(gen2)
    originals = {i: load(os.path.join(ROOT, "recordings", i + ".jsonl")) for i in ids}

    # One recording at a time: the machine is otherwise idle, so what is measured is the path.
    server = Server(args.build, os.path.join(ROOT, "recordings"))
    try:
        for i in ids:
            record(args.build, server.url, originals[i][0], i, os.path.join(gen1, i + ".jsonl"),
                   args.repeat, work)
    finally:
        server.stop()
    # gen2 replays each gen1 member by its own id (NAME or NAME.K).
    server = Server(args.build, gen1)
    try:
        for i in ids:
            for path in members(gen1, i, args.repeat):
                member_id = os.path.basename(path)[:-len(".jsonl")]
                record(args.build, server.url, load(path)[0], member_id,
                       os.path.join(gen2, os.path.basename(path)), 1, work)
    finally:
        server.stop()

    report = {"repeat": args.repeat, "speed": 1, "recordings": {}}
    identical = True
    for i in ids:
        head, events = originals[i]
        d1, d21, d2, heads = [], [], [], []
        for path in members(gen1, i, args.repeat):
            h1, e1 = load(path)
            h2, e2 = load(os.path.join(gen2, os.path.basename(path)))
            for a, b, c in zip(events, e1, e2):
                identical &= a["bytes"] == b["bytes"] == c["bytes"]
                d1.append(b["t_us"] - a["t_us"])
                d21.append(c["t_us"] - b["t_us"])
                d2.append(c["t_us"] - a["t_us"])
            identical &= len(events) == len(e1) == len(e2)
            heads.append(h1["response"]["headers_offset_us"] - head["response"]["headers_offset_us"])
        report["recordings"][i] = {
            "events": len(events), "runs": args.repeat,
            "gen1_minus_original": stats(d1), "gen2_minus_gen1": stats(d21),
            "gen2_minus_original": stats(d2), "headers_gen1_minus_original": stats(heads)}
    report["bytes_identical"] = identical

    print(f"round trip at 1x, {args.repeat} runs per recording; event bytes identical: "
          f"{'yes' if identical else 'NO'}")
    print(f"{'recording':28} {'comparison':22} {'events':>6} {'median |d| us':>13} "
          f"{'max |d| us':>10} {'mean d us':>9}")
    for i, r in report["recordings"].items():
        for name in ("gen1_minus_original", "gen2_minus_gen1", "gen2_minus_original"):
            s = r[name]
            print(f"{i:28} {name.replace('_minus_', ' - '):22} {s['n']:6} "
                  f"{s['median_abs_us']:13} {s['max_abs_us']:10} {s['mean_us']:9}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
