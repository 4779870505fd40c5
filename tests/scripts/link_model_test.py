#!/usr/bin/python3
"""The model's link terms (issue 16) on numbers worked by hand; `model.py --check` on a synthetic
run over several links (link_fixtures.py), passing as built and failing once a figure is moved;
the link charts and the findings drawn from it; a case on a link the run does not describe
refused with one line."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import link_fixtures as lf
from ssebench import linkcharts, linkfindings, model, results

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")
THREE_G = model.Link("3g", lf.PROFILES["3g"])
FAST = {"rtt_ms": 40, "down_mbit": 1e6, "up_mbit": 1e6}  # a round trip, no rate to speak of


def script(name, *args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name), *args],
                          capture_output=True, text=True)


def case(transport, interval=0, shape="", conc=1, http="1.1", **counters):
    return {"transport": transport, "interval_ms": interval, "shape": shape, "concurrency": conc,
            "http": http, "counters": dict({"connections_per_stream": 0.0}, **counters)}


class Terms(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.rec_path = lf.recording(cls.tmp.name)  # 20 tokens, 100 … 1050 ms
        cls.rec = model.Recording(cls.rec_path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_serialization_and_round_trips(self):
        self.assertAlmostEqual(model.serialization_ms(1500, 12), 1.0)  # link/README.md's example
        self.assertEqual(model.serialization_ms(1500, 0), 0.0)         # a trace: rate unknown
        self.assertEqual(model.first_token_rtts("sse", fresh=True), 2)
        self.assertEqual(model.first_token_rtts("sse", fresh=False), 1)
        self.assertEqual(model.first_token_rtts("ws", fresh=True), 3)

    def test_3g_first_token(self):
        # Reused connection: 100 ms (the recording's first token) + 300 ms (one RTT) + the
        # 700-byte request and its 52 bytes of headers at 0.768 Mbit/s (7.83 ms) + the first
        # event's chunk at 1.6 Mbit/s (its wire bytes: under 2 ms).
        c = case("sse", http_bytes_out_per_stream=700.0, requests_per_stream=1.0)
        pred, notes = model.predict_on_link(self.rec, c, THREE_G, {})
        self.assertEqual(notes, [])
        up = 752 * 8 / 768
        self.assertAlmostEqual(up, 7.833, places=3)
        ttft = pred["ttft_ms_p50"][0]
        self.assertGreater(ttft, 100 + 300 + up)
        self.assertLess(ttft, 100 + 300 + up + 2)
        # a fresh connection pays TCP's handshake too
        fresh, _ = model.predict_on_link(self.rec, dict(c, counters=dict(
            c["counters"], connections_per_stream=1.0)), THREE_G, {})
        self.assertAlmostEqual(fresh["ttft_ms_p50"][0] - ttft, 300.0)

    def test_a_link_of_no_rtt_is_loopback(self):
        zero = model.Link("zero", {"rtt_ms": 0, "down_mbit": 1e9, "up_mbit": 1e9})
        for t, p, shape in (("sse", 0, ""), ("poll", 250, "delta"), ("poll", 250, "openai"),
                            ("long-poll", 0, "delta"), ("rest", 0, "")):
            lo = model.predict(self.rec, t, p, shape)
            on, _ = model.predict_on_link(self.rec, case(t, p, shape), zero, {})
            for k in ("lag_ms_mean", "lag_ms_p99", "ttft_ms_p50", "requests_per_stream"):
                self.assertAlmostEqual(on[k][0], lo[k][0], places=6, msg=f"{t} {shape} {k}")

    def test_a_poll_adds_p_over_2_beyond_sse_while_rtt_is_below_p(self):
        link = model.Link("fast", FAST)
        sse, _ = model.predict_on_link(self.rec, case("sse"), link, {})
        poll, _ = model.predict_on_link(self.rec, case("poll", 250, "delta"), link, {})
        lo = model.predict(self.rec, "poll", 250, "delta")
        # both pay the round trip: the poll's extra is its loopback wait (events every 50 ms from
        # 100 ms, polls every 250 ms from 250 ms — after the 40 ms RTT shifts the schedule)
        extra = poll["lag_ms_mean"][0] - sse["lag_ms_mean"][0]
        self.assertLess(abs(extra - 125), 30, extra)
        self.assertLess(abs(extra - lo["lag_ms_mean"][0]), 30)

    def test_polls_thin_out_once_the_rtt_reaches_p(self):
        # P = 100, R = 300: an answer is back after the next two slots: a poll every 400 ms
        _, arrivals, _ = model.poll_link_lags([500.0], [500.0], 500.0, 100, 300, 0, 0, 0,
                                              "delta")
        gaps = {round(b - a, 6) for a, b in zip(arrivals, arrivals[1:])}
        self.assertEqual(gaps, {400.0})

    def test_long_poll_batches_once_tokens_outrun_the_rtt(self):
        self.assertEqual(model.long_poll_batch(10, 20), 1.0)
        self.assertAlmostEqual(model.long_poll_batch(300, 64), 19.2)
        lo = model.predict(self.rec, "long-poll", 0, "delta")
        on, _ = model.predict_on_link(self.rec, case("long-poll", shape="delta"), THREE_G, {})
        sse, _ = model.predict_on_link(self.rec, case("sse"), THREE_G, {})
        # 20 tokens 50 ms apart over a 300 ms round trip: ~6 a batch, so far fewer requests
        self.assertLess(on["requests_per_stream"][0], lo["requests_per_stream"][0] / 2)
        extra = on["lag_ms_mean"][0] - sse["lag_ms_mean"][0]
        self.assertGreater(extra, 0)
        self.assertLess(extra, 300)  # at most a round trip, R/2 on average

    def test_the_streams_burst_at_the_bottleneck(self):
        # two streams started together, one 1,500-byte answer each at 12 Mbit/s (1 ms a packet):
        # the second copy waits for the first
        waits, deepest = model.burst_waits({0.0: 1500}, [0.0, 0.0], 12)
        self.assertEqual(sorted(waits.values()), [0.0, 1.0])
        self.assertEqual(deepest, 2)
        # started 5 ms apart, neither waits
        waits, _ = model.burst_waits({0.0: 1500}, [0.0, 5.0], 12)
        self.assertEqual(set(waits.values()), {0.0})
        self.assertEqual(model.burst_waits({0.0: 1500}, [0.0], 0), ({}, 0.0))  # rate unknown

    def test_slow_start(self):
        # 25 one-segment events 1 ms apart on a new connection, RTT 100: the first 10 go at once,
        # the next 20 in the second round trip (from 100 ms), so event k ≥ 10 waits 100 − k ms
        items = {float(k): 1000 for k in range(25)}
        waits = model.slow_start_waits(items, 100)
        self.assertEqual([waits[float(k)] for k in range(10)], [0.0] * 10)
        self.assertEqual([waits[float(k)] for k in range(10, 25)],
                         [100.0 - k for k in range(10, 25)])

    def test_the_prompt_comes_from_the_recording(self):
        self.assertEqual(model.request_body_bytes(lf.REC, os.path.dirname(self.rec_path)), 2)
        self.assertIsNone(model.request_body_bytes("no-such-recording", self.tmp.name))

    def test_recovery_and_loss(self):
        self.assertAlmostEqual(model.recovery_ms(40, 15), 55)   # RACK: the next segment's SACK
        self.assertAlmostEqual(model.recovery_ms(40, 1), 50)    # RACK: RTT + reo_wnd
        self.assertAlmostEqual(model.recovery_ms(40, 500), 240)  # a sparse stream: the RTO
        self.assertEqual(model.loss_extra(0, 40, 15), (0.0, 0.0))
        mean, p99 = model.loss_extra(0.01, 40, 15)
        share = 0.01 * (1 + 55 / 15)
        self.assertAlmostEqual(p99, 55 * (1 - 0.01 / share))
        self.assertAlmostEqual(mean, 0.01 * 55 * (1 + 55 / 30))
        self.assertAlmostEqual(model.mathis_mbit(40, 0.01), 1448 * 8 / 40 / 1000 * math.sqrt(150))

    def test_head_of_line(self):
        link = model.Link("lossy-3", lf.PROFILES["lossy-3"])
        hol = model.head_of_line(link, 100, 15, 0.05)  # 100 streams of 50 kbit/s
        # one connection carries 5 Mbit/s against a bound of ~2 Mbit/s at 3 %: it falls behind;
        # a connection per stream carries 0.05 each
        self.assertTrue(hol["2"][4])
        self.assertFalse(hol["1.1"][4])
        # Per loss both wait about one recovery (p99 within 10 %), but on HTTP/2 every stream
        # waits for every loss: its mean extra is D/2 = 25 ms, HTTP/1.1's 0.03·55·(1 + 55/30)
        self.assertAlmostEqual(hol["2"][0], 25.0)
        self.assertAlmostEqual(hol["1.1"][0], 0.03 * 55 * (1 + 55 / 30))
        self.assertLess(abs(hol["2"][1] - hol["1.1"][1]), 0.1 * hol["1.1"][1])

    def test_unknown_link_is_an_error(self):
        with self.assertRaises(results.ResultsError) as e:
            model.link_of({"link_profiles": {"3g": {}}}, "mars")
        self.assertIn("'mars'", str(e.exception))
        self.assertIsNone(model.link_of({}, "none"))
        # the harness writes the profiles as JSON text; a trace's rates are null: unknown
        trace = model.link_of({"link_profiles": json.dumps(lf.PROFILES)}, lf.TRACE)
        self.assertEqual((trace.rtt_ms, trace.rate_known), (40.0, False))
        with self.assertRaises(results.ResultsError):
            model.link_of({"link_profiles": "{not json"}, "3g")


class WhatIf(unittest.TestCase):
    def test_the_profiles_come_from_the_emulators_table(self):
        table = model.standard_profiles()
        self.assertEqual(table["3g"], {"rtt_ms": 300, "down_mbit": 1.6, "up_mbit": 0.768,
                                       "loss": 0})
        self.assertEqual(table["lossy-3"]["loss"], 0.03)
        self.assertEqual(table["geo-satellite"]["rtt_ms"], 600)
        self.assertIn("none", table)

    def test_what_if(self):
        p = script("model.py", "--what-if=none,3g", "--recordings=chat-gpt-4o-mini-text")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {tuple(line.split()[:3]): line.split() for line in p.stdout.splitlines()[1:]}
        loop, far = rows[("chat-gpt-4o-mini-text", "none", "sse")], \
            rows[("chat-gpt-4o-mini-text", "3g", "sse")]
        # one round trip and the request's and first event's bytes at 3g's rates
        self.assertGreater(float(far[3]) - float(loop[3]), 300)
        self.assertLess(float(far[3]) - float(loop[3]), 320)
        p = script("model.py", "--what-if=mars")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("'mars'", p.stderr)


class AMultiLinkRun(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.data = lf.run(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_check_passes_and_fails(self):
        run = lf.write(self.tmp.name, "links", self.data)
        p = script("model.py", "--check", run)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("rate unknown", p.stdout)  # the trace's cases say why they are left out
        # a 3g sse case whose lag is twice what its round trip gives
        for b in self.data["benchmarks"]:
            if b["run_name"].startswith(f"sse/{lf.REC}/c:1/link:3g/"):
                b["lag_ms_mean"] *= 2
        run = lf.write(self.tmp.name, "moved", self.data)
        p = script("model.py", "--check", run)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"sse/tiny-links/c:1/link:3g +lag_ms_mean .*OUTSIDE")

    def test_loopback_cases_keep_their_predictions(self):
        # Without the emulator `none` is loopback: predict()'s own figures. With it, `none`
        # crosses its TUN devices unshaped: the same with a 1,500-byte MTU's segments.
        for emulator, mss in ((False, None), (True, model.MSS_BYTES)):
            run = lf.write(self.tmp.name, f"links-{emulator}",
                           lf.run(self.tmp.name, emulator=emulator))
            context, cases = results.load(run)
            preds = model.predictions_for(context, cases)
            rec = model.Recording(os.path.join(context["recordings"], lf.REC + ".jsonl"))
            for c in cases:
                if c["link"] == "none" and c["transport"] in model.MODELLED:
                    alone = model.predict(rec, c["transport"], c["interval_ms"], c["shape"], 1.0,
                                          c["concurrency"], mss)
                    self.assertEqual(preds[c["run_name"]], alone, c["name"])

    def test_charts_and_findings(self):
        run = lf.write(self.tmp.name, "links", self.data)
        p = script("charts.py", run)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for name in ("link_lag", "link_bytes", "link_ttft", "link_crossover", "link_hol"):
            for ext in ("png", "svg"):
                path = os.path.join(run, f"{name}.{ext}")
                self.assertGreater(os.path.getsize(path), 1000, path)
        text = linkfindings.section(run)
        self.assertIn("SSE's first token (p50) comes later than on loopback", text)
        self.assertIn("`3g` +", text)
        self.assertRegex(text, r"`lossy-3` \(3% loss each way\), 100 concurrent `sse` streams")
        self.assertIn("`trace lte` (40 ms RTT, rate from its trace)", text)
        p = script("report.py", run, "--links")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, text)

    def test_one_link_gets_no_link_charts(self):
        one = lf.run(self.tmp.name, links=["none"])
        run = lf.write(self.tmp.name, "one", one)
        self.assertEqual(linkcharts.draw_all(*results.load(run), run), [])
        p = script("report.py", run, "--links")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_a_case_on_an_unknown_link(self):
        self.data["benchmarks"][-1]["link"] = "mars"
        run = lf.write(self.tmp.name, "mars", self.data)
        before = sorted(os.listdir(run))
        for cmd in (["model.py", "--check", run], ["model.py", run, "--write"],
                    ["charts.py", run], ["report.py", run, "--links"]):
            p = script(*cmd)
            self.assertEqual(p.returncode, 2, f"{cmd}: {p.stdout}{p.stderr}")
            lines = p.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, f"{cmd}: {p.stderr}")
            self.assertIn("'mars'", lines[0])
        # nothing written: no chart, no predicted_* fields
        self.assertEqual(sorted(os.listdir(run)), before)
        with open(os.path.join(run, "benchmark.json"), encoding="utf-8") as f:
            self.assertNotIn("predicted_lag_ms_mean", json.load(f)["benchmarks"][0])


if __name__ == "__main__":
    unittest.main()
