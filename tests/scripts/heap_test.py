#!/usr/bin/python3
"""scripts/heap's reading of heaptrack_print (its sizes, its peak consumers) on a text of the
shape heaptrack 1.4 prints, and its bad flags as one line with exit 2. The run itself (the
server under heaptrack) needs a build without sanitizers: heaptrack's malloc hooks and ASan's
cannot share a process, and CI's tests run under ASan; its figures are the committed run's."""
import os
import subprocess
import sys
import unittest
from importlib.machinery import SourceFileLoader

HEAP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "../../scripts/heap"))
heap = SourceFileLoader("heap", HEAP).load_module()

PRINTED = """reading file "x.zst" - please wait, this might take some time...
PEAK MEMORY CONSUMERS
2.33M peak memory consumed over 2001 calls from
ssebench::server::serve_http(ssebench::server::Connection&&, std::shared_ptr<>)
  in /build/release/mock_server/ssebench-mock-server

445.98K peak memory consumed over 2000 calls from
ssebench::server::(anonymous namespace)::Session::do_watch()
  in /build/release/mock_server/ssebench-mock-server

568B peak memory consumed over 1 calls from
ssebench::server::Server::Server(ssebench::server::Config const&, std::vector<> const&)

total runtime: 22.10s.
peak heap memory consumption: 12.83M
"""


class Reading(unittest.TestCase):
    def test_sizes_are_powers_of_1000(self):
        self.assertEqual(heap.size_bytes("568B"), 568)
        self.assertAlmostEqual(heap.size_bytes("445.98K"), 445_980)
        self.assertAlmostEqual(heap.size_bytes("3.68M"), 3_680_000)
        self.assertAlmostEqual(heap.size_bytes("1.5G"), 1.5e9)
        for bad in ("", "12KiB", "x", "1.2T"):
            with self.assertRaises(ValueError, msg=bad):
                heap.size_bytes(bad)

    def test_peak_sites_are_bytes_calls_and_function(self):
        sites = heap.peak_sites(PRINTED)
        self.assertEqual([s[1] for s in sites], [2001, 2000, 1])
        self.assertAlmostEqual(sites[0][0], 2_330_000)
        self.assertEqual(sites[1][2], "ssebench::server::(anonymous namespace)::Session::do_watch()")
        self.assertEqual(heap.peak_sites("nothing here\n"), [])


class Flags(unittest.TestCase):
    def test_bad_flags_are_one_line(self):
        for args, says in ((["--users=10"], "--users must be 1,000 to 15,000"),
                           (["--users=lots"], "--users takes a whole number"),
                           (["--user=2000"], "did you mean --users"),
                           (["--transport=poll"], "invalid choice: 'poll'")):
            p = subprocess.run([sys.executable, HEAP, *args], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn(says, p.stderr)


if __name__ == "__main__":
    unittest.main()
