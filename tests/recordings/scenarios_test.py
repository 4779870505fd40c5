#!/usr/bin/python3
"""The scenario recordings (scripts/recordings/scenarios.py, recordings/README.md "Scenarios").

Generation: the same options give the same bytes, another seed other bytes, a shorter duration a
prefix; each scenario has the shape it claims (Poisson gaps, a fixed rate, an idle stream of four
events) and loads with the C++ loader (ssebench-validate). EmptyPolls: against the real server, a
poll that finds nothing new gets its shape's empty answer, and every byte of it is counted in
/mock/stats. Transports: short scenarios replayed fast by the harness over SSE, REST, the four
polled shapes, long polls and WebSocket, over HTTP/1.1 and HTTP/2: every stream rebuilds the
scenario's text exactly (the harness fails a stream whose text differs).

Usage: scenarios_test.py VALIDATE SERVER [BENCH] [unittest arguments: Generation, EmptyPolls,
Transports]. Binaries by path (ctest passes them); Transports needs BENCH.
"""
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from ssebench import results, server

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
SCRIPT = os.path.join(ROOT, "scripts/recordings/scenarios.py")
VALIDATE, SERVER = os.path.abspath(sys.argv.pop(1)), os.path.abspath(sys.argv.pop(1))
BENCH = (os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 and os.path.sep in sys.argv[1]
         else None)


def generate(out, *args):
    p = subprocess.run([sys.executable, SCRIPT, f"--out={out}", *args], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"scenarios.py {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p


def read(path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    return lines[0], lines[1:]


def text_of(events):
    out = ""
    for e in events:
        if e["kind"] == "content":
            out += json.loads(e["bytes"][len("data: "):])["choices"][0]["delta"]["content"]
    return out


class Generation(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dirs = []

    def tearDown(self):
        self.tmp.cleanup()

    def folder(self):
        d = os.path.join(self.tmp.name, str(len(self.dirs)))
        os.mkdir(d)
        self.dirs.append(d)
        return d

    def files(self, d):
        out = {}
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), "rb") as f:
                out[n] = f.read()
        return out

    def test_the_same_options_give_the_same_bytes_and_another_seed_others(self):
        a, b, c = self.folder(), self.folder(), self.folder()
        for d in (a, b):
            generate(d, "--seed=5", "--duration=30", "--mean=2")
        generate(c, "--seed=6", "--duration=30", "--mean=2")
        self.assertEqual(sorted(self.files(a)), ["scenario-idle.jsonl", "scenario-notify.jsonl",
                                                 "scenario-ticker.jsonl"])
        self.assertEqual(self.files(a), self.files(b))
        for name in ("scenario-notify.jsonl", "scenario-ticker.jsonl"):
            self.assertNotEqual(self.files(a)[name], self.files(c)[name], name)

    def test_a_shorter_duration_is_a_prefix_of_the_messages(self):
        short, long = self.folder(), self.folder()
        generate(short, "--scenario=notify", "--duration=60", "--mean=3")
        generate(long, "--scenario=notify", "--duration=120", "--mean=3")
        _, s = read(os.path.join(short, "scenario-notify.jsonl"))
        _, lng = read(os.path.join(long, "scenario-notify.jsonl"))
        s_content = [e for e in s if e["kind"] == "content"]
        self.assertGreater(len(s_content), 5)
        self.assertEqual(s_content, [e for e in lng if e["kind"] == "content"][:len(s_content)])

    def test_notify_has_poisson_gaps_and_the_provenance_names_its_generator(self):
        d = self.folder()
        generate(d, "--scenario=notify", "--seed=3", "--duration=20000", "--mean=20")
        head, events = read(os.path.join(d, "scenario-notify.jsonl"))
        gen = head["provenance"]["generator"]
        self.assertEqual(head["provenance"]["source"], "synthetic")
        self.assertEqual(gen, {"script": "scripts/recordings/scenarios.py", "scenario": "notify",
                               "seed": 3, "duration_s": 20000.0, "mean_s": 20.0})
        times = [e["t_us"] for e in events if e["kind"] == "content"]
        gaps = [(b - a) / 1e6 for a, b in zip([0] + times, times)]
        mean = sum(gaps) / len(gaps)
        # ~1,000 exponential gaps: the mean within 10 % of 20 s, and the spread of an exponential
        # (standard deviation = mean), not of a fixed clock. Fixed by the seed, so not flaky.
        self.assertAlmostEqual(mean, 20, delta=2)
        sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
        self.assertAlmostEqual(sd / mean, 1, delta=0.1)
        self.assertEqual([e["kind"] for e in events[-3:]], ["finish", "usage", "done"])
        self.assertTrue(all(e["t_us"] == 20000 * 10**6 for e in events[-3:]))
        self.assertTrue(text_of(events).endswith("\n"))
        self.assertEqual(head["usage"]["completion_tokens"], len(times))

    def test_ticker_ticks_at_its_rate_and_idle_is_four_events(self):
        d = self.folder()
        generate(d, "--scenario=ticker", "--duration=3", "--rate=50")
        generate(d, "--scenario=idle", "--duration=7")
        _, ticker = read(os.path.join(d, "scenario-ticker.jsonl"))
        times = [e["t_us"] for e in ticker if e["kind"] == "content"]
        self.assertEqual(times, [k * 20000 for k in range(1, 150)])
        self.assertEqual(len(text_of(ticker).split()), 149)
        head, idle = read(os.path.join(d, "scenario-idle.jsonl"))
        self.assertEqual([(e["t_us"], e["kind"]) for e in idle],
                         [(0, "role"), (7000000, "finish"), (7000000, "usage"), (7000000, "done")])
        self.assertEqual(head["response"]["headers_offset_us"], 0)

    def test_every_generated_and_committed_scenario_loads(self):
        d = self.folder()
        generate(d, "--duration=5", "--mean=0.5", "--rate=10")
        for folder in (d, os.path.join(ROOT, "recordings/scenarios")):
            with self.subTest(folder=folder):
                p = subprocess.run([VALIDATE, folder], capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout.count("\nok ") + p.stdout.startswith("ok "), 3, p.stdout)

    def test_bad_options_are_one_line_and_write_nothing(self):
        d = self.folder()
        for args, says in ((["--scenario=ticker", "--mean=3"], "--mean is for --scenario=notify"),
                           (["--duration=0"], "--duration must be above 0"),
                           (["--rate=nan", "--scenario=ticker"], "--rate must be above 0"),
                           (["--seed=-1"], "--seed must be a whole number"),
                           (["--scenario=bursty"], "invalid choice")):
            with self.subTest(args=args):
                p = subprocess.run([sys.executable, SCRIPT, f"--out={d}", *args],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(says, p.stderr)
                self.assertEqual(os.listdir(d), [])
        p = subprocess.run([sys.executable, SCRIPT, f"--out={d}/missing"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((p.returncode, p.stderr.strip()),
                         (2, f"scenarios.py: {d}/missing: not a folder"))


def http_exchange(port, request):
    """One HTTP/1.1 request on a fresh connection: (bytes sent, bytes of the whole answer, body).
    The answer is read to its Content-Length."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed mid-head: {data!r}")
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError("connection closed mid-body")
            body += chunk
        return len(request), len(head) + 4 + len(body), json.loads(body)


def get(path):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()


class EmptyPolls(unittest.TestCase):
    """An idle job: its role chunk (job event 0) is due at once, its end 30 s later. Polls after
    event 0 find nothing new; each answer's bytes are what /mock/stats counts."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        generate(cls.tmp.name, "--scenario=idle", "--duration=30")
        cls.srv = server.mock_server(cls.tmp.name, binary=SERVER)
        body = b'{"model":"scenario-idle","background":true}'
        _, _, job = http_exchange(cls.srv.port, (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body)
        cls.job = job["id"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.tmp.cleanup()

    def counted(self, path):
        """(answer, bytes the client received, the server's bytes_out for it, bytes sent,
        the server's bytes_in for it)."""
        before = self.srv.stats()["endpoints"]["chat_completions_get"]
        sent, got, answer = http_exchange(self.srv.port, get(path))
        after = self.srv.stats()["endpoints"]["chat_completions_get"]
        self.assertEqual(after["requests"] - before["requests"], 1)
        return (answer, got, after["bytes_out"] - before["bytes_out"], sent,
                after["bytes_in"] - before["bytes_in"])

    def test_each_shape_gives_its_empty_answer_and_its_bytes_count(self):
        base = f"/v1/chat/completions/{self.job}"
        for shape, empty in (("delta", {"delta": ""}), ("events", {"events": []}),
                             ("openai", {"choices": []}), ("snapshot", None)):
            query = f"?shape={shape}" + ("&starting_after=0" if shape in ("delta", "events") else "")
            with self.subTest(shape=shape):
                answer, got, out, sent, in_ = self.counted(base + query)
                self.assertEqual(answer["status"], "in_progress", answer)
                for key, value in (empty or {}).items():
                    self.assertEqual(answer[key], value, answer)
                if shape == "snapshot":  # everything so far: the role, no text
                    self.assertEqual(answer["choices"][0]["message"]["content"], "", answer)
                if shape in ("delta", "events"):
                    self.assertEqual(answer["cursor"], 0, answer)
                self.assertEqual(out, got)
                self.assertEqual(in_, sent)

    def test_a_long_poll_that_times_out_gets_the_empty_answer_and_it_counts(self):
        start = time.monotonic()
        answer, got, out, sent, in_ = self.counted(
            f"/v1/chat/completions/{self.job}?shape=delta&starting_after=0&wait_ms=300")
        held = time.monotonic() - start
        self.assertEqual((answer["status"], answer["delta"], answer["cursor"]),
                         ("in_progress", "", 0))
        self.assertGreaterEqual(held, 0.25)  # held until wait_ms passed: nothing came
        self.assertEqual(out, got)
        self.assertEqual(in_, sent)


# Short scenarios, replayed at SPEED: every transport, every poll shape, both HTTP versions.
SPEED = 40
SHORT = (["--scenario=notify", "--duration=10", "--mean=1"],  # 13 messages in 0.25 s of replay
         ["--scenario=ticker", "--duration=3", "--rate=20"],  # 59 updates at 800 Hz replayed
         ["--scenario=idle", "--duration=3"])


@unittest.skipIf(BENCH is None, "needs the harness (ssebench-bench) as the third argument")
class Transports(unittest.TestCase):
    def test_every_transport_rebuilds_every_scenario(self):
        with tempfile.TemporaryDirectory() as tmp:
            recs = os.path.join(tmp, "recordings")
            os.mkdir(recs)
            for args in SHORT:
                generate(recs, *args)
            content = {}
            for name in os.listdir(recs):
                _, events = read(os.path.join(recs, name))
                content[name[:-len(".jsonl")]] = sum(e["kind"] == "content" for e in events)
            out = os.path.join(tmp, "run.json")
            p = subprocess.run(
                [BENCH, f"--server-binary={SERVER}", f"--recordings={recs}",
                 "--models=scenario-notify,scenario-ticker,scenario-idle",
                 "--cases=sse,rest,poll,long-poll,ws", "--poll-shapes=openai,snapshot,delta,events",
                 "--intervals=20", "--concurrency=1", f"--speed={SPEED}", "--http=1.1,2",
                 "--no-warmup", f"--benchmark_out={out}", "--benchmark_out_format=json"],
                capture_output=True, text=True, timeout=300, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            _, cases = results.load(out)
        self.assertGreater(content["scenario-notify"], 5)
        self.assertEqual((content["scenario-ticker"], content["scenario-idle"]), (59, 0))
        seen = set()
        for c in cases:
            with self.subTest(case=c["name"]):
                # The harness fails a stream whose rebuilt text differs from the recording's
                # (text_mismatch) or whose content events are missing or extra.
                self.assertEqual(c["error"], "", c["name"])
                self.assertGreater(c["counters"]["streams_run"], 0)
                self.assertEqual(c["counters"]["streams_ok"], c["counters"]["streams_run"])
                self.assertEqual(c["counters"]["content_events_per_stream"], content[c["recording"]])
                seen.add((c["recording"], c["transport"], c.get("shape") or "", str(c.get("http"))))
        want = {("sse", "", "1.1"), ("rest", "", "1.1"), ("ws", "", "1.1"), ("sse", "", "2"),
                ("long-poll", "delta", "1.1"), ("long-poll", "events", "1.1"),
                ("long-poll", "delta", "2"), ("long-poll", "events", "2")}
        want |= {("poll", s, h) for s in ("openai", "snapshot", "delta", "events")
                 for h in ("1.1", "2")}
        for model in content:
            with self.subTest(model=model):
                self.assertLessEqual(want, {(t, s, h) for m, t, s, h in seen if m == model})


if __name__ == "__main__":
    unittest.main()
