#!/usr/bin/python3
"""ssebench/server.py on stand-ins for the mock server (a Python child that prints what the server
prints first): the URL and port read from "listening on", a child that says something else is
one error and is stopped, stop_all() ends every tracked child, a slow start times out."""
import sys
import unittest

from ssebench import server

LISTENING = "import time; print('listening on http://127.0.0.1:45678 (1 thread)', flush=True); " \
            "time.sleep(60)"


def child(code, **kw):
    return server.Child([sys.executable, "-c", code], **kw)


class Children(unittest.TestCase):
    def test_the_url_and_port_come_from_the_first_line(self):
        with child(LISTENING) as c:
            self.assertEqual((c.url, c.port), ("http://127.0.0.1:45678", 45678))
            self.assertIsNone(c.p.poll())
            self.assertGreaterEqual(c.cpu_us(), 0)
            self.assertGreater(c.rss_bytes(), 0)
        self.assertIsNotNone(c.p.poll())  # stopped on leaving the block

    def test_another_first_line_is_an_error_and_the_child_is_stopped(self):
        with self.assertRaisesRegex(server.StartError, "no 'listening on' line"):
            child("import time; print('usage: nope', flush=True); time.sleep(60)")

    def test_a_child_that_says_nothing_times_out(self):
        with self.assertRaises(server.StartError):
            child("import time; time.sleep(60)", start_timeout_s=0.3)

    def test_stop_all_ends_every_tracked_child(self):
        a, b = child(LISTENING, track=True), child(LISTENING, track=True)
        server.stop_all()
        self.assertIsNotNone(a.p.poll())
        self.assertIsNotNone(b.p.poll())

    def test_the_mock_server_command_line(self):
        c = server.mock_server("/recs", "--threads", "1", binary=sys.executable,
                               wait_url=False)
        try:
            self.assertEqual(c.argv, [sys.executable, "--recordings", "/recs", "--threads", "1",
                                      "--port", "0"])
        finally:
            c.stop()
        self.assertTrue(server.mock_server_binary("debug").endswith(
            "build/debug/mock_server/ssebench-mock-server"))


if __name__ == "__main__":
    unittest.main()
