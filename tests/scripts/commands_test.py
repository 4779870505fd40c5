#!/usr/bin/python3
"""Every Python command's bad input, as a new user types it (issue 23): one line on stderr naming
the problem and, where there is one, the closest valid option; exit 2; nothing created. And
scripts/merge_shards: it says how many shards it merged, and refuses a split with a shard
missing, given twice, or shards of different splits. Usage: commands_test.py (from ctest)."""
import os
import subprocess
import sys
import tempfile
import unittest

import fixtures

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")

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


def shard(tmp, name, text, cases=None):
    context = dict(fixtures.CONTEXT, shard=text)
    return fixtures.write(tmp, name, fixtures.run(cases=cases, repetitions=1, context=context))


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
        self.assertTrue(os.path.isfile(os.path.join(self.out, "benchmark.json")))

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

    def test_a_run_without_a_shard_in_its_context_is_refused(self):
        self.refused(fixtures.write(self.tmp.name, "old", fixtures.run(repetitions=1)),
                     says="no shard I/N in its context")


if __name__ == "__main__":
    unittest.main()
