#!/usr/bin/python3
"""scripts/report.py: the section it writes between the markers passes --check; a changed JSON or
a hand edit fails it. Given README (results/README.md), checks the committed report.
Usage: report_test.py [README]"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "../../scripts/report.py")

README = sys.argv.pop(1) if len(sys.argv) > 1 else None


def report(*args):
    p = subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


class Report(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = fixtures.write(self.tmp.name, "run", fixtures.sweep())
        self.readme = os.path.join(self.tmp.name, "README.md")
        with open(self.readme, "w", encoding="utf-8") as f:
            f.write("# Results\n\n<!-- report:begin RUN -->\n<!-- report:end -->\n\nthe rest\n")
        rc, out = report(self.run_dir, f"--readme={self.readme}", "--write")
        self.assertEqual(rc, 0, out)

    def tearDown(self):
        self.tmp.cleanup()

    def text(self):
        with open(self.readme, encoding="utf-8") as f:
            return f.read()

    def test_the_written_section_checks(self):
        text = self.text()
        self.assertIn("Does SSE give lower latency than polling?", text)
        self.assertTrue(text.endswith("<!-- report:end -->\n\nthe rest\n"), text[-200:])
        rc, out = report(f"--readme={self.readme}", "--check")
        self.assertEqual(rc, 0, out)

    def test_a_changed_json_fails_the_check(self):
        path = os.path.join(self.run_dir, "benchmark.json")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b["name"].startswith("sse/"):
                b["lag_ms_mean"] *= 2
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)
        rc, out = report(f"--readme={self.readme}", "--check")
        self.assertEqual(rc, 1, out)
        self.assertIn("differ", out)

    def test_a_hand_edit_fails_the_check(self):
        text = self.text().replace("SSE adds", "SSE adds only", 1)
        with open(self.readme, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out = report(f"--readme={self.readme}", "--check")
        self.assertEqual(rc, 1, out)


@unittest.skipIf(README is None, "no README given")
class Committed(unittest.TestCase):
    def test_the_committed_report_agrees_with_its_json(self):
        rc, out = report(f"--readme={README}", "--check")
        self.assertEqual(rc, 0, out)


class Answers(unittest.TestCase):
    """--answers: what scripts/bench prints last, the report's questions in plain words."""

    def test_every_question_with_its_answer_and_no_markdown(self):
        with tempfile.TemporaryDirectory() as tmp:
            rc, out = report(fixtures.write(tmp, "run", fixtures.sweep()), "--answers")
        self.assertEqual(rc, 0, out)
        for question in ("Does SSE give lower latency than polling?",
                         "How much less server and network load?",
                         "At what interval does polling cost more than SSE?",
                         "Where is polling, or REST, good enough?"):
            self.assertIn(question + "\n  ", out)  # the question, then its indented answer
        self.assertNotIn("**", out)
        self.assertNotIn("`", out)
        self.assertIn("P* ms", out)  # the crossover table's heading keeps its star
        self.assertLessEqual(max(len(line) for line in out.splitlines()
                                 if not line.lstrip().startswith("|")), 100)

    def test_a_run_without_a_closed_loop_load_says_why_it_has_no_answers(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = fixtures.sweep()
            for b in data["benchmarks"]:
                b["load"] = "open"
            rc, out = report(fixtures.write(tmp, "run", data), "--answers")
        self.assertEqual(rc, 0, out)
        self.assertIn("No answers", out)


if __name__ == "__main__":
    unittest.main()
