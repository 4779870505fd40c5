#!/usr/bin/python3
"""charts.py and crossover.py on a synthetic sweep: every chart is written as PNG and SVG, the
crossover is found where the synthetic costs cross SSE's, and a run without intervals gets no
crossover (and no error)."""
import os
import subprocess
import sys
import tempfile
import unittest

import fixtures
from ssebench import crossover, results

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")

CHARTS = ["lag", "bytes_per_token", "cpu_per_token", "ttft", "lag_cdf", "frontier",
          "bytes_split", "scaling", "model"]


class Charts(unittest.TestCase):
    def test_every_chart_as_png_and_svg(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "sweep", fixtures.sweep())
            for cmd in (["model.py", run, "--write"], ["charts.py", os.path.join(run, "benchmark.json")],
                        ["crossover.py", run]):
                p = subprocess.run([sys.executable, os.path.join(SCRIPTS, cmd[0]), *cmd[1:]],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for name in CHARTS + ["crossover"]:
                for ext in ("png", "svg"):
                    path = os.path.join(run, f"{name}.{ext}")
                    self.assertTrue(os.path.getsize(path) > 1000, path)
            self.assertTrue(os.path.exists(os.path.join(run, "crossover.txt")))

    def test_open_loop_and_users_cases_chart_and_tabulate(self):
        rec = fixtures.REC
        names = [f"sse/{rec}/c:10", f"sse/{rec}/rate:2/max_conc:6", f"sse/{rec}/users:4",
                 f"poll/{rec}/rate:2/max_conc:6/interval_ms:250/shape:delta",
                 f"poll/{rec}/users:4/interval_ms:250/shape:delta", f"ws/{rec}/c:10/turns:4",
                 f"sse/{rec}/c:10/http:2"]
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "open", fixtures.run(cases=names, repetitions=1))
            for cmd in (["model.py", run, "--write"], ["charts.py", run], ["bench_table.py", run],
                        ["crossover.py", run]):
                p = subprocess.run([sys.executable, os.path.join(SCRIPTS, cmd[0]), *cmd[1:]],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                if cmd[0] == "bench_table.py":
                    rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()
                            if line.startswith(("sse/", "poll/"))}
            self.assertTrue(os.path.exists(os.path.join(run, "frontier.svg")))
        # ×sse against the sse case of the same load (open-loop and users too): sse itself 1.00
        self.assertEqual(rows[f"sse/{rec}/rate:2/max_conc:6"][-3], "1.00")
        self.assertEqual(rows[f"sse/{rec}/users:4"][-3], "1.00")
        self.assertNotEqual(rows[f"poll/{rec}/users:4/interval_ms:250/shape:delta"][-3], "-")

    def test_the_crossover_is_where_the_costs_cross(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "sweep", fixtures.sweep())
            _, cases = results.load(run)
        rows = {(r["concurrency"], r["cost"]): r for r in crossover.find(cases)}
        bytes_row = rows[(10, "bytes")]
        self.assertEqual(bytes_row["how"], "at")
        # SSE's cost is 329 in + 40 out = 369 B; 400·(100/P)^0.2 = 369 at P ≈ 150 ms, between
        # the measured 100 and 250 ms (the interpolation is exact: the line is straight in log-log)
        expected = 100 * (400 / (bytes_row["sse_cost"])) ** 5
        self.assertAlmostEqual(bytes_row["interval_ms"], expected, delta=0.02 * expected)
        self.assertAlmostEqual(bytes_row["lag_ms_mean"], expected / 2, delta=0.05 * expected)
        cpu_row = rows[(10, "cpu")]
        self.assertEqual(cpu_row["how"], "below")  # cheaper than SSE at every interval
        self.assertEqual(crossover.describe(cpu_row), "< 50")

    def test_no_intervals_no_crossover(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "plain", fixtures.run(repetitions=1))
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "crossover.py"), run],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(os.path.join(run, "crossover.txt")))


if __name__ == "__main__":
    unittest.main()
