#!/usr/bin/python3
"""scripts/bench_table.py on open-loop and user-session cases (issue 23): their ×sse columns
compare against the sse case of the same load, and the by-shape table names the load (`2
arrivals/s, at most 6 at once`, `4 users`) where it printed `c 0`. Usage: table_loads_test.py."""
import os
import subprocess
import sys
import tempfile
import unittest

import fixtures

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")
REC = fixtures.REC


class OpenLoopTables(unittest.TestCase):
    def test_each_load_has_its_sse_reference_and_its_name(self):
        names = [f"sse/{REC}/rate:2/max_conc:6", f"sse/{REC}/users:4"]
        for load in ("rate:2/max_conc:6", "users:4"):
            names += [f"poll/{REC}/{load}/interval_ms:250/shape:{s}" for s in ("delta", "events")]
        counters = {n: {"wire_bytes_in_per_token": 700.0} for n in names if "shape:events" in n}
        with tempfile.TemporaryDirectory() as tmp:
            run = fixtures.write(tmp, "open", fixtures.run(cases=names, repetitions=1, noise=0,
                                                           counters=counters))
            p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_table.py"), run],
                               capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()
                if line.startswith(("sse/", "poll/"))}
        header = p.stdout.splitlines()[0]
        self.assertIn("wire ×sse", header)
        for n in names:
            wire, cpu = rows[n][-3], rows[n][-2]
            # events carries 700 + 40 B against sse's 329 + 40 B: 2.01×; sse against itself 1.00
            if "shape:events" in n:
                self.assertEqual(wire, "2.01", n)
            elif n.startswith("sse/"):
                self.assertEqual((wire, cpu), ("1.00", "1.00"), n)
            self.assertNotIn("-", (wire, cpu), n)
        by_shape = p.stdout[p.stdout.index("by poll shape"):]
        self.assertIn("2 arrivals/s, at most 6 at once", by_shape)
        self.assertIn("4 users", by_shape)
        self.assertNotIn(" c 0", by_shape)


if __name__ == "__main__":
    unittest.main()
