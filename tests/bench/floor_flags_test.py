#!/usr/bin/python3
"""ssebench-floor's flags: a bad value is one line on stderr naming the flag, and exit 2, before
anything is loaded or bound; --help prints the usage and exits 0. (The floor once read its numbers
with atoi/strtod: --port=abc listened on a random port, --speed=-1 was refused only as 'needed'.)
Usage: floor_flags_test.py FLOOR RECORDINGS_DIR"""
import os
import subprocess
import sys

floor, recordings = sys.argv[1:3]
rec = os.path.join(recordings, "chat-gpt-4o-mini-text.jsonl")
problems = []

bad = {
    ("--port=abc",): "bad value 'abc' for --port: a whole number from 0 to 65535",
    ("--port", "70000"): "bad value '70000' for --port: a whole number from 0 to 65535",
    ("--speed=-1",): "bad value '-1' for --speed: a number above 0",
    ("--speed=0",): "bad value '0' for --speed: a number above 0",
    ("--speed", "fast"): "bad value 'fast' for --speed: a number above 0",
    ("--speed=inf",): "bad value 'inf' for --speed: a number above 0",
    ("--port",): "--port needs a value",
    ("--sped=2",): "unknown flag --sped (did you mean --speed?)",
    ("extra",): "unexpected argument 'extra'",
    (): "--recording=FILE is needed",
}
for args, want in bad.items():
    argv = [floor] + ([f"--recording={rec}"] if args else []) + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    line = f"ssebench-floor: {want} (see --help)\n"
    if r.returncode != 2 or r.stderr != line or r.stdout:
        problems.append(f"{args}: exit {r.returncode}, stderr {r.stderr!r}, want exit 2 and {line!r}")

r = subprocess.run([floor, "--help"], capture_output=True, text=True, timeout=10)
if r.returncode != 0 or "--recording=FILE" not in r.stdout:
    problems.append(f"--help: exit {r.returncode}, stdout {r.stdout!r}")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
