#!/usr/bin/python3
"""bench_results.load and the table on a run with repetitions: one case per name, its counters
the repetitions' mean, the aggregates skipped, a failed repetition fails the case."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "../../scripts")
sys.path.insert(0, HERE)
sys.path.insert(0, SCRIPTS)
import bench_results  # noqa: E402
import fixtures  # noqa: E402


class Repetitions(unittest.TestCase):
    def test_one_case_per_name_with_each_repetition(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "r", fixtures.run(repetitions=5, noise=0.1))
            _, cases = bench_results.load(run)
        self.assertEqual([c["name"] for c in cases], fixtures.CASES)
        for c in cases:
            self.assertEqual(len(c["repetitions"]), 5)
            reps = [r["lag_ms_p99"] for r in c["repetitions"]]
            self.assertAlmostEqual(c["counters"]["lag_ms_p99"], sum(reps) / 5)
            self.assertNotIn("repetition_index", c["counters"])
            self.assertLess(c["counters"]["lag_ms_p99"], 999)  # the aggregate was skipped

    def test_a_failed_repetition_fails_the_case(self):
        data = fixtures.run(repetitions=3)
        data["benchmarks"][1]["error_occurred"] = True
        data["benchmarks"][1]["error_message"] = "1/10 streams failed"
        with tempfile.TemporaryDirectory() as tmp:
            _, cases = bench_results.load(fixtures.write(tmp, "r", data))
        self.assertEqual(cases[0]["error"], "1/10 streams failed")
        self.assertEqual(cases[1]["error"], "")

    def test_the_table_prints_one_row_per_case(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "r", fixtures.run(repetitions=4))
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_table.py"),
                                os.path.join(run, "benchmark.json")], capture_output=True,
                               text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in fixtures.CASES:
            self.assertEqual(sum(line.startswith(name + " ") for line in p.stdout.splitlines()),
                             1, p.stdout)


class Names(unittest.TestCase):
    def test_plain_names_keep_their_transport(self):
        c = bench_results.parse_name("poll/r/c:10/interval_ms:250/shape:delta/iterations:1/manual_time")
        self.assertEqual((c["transport"], c["base"], c["via"], c["concurrency"], c["interval_ms"],
                          c["shape"]), ("poll", "poll", "", 10, 250, "delta"))

    def test_variants_are_folded_into_the_transport(self):
        c = bench_results.parse_name("sse/r/c:100/host_conns:6/iterations:1/manual_time")
        self.assertEqual((c["transport"], c["base"], c["via"]), ("sse host_conns:6", "sse",
                                                                  "host_conns:6"))
        c = bench_results.parse_name("poll/r/c:1/interval_ms:50/shape:events/http:2")
        self.assertEqual((c["transport"], c["shape"], c["interval_ms"]), ("poll http:2", "events", 50))
        self.assertEqual(bench_results.variant(c), "poll http:2/50/events")

    def test_an_http2_name_keeps_its_parts_and_says_http_2(self):
        name = "poll/chat-gpt-4o-json/c:100/interval_ms:250/shape:delta/http:2"
        c = bench_results.parse_name(name + "/iterations:1/manual_time")
        self.assertEqual((c["base"], c["recording"], c["concurrency"], c["interval_ms"],
                          c["shape"], c["http"]),
                         ("poll", "chat-gpt-4o-json", 100, 250, "delta", "2"))
        self.assertEqual(c["name"], name)

    def test_a_name_without_http_is_http_1_1(self):
        self.assertEqual(bench_results.parse_name("sse/chat-gpt-4o-json/c:1")["http"], "1.1")


if __name__ == "__main__":
    unittest.main()
