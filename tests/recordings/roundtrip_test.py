#!/usr/bin/python3
"""The recordings reproduce their captures byte for byte, and their timing is sane.

Deliberately independent of scripts/recordings/convert.py: each capture is read here with its
own, minimal parser, and compared with what the recording's events carry. Only the statistical
check of the timing generator imports scripts/recordings/timing.py (it tests that module).

Run from the repository root: /usr/bin/python3 tests/recordings/roundtrip_test.py
"""

import json
import pathlib
import statistics
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "recordings"
CAPTURES = RECORDINGS / "captures"

import timing  # scripts/recordings/, on PYTHONPATH (tests/recordings/CMakeLists.txt)

CHAT_KINDS = {"role", "content", "refusal", "tool_args", "finish", "usage", "done", "error"}

# Raw SSE bodies: recording id -> capture file.
SSE = {
    "chat-gpt-4o-json": "chat-gpt-4o-2024-08-06-json-177chunks.sse",
    "chat-gpt-4o-n3": "chat-gpt-4o-2024-08-06-n3-choices.sse",
    "chat-gpt-4o-tool-call": "chat-gpt-4o-2024-08-06-tool-call.sse",
    "chat-gpt-4o-parallel-tools": "chat-gpt-4o-2024-08-06-parallel-tool-calls.sse",
    "chat-gpt-4o-refusal": "chat-gpt-4o-2024-08-06-refusal.sse",
}
CASSETTE = "chat-gpt-4o-mini-2024-07-18-tool-then-text.cassette.yaml"
CASSETTE_IDS = ["chat-gpt-4o-mini-tool", "chat-gpt-4o-mini-text"]  # interaction order
# JSON-lines captures: file -> (recording ids in order, whether the file ends in a newline).
JSONL = {
    "chat-gpt-4.1-nano-2025-04-14-text.jsonl": (["chat-gpt-4.1-nano-text"], False),
    "responses-gpt-4o-mini-ok.jsonl": (["responses-gpt-4o-mini-ok"], True),
    "responses-error-midstream.jsonl": (["responses-gpt-5-nano-error-midstream"], False),
    "responses-gpt-5.1-codex-max-reasoning.jsonl": ([f"responses-gpt-5.1-codex-max-{n}" for n in range(1, 5)], False),
}
NONSTREAM_ID = "chat-gpt-4.1-nano-nonstream"
NONSTREAM_BODY = "chat-gpt-4.1-nano-2025-04-14-text.nonstream.json"
HEADERS_TXT = "headers-api.openai.com-2024-09.txt"
LONG_ID = "chat-gpt-4o-mini-long"
ERROR_ID, ERROR_BASE = "chat-gpt-4o-json-error-midstream", "chat-gpt-4o-json"


def load(rid):
    """(header, events) of recordings/<rid>.jsonl, read with nothing but json."""
    lines = (RECORDINGS / f"{rid}.jsonl").read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "", f"{rid}: file does not end in a newline"
    objs = [json.loads(ln) for ln in lines[:-1]]
    return objs[0], objs[1:]


def data_of(event_bytes):
    """The payload of the single `data: ` line of one SSE event."""
    lines = event_bytes.split("\n")
    assert lines[-2:] == ["", ""], f"event does not end in a blank line: {event_bytes[-20:]!r}"
    data = [ln for ln in lines[:-2] if ln.startswith("data: ")]
    assert len(data) == 1, f"event has {len(data)} data lines"
    return data[0][len("data: "):]


def all_ids():
    return sorted(p.stem for p in RECORDINGS.glob("*.jsonl"))


class ByteExact(unittest.TestCase):
    def test_sse_bodies_are_the_concatenated_events(self):
        for rid, capture in SSE.items():
            with self.subTest(rid):
                _, events = load(rid)
                joined = "".join(e["bytes"] for e in events).encode("utf-8")
                self.assertEqual(joined, (CAPTURES / capture).read_bytes())

    def test_cassette_bodies_are_the_concatenated_events(self):
        doc = yaml.safe_load((CAPTURES / CASSETTE).read_bytes().decode("utf-8"))
        self.assertEqual(len(doc["interactions"]), len(CASSETTE_IDS))
        for rid, it in zip(CASSETTE_IDS, doc["interactions"]):
            with self.subTest(rid):
                header, events = load(rid)
                self.assertEqual("".join(e["bytes"] for e in events), it["response"]["body"]["string"])
                self.assertEqual(header["response"]["status"], it["response"]["status"]["code"])
                expected = [[k, str(v)] for k, vs in it["response"]["headers"].items() for v in vs]
                self.assertEqual(header["response"]["headers"], expected)
                self.assertEqual(json.loads(header["request"]["body"]), it["request"]["parsed_body"])
                self.assertEqual(str(len(header["request"]["body"].encode("utf-8"))),
                                 it["request"]["headers"]["content-length"][0])

    def test_jsonl_lines_are_the_event_payloads(self):
        for capture, (ids, trailing_newline) in JSONL.items():
            with self.subTest(capture):
                payloads = []
                for rid in ids:
                    header, events = load(rid)
                    for e in events:
                        p = data_of(e["bytes"])
                        if p == "[DONE]":
                            self.assertIs(e, events[-1], f"{rid}: [DONE] before the end")
                            self.assertEqual(e["bytes"], "data: [DONE]\n\n")
                            continue
                        if header["api"] == "responses":
                            self.assertEqual(e["bytes"], f"event: {json.loads(p)['type']}\ndata: {p}\n\n")
                        else:
                            self.assertEqual(e["bytes"], f"data: {p}\n\n")
                        payloads.append(p)
                text = "\n".join(payloads) + ("\n" if trailing_newline else "")
                self.assertEqual(text.encode("utf-8"), (CAPTURES / capture).read_bytes())

    def test_chat_jsonl_ends_with_done(self):
        _, events = load("chat-gpt-4.1-nano-text")
        self.assertEqual(events[-1]["bytes"], "data: [DONE]\n\n")
        self.assertEqual(events[-1]["kind"], "done")

    def test_nonstream_body_and_headers(self):
        header, events = load(NONSTREAM_ID)
        self.assertEqual(events, [])
        self.assertEqual(header["events"], 0)
        ns = header["nonstream"]
        self.assertEqual(ns["body"].encode("utf-8"), (CAPTURES / NONSTREAM_BODY).read_bytes())
        lines = (CAPTURES / HEADERS_TXT).read_bytes().decode("utf-8").split("\n")
        self.assertEqual(lines[-1], "")
        self.assertEqual([f"{k}: {v}" for k, v in ns["headers"]], lines[:-1])

    def test_every_capture_is_used(self):
        used = set()
        for rid in all_ids():
            header, _ = load(rid)
            used.add(header["provenance"].get("capture", "").removeprefix("recordings/captures/"))
        used.add(HEADERS_TXT)  # carried as nonstream headers (test_nonstream_body_and_headers)
        captures = {p.name for p in CAPTURES.iterdir() if p.suffix in (".sse", ".jsonl", ".json", ".yaml")}
        self.assertEqual(captures - used, set())


def stream_transcript(header, events):
    """User-visible text by choice, rebuilt from the events (the rule of core's delta_text)."""
    out = {}
    for e in events:
        p = data_of(e["bytes"])
        if p == "[DONE]":
            continue
        d = json.loads(p)
        if header["api"] == "chat.completions":
            for c in d.get("choices", []):
                delta = c["delta"]
                text = (delta.get("content") or "") + (delta.get("refusal") or "")
                text += "".join((tc.get("function") or {}).get("arguments") or "" for tc in delta.get("tool_calls") or [])
                out[c["index"]] = out.get(c["index"], "") + text
        elif d["type"] in ("response.output_text.delta", "response.refusal.delta",
                           "response.function_call_arguments.delta", "response.reasoning_summary_text.delta"):
            out[0] = out.get(0, "") + d["delta"]
    return {k: v for k, v in out.items() if v}


def body_transcript(header, body):
    d = json.loads(body)
    out = {}
    if header["api"] == "chat.completions":
        for c in d["choices"]:
            m = c["message"]
            out[c["index"]] = ((m.get("content") or "") + (m.get("refusal") or "")
                               + "".join(t["function"]["arguments"] for t in m.get("tool_calls") or []))
    else:
        text = ""
        for item in d["output"]:
            text += "".join(s["text"] for s in item.get("summary") or [])
            text += item.get("arguments") or ""
            for part in item.get("content") or []:
                text += part.get("text") or part.get("refusal") or ""
        out[0] = text
    return {k: v for k, v in out.items() if v}


class NonStream(unittest.TestCase):
    def test_stream_false_answer_carries_the_streamed_text(self):
        """A client using stream:false must end with the same text as one reading the stream."""
        for rid in all_ids():
            header, events = load(rid)
            ns = header["nonstream"]
            if not events or ns["status"] != 200:
                continue
            with self.subTest(rid):
                self.assertEqual(body_transcript(header, ns["body"]), stream_transcript(header, events))

    def test_failed_streams_answer_with_an_openai_error(self):
        for rid in ("chat-gpt-4o-json-error-midstream", "responses-gpt-5-nano-error-midstream"):
            with self.subTest(rid):
                header, _ = load(rid)
                self.assertGreaterEqual(header["nonstream"]["status"], 400)
                self.assertEqual(set(json.loads(header["nonstream"]["body"])["error"]),
                                 {"message", "type", "param", "code"})


class Synthesized(unittest.TestCase):
    def test_long_recording_has_1000_content_events(self):
        header, events = load(LONG_ID)
        content = [e for e in events if e["kind"] == "content"
                   and json.loads(data_of(e["bytes"]))["choices"][0]["delta"]["content"] != ""]
        self.assertGreaterEqual(len(content), 1000)
        self.assertEqual(header["usage"]["completion_tokens"], len(content))
        self.assertEqual(header["provenance"]["source"], "synthesized")
        self.assertEqual(events[-1]["bytes"], "data: [DONE]\n\n")

    def test_error_recording_is_a_prefix_then_an_error(self):
        _, base = load(ERROR_BASE)
        header, events = load(ERROR_ID)
        n = len(events) - 1
        self.assertEqual([e["bytes"] for e in events[:n]], [e["bytes"] for e in base[:n]])
        self.assertEqual([e["t_us"] for e in events[:n]], [e["t_us"] for e in base[:n]])
        err = json.loads(data_of(events[-1]["bytes"]))
        self.assertEqual(events[-1]["kind"], "error")
        self.assertEqual(set(err["error"]), {"message", "type", "param", "code"})
        self.assertNotIn("[DONE]", "".join(e["bytes"] for e in events))


class Timing(unittest.TestCase):
    def test_offsets_never_decrease_and_counts_match(self):
        for rid in all_ids():
            with self.subTest(rid):
                header, events = load(rid)
                self.assertEqual(header["events"], len(events))
                t = [e["t_us"] for e in events]
                self.assertTrue(all(isinstance(x, int) and x >= 0 for x in t))
                self.assertEqual(t, sorted(t))
                if events:
                    self.assertEqual(header["response"]["headers_offset_us"], t[0])
                    self.assertGreaterEqual(header["nonstream"]["offset_us"], t[-1])
                timing_ = header["provenance"]["timing"]
                self.assertEqual(timing_["kind"], "synthesized")
                self.assertEqual(timing_["generator"], "scripts/recordings/timing.py")

    def test_kinds(self):
        for rid in all_ids():
            with self.subTest(rid):
                header, events = load(rid)
                for e in events:
                    p = data_of(e["bytes"])
                    if header["api"] == "chat.completions":
                        self.assertIn(e["kind"], CHAT_KINDS)
                        self.assertEqual(e["kind"] == "done", p == "[DONE]")
                    else:
                        self.assertEqual(e["kind"], json.loads(p)["type"])

    def test_generator_gap_median_is_one_over_rate(self):
        profiles = timing.load_profiles(RECORDINGS / "profiles.json")
        for name, p in profiles.items():
            with self.subTest(name):
                gaps = timing.gap_sample_us(p, 20251125, 20000)
                expected = 1e6 / p.tokens_per_s
                self.assertLess(abs(statistics.median(gaps) - expected) / expected, 0.10)
                # The mean rate is lower (lognormal mean > median, plus stalls); keep it within 15%.
                self.assertLess(abs(1e6 / statistics.fmean(gaps) - p.tokens_per_s) / p.tokens_per_s, 0.15)

    def test_generator_is_deterministic(self):
        a = timing.SplitMix64(1)
        # splitmix64 reference outputs for seed 1 (state advances before mixing).
        self.assertEqual([a.next_u64() for _ in range(3)],
                         [0x910A2DEC89025CC1, 0xBEEB8DA1658EEC67, 0xF893A2EEFB32555E])


if __name__ == "__main__":
    unittest.main(verbosity=2)
