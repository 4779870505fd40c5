#!/usr/bin/python3
"""ssebench/results.py: one case per name with its repetitions' mean, the aggregates skipped, a
failed repetition fails the case; a case is read by its fields, never by its name; labels,
order, colours and the SSE reference on the base transport; an unreadable run is one line and
exit 2 for a command."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from ssebench import plot, results, tradeoff
import fixtures

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")


def case(name, **fields):
    """A case record as results.load gives it (fields from the name, then `fields`)."""
    from ssebench import migrate
    f = dict(migrate.fields_from_name(name), **fields)
    c = results.record(f)
    return dict(c, name=name, run_name=name, error="", counters={}, repetitions=[])


class Repetitions(unittest.TestCase):
    def test_one_case_per_name_with_each_repetition(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "r", fixtures.run(repetitions=5, noise=0.1))
            _, cases = results.load(run)
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
            _, cases = results.load(fixtures.write(tmp, "r", data))
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


class Fields(unittest.TestCase):
    def test_a_case_is_read_by_its_fields_not_its_name(self):
        data = fixtures.run(cases=[fixtures.CASES[0]], repetitions=1)
        entry = data["benchmarks"][0]
        # The name says sse at c:10 over HTTP/1.1; the fields say poll at 250 ms, delta, c:3, h2.
        entry.update(transport="poll", recording="other-recording", concurrency=3,
                     interval_ms=250, shape="delta", http="2")
        with tempfile.TemporaryDirectory() as tmp:
            _, (c,) = results.load(fixtures.write(tmp, "r", data))
        self.assertEqual((c["transport"], c["recording"], c["concurrency"], c["interval_ms"],
                          c["shape"], c["http"]),
                         ("poll", "other-recording", 3, 250, "delta", "2"))
        self.assertEqual(results.label(c), "poll http:2")
        self.assertEqual(results.variant(c), "poll http:2/250/delta")
        self.assertEqual(c["name"], fixtures.CASES[0])  # for people, as registered

    def test_dimension_fields_are_not_counters(self):
        with tempfile.TemporaryDirectory() as tmp:
            _, cases = results.load(fixtures.write(tmp, "r", fixtures.run(repetitions=1)))
        for c in cases:
            for k in results.DIMENSIONS:
                self.assertNotIn(k, c["counters"])

    def test_a_run_without_fields_is_one_clear_error(self):
        data = fixtures.run(repetitions=1)
        for b in data["benchmarks"]:
            del b["transport"]
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "r", data)
            with self.assertRaisesRegex(results.ResultsError, "migrate"):
                results.load(run)
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_table.py"), run],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_a_missing_folder_is_one_line_and_exit_2(self):
        for cmd in (["bench_table.py"], ["charts.py"], ["model.py"], ["crossover.py"],
                    ["compare", "/nonexistent"], ["merge_shards", "/tmp/out-unused"]):
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, cmd[0]), *cmd[1:],
                                "/nonexistent"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, (cmd, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (cmd, p.stderr))
            self.assertNotIn("Traceback", p.stderr)

    def test_options_take_an_equals_sign_or_a_separate_value(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "r", fixtures.run(repetitions=1))
            outs = []
            for flag in (["--alpha=0.1"], ["--alpha", "0.1"]):
                p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "compare"), run, run,
                                    *flag], capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                outs.append(p.stdout)
            self.assertEqual(outs[0], outs[1])
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "compare"), run, run,
                                "--alpha=x"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)


class Variants(unittest.TestCase):
    """HTTP/2, connection-cap and ws cases: their base transport's colour and order, each right
    after its plain case, in the frontier (tradeoff.py) and the bar charts (charts.py)."""

    def setUp(self):
        rec = "chat-gpt-4o-json"
        self.cases = [case(n) for n in (
            f"poll/{rec}/c:10/interval_ms:250/shape:delta/http:2",
            f"ws/{rec}/c:10/turns:4",
            f"sse/{rec}/c:10/http:2",
            f"poll/{rec}/c:10/interval_ms:250/shape:delta",
            f"long-poll/{rec}/c:10/shape:delta",
            f"rest/{rec}/c:10",
            f"ws/{rec}/c:10",
            f"sse/{rec}/c:10/host_conns:6",
            f"sse/{rec}/c:10",
            f"poll/{rec}/c:10/interval_ms:50/shape:delta")]

    def order(self, key):
        return [results.label(c) + (f"/{c['interval_ms']}" if c["interval_ms"] else "")
                for c in sorted(self.cases, key=key)]

    def test_variants_sort_beside_their_plain_case(self):
        want = ["sse", "sse host_conns:6", "sse http:2", "ws", "ws turns:4", "rest",
                "long-poll", "poll/50", "poll/250", "poll http:2/250"]
        self.assertEqual(self.order(results.sort_key), want)
        self.assertEqual(self.order(tradeoff.variant_key), want)  # the frontier's order

    def test_variants_get_their_transport_colour(self):
        intervals = results.intervals(self.cases)
        by = {results.variant(c): plot.color(c, intervals) for c in self.cases}
        self.assertEqual(by["sse http:2"], by["sse"])
        self.assertEqual(by["sse host_conns:6"], by["sse"])
        self.assertEqual(by["ws turns:4"], by["ws"])
        self.assertEqual(by["poll http:2/250/delta"], by["poll/250/delta"])
        self.assertNotEqual(by["ws"], by["poll/250/delta"])
        self.assertNotEqual(by["ws"], by["sse"])
        self.assertEqual(len({str(v) for v in by.values()}), 6)  # sse ws rest long-poll, 2 polls

    def test_the_charts_draw_variants_in_that_order(self):
        from ssebench import charts
        for c in self.cases:
            c["counters"] = {"streams": 10, "lag_ms_p50": 1.0, "lag_ms_mean": 1.0,
                             "wire_bytes_in_per_token": 300.0}
        _, variants, labels, _ = charts.layout(self.cases)
        self.assertEqual(variants[:3], ["sse", "sse host_conns:6", "sse http:2"])
        self.assertEqual(variants[3:5], ["ws", "ws turns:4"])
        self.assertEqual(variants[-2:], ["poll/250/delta", "poll http:2/250/delta"])
        self.assertEqual(labels[2], "sse\nhttp:2")

    def test_the_sse_reference_keeps_load_http_and_link(self):
        rec = "chat-gpt-4o-json"
        cases = self.cases + [case(f"sse/{rec}/rate:2/max_conc:6"),
                              case(f"poll/{rec}/rate:2/max_conc:6/interval_ms:250/shape:delta"),
                              case(f"sse/{rec}/users:4"), case(f"rest/{rec}/users:4")]
        refs = results.sse_references(cases)
        name = {results.variant(c) + " " + str(results.load_key(c)): c for c in cases}
        ref = lambda c: results.sse_reference(c, refs)  # noqa: E731
        for c in cases:
            r = ref(c)
            if r is None:
                continue
            self.assertEqual(r["transport"], "sse")
            self.assertEqual(results.load_key(r), results.load_key(c))
            self.assertEqual(r["http"], c["http"])
            self.assertEqual(results.via(r), "" if c["http"] == "1.1" else "http:2")
        self.assertIs(ref(name["ws (0, 10, 0)"]), name["sse (0, 10, 0)"])
        self.assertIs(ref(name["poll http:2/250/delta (0, 10, 0)"]), name["sse http:2 (0, 10, 0)"])
        self.assertIs(ref(name["sse host_conns:6 (0, 10, 0)"]), name["sse (0, 10, 0)"])
        # open-loop and users cases have references too (the table's ×sse)
        self.assertIs(ref(name["poll/250/delta (1, 2, 6)"]), name["sse (1, 2, 6)"])
        self.assertIs(ref(name["rest (2, 4, 0)"]), name["sse (2, 4, 0)"])

    def test_wire_total_is_in_plus_out(self):
        self.assertEqual(results.wire_total({"wire_bytes_in_per_token": 300.0,
                                             "wire_bytes_out_per_token": 40.0}), 340.0)
        self.assertIsNone(results.wire_total({"wire_bytes_out_per_token": 40.0}))


class Migrate(unittest.TestCase):
    def test_old_names_get_their_fields_and_lose_the_old_counters(self):
        from ssebench import migrate
        old = {"context": {}, "benchmarks": [
            {"name": "ws/r/c:3/turns:4/iterations:1/manual_time", "run_name":
             "ws/r/c:3/turns:4/iterations:1/manual_time", "concurrency": 3, "ws_turns": 4,
             "lag_ms_p50": 1.0},
            {"name": "sse/r/rate:2.5/max_conc:6/iterations:1/manual_time",
             "rate_per_s": 2.5, "max_concurrency": 6, "lag_ms_p50": 1.0}]}
        text = json.dumps(old, indent=2)
        new = json.loads(migrate.migrate_text(text))
        a, b = new["benchmarks"]
        self.assertEqual((a["transport"], a["load"], a["concurrency"], a["turns"], a["http"]),
                         ("ws", "closed", 3, 4, "1.1"))
        self.assertNotIn("ws_turns", a)
        self.assertEqual((b["load"], b["rate"], b["max_concurrency"], b["concurrency"]),
                         ("open", 2.5, 6, None))
        self.assertNotIn("rate_per_s", b)
        self.assertEqual(new, migrate.expected(old))


if __name__ == "__main__":
    unittest.main()
