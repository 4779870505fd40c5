#!/usr/bin/python3
"""The runtime layout (CMakeLists.txt, "The runtime layout"; the Dockerfile installs it): the
build installed into a fresh prefix, then, from a folder outside the source and build trees and
without PYTHONPATH, the installed harness runs one tiny case with no --server (it starts the
installed server on the installed recordings, as the run's context shows) and the installed
merge_shards merges its output.
Usage: install_test.py BUILD_DIR"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
# One case, one stream, the short recording replayed 8× as fast (0.56 s at its pace).
TINY = ["--cases=sse", "--models=chat-gpt-4o-mini-text", "--concurrency=1", "--http=1.1",
        "--speed=8"]


class InstalledTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ssebench-install-")
        cls.prefix = os.path.join(cls.tmp.name, "opt")
        p = subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        cls.env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        cls.env["PATH"] = os.path.join(cls.prefix, "bin") + os.pathsep + "/usr/bin:/bin"
        cls.work = os.path.join(cls.tmp.name, "work")
        os.mkdir(cls.work)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_here(self, *cmd):
        return subprocess.run(cmd, capture_output=True, text=True, cwd=self.work, env=self.env,
                              timeout=120)

    def test_the_layout(self):
        for path in ("bin/ssebench-bench", "bin/ssebench-mock-server", "bin/ssebench-link",
                     "bin/merge_shards", "share/ssebench/scripts/ssebench/merge.py",
                     "share/ssebench/recordings/chat-gpt-4o-mini-text.jsonl"):
            with self.subTest(path=path):
                self.assertTrue(os.access(os.path.join(self.prefix, path), os.R_OK), path)
        self.assertFalse(any("__pycache__" in d for d, _, _ in
                             os.walk(os.path.join(self.prefix, "share"))))

    def test_the_help_names_the_installed_server_and_recordings(self):
        p = self.run_here("ssebench-bench", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(os.path.join(self.prefix, "bin/ssebench-mock-server"), p.stdout)
        self.assertIn(os.path.join(self.prefix, "share/ssebench/recordings"), p.stdout)

    def test_a_run_and_its_merge_without_the_trees(self):
        out = os.path.join(self.work, "run")
        os.mkdir(out)
        p = self.run_here("ssebench-bench", *TINY, f"--benchmark_out={out}/benchmark.json",
                          "--benchmark_out_format=json")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        with open(os.path.join(out, "benchmark.json")) as f:
            run = json.load(f)
        context = run["context"]
        # The server it started and the recordings it read are the installed ones.
        self.assertIn(os.path.join(self.prefix, "bin/ssebench-mock-server"),
                      json.dumps(context["server"]))
        self.assertEqual(context["recordings"],
                         os.path.join(self.prefix, "share/ssebench/recordings"))
        for value in (context["server"], context["recordings"]):
            self.assertNotIn(BUILD, json.dumps(value))
            self.assertNotIn(SOURCE + "/recordings", json.dumps(value))
        self.assertTrue(run["benchmarks"])
        self.assertFalse([b["name"] for b in run["benchmarks"] if b.get("error_occurred")])
        p = self.run_here("merge_shards", "merged", "run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("merged 1 of 1 shards", p.stdout)
        self.assertTrue(os.path.isfile(os.path.join(self.work, "merged/benchmark.json")))


if __name__ == "__main__":
    unittest.main()
