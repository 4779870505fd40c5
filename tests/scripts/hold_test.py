#!/usr/bin/python3
"""scripts/hold's parts on this build's server and soak, at small N: two servers sharing a port
(--reuse-port) both answer; x-ssebench-epoch-us puts one event at one instant for two streams
asked for at different times; a small run of scripts/hold writes every figure, each user getting
the notify event once; --beside holds the same SSE users on the floor and through nginx; bad
flags are one line and exit 2.
Usage: hold_test.py BUILD_DIR"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from ssebench import server
from ssebench.recordings import FOLDER as RECORDINGS

BUILD = os.path.abspath(sys.argv.pop(1))
SERVER = server.mock_server_binary(build_dir=BUILD)
HOLD = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "../../scripts/hold"))
FIRST_CONTENT_S = 0.448  # chat-gpt-4o-mini-text's first content event, at speed 1


def stats(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "/mock/stats", timeout=10) as r:
        return json.load(r)


def first_content_at(port, headers):
    """Sends a streamed chat request; the time.time() at which its first content chunk came."""
    body = json.dumps({"model": "chat-gpt-4o-mini-text", "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    s.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
              f"\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body)
    return s


def wait_content(s):
    buf = b""
    while b'"content":"' not in buf.replace(b'"content":""', b""):
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"stream ended before content: {buf[-300:]!r}")
        buf += chunk
    t = time.time()
    s.close()
    return t, buf


class ReusePort(unittest.TestCase):
    def test_two_servers_on_one_port_both_serve(self):
        a = server.Child([SERVER, "--recordings", RECORDINGS, "--port", "0", "--reuse-port"])
        try:
            b = server.Child([SERVER, "--recordings", RECORDINGS, "--port", str(a.port),
                              "--reuse-port"])
            try:
                seen = {stats(a.url)["pid"] for _ in range(60)}  # a new connection each
                self.assertEqual(seen, {a.pid, b.pid})
            finally:
                b.stop()
        finally:
            a.stop()

    def test_without_it_the_port_is_taken(self):
        a = server.Child([SERVER, "--recordings", RECORDINGS, "--port", "0"])
        try:
            with self.assertRaises(server.StartError):
                server.Child([SERVER, "--recordings", RECORDINGS, "--port", str(a.port)],
                             start_timeout_s=3)
        finally:
            a.stop()


class Epoch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = server.Child([SERVER, "--recordings", RECORDINGS, "--port", "0"])

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_two_streams_asked_apart_get_the_event_at_one_instant(self):
        epoch = time.time() + 1.2
        due = epoch + FIRST_CONTENT_S
        h = {"x-ssebench-epoch-us": str(int(epoch * 1e6)), "x-ssebench-speed": "1"}
        a = first_content_at(self.srv.port, h)
        time.sleep(0.8)  # unanchored, b's event would come 0.8 s after a's
        b = first_content_at(self.srv.port, h)
        ta, _ = wait_content(a)
        tb, _ = wait_content(b)
        self.assertLess(abs(ta - tb), 0.3, (ta - due, tb - due))
        for t in (ta, tb):
            self.assertGreater(t, due - 0.05)  # never before it was due
            self.assertLess(t, due + 0.5)

    def test_an_epoch_in_the_past_sends_what_was_due_at_once(self):
        h = {"x-ssebench-epoch-us": str(int((time.time() - 10) * 1e6))}
        t0 = time.time()
        t, buf = wait_content(first_content_at(self.srv.port, h))
        self.assertLess(t - t0, 0.3)

    def test_a_bad_epoch_is_400(self):
        for value in ("soon", "1", str(int((time.time() + 3 * 86400) * 1e6))):
            s = first_content_at(self.srv.port, {"x-ssebench-epoch-us": value})
            answer = s.recv(65536).decode()
            s.close()
            self.assertIn("400", answer.split("\r\n")[0], value)
            self.assertIn("x-ssebench-epoch-us", answer)


class Hold(unittest.TestCase):
    def hold(self, *args):
        return subprocess.run([sys.executable, HOLD, f"--build-dir={BUILD}", *args],
                              capture_output=True, text=True, timeout=300)

    def test_a_small_run_writes_every_figure(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            p = self.hold("--users=50", "--transports=sse,ws,long-poll,poll60",
                          "--scale-down=20", "--ramp-s=1", "--window-s=40", f"--out={out}")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "hold.json")) as f:
                doc = json.load(f)
            with open(os.path.join(out, "table.md")) as f:
                self.assertEqual(f.read().count("\n| "), 4 + 1)  # header + a row each
        rows = {r["transport"]: r for r in doc["transports"]}
        self.assertEqual(set(rows), {"sse", "ws", "long-poll", "poll60"})
        for name, r in rows.items():
            with self.subTest(name):
                self.assertEqual(r["users_failed"], 0, r["errors"])
                self.assertEqual(r["fanout_delivered"], 50)  # the one event, once each
                if name != "poll60":  # a poll's connection waits in libcurl's cache, or not
                    self.assertGreaterEqual(r["connections_held"], 50)
                self.assertGreater(r["rss_bytes_per_user"], 0)
                self.assertIsNotNone(r["tcp_mem_bytes_per_user"])
                self.assertGreaterEqual(r["cpu_ms_per_user_hour"], 0)
                self.assertGreaterEqual(r["fanout_ms_p50"], 0)  # never before it was due
                self.assertLessEqual(r["fanout_ms_p50"], r["fanout_ms_p99"])
                self.assertLessEqual(r["fanout_ms_p99"], r["fanout_ms_max"])
        # Held SSE sends heartbeats (0.75 s apart here), and asks nothing in the window.
        self.assertGreater(rows["sse"]["wire_bytes_per_user_hour"], 0)
        self.assertLess(rows["sse"]["requests_per_s"], 5)
        # 50 users polling every 3 s: ≈ 17 requests/s, and the event waits for the next poll.
        self.assertGreater(rows["sse"]["cpu_ms_per_user_hour"], 0)
        self.assertGreater(rows["poll60"]["cpu_ms_per_user_hour"], 0)
        self.assertGreater(rows["poll60"]["requests_per_s"], 5)
        self.assertLess(rows["poll60"]["requests_per_s"], 60)
        self.assertGreater(rows["poll60"]["fanout_ms_p50"], rows["sse"]["fanout_ms_p50"])
        self.assertLess(rows["sse"]["fanout_ms_p50"], 1000)

    def test_beside_the_floor_and_nginx(self):
        """The same SSE users held by the floor and through nginx (issue 19, item 3): a row
        each, every user held; nginx's users get the notify event through it, with the
        server's memory behind it beside nginx's own."""
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            p = self.hold("--users=40", "--transports=sse", "--beside=floor,nginx",
                          "--scale-down=20", "--ramp-s=1", "--window-s=40", f"--out={out}")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "hold.json")) as f:
                doc = json.load(f)
            with open(os.path.join(out, "table.md")) as f:
                table = f.read()
        rows = {r["transport"]: r for r in doc["transports"]}
        self.assertEqual(list(rows), ["sse", "sse on the floor", "sse via nginx"])
        for name, r in rows.items():
            with self.subTest(name):
                self.assertEqual(r["users_failed"], 0, r["errors"])
                self.assertGreaterEqual(r["connections_held"], 40)
                self.assertIsNotNone(r["rss_bytes_per_user"])
                self.assertIn(f"| {name} | 40 (", table)
        floor, nginx = rows["sse on the floor"], rows["sse via nginx"]
        self.assertEqual(floor["fanout_delivered"], 0)  # its stream starts at the request
        self.assertIsNone(floor["requests_per_s"])
        self.assertEqual(nginx["fanout_delivered"], 40)  # the event came through nginx
        self.assertIsNotNone(nginx["server_rss_bytes_per_user_behind_nginx"])
        self.assertIn("+ server behind:", table)

    def test_bad_flags_are_one_line(self):
        for args, says in ((["--transports=sse,smoke"], "unknown transport 'smoke'"),
                           (["--beside=haproxy"], "unknown --beside 'haproxy'"),
                           (["--transports=ws", "--beside=floor"], "needs sse in --transports"),
                           (["--beside=nginx", "--users=20000"], "at most 9,000 users"),
                           (["--users=many"], "--users takes a whole number"),
                           (["--user=5"], "did you mean --users")):
            p = self.hold(*args)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn(says, p.stderr)


if __name__ == "__main__":
    unittest.main()
