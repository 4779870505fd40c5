#!/usr/bin/python3
"""scripts/bench as a new user runs it (issue 23), on the harness and server of this build
(SSEBENCH_BUILD_DIR: nothing installed or built), from a folder other than the repository root:
--help prints the wrapper's and the harness's flags and creates nothing; a mistyped flag is one
line naming the flag meant, exit 2, no results folder; relative paths are the caller's; a run
whose folder name is taken gets its own (-2); the server's bind error is one line.
Usage: bench_command_test.py BUILD_DIR (the build folder holding bench/ssebench-bench)."""
import datetime
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
BENCH = os.path.join(ROOT, "scripts/bench")
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None
# A 9-token recording replayed 8 times faster: a run of one case takes about a second.
TINY = ["--cases=sse", "--models=chat-gpt-4o-mini-text", "--concurrency=1", "--http=1.1",
        "--speed=8", "--no-warmup"]


def tree(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder)
                  for d, dirs, files in os.walk(folder) for n in dirs + files)


class BenchCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.cwd = self.tmp.name
        self.committed = tree(os.path.join(ROOT, "results"))

    def tearDown(self):
        self.assertEqual(tree(os.path.join(ROOT, "results")), self.committed,
                         "scripts/bench wrote into the repository's results/")
        self.tmp.cleanup()

    def bench(self, *args, build=None):
        env = dict(os.environ, SSEBENCH_BUILD_DIR=build or BUILD)
        return subprocess.run([BENCH, *args], capture_output=True, text=True, cwd=self.cwd,
                              env=env, timeout=300)

    def test_help_prints_both_flag_lists_and_creates_nothing(self):
        p = self.bench("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--results-dir=DIR", p.stdout)  # the wrapper's
        self.assertIn("--concurrency=LIST", p.stdout)  # the harness's
        self.assertIn("--benchmark_filter", p.stdout)  # Google Benchmark's
        self.assertEqual(tree(self.cwd), [])

    def test_help_before_the_first_build_builds_nothing(self):
        empty = os.path.join(self.cwd, "build")
        os.mkdir(empty)
        p = self.bench("--help", build=empty)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--results-dir=DIR", p.stdout)
        self.assertIn("does not exist yet", p.stdout)
        self.assertEqual(tree(self.cwd), ["build"])

    def test_a_mistyped_flag_is_one_line_and_leaves_no_folder(self):
        for args, says in ((["--concurency=10"], "did you mean --concurrency?"),
                           (["--models=nope"], "no recording 'nope'"),
                           (["--prxy=nginx"], "did you mean --proxy?"),
                           (["--proxy=ngnix"], "bad value 'ngnix' for --proxy"),
                           (["--recordings=mine"], "mine is not a folder"),
                           (["--recordings", "mine"], "mine is not a folder"),
                           (["--repetitions=x"], "--repetitions takes a whole number"),
                           (["--results-dir"], "--results-dir takes a folder")):
            with self.subTest(args=args):
                p = self.bench(*args, *(["--results-dir=res"] if args != ["--results-dir"] else []))
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(says, lines[0])
                self.assertNotIn("running", p.stderr)
                self.assertEqual(tree(self.cwd), [])

    def test_relative_paths_are_the_callers_and_a_taken_folder_name_is_not_shared(self):
        mine = os.path.join(self.cwd, "mine")
        os.mkdir(mine)
        shutil.copy(os.path.join(ROOT, "recordings/chat-gpt-4o-mini-text.jsonl"), mine)
        # Another run's folders for this second and the next few: this run must not reuse one.
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True).stdout.strip() or "unknown"
        now = datetime.datetime.now(datetime.timezone.utc)
        taken = [f"{(now + datetime.timedelta(seconds=s)):%Y%m%dT%H%M%SZ}_{commit}"
                 for s in range(6)]
        for name in taken:
            os.makedirs(os.path.join(self.cwd, "res", name))
        p = self.bench("--recordings=mine", "--results-dir=res", *TINY)
        self.assertEqual(p.returncode, 0, p.stderr)
        runs = sorted(set(os.listdir(os.path.join(self.cwd, "res"))) - set(taken))
        self.assertEqual(len(runs), 1, runs)
        self.assertRegex(runs[0], r"_[0-9a-z]+-2$")
        for name in taken:
            self.assertEqual(os.listdir(os.path.join(self.cwd, "res", name)), [])
        self.assertTrue(os.path.isfile(os.path.join(self.cwd, "res", runs[0], "benchmark.json")))


@unittest.skipIf(BUILD is None, "needs BUILD_DIR")
class ServerBind(unittest.TestCase):
    def test_a_port_in_use_is_one_line(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            p = subprocess.run([os.path.join(BUILD, "mock_server/ssebench-mock-server"),
                                "--recordings", os.path.join(ROOT, "recordings"),
                                "--port", str(port)], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr.strip().splitlines()[-1],
                         f"ssebench-mock-server: cannot listen on 127.0.0.1:{port}: "
                         "address already in use")
        self.assertNotIn("boost", p.stderr)


if __name__ == "__main__":
    if BUILD is None:
        sys.exit("usage: bench_command_test.py BUILD_DIR")
    unittest.main()
