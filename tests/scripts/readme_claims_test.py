#!/usr/bin/python3
"""What README.md tells a new user to run (issue 23): its server examples each take a port of
their own and say how to stop the server; the figures its `--quick` paragraph quotes are the
committed runs' (REST ahead of 250 ms polling on the quick stream, behind on the 177-token one);
results/local/, where results/README.md sends scratch runs, is ignored by git.
Usage: readme_claims_test.py (from ctest)."""
import os
import re
import subprocess
import unittest

from ssebench import results

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    README = f.read()


def lag_p50(run, transport, recording, interval=0):
    _, cases = results.load(os.path.join(ROOT, "results", run))
    (c,) = [c for c in cases if c["transport"] == transport and c["recording"] == recording
            and c["concurrency"] == 1 and c["http"] == "1.1" and c["interval_ms"] == interval
            and c["shape"] in ("", "delta") and results.via(c) == ""]
    return c["counters"]["lag_ms_p50"]


class Readme(unittest.TestCase):
    def test_every_server_example_has_its_own_port_and_says_how_to_stop_it(self):
        blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
        ports = []
        for block in blocks:
            started = re.findall(r"ssebench-mock-server .*--port (\d+) &", block)
            if started:
                self.assertIn("kill %1", block, block)
            ports += started
        self.assertGreaterEqual(len(ports), 2)
        self.assertEqual(len(ports), len(set(ports)), ports)

    def test_the_quick_paragraph_quotes_the_committed_runs(self):
        para = README[README.index("`--quick` is a check"):]
        para = para[:para.index("\n\n")]
        quick, full = "20261202T201752Z_eb1cb57", "20261202T150305Z_74f862a"
        self.assertIn(quick, para)
        self.assertIn(full, para)
        for run, rec, quoted in ((quick, "chat-gpt-4o-mini-text", ("70.5", "124.1")),
                                 (full, "chat-gpt-4o-json", ("1,172.8", "119.5"))):
            rest = lag_p50(run, "rest", rec)
            poll = lag_p50(run, "poll", rec, 250)
            self.assertEqual((f"{rest:,.1f}", f"{poll:,.1f}"), quoted, run)
            for q in quoted:
                self.assertIn(f"{q} ms", para)
        self.assertLess(lag_p50(quick, "rest", "chat-gpt-4o-mini-text"),
                        lag_p50(quick, "poll", "chat-gpt-4o-mini-text", 250))
        # CI's quick suite is still the stream the paragraph describes.
        with open(os.path.join(ROOT, ".ci/run"), encoding="utf-8") as f:
            self.assertIn(f"reference=results/{quick}", f.read())

    def test_scratch_runs_have_an_ignored_folder(self):
        with open(os.path.join(ROOT, "results/README.md"), encoding="utf-8") as f:
            self.assertIn("scripts/bench --results-dir=results/local", f.read())
        if not os.path.isdir(os.path.join(ROOT, ".git")) and not os.path.isfile(
                os.path.join(ROOT, ".git")):
            self.skipTest("not a git checkout")
        p = subprocess.run(["git", "check-ignore", "-q", "results/local/20261204T000000Z_x/a"],
                           cwd=ROOT)
        self.assertEqual(p.returncode, 0, "results/local/ is not ignored by git")


if __name__ == "__main__":
    unittest.main()
