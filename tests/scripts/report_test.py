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


if __name__ == "__main__":
    unittest.main()
