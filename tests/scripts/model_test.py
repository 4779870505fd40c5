#!/usr/bin/python3
"""scripts/model.py: its formulas on a tiny synthetic recording whose schedule is known (worked
by hand below), and, given a run, every measured figure inside its prediction's band.
Usage: model_test.py [RUN]   (RUN: a committed run's folder, the known-schedule fixture)"""
import json
import os
import sys
import tempfile
import unittest

from ssebench import model

RUN = sys.argv.pop(1) if len(sys.argv) > 1 else None


def chunk(kind, t_ms, content=None):
    payload = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1,
               "model": "m", "choices": [{"index": 0, "delta": {} if content is None else
                                          {"content": content}, "finish_reason": None}]}
    return {"t_us": int(t_ms * 1000), "kind": kind,
            "bytes": "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"}


def tiny_recording(folder):
    """Ten one-token content events at 100, 200, …, 1000 ms, a finish at 1010 ms, [DONE]."""
    head = {"format": "ssebench-recording", "version": 1, "api": "chat.completions",
            "model": "m", "request": {}, "usage": {"completion_tokens": 10},
            "response": {"status": 200, "headers": [["content-type", "text/event-stream"]],
                         "headers_offset_us": 50000},
            "nonstream": {"offset_us": 1010000, "status": 200,
                          "headers": [["content-type", "application/json"]],
                          "body": json.dumps({"choices": [{"message": {"content": "a" * 10}}]})}}
    events = [chunk("content", 100 * i, "a") for i in range(1, 11)] + [chunk("finish", 1010)]
    events.append({"t_us": 1010000, "kind": "done", "bytes": "data: [DONE]\n\n"})
    path = os.path.join(folder, "tiny.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for line in [head] + events:
            f.write(json.dumps(line) + "\n")
    return model.Recording(path)


class Formulas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.rec = tiny_recording(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_poll_lag_is_the_wait_for_the_next_poll(self):
        # P = 250: events at 100…1000 ms wait 150, 50, 200, 100, 0, 150, 50, 200, 100, 0 ms
        p = model.predict(self.rec, "poll", 250, "delta")
        self.assertAlmostEqual(p["lag_ms_mean"][0], 100.0)
        self.assertAlmostEqual(p["lag_ms_p99"][0], 200.0)
        # the first token (100 ms) arrives with the first poll, at 250 ms
        self.assertAlmostEqual(p["ttft_ms_p50"][0], 250.0)
        # the creation, then polls at 250, 500, 750, 1000 and 1250 (the job ends at 1010)
        self.assertEqual(p["requests_per_stream"][0], 6)

    def test_openai_shape_waits_for_the_end(self):
        # every token comes with the poll that finds the job ended, at 1250 ms
        p = model.predict(self.rec, "poll", 250, "openai")
        self.assertAlmostEqual(p["lag_ms_mean"][0], 1250 - 550)
        self.assertAlmostEqual(p["ttft_ms_p50"][0], 1250.0)

    def test_speed_scales_the_schedule(self):
        # at speed 2 the events come at 50…500 ms: with P = 250, waits 200, 150, …, 0
        p = model.predict(self.rec, "poll", 250, "delta", speed=2)
        self.assertAlmostEqual(p["lag_ms_mean"][0], 100.0)

    def test_rest_and_sse(self):
        rest = model.predict(self.rec, "rest")
        self.assertAlmostEqual(rest["ttft_ms_p50"][0], 1010.0)
        self.assertAlmostEqual(rest["lag_ms_mean"][0], 1010 - 550)
        sse = model.predict(self.rec, "sse")
        self.assertEqual(sse["lag_ms_mean"][0], 0.0)
        self.assertEqual(sse["requests_per_stream"][0], 1)

    def test_sse_bytes_are_the_events_in_their_chunks(self):
        sse = model.predict(self.rec, "sse")
        events = sum(len(e["bytes"]) + len(f"{len(e['bytes']):x}") + 4 for e in self.rec.events)
        headers = len("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n")
        self.assertAlmostEqual(sse["http_bytes_in_per_token"][0] * 10, events + 5 + headers)
        self.assertAlmostEqual(sse["http_header_bytes_in_per_token"][0] * 10, headers)

    def test_delta_bodies_carry_only_the_new_text(self):
        b = model.Bodies(self.rec)
        # {"id":"chatcmpl_bg_999","status":"in_progress","object":"chat.completion.delta",
        #  "cursor":2,"delta":"aa"}
        expected = len('{"id":"chatcmpl_bg_999","status":"in_progress",'
                       '"object":"chat.completion.delta","cursor":2,"delta":"aa"}')
        self.assertEqual(b.delta(1, 3), expected)


@unittest.skipIf(RUN is None, "no run given")
class AgainstARun(unittest.TestCase):
    def test_every_measured_figure_is_inside_its_band(self):
        rows, ok = model.check(RUN)
        self.assertTrue(rows, f"no predicted figure for {RUN}")
        outside = [r for r in rows if not r[5]]
        self.assertFalse(outside, "\n".join(
            f"{n} {f}: predicted {v:.2f} ± {b:.2f}, measured {m:.2f}"
            for n, f, v, b, m, _ in outside))


if __name__ == "__main__":
    unittest.main()
