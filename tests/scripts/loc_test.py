#!/usr/bin/python3
"""scripts/loc.py: its rule on a file of every kind of line, and the tables of the reference
clients in examples/README.md and README.md, whose lines of code must be what the command counts
today (a client edited without its rows fails here), with a row for every client.
Usage: loc_test.py (from ctest)."""
import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
LOC = os.path.join(ROOT, "scripts", "loc.py")

SAMPLE = """// a line comment
/** JSDoc
 *  over lines */
/* one line */

const a = 1; // code with a trailing comment counts
function f() {
  /*
   * a block inside
   */
  return a;   
}
"""


class Loc(unittest.TestCase):
    def run_loc(self, *args):
        return subprocess.run([sys.executable, LOC, *args], capture_output=True, text=True)

    def test_the_rule(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sample.js")
            with open(path, "w") as f:
                f.write(SAMPLE)
            p = self.run_loc(path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["4", path])  # const, function, return, }
            p = self.run_loc(path, "--markdown")
            self.assertIn(f"| `{path}` | 4 |", p.stdout)

    def test_a_missing_file_is_one_line(self):
        p = self.run_loc("/nonexistent/x.js")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(), "loc.py: /nonexistent/x.js: No such file or directory")

    def test_the_tables_are_the_commands(self):
        files = sorted(glob.glob(os.path.join(ROOT, "examples", "*.js")))
        p = self.run_loc(*files)
        self.assertEqual(p.returncode, 0, p.stderr)
        counted = {os.path.basename(line.split()[1]): line.split()[0] for line in p.stdout.splitlines()}
        self.assertEqual(len(counted), 5)
        for readme in ("examples/README.md", "README.md"):
            with self.subTest(readme=readme), open(os.path.join(ROOT, readme), encoding="utf-8") as f:
                table = dict(re.findall(r"^\| `([a-z-]+\.js)` \| (\d+) \|", f.read(), re.M))
                self.assertEqual(table, counted)


if __name__ == "__main__":
    unittest.main()
