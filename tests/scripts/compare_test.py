#!/usr/bin/python3
"""scripts/compare on synthetic runs: identical runs, a planted regression, cases on one side,
few repetitions, two machines, a failed case. Usage: compare_test.py (from ctest)."""
import os
import subprocess
import sys
import tempfile
import unittest

import fixtures
from ssebench import compare

HERE = os.path.dirname(os.path.abspath(__file__))

COMPARE = os.path.join(HERE, "../../scripts/compare")
SSE, POLL, LONG = fixtures.CASES


class Compare(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.base = fixtures.write(self.tmp.name, "base", fixtures.run(seed=1))

    def tearDown(self):
        self.tmp.cleanup()

    def compare(self, new, *flags):
        new_dir = fixtures.write(self.tmp.name, "new", new)
        p = subprocess.run([sys.executable, COMPARE, self.base, new_dir, *flags],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr

    def test_identical_runs_show_no_change(self):
        rc, out = self.compare(fixtures.run(seed=1), "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)
        self.assertIn("3 cases in both, 0 only in BASE, 0 only in NEW, 0 regressions", out)
        self.assertNotIn("REGRESSION", out)
        rows = [line for line in out.splitlines() if line.startswith(SSE)]
        self.assertTrue(rows and all("+0.0 %" in r for r in rows), out)

    def test_noise_alone_passes_the_gate(self):
        rc, out = self.compare(fixtures.run(seed=2, noise=0.02), "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)

    def test_a_planted_30_percent_regression_is_caught(self):
        new = fixtures.run(seed=2, scale={(POLL, "lag_ms_p99"): 1.3})
        rc, out = self.compare(new, "--fail-on-regression=10")
        self.assertEqual(rc, 1, out)
        flagged = [line for line in out.splitlines() if "REGRESSION" in line]
        self.assertEqual(len(flagged), 1, out)
        self.assertTrue(flagged[0].startswith(POLL) and "lag_ms_p99" in flagged[0], out)
        self.assertIn("1 regressions past 10 %", out)

    def test_protocol_figures_gate_bytes_but_not_latency(self):
        lag = fixtures.run(seed=2, scale={(POLL, "lag_ms_p99"): 1.3})
        rc, out = self.compare(lag, "--fail-on-regression=10", "--protocol-figures")
        self.assertEqual(rc, 0, out)
        self.assertIn("only bytes, requests and segments are gated", out)
        wire = fixtures.run(seed=2, scale={(POLL, "wire_bytes_in_per_token"): 1.3})
        rc, out = self.compare(wire, "--fail-on-regression=10", "--protocol-figures")
        self.assertEqual(rc, 1, out)

    def test_without_the_flag_a_regression_is_reported_not_failed(self):
        rc, out = self.compare(fixtures.run(seed=2, scale={(POLL, "lag_ms_p99"): 1.3}))
        self.assertEqual(rc, 0, out)
        self.assertIn("worse", out)

    def test_a_regression_under_the_threshold_passes(self):
        rc, out = self.compare(fixtures.run(seed=2, scale={(POLL, "lag_ms_p99"): 1.3}),
                               "--fail-on-regression=40")
        self.assertEqual(rc, 0, out)

    def test_an_improvement_passes(self):
        rc, out = self.compare(fixtures.run(seed=2, scale={(SSE, "wire_bytes_in_per_token"): 0.7}),
                               "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)
        self.assertIn("better", out)

    def test_cases_on_one_side_only_are_listed(self):
        new = fixtures.run(cases=[SSE, POLL, "sse/chat-gpt-4o-mini-text/c:10"], seed=1)
        rc, out = self.compare(new, "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)
        self.assertIn(f"only in BASE: {LONG}", out)
        self.assertIn("only in NEW: sse/chat-gpt-4o-mini-text/c:10", out)
        self.assertIn("2 cases in both, 1 only in BASE, 1 only in NEW", out)

    def test_without_repetitions_the_change_alone_decides(self):
        self.base = fixtures.write(self.tmp.name, "base1", fixtures.run(repetitions=1))
        rc, out = self.compare(fixtures.run(repetitions=1, scale={(SSE, "ttft_ms_p50"): 1.3}),
                               "--fail-on-regression=10")
        self.assertEqual(rc, 1, out)
        self.assertIn("fewer than 4 repetitions", out)

    def test_a_change_under_its_floor_is_no_regression(self):
        # SSE's lag 0.3 ms -> 0.6 ms: +100 %, significant, and under the 1 ms that counts
        rc, out = self.compare(fixtures.run(seed=2, scale={(SSE, "lag_ms_mean"): 2.0}),
                               "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)
        self.assertIn("worse", out)

    def test_cpu_has_its_own_threshold(self):
        new = fixtures.run(seed=2, scale={(SSE, "server_cpu_us_per_token"): 1.3})
        rc, out = self.compare(new, "--fail-on-regression=10", "--cpu-regression=50")
        self.assertEqual(rc, 0, out)
        rc, out = self.compare(new, "--fail-on-regression=10", "--cpu-regression=20")
        self.assertEqual(rc, 1, out)

    def test_machine_bound_figures_are_not_gated_across_machines(self):
        other = dict(fixtures.CONTEXT, host_name="another-machine")
        rc, out = self.compare(fixtures.run(seed=2, context=other,
                                            scale={(SSE, "server_cpu_us_per_token"): 1.5}),
                               "--fail-on-regression=10")
        self.assertEqual(rc, 0, out)
        self.assertIn("different machines", out)
        rc, out = self.compare(fixtures.run(seed=2, context=other,
                                            scale={(SSE, "wire_bytes_in_per_token"): 1.3}),
                               "--fail-on-regression=10")
        self.assertEqual(rc, 1, out)  # bytes are the protocol's, whatever the machine
        rc, out = self.compare(fixtures.run(seed=2, context=other,
                                            scale={(SSE, "server_cpu_us_per_token"): 1.5}),
                               "--fail-on-regression=10", "--all-figures")
        self.assertEqual(rc, 1, out)

    def test_a_failed_case_in_new_fails_the_gate(self):
        rc, out = self.compare(fixtures.run(seed=1, failed=[LONG]), "--fail-on-regression=10")
        self.assertEqual(rc, 1, out)
        self.assertIn(f"FAILED in NEW: {LONG}", out)

    def test_a_benchmark_json_path_works_as_well_as_a_folder(self):
        new_dir = fixtures.write(self.tmp.name, "new", fixtures.run(seed=1))
        p = subprocess.run([sys.executable, COMPARE, os.path.join(self.base, "benchmark.json"),
                            os.path.join(new_dir, "benchmark.json")], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_bad_usage_exits_2(self):
        p = subprocess.run([sys.executable, COMPARE, self.base], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)


class UTest(unittest.TestCase):
    """The U test's p-values, worked by hand as scipy.stats.mannwhitneyu (method='auto') does."""

    m = compare

    def test_exact_small_samples(self):
        # P(U >= 16) = 1/70 of the orderings of 4 and 4, twice (two-sided)
        self.assertAlmostEqual(self.m.mann_whitney_u([1, 2, 3, 4], [5, 6, 7, 8]), 2 / 70)
        self.assertAlmostEqual(self.m.mann_whitney_u([1, 2, 3], [4, 5, 6]), 0.1)
        # U = 10: 24 of the 70 orderings give U >= 10
        self.assertAlmostEqual(self.m.mann_whitney_u([1, 3, 5, 7], [2, 4, 6, 8]), 48 / 70)

    def test_ties_use_the_normal_approximation(self):
        # U = 25, mean 12.5, tie-corrected variance 25/12 * (11 - 240/90) = 17.36;
        # z = (25 - 12.5 - 0.5) / 4.167 = 2.880 -> two-sided p = 0.00398
        self.assertAlmostEqual(self.m.mann_whitney_u([13] * 5, [15] * 5), 0.0039767517, places=8)
        self.assertEqual(self.m.mann_whitney_u([1] * 4, [1] * 4), 1.0)


if __name__ == "__main__":
    unittest.main()
