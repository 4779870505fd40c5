#!/usr/bin/python3
"""scripts/bench as a new user runs it (issue 23), on the harness and server of this build
(SSEBENCH_BUILD_DIR: nothing installed or built), from a folder other than the repository root:
--help prints the wrapper's and the harness's flags and creates nothing; a mistyped flag is one
line naming the flag meant, exit 2, no results folder; relative paths are the caller's; a run
whose folder name is taken gets its own (-2); the server's bind error is one line; its own flags
take `--opt value` as well as `--opt=value`, and the flag checks see either form; a run's case
lines say the time elapsed and an estimate of what is left, as plain lines when piped; the
default suite is the core one (56 cases), --full the 272-case one, --quick CI's 52.
Usage: bench_command_test.py BUILD_DIR (the build folder holding bench/ssebench-bench)."""
import datetime
import json
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

    def test_a_mistyped_flag_is_said_before_the_first_build(self):
        empty = os.path.join(self.cwd, "build")
        os.mkdir(empty)
        for args, says in ((["--concurency=10"], "unknown flag --concurency (did you mean "
                                                 "--concurrency?)"),
                           (["--resuls-dir", "x"], "did you mean --results-dir?"),
                           (["--no-such-thing"], "unknown flag --no-such-thing")):
            with self.subTest(args=args):
                p = self.bench(*args, build=empty)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(says, lines[0])
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

    def test_check_flags_says_the_plan_and_makes_no_folder(self):
        # Passed on to the harness, --check-flags once left a run folder holding only its
        # console, and the script said the harness had written no results.
        p = self.bench(*TINY, "--check-flags", "--results-dir=res")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ssebench: would run 1 case of the core suite", p.stdout)
        self.assertNotIn("wrote no results", p.stderr)
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

    def test_the_scripts_own_flags_take_a_value_either_way(self):
        p = self.bench("--results-dir", "res", "--repetitions", "2", "--concurrency", "1,2",
                       *[a for a in TINY if not a.startswith("--concurrency")])
        self.assertEqual(p.returncode, 0, p.stderr)
        runs = os.listdir(os.path.join(self.cwd, "res"))
        self.assertEqual(len(runs), 1, runs)
        with open(os.path.join(self.cwd, "res", runs[0], "benchmark.json")) as f:
            entries = [b for b in json.load(f)["benchmarks"] if b.get("run_type") == "iteration"]
        # --concurrency 1,2 reached the harness, --repetitions 2 became Google Benchmark's.
        self.assertEqual(sorted(b["concurrency"] for b in entries), [1, 1, 2, 2])
        self.assertIn("report.html", p.stderr.strip().splitlines()[-1])

    def test_a_value_missing_or_flags_that_clash_are_one_line_in_either_form(self):
        for args, status, says in (
                (["--results-dir"], 2, "--results-dir takes a folder"),
                (["--repetitions"], 2, "--repetitions takes a whole number"),
                (["--netns-mtu"], 2, "--netns-mtu takes a whole number"),
                (["--netns-mtu", "big"], 2, "--netns-mtu takes an MTU in bytes"),
                (["--link", "3g", "--netns"], 2, "--link=3g and --netns are two different links"),
                (["--netns-mtu", "1400", "--link", "lan"], 2,
                 "--link=lan and --netns-mtu=1400 are two different links"),
                (["--tls", "on", "--netns"], 2, "--tls=on needs the server the harness starts"),
                (["--recordings", "mine"], 2, "mine is not a folder"),
                (["--full", "--quick"], 2, "--quick and the full suite are two suites")):
            with self.subTest(args=args):
                p = self.bench(*args)
                self.assertEqual(p.returncode, status, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(says, lines[0])
                self.assertEqual(tree(self.cwd), [])

    def test_case_lines_say_elapsed_and_left_as_plain_lines_when_piped(self):
        p = self.bench("--results-dir=res", "--concurrency", "1,2,3",
                       *[a for a in TINY if not a.startswith("--concurrency")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ssebench: running 3 cases of the core suite, planned 0:00", p.stderr)
        cases = [line for line in p.stderr.splitlines() if line.startswith("[")]
        self.assertEqual(len(cases), 3, p.stderr)
        for n, line in enumerate(cases, 1):
            self.assertRegex(line, rf"^\[{n}/3\] sse/chat-gpt-4o-mini-text/c:{n}: {n}/{n} ok, .*"
                             r"\(\d+\.\d s; \d+:\d\d elapsed, ≈ \d+:\d\d left\)$")
        self.assertTrue(cases[-1].endswith("≈ 0:00 left)"), cases[-1])
        # Piped: no carriage return to redraw a line, no colour.
        for out in (p.stdout, p.stderr):
            self.assertNotIn("\r", out)
            self.assertNotIn("\x1b[", out)


@unittest.skipIf(BUILD is None, "needs BUILD_DIR")
class Suites(unittest.TestCase):
    """The harness says what a command line runs (--check-flags, as scripts/bench asks it)."""

    def plan(self, *args):
        p = subprocess.run([os.path.join(BUILD, "bench/ssebench-bench"), "--check-flags", *args],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_the_default_is_the_core_suite_full_the_old_default_quick_cis(self):
        self.assertRegex(self.plan(), r"^56 cases of the core suite, planned 1:\d\d ")
        self.assertRegex(self.plan("--full"), r"^272 cases of the full suite, planned 1[5-9]:\d\d ")
        self.assertRegex(self.plan("--suite", "full"), r"^272 cases of the full suite")
        # CI gates these cases against a committed run (.ci/run): they must not change.
        self.assertRegex(self.plan("--quick"), r"^52 cases of the quick suite, planned 0:\d\d ")
        # A filter and repetitions count as they run.
        self.assertRegex(self.plan("--benchmark_filter=^sse/", "--benchmark_repetitions=3"),
                         r"^18 cases of the core suite")

    def test_quick_and_full_run_the_cases_of_their_committed_runs(self):
        # --quick: what .ci/run compares with its committed reference, case for case; --full:
        # the 272 cases of the committed default run they were before the core suite.
        for flag, run in (("--quick", "20261202T201752Z_eb1cb57"),
                          ("--full", "20261202T193239Z_3e972d9")):
            with self.subTest(suite=flag):
                p = subprocess.run([os.path.join(BUILD, "bench/ssebench-bench"), flag,
                                    "--benchmark_list_tests=true"],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(os.path.join(ROOT, "results", run, "benchmark.json")) as f:
                    committed = {b["run_name"] for b in json.load(f)["benchmarks"]}
                self.assertEqual(sorted(p.stdout.split()), sorted(committed))

    def test_the_core_suite_holds_what_the_report_reads(self):
        p = subprocess.run([os.path.join(BUILD, "bench/ssebench-bench"), "--help"],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("--full", p.stdout)
        self.assertIn("--suite=S", p.stdout)
        # Every transport at 1 and 100 streams on the two recordings; the shapes at 250 ms;
        # delta at 50 and 1000 ms at 100 streams for the crossover.
        # Google Benchmark filters the registered name, NAME/iterations:1/manual_time.
        for f in ("^sse/chat-gpt-4o-json/c:1", "^sse/chat-gpt-4o-mini-text/c:100/http:2",
                  "^rest/chat-gpt-4o-json/c:100", "^ws/chat-gpt-4o-mini-text/c:100",
                  "^long-poll/chat-gpt-4o-json/c:100/shape:events",
                  "^poll/chat-gpt-4o-json/c:100/interval_ms:250/shape:openai",
                  "^poll/chat-gpt-4o-mini-text/c:100/interval_ms:50/shape:delta",
                  "^poll/chat-gpt-4o-mini-text/c:100/interval_ms:1000/shape:delta"):
            with self.subTest(case=f):
                self.assertRegex(self.plan(f"--benchmark_filter={f}/iter"), r"^1 case ")
        self.assertRegex(self.plan("--benchmark_filter=turns:4"), r"^0 cases ")
        # HTTP/2 beside HTTP/1.1 at 100 streams only: at one it repeats HTTP/1.1's case.
        self.assertRegex(self.plan("--benchmark_filter=c:1/.*http:2"), r"^0 cases ")
        self.assertRegex(self.plan("--benchmark_filter=c:1/interval_ms:50"), r"^0 cases ")


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
