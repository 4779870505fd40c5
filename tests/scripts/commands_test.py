#!/usr/bin/python3
"""Every Python command's bad input, as a new user types it (issue 23): one line on stderr naming
the problem and, where there is one, the closest valid option; exit 2; nothing created. And
scripts/merge_shards: it says how many shards it merged, and refuses a split with a shard
missing, given twice, or shards of different splits.

Then one convention for every command under scripts/, found by listing (issue 20; a new command
is held to it as soon as it exists): --help and -h answer at once and install or build nothing
(apt-get, dpkg, cmake, make, npm, … are stubs on PATH that fail loudly and leave a trace), a
misspelt option is one line naming the option meant, exit 2, and a value option takes
--opt=value and --opt value alike.
Usage: commands_test.py [BUILD_DIR] (from ctest: scripts/bench checks the harness's flags with
BUILD_DIR's harness, SSEBENCH_BUILD_DIR, rather than building one)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import fixtures
from ssebench import cli

SCRIPTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "../../scripts"))
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None

# Each command with the arguments it needs besides RUN.
COMMANDS = {"model.py": [], "report.py": [], "crossover.py": [], "charts.py": [],
            "bench_table.py": [], "compare": ["{run}"]}


def run(cmd, *args, cwd=None):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, cmd), *args],
                          capture_output=True, text=True, cwd=cwd)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = fixtures.write(self.tmp.name, "run", fixtures.run(repetitions=1))
        self.before = self.listing()

    def tearDown(self):
        self.tmp.cleanup()

    def listing(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.tmp.name)
                      for d, _, files in os.walk(self.tmp.name) for f in files)

    def one_line(self, p, *wanted):
        """Exit 2, one stderr line holding every `wanted` text, no traceback, nothing written."""
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for w in wanted:
            self.assertIn(w, lines[0])
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(self.listing(), self.before)
        return lines[0]

    def args(self, cmd, *extra):
        return [a.format(run=self.run_dir) for a in COMMANDS[cmd]] + [self.run_dir, *extra]

    def test_a_typo_of_an_option_names_the_option_meant(self):
        for cmd, typo, meant in (("model.py", "--chek", "--check"),
                                 ("report.py", "--writ", "--write"),  # no abbreviation either
                                 ("bench_table.py", "--markdwn", "--markdown"),
                                 ("crossover.py", "--markdow", "--markdown"),
                                 ("compare", "--fail-on-regresion=10", "--fail-on-regression")):
            with self.subTest(cmd=cmd):
                line = self.one_line(run(cmd, *self.args(cmd, typo), cwd=self.tmp.name),
                                     typo.split("=")[0], f"did you mean {meant}?")
                self.assertTrue(line.startswith(cmd.split(".")[0]), line)

    def test_an_unknown_option_is_refused_without_a_guess(self):
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                line = self.one_line(run(cmd, *self.args(cmd, "--zzz"), cwd=self.tmp.name),
                                     "unknown option --zzz")
                self.assertNotIn("did you mean", line)

    def test_a_bad_value_says_what_the_option_takes(self):
        self.one_line(run("compare", self.run_dir, self.run_dir, "--fail-on-regression=abc"),
                      "--fail-on-regression takes a number (got 'abc')")

    def test_a_missing_argument_is_named(self):
        self.one_line(run("compare", self.run_dir), "missing NEW")
        self.one_line(run("merge_shards", os.path.join(self.tmp.name, "out")), "missing SHARD")

    def test_a_folder_without_benchmark_json_or_no_folder_at_all(self):
        empty = os.path.join(self.tmp.name, "empty")
        os.mkdir(empty)
        self.before = self.listing()
        for cmd in (*COMMANDS, "merge_shards"):
            for folder, says in ((empty, "empty/benchmark.json: no such file"),
                                 (os.path.join(self.tmp.name, "nope"), "nope: no such file")):
                with self.subTest(cmd=cmd, folder=folder):
                    args = {"compare": [self.run_dir, folder],
                            "merge_shards": [os.path.join(self.tmp.name, "out"), folder]}
                    self.one_line(run(cmd, *args.get(cmd, [folder])), says)


def shard(tmp, name, text, cases=None, start_at=None, late=(), offset_ms=0.0):
    """A shard's run; with start_at, of a --start-at schedule: each case's schedule counters,
    the cases in `late` missed their window by 900 ms."""
    # The harness names its histograms file in the context (run_context.cpp).
    context = dict(fixtures.CONTEXT, shard=text,
                   histograms=os.path.join(tmp, name, "benchmark.histograms.json"))
    counters = None
    if start_at:
        context["start_at"] = start_at
        counters = {c: dict(schedule_late_ms=900.0 if c in late else 3.0,
                            schedule_missed=1 if c in late else 0, clock_offset_ms=offset_ms,
                            clock_uncertainty_ms=0.05)
                    for c in cases or fixtures.CASES}
    return fixtures.write(tmp, name, fixtures.run(cases=cases, repetitions=1, context=context,
                                                  counters=counters, noise=0 if start_at else 0.01))


class MergeShards(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "merged")

    def tearDown(self):
        self.tmp.cleanup()

    def refused(self, *shards, says):
        p = run("merge_shards", self.out, *shards)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn(says, p.stderr)
        self.assertFalse(os.path.exists(self.out))

    def test_every_shard_merged_is_counted(self):
        a, b = shard(self.tmp.name, "a", "0/2"), shard(self.tmp.name, "b", "1/2")
        p = run("merge_shards", self.out, b, a)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("merged 2 of 2 shards, 3 cases", p.stdout)
        with open(os.path.join(self.out, "benchmark.json"), encoding="utf-8") as f:
            context = json.load(f)["context"]
        # The merged run's own histograms, not a shard's.
        self.assertEqual(context["histograms"],
                         os.path.join(self.out, "benchmark.histograms.json"))

    def test_a_missing_shard_is_refused(self):
        self.refused(shard(self.tmp.name, "a", "0/2"), says="1 of 2 shards given; missing 1/2")
        self.refused(shard(self.tmp.name, "a", "0/3"), shard(self.tmp.name, "c", "2/3"),
                     says="2 of 3 shards given; missing 1/3")

    def test_a_shard_twice_or_of_another_split_is_refused(self):
        a = shard(self.tmp.name, "a", "0/2")
        self.refused(a, shard(self.tmp.name, "a2", "0/2"), says="shard 0/2 given twice")
        self.refused(a, shard(self.tmp.name, "b", "1/3"), says="shards of different splits")
        # Two whole runs are not two shards of one.
        self.refused(shard(self.tmp.name, "w1", "0/1"), shard(self.tmp.name, "w2", "0/1"),
                     says="shard 0/1 given twice")

    def test_shards_on_one_schedule_report_their_skew(self):
        start = "2026-12-05T03:00:00Z"
        a = shard(self.tmp.name, "a", "0/2", start_at=start, offset_ms=-0.5)
        b = shard(self.tmp.name, "b", "1/2", start_at=start, offset_ms=1.25)
        p = run("merge_shards", self.out, a, b)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("one schedule from 2026-12-05T03:00:00Z", p.stderr)
        with open(os.path.join(self.out, "benchmark.json"), encoding="utf-8") as f:
            merged = json.load(f)
        self.assertEqual(merged["context"]["start_at"], start)
        self.assertAlmostEqual(merged["context"]["clock_skew_ms"], 1.75)
        for b in merged["benchmarks"]:
            self.assertAlmostEqual(b["clock_skew_ms"], 1.75)
            self.assertEqual(b["shards_late"], 0)

    def test_a_late_shard_is_refused_unless_allowed(self):
        start = "2026-12-05T03:00:00Z"
        late = fixtures.CASES[1]
        a = shard(self.tmp.name, "a", "0/2", start_at=start)
        b = shard(self.tmp.name, "b", "1/2", start_at=start, late=(late,))
        self.refused(a, b, says=f"shard 1/2 ({b}")
        self.refused(a, b, says=f"began case {late} 900 ms late (schedule_missed)")
        self.refused(a, b, says="--allow-late")
        p = run("merge_shards", self.out, a, b, "--allow-late")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("warning: shard 1/2", p.stderr)
        with open(os.path.join(self.out, "benchmark.json"), encoding="utf-8") as f:
            merged = {e["name"].split("/iterations")[0]: e for e in json.load(f)["benchmarks"]}
        self.assertEqual(merged[late]["shards_late"], 1)
        self.assertEqual(merged[fixtures.CASES[0]]["shards_late"], 0)

    def test_shards_of_different_schedules_are_refused(self):
        a = shard(self.tmp.name, "a", "0/2", start_at="2026-12-05T03:00:00Z")
        self.refused(a, shard(self.tmp.name, "b", "1/2", start_at="2026-12-05T03:10:00Z"),
                     says="shards of different schedules")
        self.refused(a, shard(self.tmp.name, "c", "1/2"), says="shards of different schedules")

    def test_shards_without_a_schedule_merge_with_a_note(self):
        p = run("merge_shards", self.out, shard(self.tmp.name, "a", "0/2"),
                shard(self.tmp.name, "b", "1/2"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("no common schedule", p.stderr)

    def test_a_run_without_a_shard_in_its_context_is_refused(self):
        self.refused(fixtures.write(self.tmp.name, "old", fixtures.run(repetitions=1)),
                     says="no shard I/N in its context")


# What installs or builds: each a stub that writes its call to a log and fails.
STUBBED = ("apt-get", "apt", "aptitude", "dpkg", "cmake", "make", "ninja", "npm", "npx", "pip",
           "pip3", "gcc", "g++", "c++", "clang++", "valgrind", "sudo")
# --help is answered before anything heavier than reading a file: this is generous.
HELP_S = 10


def commands():
    """Every command under scripts/: an executable file outside the package (scripts/ssebench,
    whose modules a command imports), the shell library and node_modules."""
    found = []
    for d, dirs, files in os.walk(SCRIPTS):
        dirs[:] = [x for x in dirs if x not in ("ssebench", "lib", "node_modules", "__pycache__")]
        found += [os.path.relpath(os.path.join(d, f), SCRIPTS) for f in files
                  if os.access(os.path.join(d, f), os.X_OK)]
    return sorted(found)


def options(help_text):
    """The options a command's --help offers: those in its usage lines and those that start a
    line of it (argparse's list, a shell command's usage comment), --help always."""
    usage = help_text.split("\n\n")[0]
    starts = "\n".join(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", help_text, re.M))
    names = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]", usage + "\n" + starts)
    return list(dict.fromkeys(names + ["--help"]))


def value_options(help_text):
    """Options shown with a value: --opt=N (a shell usage) or --opt PCT (argparse)."""
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?:=| )[A-Z]", help_text)))


# Commands not yet held to both value forms, and the work that will hold them: the test fails
# once such a command takes both, so the line is removed with that work.
BOTH_FORMS_PENDING = {}


# A value option of each command that has one: (arguments before, option, a value it takes, and
# what the line says when --zzzz follows it — None: the unknown --zzzz). Either form must give
# the same line, and with a valid value it is about --zzzz: the space form took the value.
def value_cases(run):
    return {
        "bench": ([], "--repetitions", "2", None),
        "test": ([], "--preset", "nope", "unknown preset 'nope'"),
        "scale": ([], "--duration-s", "3", None),
        "scale.py": ([], "--duration-s", "3", None),
        "soak": ([], "--duration-s", "3", None),
        "hold": ([], "--users", "50", None),
        "heap": ([], "--users", "2000", None),
        "netns": (["status"], "--mtu", "1400", None),
        "shards": ([], "--shards", "2", None),
        "k8s": ([], "--shards", "2", None),
        "compare": ([run, run], "--alpha", "0.1", None),
        "model.py": ([], "--concurrency", "2", None),
        "report.py": ([run], "--sweep", run, None),
        "crosscheck/crosscheck.py": ([], "--concurrency", "2", None),
        "crosscheck/stamp_error.py": ([], "--count", "10", None),
        "recorder/roundtrip.py": ([], "--repeat", "2", None),
        "recordings/scenarios.py": ([], "--seed", "3", None),
        "radio": ([], "--window-s", "60", None),
    }


class Convention(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bin = os.path.join(cls.tmp.name, "bin")
        cls.log = os.path.join(cls.tmp.name, "stub-calls.log")
        os.mkdir(cls.bin)
        for name in STUBBED:
            path = os.path.join(cls.bin, name)
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\necho "{name} $*" >>{cls.log}\n'
                        f'echo "commands_test: {name} called: nothing may be installed or built '
                        f'here" >&2\nexit 97\n')
            os.chmod(path, 0o755)
        cls.env = dict(os.environ, PATH=cls.bin + os.pathsep + os.environ["PATH"])
        if BUILD:
            cls.env["SSEBENCH_BUILD_DIR"] = BUILD
        cls.run_dir = fixtures.write(cls.tmp.name, "run", fixtures.run(repetitions=1))
        cls.helps = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def command(self, cmd, *args):
        if os.path.exists(self.log):
            os.remove(self.log)
        start = time.monotonic()
        p = subprocess.run([os.path.join(SCRIPTS, cmd), *args], capture_output=True, text=True,
                           env=self.env, cwd=self.tmp.name, timeout=120)
        p.elapsed = time.monotonic() - start
        p.stubs = open(self.log).read() if os.path.exists(self.log) else ""
        self.assertEqual(p.stubs, "", f"{cmd} {' '.join(args)} installed or built:\n{p.stderr}")
        return p

    def help(self, cmd):
        if cmd not in self.helps:
            self.helps[cmd] = self.command(cmd, "--help")
        return self.helps[cmd]

    def one_line(self, p, *wanted):
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for w in wanted:
            self.assertIn(w, lines[0])
        return lines[0]

    def test_the_listing_finds_every_kind(self):
        found = commands()
        for cmd in ("test", "scale", "compare", "report.py", "crosscheck/crosscheck.py",
                    "recordings/convert.py"):
            self.assertIn(cmd, found)
        self.assertNotIn("ssebench/model.py", found)

    def test_help_answers_at_once_and_installs_nothing(self):
        for cmd in commands():
            for flag in ("--help", "-h"):
                with self.subTest(cmd=cmd, flag=flag):
                    p = self.help(cmd) if flag == "--help" else self.command(cmd, flag)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("usage", p.stdout.lower())
                    self.assertLess(p.elapsed, HELP_S)

    def test_a_misspelt_option_names_the_one_meant(self):
        for cmd in commands():
            names = options(self.help(cmd).stdout)
            # The first option a letter short of itself is a typo of it and of no other.
            meant, typo = next((o, o[:-2] + o[-1]) for o in names
                               if cli.closest(o[:-2] + o[-1], names) == o)
            with self.subTest(cmd=cmd, typo=typo):
                line = self.one_line(self.command(cmd, typo), typo, f"did you mean {meant}?")
                # Named by the command, or by the program it hands its options to
                # (scripts/bench: ssebench-bench).
                self.assertIn(os.path.basename(cmd).split(".")[0], line.split(":")[0], line)

    def test_a_value_option_takes_both_forms(self):
        cases = value_cases(self.run_dir)
        for cmd in commands():
            shown = value_options(self.help(cmd).stdout)
            with self.subTest(cmd=cmd):
                if not shown:
                    self.assertNotIn(cmd, cases)
                    continue
                self.assertIn(cmd, cases, f"{cmd} takes {', '.join(shown)}: add one to "
                              "value_cases() to test both forms")
                before, opt, value, says = cases[cmd]
                self.assertIn(opt, shown)
                tail = [] if says else ["--zzzz"]
                joined = self.command(cmd, *before, f"{opt}={value}", *tail)
                spaced = self.command(cmd, *before, opt, value, *tail)
                line = self.one_line(joined, says or "--zzzz")
                if cmd in BOTH_FORMS_PENDING:
                    self.assertNotEqual(spaced.stderr.strip(), line, f"{cmd} takes both forms "
                                        "now: remove it from BOTH_FORMS_PENDING")
                    continue
                self.assertEqual(self.one_line(spaced), line)


if __name__ == "__main__":
    unittest.main()
