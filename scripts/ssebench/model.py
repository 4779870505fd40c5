"""The analytic model: what METRICS.md's formulas predict for a case, from its recording alone.

scripts/model.py's logic. Usage: scripts/model.py results/<run>[/benchmark.json] [--write]   predictions beside each case
       scripts/model.py --check results/<run>                      exit 1 when a figure leaves
                                                                    its band (tests/scripts)
`--write` adds `predicted_<figure>` (and `predicted_<figure>_band`, the half-width of the band a
measurement should fall in) to every case entry of the benchmark.json, in place: scripts/bench
runs it after every run, so the JSON carries predicted beside measured.

What it predicts, per transport (speed S, poll interval P, recorded offsets o_i of the content
events, the last job event at D; every time scaled by 1/S as the server paces):
- lag: sse and long-poll ≈ 0 (one write and a read; the band is a few ms); poll with a fixed-rate
  schedule picks event i up at the first poll at or after it, k_i = ⌈o_i / P⌉: lag_i = k_i·P − o_i
  (uniform on [0, P) for a steady stream: mean P/2, p99 ≈ 0.99·P), computed per event rather than
  assumed uniform; shape openai sees every token at the poll that finds the job ended,
  K = ⌈D / P⌉: lag_i = K·P − o_i (the rest of the stream plus up to P); rest: the body's offset
  minus o_i.
- ttft: the first content event's offset plus its lag.
- requests per stream: sse and rest 1; poll 1 (the job's creation) + K; long-poll 1 + one per
  burst of events closer together than a round trip (BURST_US), + 1 for the ended job.
- bytes in per token: every answer's status line and headers (the recording's own headers for
  sse and rest, the server's `Content-Type` and `Content-Length` for a job's answers) + bodies
  (sse: each event's bytes in its chunk, hex length + CRLF + CRLF; the shapes' bodies built as
  mock_server/README.md defines them: delta and events from the events' payloads, snapshot and
  openai by accumulating the object as representation.cpp does — exact up to the job id's
  digits), + 52 bytes of TCP/IP headers per segment (one per answer, one per SSE event, on
  loopback).
The bands are the model's own error, not the noise: a handful of ms for the harness's one
thread at 100 streams, a few % of P for when a poll's answer returns, 5 % for bytes (the job
id's digits, ACK segments), 25 % for long-poll's bytes (which events a round trip batches is
estimated from the schedule, BURST_US).
"""

import collections
import copy
import json
import math
import os
import re

from . import figures, results
from .recordings import FOLDER, Recording, load_recording

SEGMENT_HEADER_BYTES = 52  # IPv4 20 + TCP 20 + timestamps 12, as the harness's wire_bytes
STATUS_LINE = "HTTP/1.1 200 OK\r\n"
SERVER_OWNED = {"content-length", "transfer-encoding", "connection", "keep-alive"}
BURST_US = 1000  # long-poll: events closer than this come in one answer
JOB_ID_DIGITS = 3  # chatcmpl_bg_N / resp_bg_N: N counts the server's jobs; a typical width

# Figures predicted: figures.py's rows marked predicted, in its order.
FIGURES = figures.predicted()


def percentile(sorted_values, q):
    """Linear between order statistics, as the harness's (numpy's default)."""
    if not sorted_values:
        return 0.0
    rank = q * (len(sorted_values) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def header_bytes(headers, body_length=None):
    """Status line, headers and the blank line of one answer as the server writes it."""
    n = len(STATUS_LINE)
    for name, value in headers:
        if name.lower() not in SERVER_OWNED:
            n += len(name) + 2 + len(value) + 2
    if body_length is None:
        n += len("Transfer-Encoding: chunked\r\n")
    else:
        n += len(f"Content-Length: {body_length}\r\n")
    return n + 2


JSON_HEADERS = [("Content-Type", "application/json")]


def job_answer(body_length):
    """(header bytes, body bytes) of one job answer."""
    return header_bytes(JSON_HEADERS, body_length), body_length


def open_object(status):
    job_id = ("resp_bg_" if status[1] else "chatcmpl_bg_") + "9" * JOB_ID_DIGITS
    return len('{"id":"' + job_id + '","status":"' + status[0] + '",')


_DECODER = json.JSONDecoder()


def dumps(value):
    """Compact JSON with UTF-8 kept, as Boost.JSON serializes (its byte count)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def nbytes(text):
    return len(text.encode("utf-8"))


def raw_members(text):
    """[(raw key, raw value)] of a JSON object's text, each as written (numbers keep their form)."""
    out = []
    text = text.strip()
    if not text.startswith("{"):
        return out
    i = 1
    ws = " \t\r\n"
    while i < len(text):
        while i < len(text) and text[i] in ws + ",":
            i += 1
        if i >= len(text) or text[i] == "}":
            break
        _, end = _DECODER.raw_decode(text, i)
        key = text[i:end]
        i = end
        while text[i] in ws + ":":
            i += 1
        _, end = _DECODER.raw_decode(text, i)
        out.append((key, text[i:end]))
        i = end
    return out


def raw_member(text, key):
    for k, v in raw_members(text):
        if k == json.dumps(key):
            return v
    return ""


class ChatSnapshot:
    """The chat.completion object the SDK accumulates from chunks (representation.cpp)."""

    def __init__(self, first):
        self.created = first.get("created", 0)
        self.model = first.get("model", "")
        self.fingerprint = self.tier = self.usage = self.error = None
        self.choices = {}

    def apply(self, chunk, _text=None):
        if chunk.get("error") is not None:
            self.error = chunk["error"]
        if chunk.get("system_fingerprint") is not None:
            self.fingerprint = chunk["system_fingerprint"]
        if chunk.get("service_tier") is not None:
            self.tier = chunk["service_tier"]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for i, c in enumerate(chunk.get("choices") or []):
            if not isinstance(c, dict):
                continue
            ch = self.choices.setdefault(c.get("index", i), {
                "role": "assistant", "content": None, "refusal": None, "tool_calls": {},
                "finish_reason": None})
            if c.get("finish_reason") is not None:
                ch["finish_reason"] = c["finish_reason"]
            d = c.get("delta")
            if not isinstance(d, dict):
                continue
            if isinstance(d.get("role"), str):
                ch["role"] = d["role"]
            for k in ("content", "refusal"):
                if isinstance(d.get(k), str):
                    ch[k] = (ch[k] or "") + d[k]
            for j, tc in enumerate(d.get("tool_calls") or []):
                call = ch["tool_calls"].setdefault(tc.get("index", j), {
                    "id": "", "type": "function", "name": "", "arguments": ""})
                for k in ("id", "type"):
                    if isinstance(tc.get(k), str):
                        call[k] = tc[k]
                fn = tc.get("function") or {}
                if isinstance(fn.get("name"), str):
                    call["name"] = fn["name"]
                if isinstance(fn.get("arguments"), str):
                    call["arguments"] += fn["arguments"]

    def tail(self):
        obj = {"object": "chat.completion", "created": self.created, "model": self.model}
        if self.fingerprint is not None:
            obj["system_fingerprint"] = self.fingerprint
        if self.tier is not None:
            obj["service_tier"] = self.tier
        choices = []
        for index in sorted(self.choices):
            c = self.choices[index]
            message = {"role": c["role"], "content": c["content"], "refusal": c["refusal"]}
            if c["tool_calls"]:
                message["tool_calls"] = [
                    {"id": t["id"], "type": t["type"],
                     "function": {"name": t["name"], "arguments": t["arguments"]}}
                    for _, t in sorted(c["tool_calls"].items())]
            choices.append({"index": index, "message": message, "logprobs": None,
                            "finish_reason": c["finish_reason"]})
        obj["choices"] = choices
        if self.usage is not None:
            obj["usage"] = self.usage
        if self.error is not None:
            obj["error"] = self.error
        return nbytes(dumps(obj)) - 2  # the members, without the braces


class ResponsesSnapshot:
    """The Response object with its output so far (representation.cpp's ResponsesSnapshot)."""

    def __init__(self, created_text, model):
        self.base = raw_members(created_text) or [('"object"', '"response"'),
                                                  ('"created_at"', "0"),
                                                  ('"model"', json.dumps(model))]
        self.output = []

    def apply(self, ev, text):
        t = ev.get("type", "")
        if t in ("response.created", "response.in_progress", "response.completed",
                 "response.failed", "response.incomplete"):
            if not isinstance(ev.get("response"), dict):
                return
            self.base = raw_members(raw_member(text, "response"))
            out = ev["response"].get("output")
            interim = t in ("response.created", "response.in_progress")
            if interim and not out:
                return
            self.output = list(out) if isinstance(out, list) else []
            return
        oi, ci, si = ev.get("output_index"), ev.get("content_index"), ev.get("summary_index")
        item = self.output[oi] if isinstance(oi, int) and oi < len(self.output) else None

        def element(key, idx):
            if not isinstance(item, dict) or not isinstance(idx, int):
                return None
            arr = item.get(key)
            return arr[idx] if isinstance(arr, list) and idx < len(arr) else None

        def put(key, idx, value):
            if not isinstance(item, dict) or value is None:
                return
            arr = item.setdefault(key, [])
            if idx < len(arr):
                arr[idx] = value
            else:
                arr.append(value)

        delta = ev.get("delta") if isinstance(ev.get("delta"), str) else None
        if t in ("response.output_item.added", "response.output_item.done"):
            if isinstance(oi, int) and isinstance(ev.get("item"), dict):
                if oi < len(self.output):
                    self.output[oi] = ev["item"]
                else:
                    self.output.append(ev["item"])
        elif t in ("response.content_part.added", "response.content_part.done"):
            if isinstance(ci, int):
                put("content", ci, ev.get("part"))
        elif t in ("response.output_text.delta", "response.refusal.delta",
                   "response.reasoning_summary_text.delta"):
            el = element("summary" if "summary" in t else "content",
                         si if "summary" in t else ci)
            key = "refusal" if "refusal" in t else "text"
            if isinstance(el, dict) and delta is not None:
                el[key] = el.get(key, "") + delta
        elif t in ("response.output_text.done", "response.refusal.done",
                   "response.reasoning_summary_text.done"):
            el = element("summary" if "summary" in t else "content",
                         si if "summary" in t else ci)
            key = "refusal" if "refusal" in t else "text"
            if isinstance(el, dict) and isinstance(ev.get(key), str):
                el[key] = ev[key]
        elif t == "response.function_call_arguments.delta":
            if isinstance(item, dict) and delta is not None:
                item["arguments"] = item.get("arguments", "") + delta
        elif t == "response.function_call_arguments.done":
            if isinstance(item, dict) and isinstance(ev.get("arguments"), str):
                item["arguments"] = ev["arguments"]
        elif t in ("response.reasoning_summary_part.added",
                   "response.reasoning_summary_part.done"):
            if isinstance(si, int):
                put("summary", si, ev.get("part"))

    def tail(self):
        keys = {k for k, _ in self.base}
        parts = []
        if '"object"' not in keys:
            parts.append('"object":"response"')
        output = dumps(self.output)
        for k, v in self.base:
            if k in ('"id"', '"status"'):
                continue
            if k == '"output"':
                v = output
            elif k == '"background"':
                v = "true"
            parts.append(f"{k}:{v}")
        if '"output"' not in keys:
            parts.append('"output":' + output)
        if '"background"' not in keys:
            parts.append('"background":true')
        return nbytes(",".join(parts))


def snapshot_tails(rec):
    """[tail bytes after k job events] for k = 0…N: what snapshot and openai answers carry."""
    payloads = []
    for e in rec.job_events:
        text = Recording.data(e)
        try:
            payloads.append((json.loads(text), text))
        except ValueError:
            payloads.append(({}, text))
    if rec.api == "responses":
        created = next((raw_member(t, "response") for p, t in payloads
                        if p.get("type") == "response.created"), "")
        snap = ResponsesSnapshot(created, rec.model)
    else:
        snap = ChatSnapshot(next((p for p, _ in payloads if "choices" in p), {}))
    tails = [snap.tail()]
    for p, t in payloads:
        snap.apply(copy.deepcopy(p), t)  # the snapshot edits the items it holds
        tails.append(snap.tail())
    return tails


class Bodies:
    """The four shapes' body sizes for a recording (mock_server/README.md), by events due."""

    def __init__(self, rec):
        self.rec = rec
        self.responses = rec.api == "responses"
        self.tails = snapshot_tails(rec)  # the object's members after k events

    def whole(self, due):
        """{"id":…,"status":…, + the object after `due` events + }."""
        return open_object(self.status(due)) + self.tails[due] + 1

    def status(self, due):
        ended = due >= len(self.rec.job_events)
        name = "completed" if ended else ("in_progress" if due > 0 else "queued")
        return name, self.responses

    def delta(self, first, due):
        n = open_object(self.status(due))
        n += len('"object":"response.delta",' if self.responses else
                 '"object":"chat.completion.delta",')
        n += len('"cursor":') + (len(str(due - 1)) if due > first else len(str(max(first - 1, 0))))
        n += len(',"delta":"') + sum(len(t) for t in self.rec.text_escaped[first:due]) + 2
        return n

    def events(self, first, due):
        n = open_object(self.status(due))
        n += len('"object":"response",' if self.responses else '"object":"chat.completion",')
        n += len('"model":' + json.dumps(self.rec.model) + ',"recording":' +
                 json.dumps(self.rec.id) + ',')
        n += len('"cursor":') + (len(str(due - 1)) if due > first else len(str(max(first - 1, 0))))
        n += len(',"events_total":' + str(len(self.rec.job_events)) + ',"events":[')
        payloads = [len(Recording.data(e)) for e in self.rec.job_events[first:due]]
        n += sum(payloads) + max(len(payloads) - 1, 0) + 2
        return n

    def snapshot(self, due):
        return self.whole(due)

    def openai(self, due):
        # status only (the object before any event) until the job ends, then the whole object
        if due >= len(self.rec.job_events):
            return self.whole(due)
        return open_object(self.status(due)) + self.tails[0] + 1

    @property
    def pending(self):
        """The creation's answer: the queued object."""
        return open_object(("queued", self.responses)) + self.tails[0] + 1


def predict(rec, transport, interval_ms=0, shape="", speed=1.0, concurrency=1, mss=None,
            schedule=None):
    """{figure: (value, band half-width)} for one case. mss: the link's largest segment payload
    (a real link's 1,448 bytes: an answer longer than that takes several segments); None on
    loopback, where every answer up to 64 KiB is one segment. schedule (a link's, from
    poll_link_lags / long_poll_link_lags): poll, the job times its polls reach the server;
    long-poll, the job-event index each answer ends at; None: loopback's own."""
    segs = (lambda n: 1) if mss is None else (lambda n: max(1, math.ceil(n / mss)))  # noqa: E731
    if transport in ("poll", "long-poll") and not shape:
        shape = "events"  # runs before issue 7: their poll is today's shape events
    s = speed if speed > 0 else 1.0
    us = lambda t: t / s  # noqa: E731  the server's pacing
    offsets_ms = [us(e["t_us"]) / 1000 for e in rec.content]
    end_ms = us(rec.end_us) / 1000
    tokens = max(rec.tokens, 1)
    busy_ms = 2.0 + 0.05 * concurrency  # the harness's one thread: a few ms at 100 streams
    p = float(interval_ms)
    lags = []
    headers = 0
    bodies = 0
    segments = 0
    requests = 1
    job_times = [us(e["t_us"]) / 1000 for e in rec.job_events]
    due_at = lambda t: sum(1 for x in job_times if x <= t)  # noqa: E731
    b = Bodies(rec)
    if transport == "sse":
        lags = [0.0] * len(offsets_ms)
        headers = header_bytes(rec.response_headers)
        bodies = sum(len(e["bytes"].encode()) + len(f"{len(e['bytes'].encode()):x}") + 4
                     for e in rec.events) + 5  # + the last chunk 0\r\n\r\n
        # headers, one per event, the last chunk, an ACK
        segments = (segs(headers) + sum(segs(len(e["bytes"].encode()) + 8) for e in rec.events)
                    + 1 + 1)
        lag_band = (busy_ms, 2 * busy_ms)
    elif transport == "rest":
        body = rec.nonstream["body"].encode() if rec.nonstream else b""
        at = us(rec.nonstream["offset_us"]) / 1000 if rec.nonstream else end_ms
        lags = [at - o for o in offsets_ms]
        headers = header_bytes(rec.nonstream.get("headers") or JSON_HEADERS, len(body))
        bodies = len(body)
        segments = segs(headers + bodies) + 1
        lag_band = (3 * busy_ms, 3 * busy_ms)  # every body at once: the thread reads them in turn
    elif transport == "poll":
        polls = max(1, math.ceil(end_ms / p - 1e-9)) if p > 0 else 1
        if end_ms > 0 and polls * p <= end_ms:
            polls += 1  # the job ends only once its last event's time has passed
        if schedule is not None:
            polls = len(schedule)
        requests = 1 + polls
        h, body = job_answer(b.pending)  # the creation's answer: the queued object
        headers, bodies, segments = h, body, segs(h + body)
        seen = 0
        for k in range(1, polls + 1):
            due = due_at(k * p if schedule is None else schedule[k - 1])
            if shape == "delta":
                body = b.delta(seen, due)
            elif shape == "events":
                body = b.events(seen, due)
            elif shape == "snapshot":
                body = b.snapshot(due)
            else:
                body = b.openai(due if k == polls else min(due, len(rec.job_events) - 1))
            h, _ = job_answer(body)
            headers += h
            bodies += body
            segments += segs(h + body)
            seen = due
        if shape == "openai":
            lags = [polls * p - o for o in offsets_ms]
        else:
            lags = [max(math.ceil(o / p - 1e-9), 1) * p - o for o in offsets_ms]
        # When in its slot a poll's answer returns, and the harness's thread: a few % of P
        lag_band = (0.05 * p + busy_ms + 1, 0.05 * p + 3 * busy_ms + 3)
    elif transport == "long-poll":
        # One answer per burst of events closer than a round trip, then the ended job's.
        edges = [0]
        for i in range(1, len(job_times)):
            if (job_times[i] - job_times[i - 1]) * 1000 > BURST_US:
                edges.append(i)
        edges.append(len(job_times))
        ended = [(len(job_times), len(job_times))]  # the answer that finds the job ended
        if schedule is not None:  # a link's: a trailing None when no such answer follows
            edges = [e for e in schedule if e is not None]
            ended = ended if schedule[-1] is not None else []
        requests = 1 + (len(edges) - 1) + len(ended)
        lags = [0.0] * len(offsets_ms)
        h, body = job_answer(b.pending)
        headers, bodies, segments = h, body, segs(h + body)
        body_of = b.delta if shape == "delta" else b.events
        for first, due in list(zip(edges, edges[1:])) + ended:
            body = body_of(first, due)
            h, _ = job_answer(body)
            headers += h
            bodies += body
            segments += segs(h + body) + 1  # the answer and, for a held one, the ACK of its request
        lag_band = (busy_ms, 3 * busy_ms)
    else:
        return {}
    lags.sort()
    out = {}
    if lags:
        out["lag_ms_mean"] = (sum(lags) / len(lags), lag_band[0])
        out["lag_ms_p99"] = (percentile(lags, 0.99), lag_band[1])
        out["ttft_ms_p50"] = (offsets_ms[0] + lags_first(lags, offsets_ms, transport, p, shape,
                                                         end_ms, rec), lag_band[1])
    out["requests_per_stream"] = (float(requests),
                                  0.0 if transport in ("sse", "rest") else
                                  max(1.0, 0.05 * requests) if transport == "poll" else
                                  0.35 * requests)
    http = headers + bodies
    # long-poll's answers depend on which events a round trip batches: estimated, not built
    bytes_band = 0.25 if transport == "long-poll" else 0.05
    out["http_bytes_in_per_token"] = (http / tokens, bytes_band * http / tokens)
    out["http_header_bytes_in_per_token"] = (headers / tokens, bytes_band * headers / tokens)
    wire = http + SEGMENT_HEADER_BYTES * segments
    out["wire_bytes_in_per_token"] = (wire / tokens, (bytes_band + 0.02) * wire / tokens)
    # The split of the bytes in: bodies without chunk framing (payload), headers and framing,
    # TCP/IP headers. sse's framing: the chunk sizes and CRLFs (the SSE `data: `… is payload).
    framing = 0
    if transport == "sse":
        framing = sum(len(f"{len(e['bytes'].encode()):x}") + 4 for e in rec.events) + 5
    out["payload_bytes_in_per_token"] = ((bodies - framing) / tokens,
                                         bytes_band * (bodies - framing) / tokens)
    return out


def lags_first(lags, offsets_ms, transport, p, shape, end_ms, rec):
    """The first content event's predicted lag (lags is sorted, so recompute for event 0)."""
    if not offsets_ms:
        return 0.0
    o = offsets_ms[0]
    if transport == "poll":
        if shape == "openai":
            return max(1, math.ceil(end_ms / p - 1e-9)) * p - o
        return max(math.ceil(o / p - 1e-9), 1) * p - o
    if transport == "rest":
        return (rec.nonstream["offset_us"] / 1000 if rec.nonstream else end_ms) - o
    return 0.0


# Link terms (issue 16) ---------------------------------------------------------------------------
# What a link adds to a case predicted on loopback: round trips, serialization at the link's rate,
# and the recovery of lost segments. Every term is a small function of the profile's numbers
# (results/<run>'s context.link_profiles, from link/src/profile.cpp) and says where it comes from.
# Times in ms; R is the round-trip time, split evenly, half each way (link/README.md).

MSS_BYTES = 1448         # a 1,500-byte link MTU less 52 bytes of IPv4, TCP and timestamps
RTO_MIN_MS = 200.0       # Linux TCP_RTO_MIN: the retransmission timeout is at least SRTT + 200 ms
INITIAL_RTO_MS = 1000.0   # RFC 6298 §2.1 / Linux TCP_TIMEOUT_INIT: a lost SYN or SYN-ACK waits 1 s
REO_WND_SHARE = 0.25     # RACK's reordering window, min_rtt / 4 (RFC 8985 §6.2, Linux's default)
SATURATED = 0.9          # utilisation of a direction above which its queue grows without bound
P99_SHARE = 0.01         # the share of events above a p99


class Link:
    """A profile's numbers (context.link_profiles[NAME]); a rate of 0 is unknown (a trace)."""

    def __init__(self, name, profile):
        self.name = name
        self.rtt_ms = float(profile.get("rtt_ms") or 0.0)
        self.down_mbit = float(profile.get("down_mbit") or 0.0)
        self.up_mbit = float(profile.get("up_mbit") or 0.0)
        self.loss = float(profile.get("loss") or 0.0)
        self.queue_packets = profile.get("queue_packets")

    @property
    def rate_known(self):
        return self.down_mbit > 0 and self.up_mbit > 0


def context_value(context, key, default):
    """A context entry the harness may write as JSON text (Google Benchmark's context holds
    strings: `links`, `link_profiles`), parsed; ResultsError when the text is not JSON."""
    v = context.get(key)
    if v is None or v == "":
        return default
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            raise results.ResultsError(f"context.{key} is not JSON: {v[:60]!r}") from None
    return v


def link_of(context, name, where=""):
    """The case's link (None on loopback, `none`); ResultsError when the run's context has no
    such profile: a case on a link the run does not describe cannot be predicted."""
    if name in (None, "", "none"):
        return None
    profiles = context_value(context, "link_profiles", {})
    if name not in profiles or not isinstance(profiles[name], dict):
        known = ", ".join(sorted(profiles)) or "none"
        raise results.ResultsError(
            f"{where}link '{name}' has no profile (context.link_profiles has: {known})")
    return Link(name, profiles[name])


def serialization_ms(nbytes, mbit):
    """The time `nbytes` take to leave at `mbit` Mbit/s: bytes × 8 / rate (a 1,500-byte packet at
    12 Mbit/s: 1 ms, link/README.md). 0 when the rate is unknown (a trace)."""
    return nbytes * 8 / (mbit * 1000) if mbit > 0 else 0.0


def first_token_rtts(transport, fresh):
    """Round trips between t0 (the client's clock starts just before connecting, METRICS.md) and
    the first token's arrival, beyond the server's own first-token time. A fresh connection pays
    TCP's handshake (1 RTT: SYN out, SYN-ACK back; the request rides with the last ACK), then
    the request's one way and the answer's one way (1 RTT); a reused connection pays only the
    latter. ws pays the handshake, its HTTP Upgrade (1 RTT) and the prompt message and first
    answer (1 RTT): 3 fresh, 1 on a connection kept for the next turn. h2c with prior knowledge
    sends its preface with the first request: no extra round trip."""
    if not fresh:
        return 1.0
    return 3.0 if transport == "ws" else 2.0


def fresh_share(counters):
    """The share of streams that opened a connection, from the case's connections_per_stream:
    the harness's pool keeps connections from its warm-up round (loopback runs: 0.0 at c:1, 0.04
    for sse at c:100), so most measured streams pay no handshake. A setting of the client, not a
    timing: read from the run as the speed is. 1 when the run does not say."""
    v = counters.get("connections_per_stream")
    return 1.0 if v is None else min(1.0, max(0.0, float(v)))


def poll_link_lags(offsets_ms, job_times_ms, end_ms, p, rtt, handshake, up_ms, down_ms, shape):
    """A fixed-rate poller on a link, simulated event by event: (lags, arrivals, leaves), arrivals
    the job times its polls reach the server (predict's schedule; their count the polls), leaves
    the job time each content event's answer leaves the server (burst_waits). t0 = 0; the
    creation request leaves at `handshake` (a fresh connection's RTT, else 0), reaches the server
    after R/2 + up_ms (its serialization up), and the job's clock starts then; its answer is back
    at R. Poll k leaves at slot k·P — never before the previous answer is back: an answer that
    came late moves to the next slot (job_client.cpp) — and sees every job event due by its
    arrival; its answer is back R + down_ms after it left. So while R < P the poll's own round
    trip costs nothing beyond what SSE pays (its request's half is prepaid by the schedule, the
    answer's half SSE pays too): lag = wait for the next poll (P/2 on average) + R + handshake,
    SSE's R + handshake; once R ≥ P the polls can only go every (⌊R/P⌋ + 1)·P."""
    start = handshake + rtt / 2 + up_ms       # the job's clock origin, client time
    back = handshake + rtt + up_ms + down_ms  # the creation answer
    slot, polls, seen_at, arrivals, left_at = 0, 0, {}, [], {}
    ended = False
    while not ended:
        slot += 1
        at = slot * p
        if at < back:
            slot = math.floor(back / p) + 1
            at = slot * p
        polls += 1
        job_now = at + rtt / 2 + up_ms - start
        due = sum(1 for x in job_times_ms if x <= job_now)
        arrivals.append(job_now)
        back = at + rtt + up_ms + down_ms
        ended = job_now > end_ms or polls > 100000
        for i in range(due):
            seen_at.setdefault(i, back)
            left_at.setdefault(i, job_now)
    n = len(job_times_ms)
    if shape == "openai":
        return [back - o for o in offsets_ms], arrivals, [job_now] * len(offsets_ms)
    index = content_index(offsets_ms, job_times_ms)
    return ([seen_at.get(min(i, n - 1), back) - o for i, o in index], arrivals,
            [left_at.get(min(i, n - 1), job_now) for i, _ in index])


def content_index(offsets_ms, job_times_ms):
    """[(job event index, offset)] for each content event: the first job event at its offset
    not taken yet (content events are job events)."""
    out, j = [], 0
    for o in offsets_ms:
        while j < len(job_times_ms) - 1 and job_times_ms[j] < o - 1e-9:
            j += 1
        out.append((j, o))
        j += 1
    return out


def long_poll_link_lags(offsets_ms, job_times_ms, rtt, handshake, up_ms, down_ms, wait_ms):
    """A long poller on a link, simulated: (lags, requests, edges, leaves), edges the job-event
    index each answer with events ends at, from 0 (predict's schedule), leaves the job time each
    content event's answer leaves the server. Each request leaves as soon as the
    previous answer is back and reaches the server R/2 later; the server answers at once with
    every event due since the last answer, or holds it until the next event (or its wait limit,
    an empty answer). So while tokens come slower than one per RTT each answer carries one and
    lag is SSE's; once they come faster, the events of a round trip wait for the next request:
    tokens per answer ≈ max(1, R × token rate) (long_poll_batch), requests per stream fall, and
    lag adds up to 1 RTT (R/2 on average) beyond SSE's."""
    start = handshake + rtt / 2 + up_ms
    back = handshake + rtt + up_ms + down_ms
    delivered, left_at = {}, {}
    nxt, requests, edges = 0, 1, [0]
    n = len(job_times_ms)
    woken = True
    while nxt < n:
        arrive = back + rtt / 2 + up_ms - start  # job time the request reaches the server
        woken = False
        if job_times_ms[nxt] <= arrive:
            answer = arrive
        elif job_times_ms[nxt] - arrive <= wait_ms:
            answer, woken = job_times_ms[nxt], True
        else:
            answer = arrive + wait_ms  # empty: the wait limit passed
        requests += 1
        back = answer + start + rtt / 2 + down_ms
        while nxt < n and job_times_ms[nxt] <= answer:
            delivered[nxt] = back
            left_at[nxt] = answer
            nxt += 1
        if nxt > edges[-1]:
            edges.append(nxt)
    # A held request woken by the last event is answered before the job is marked ended (the
    # stream's end comes a moment after its last event): one more request finds it ended, as on
    # loopback. A request that arrives after the end takes the last events and the ended status
    # at once (link-axis 7c8f309's harness, chat-gpt-4o-mini-text on lte and 3g: 4 and 3).
    if woken:
        requests += 1
    else:
        edges.append(None)  # predict(): no answer after the last
    index = content_index(offsets_ms, job_times_ms)
    return ([delivered.get(i, back) - o for i, o in index], requests, edges,
            [left_at.get(i, 0.0) for i, _ in index])


def long_poll_batch(rtt_ms, tokens_per_s):
    """Tokens per long-poll answer once a round trip is longer than the gap between tokens:
    max(1, R × token rate) (METRICS.md: 'long-poll batches when tokens come faster than a
    round trip')."""
    return max(1.0, rtt_ms / 1000 * tokens_per_s)


def recovery_ms(rtt, gap_ms):
    """The extra delay of a lost data segment (Linux: SACK, RACK-TLP on by default). A later
    segment on the same connection within the timers lets RACK mark the lost one once the later
    one's SACK is back and the lost one was sent more than RTT + reo_wnd (RTT/4) ago: the
    retransmission comes max(gap + R, 1.25·R) after the original would have. With nothing
    behind it (a sparse stream: one segment in flight) the tail loss probe waits 2·SRTT + 200 ms
    (tcp_schedule_loss_probe adds TCP_RTO_MIN when one packet is out), capped by the RTO,
    SRTT + 200 ms (TCP_RTO_MIN; RTTVAR ≈ 0 on an emulated link): so never more than R + 200 ms.
    A lost SYN or SYN-ACK costs the initial RTO, 1 s (RFC 6298), on a fresh connection only.
    Measured, a stream whose segments are a round trip or more apart (one in flight at a time)
    recovers at the RTO, not at RACK's time: chat-gpt-4o-json at speed 0.25 on lossy-1 (gap
    60 ms, R 40), HTTP/1.1's p99 lag 271 ms above the loss-free one. So: the RTO there."""
    if gap_ms >= rtt:
        return rtt + RTO_MIN_MS
    return min(max(gap_ms + rtt, (1 + REO_WND_SHARE) * rtt), rtt + RTO_MIN_MS)


def loss_extra(p, rtt, gap_ms):
    """(mean, p99) extra lag per event on a connection whose data segments are `gap_ms` apart
    and lost with probability p each: a loss delays its own event by D = recovery_ms and every
    event behind it until the retransmission arrives (TCP delivers in order): 1 + D/gap events,
    the later ones by D/2 on average. A share s = p·(1 + D/gap) of events is delayed; the mean
    adds p·D·(1 + D/(2·gap)) (at most D/2 when every event waits); the p99 adds D·(1 − 0.01/s)
    once s > 1 % (delayed events spread evenly on [0, D]), else ≈ 0."""
    if p <= 0 or gap_ms <= 0:
        return 0.0, 0.0
    d = recovery_ms(rtt, gap_ms)
    share = min(1.0, p * (1 + d / gap_ms))
    mean = min(d / 2, p * d * (1 + d / (2 * gap_ms)))
    p99 = d * (1 - P99_SHARE / share) if share > P99_SHARE else 0.0
    return mean, p99


def mathis_mbit(rtt, p):
    """One TCP connection's throughput bound at loss p: MSS / RTT × √(3 / 2p) (Mathis, Semke,
    Mahdavi, Ott, CCR 1997), Mbit/s; unbounded without loss or RTT."""
    if p <= 0 or rtt <= 0:
        return math.inf
    return MSS_BYTES * 8 / rtt / 1000 * math.sqrt(3 / (2 * p))


def head_of_line(link, streams, gap_ms, mbit_per_stream):
    """HTTP/1.1 (a connection per stream) against HTTP/2 (the streams on one connection) at the
    link's loss: {"1.1"|"2": (mean extra ms, p99 extra ms, bound Mbit/s, demand Mbit/s,
    saturated)}. On HTTP/2 a lost segment holds back every stream's bytes behind it on the shared
    connection, whose segments are gap/streams apart: nearly every event waits once
    p·(1 + D/gap_conn) reaches 1, and the one congestion window (Mathis) carries all streams'
    demand; over HTTP/1.1 each stream has its own window and only its own losses."""
    out = {}
    for http, n in (("1.1", 1), ("2", max(1, streams))):
        mean, p99 = loss_extra(link.loss, link.rtt_ms, gap_ms / n)
        bound, demand = mathis_mbit(link.rtt_ms, link.loss), mbit_per_stream * n
        out[http] = (mean, p99, bound, demand, demand > SATURATED * bound)
    return out


def utilisation(concurrency, bytes_per_stream, duration_ms, mbit):
    """Demand over the link's rate in one direction: streams × bytes × 8 over the stream's
    duration (0 when the rate is unknown). Above SATURATED the bottleneck queue grows through the
    stream and lag is bounded below by the backlog, not predicted."""
    if mbit <= 0 or duration_ms <= 0:
        return 0.0
    return concurrency * bytes_per_stream * 8 / (duration_ms * mbit * 1000)


def queue_wait_ms(rho, mbit):
    """Mean wait at the bottleneck for a utilisation rho < 1 (M/D/1: ρ / (2(1 − ρ)) packet
    times of a 1,500-byte packet)."""
    if mbit <= 0 or rho <= 0 or rho >= 1:
        return 0.0
    return rho / (2 * (1 - rho)) * serialization_ms(1500, mbit)


def burst_waits(items, starts, mbit):
    """({(stream k, leave time t): wait ms}, the deepest backlog in packets) at the
    bottleneck of one direction. A closed round's streams replay the same recording, stream k
    from starts[k] (spread over the harness's --stagger-ms, context stagger_ms), so each
    answer's copies reach the link within the stagger: `items` {t: bytes} (a stream's answers
    by the job time they leave the server, or its request at 0 on the way up), served first
    come first served at the link's rate. A fluid model of the measured burst: at 100 streams
    the copies of one SSE event (100 × ~400 B) take 32 ms at 10 Mbit/s, and events 16 ms apart
    pile up — the stream-average demand hides it; 100 requests of 4 KB take 320 ms up."""
    if mbit <= 0:
        return {}, 0.0
    arrivals = sorted((start + t, b, k, t)
                      for k, start in enumerate(starts) for t, b in items.items())
    free, waits, deepest = -math.inf, {}, 0
    queued = collections.deque()  # (finish time, packets) of what is in the queue, FIFO
    held = 0
    for at, b, k, t in arrivals:
        while queued and queued[0][0] <= at:
            held -= queued.popleft()[1]
        start = max(at, free)
        waits[(k, t)] = start - at
        free = start + serialization_ms(b, mbit)
        packets = max(1, math.ceil(b / 1500))
        queued.append((free, packets))
        held += packets
        deepest = max(deepest, held)
    return waits, deepest


INITIAL_CWND = 10  # segments: Linux's initial congestion window (RFC 6928)


def slow_start_waits(items, rtt):
    """{leave time t: wait ms} of a new connection's answers in slow start: by RTT j after its
    first data the window has let 10·(2^(j+1) − 1) segments go (10, then doubling each round
    trip, RFC 5681 / 6928), so a stream sending faster than that at first waits whole round
    trips. Measured: ws (a new connection a stream) on 3g, chat-gpt-4.1-nano-text's p99 lag
    170 ms above its three round trips; a kept connection (sse's, its window grown in the
    warm-up round) does not wait."""
    if rtt <= 0 or not items:
        return {}
    times = sorted(items)
    first, sent, out = times[0], 0, {}
    for t in times:
        sent += max(1, math.ceil(items[t] / MSS_BYTES))
        rounds = max(0, math.ceil(math.log2(sent / INITIAL_CWND + 1)) - 1)
        out[t] = max(0.0, first + rounds * rtt - t)
    return out


POST_BYTES = 700   # a stream's request when the run does not say (headers and JSON body)
GET_BYTES = 120    # a poll's GET when the run does not say


PROFILE_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "link", "src", "profile.cpp")
_PROFILE_ROW = re.compile(r'\{"([\w.-]+)", ([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+),')


def standard_profiles(path=PROFILE_SOURCE):
    """{name: {rtt_ms, down_mbit, up_mbit, loss}} of the emulator's profile table, read from its
    one source (link/src/profile.cpp's rows {"name", down, up, rtt, loss, source}), for
    predictions before a run (--what-if). ResultsError when the file has no such rows."""
    try:
        with open(path, encoding="utf-8") as f:
            rows = _PROFILE_ROW.findall(f.read())
    except OSError as e:
        raise results.ResultsError(f"{path}: {e.strerror}") from None
    if not rows:
        raise results.ResultsError(f"{path}: no profile rows found")
    return {n: {"rtt_ms": float(rtt), "down_mbit": float(d), "up_mbit": float(u),
                "loss": float(loss)} for n, d, u, rtt, loss in rows}


WHAT_IF = [("sse", 0, ""), ("ws", 0, ""), ("rest", 0, ""), ("long-poll", 0, "delta")]


def what_if(links, recording_ids, concurrency=1, http="1.1", intervals=(250,), folder=None):
    """Rows (recording, link, setting, {figure: value}, notes): what the model predicts for each
    transport of WHAT_IF and poll at `intervals` (shape delta) on each standard profile, before
    any run (kept connections, but ws's one a stream, as the harness measures them; the first
    request sized from the recording, a poll's GET as GET_BYTES)."""
    table = standard_profiles()
    context = {"link_profiles": table}
    for name in links:
        link_of(context, name, "--what-if (link/src/profile.cpp): ")
    out = []
    for rid in recording_ids:
        try:
            rec = load_recording(rid, folder)
        except (OSError, ValueError) as e:
            raise results.ResultsError(f"--what-if: {e}") from None
        settings = WHAT_IF + [("poll", p, "delta") for p in intervals]
        for name in links:
            link = link_of(context, name)
            for t, p, shape in settings:
                case = {"transport": t, "interval_ms": p, "shape": shape,
                        "concurrency": concurrency, "http": http,
                        "counters": {"connections_per_stream": 1.0 if t == "ws" else 0.0}}
                if link is None:
                    pred, notes = predict(rec, "sse" if t == "ws" else t, p, shape, 1.0,
                                          concurrency), []
                    if t == "ws":  # its timing only, as on a link
                        pred = {k: v for k, v in pred.items() if k in ("lag_ms_mean",
                                                                       "lag_ms_p99",
                                                                       "ttft_ms_p50")}
                else:
                    pred, notes = predict_on_link(rec, case, link, context,
                                                  request_body_bytes(rid, folder))
                setting = f"{t}/{p}/{shape}" if p else (f"{t}/{shape}" if shape else t)
                out.append((rid, name, setting, {k: v[0] for k, v in pred.items()}, notes))
    return out


H1_REQUEST_OVERHEAD = 200  # request line and headers of the harness's POST (a run: ~230 B)
H2_REQUEST_OVERHEAD = 60   # HPACK-compressed headers and frame headers


def request_body_bytes(recording_id, folder=None):
    """The size of the recording's request body (its `request`, compact JSON), what the first
    request of a stream carries up; None when the recording is not found."""
    for d in [folder, FOLDER]:
        path = os.path.join(d, recording_id + ".jsonl") if d else None
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                head = json.loads(f.readline())
            return nbytes(dumps(head.get("request") or {}))
    return None


def predict_on_link(rec, case, link, context, request_body=None):
    """(prediction, notes) for a case on a link: predict()'s loopback figures with the link's
    segments (MSS), then the round-trip, rate and loss terms above on ttft and lag, and the
    round trips on long-poll's (and a late poll's) requests. notes: why a figure is left out."""
    t, c = case["transport"], case["counters"]
    speed = c.get("speed", 1.0) or 1.0
    conc = case["concurrency"] or 1
    base = predict(rec, "sse" if t == "ws" else t, case["interval_ms"], case["shape"], speed,
                   conc, mss=MSS_BYTES)
    if t == "ws":  # only its timing: ws frames its events itself, requests are turns
        base = {k: v for k, v in base.items() if k in ("lag_ms_mean", "lag_ms_p99", "ttft_ms_p50")}
    if not base:
        return {}, []
    notes = []
    r = link.rtt_ms
    share = fresh_share(c)
    fresh = share >= 0.5
    handshake = r if fresh else 0.0
    s = speed if speed > 0 else 1.0
    offsets = [e["t_us"] / s / 1000 for e in rec.content]
    job_times = [e["t_us"] / s / 1000 for e in rec.job_events]
    end_ms = rec.end_us / s / 1000
    tokens = max(rec.tokens, 1)
    requests = base["requests_per_stream"][0] if "requests_per_stream" in base else 1.0
    wire_in = base.get("wire_bytes_in_per_token", (0.0, 0.0))[0] * tokens
    # The first request carries the prompt (the recording's request body, with HTTP/1.1's
    # headers or HTTP/2's compressed ones); a poll's GET is small. HTTP/1.1's own bytes out when
    # the run has them (HTTP/2's counter leaves its DATA frames out).
    h2 = str(case["http"]) == "2"
    body = request_body if request_body is not None else POST_BYTES - 200
    post_bytes = body + (H2_REQUEST_OVERHEAD if h2 else H1_REQUEST_OVERHEAD)
    out_req = c.get("http_bytes_out_per_stream")
    if out_req and not h2 and t in ("sse", "rest", "ws"):
        post_bytes = out_req / max(c.get("requests_per_stream", 1.0), 1.0)
    req_bytes = post_bytes if t in ("sse", "rest", "ws") else GET_BYTES
    answers = max(requests - 1, 1) if t in ("poll", "long-poll") else max(len(rec.events), 1)
    if t == "rest":
        answers = 1
    up_ms = serialization_ms(req_bytes + 52, link.up_mbit)
    down_ms = serialization_ms(wire_in / answers, link.down_mbit) if wire_in else 0.0
    rho_up = utilisation(conc, requests * (req_bytes + 52) + 52 * answers / 2, end_ms,
                         link.up_mbit)
    pred = dict(base)
    p = float(case["interval_ms"] or 0)
    leaves = list(offsets)  # the job time each content event's answer leaves the server
    items = {}              # a stream's answers: {job time: wire bytes}
    if t in ("sse", "ws"):
        lag = r + (first_token_rtts(t, True) - 1 if fresh else 0.0) * r + up_ms + down_ms
        lags = [lag] * len(offsets)
        for e in rec.events:
            n = len(e["bytes"].encode()) + 8
            at = e["t_us"] / s / 1000
            items[at] = items.get(at, 0) + n + 52 * math.ceil(n / MSS_BYTES)
    elif t == "rest":
        body_at = (rec.nonstream["offset_us"] if rec.nonstream else rec.end_us) / s / 1000
        lags = [body_at + handshake + r + up_ms + down_ms - o for o in offsets]
        leaves = [body_at] * len(offsets)
    elif t == "poll":
        lags, arrivals, leaves = poll_link_lags(offsets, job_times, end_ms, p, r, handshake,
                                                up_ms, down_ms, case["shape"] or "events")
        # the bytes and requests of the polls the link lets through (fewer once R ≥ P)
        pred.update(predict(rec, t, p, case["shape"], speed, conc, MSS_BYTES, arrivals))
    elif t == "long-poll":
        wait_limit = float(context.get("long_poll_wait_ms") or 10000)
        lags, reqs, edges, leaves = long_poll_link_lags(offsets, job_times, r, handshake, up_ms,
                                                        down_ms, wait_limit)
        pred.update(predict(rec, t, p, case["shape"], speed, conc, MSS_BYTES, edges))
        pred["requests_per_stream"] = (float(reqs), 0.35 * reqs)
    if not items:
        for at in leaves:
            items[at] = wire_in / answers
    # The streams' copies of each answer at the bottleneck (burst_waits); a lag per stream and
    # content event.
    # The requests go first, up: a stream whose request waits starts its schedule that late.
    stagger = float(context.get("stagger_ms") or 20) if conc > 1 else 0.0
    starts = [k * stagger / conc for k in range(conc)]
    up_waits, _ = burst_waits({0.0: post_bytes + 52 * math.ceil(post_bytes / MSS_BYTES)},
                              starts, link.up_mbit)
    late = [up_waits.get((k, 0.0), 0.0) for k in range(conc)]
    waits, deepest = burst_waits(items, [a + b for a, b in zip(starts, late)], link.down_mbit)
    # slow start: half the per-round-trip rule's wait, the band the other half (below)
    slow = ({x: w / 2 for x, w in slow_start_waits(items, r).items()}
            if fresh and t in ("sse", "ws") else {})
    per_stream = [[lags[i] + late[k] + waits.get((k, leaves[i]), 0.0) + slow.get(leaves[i], 0.0)
                   for i in range(len(lags))] for k in range(conc)]
    every = sorted(x for row in per_stream for x in row)
    queue_mean = (sum(every) - conc * sum(lags)) / max(len(every), 1)
    if every:
        mean = sum(every) / len(every)
        if t in ("sse", "ws"):
            mean += share * (first_token_rtts(t, True) - 1) * r - (lags[0] - r - up_ms - down_ms)
        pred["lag_ms_mean"] = (mean, base["lag_ms_mean"][1])
        p99 = percentile(every, 0.99)
        if t in ("sse", "ws") and not fresh and share > P99_SHARE:
            p99 += (first_token_rtts(t, True) - 1) * r  # over 1 % of the streams shake hands
        pred["lag_ms_p99"] = (p99, base["lag_ms_p99"][1])
        firsts = sorted(offsets[0] + row[0] for row in per_stream)
        pred["ttft_ms_p50"] = (percentile(firsts, 0.5), base["ttft_ms_p50"][1])
    # The link's own error: the emulator's release lateness is < 0.1 ms (link/README.md); a
    # share of R for the harness's and server's timers against the schedule; a quarter of the
    # burst queue's wait, a fluid model of it (the p99's: its own p99 wait).
    queue_p99 = percentile(sorted(waits.values()), 0.99) if waits else 0.0
    # Slow start per round trip is coarse (ACKs clock the window up within a round trip): its
    # rule's wait as a range, 0 … all of it (measured p99s: 170 of the rule's 245 ms on 3g, 462
    # of 1,027 on geo-satellite, chat-gpt-4.1-nano-text over ws).
    slow_mean = sum(slow.get(x, 0.0) for x in leaves) / max(len(leaves), 1)
    slow_p99 = percentile(sorted(slow.get(x, 0.0) for x in leaves), 0.99) if slow else 0.0
    link_band = 1.0 + 0.05 * r + down_ms
    for k, extra in (("lag_ms_mean", 0.25 * queue_mean + slow_mean),
                     ("lag_ms_p99", 0.25 * queue_p99 + slow_p99),
                     ("ttft_ms_p50", 0.25 * queue_p99)):
        if k in pred:
            pred[k] = (pred[k][0], pred[k][1] + link_band + extra)
    if not fresh and t in ("sse", "ws") and r > 0:
        # A kept connection idle longer than its RTO (between rounds) starts again from the
        # initial window (RFC 5681 §4.1; Linux net.ipv4.tcp_slow_start_after_idle = 1): whether
        # it idled that long depends on the harness's pause between rounds, so it is a band, 0
        # to the whole per-round-trip rule's wait. Measured: SSE on geo-satellite, one stream of
        # chat-gpt-4o-json, p99 602 ms in one run and 1,494 in the next (10 segments a round
        # trip carry 17 events/s, the stream sends 65).
        idle = slow_start_waits(items, r)
        idle_mean = sum(idle.get(x, 0.0) for x in leaves) / max(len(leaves), 1)
        idle_p99 = percentile(sorted(idle.get(x, 0.0) for x in leaves), 0.99) if idle else 0.0
        for k, extra in (("lag_ms_mean", idle_mean), ("lag_ms_p99", idle_p99)):
            if k in pred:
                pred[k] = (pred[k][0], pred[k][1] + extra)
    if t == "long-poll" and "lag_ms_p99" in pred:
        # which event a round trip catches depends on where the round trip starts: up to 1 RTT
        pred["lag_ms_p99"] = (pred["lag_ms_p99"][0], pred["lag_ms_p99"][1] + 0.5 * r)
        pred["lag_ms_mean"] = (pred["lag_ms_mean"][0], pred["lag_ms_mean"][1] + 0.25 * r)
    if link.loss > 0:
        # The gap between a stream's data segments over the span they are sent in; the RTT TCP
        # measures, and so its recovery, includes the queue's wait.
        times = sorted(items)
        span = times[-1] - times[0] if len(times) > 1 else end_ms
        gap = span / max(len(times) - 1, 1)
        p_eff = link.loss * (1 if t in ("sse", "ws", "rest") else 2)  # a poll's request too
        mbit = wire_in * 8 / (end_ms * 1000) if end_ms > 0 else 0.0
        r_tcp = r + queue_mean
        hol = head_of_line(Link(link.name, {"rtt_ms": r_tcp, "loss": p_eff}), conc, gap, mbit)
        # (head_of_line's Mathis bound is left out: at 100 streams on lossy-1 and lossy-3 it
        # said HTTP/2's one window could not carry the streams, and its lag stayed near
        # HTTP/1.1's: a short, bursty transfer never reaches the steady state the bound is for.)
        mean_x, p99_x = hol["2" if h2 else "1.1"][:2]
        for k, extra, widen in (("lag_ms_mean", mean_x, mean_x),
                                ("lag_ms_p99", p99_x,
                                 0.5 * recovery_ms(r_tcp, gap / (conc if h2 else 1)))):
            if h2 and conc > 1:
                # An upper bound, not an estimate: the streams' data behind a loss also waits in
                # the queue, so the two waits overlap; measured at 100 streams on lossy-1 and
                # lossy-3, HTTP/2's lag stayed near HTTP/1.1's. The band spans 0 … the term.
                extra, widen = extra / 2, widen + extra / 2
            if k in pred:
                pred[k] = (pred[k][0] + extra, pred[k][1] + widen)
        # A lost prompt (its segments, up) starts the stream an RTO late, every event with it:
        # measured, one chat-gpt-4o-json stream on lossy-1 came 247 ms late throughout. Its
        # share p_req of the streams adds p_req·RTO to the mean; a few streams see it all or not
        # at all, so the bands take the binomial spread of how many do (3σ + one stream), and a
        # p99 may also see no loss at all. Not added to the p99 itself: on a loaded link a late
        # stream finds the queue drained (measured at 100 streams, lossy-3: no RTO in the p99).
        rto = r_tcp + RTO_MIN_MS
        p_req = 1 - (1 - link.loss) ** max(1, math.ceil(post_bytes / MSS_BYTES))
        hit = min(1.0, (conc * p_req + 3 * math.sqrt(conc * p_req) + 1) / conc)
        for k, extra, widen in (("lag_ms_mean", p_req * rto, hit * rto),
                                ("lag_ms_p99", 0.0, hit * rto + p99_x),
                                ("ttft_ms_p50", rto if p_req > 0.5 else 0.0,
                                 hit * rto + recovery_ms(r_tcp, gap))):
            if k in pred:
                pred[k] = (pred[k][0] + extra, pred[k][1] + widen)
        # A lost SYN or SYN-ACK holds a fresh connection for the initial RTO, 1 s (RFC 6298
        # §2.1, Linux TCP_TIMEOUT_INIT), and a lost ws Upgrade request or answer for R + 200 ms:
        # the whole stream shifts with it. Measured: ws (a connection per turn) on lossy-1, 3
        # streams, one came 1 s late throughout: lag mean 459 ms against 124 without it, that
        # is 1 s / 3. Same binomial spread as the lost prompt.
        if share > 0:
            p_syn = share * (1 - (1 - link.loss) ** 2)
            p_upg = share * (1 - (1 - link.loss) ** 2) if t == "ws" else 0.0
            hs_mean = p_syn * INITIAL_RTO_MS + p_upg * rto
            hs_hit = min(1.0, (conc * (p_syn + p_upg) + 3 * math.sqrt(conc * (p_syn + p_upg))
                               + 1) / conc)
            hs_worst = hs_hit * INITIAL_RTO_MS
            for k, extra, widen in (("lag_ms_mean", hs_mean, hs_worst),
                                    ("lag_ms_p99", 0.0, hs_worst),
                                    ("ttft_ms_p50", 0.0, hs_worst)):
                if k in pred:
                    pred[k] = (pred[k][0] + extra, pred[k][1] + widen)
        for k in [k for k in pred if "bytes" in k]:
            pred[k] = (pred[k][0], pred[k][1] + 2 * link.loss * pred[k][0])  # retransmissions
        if t in ("poll", "long-poll"):
            # a lost request holds its poll an RTO, and the slots it spans are skipped: fewer
            # answers (measured: 8 % fewer header bytes in one 1 % stream, 28 % in a long poll)
            for k in [k for k in pred if k == "requests_per_stream" or "bytes" in k]:
                pred[k] = (pred[k][0], pred[k][1] + 2 * math.sqrt(p_eff) * pred[k][0])
    queue = float(link.queue_packets or 1000)
    if h2 and conc > 1 and link.rate_known:
        # Not followed: the streams' one connection (its flow control and window) — measured
        # without loss at 100 streams of chat-gpt-4o-json at speed 0.25, HTTP/2's mean lag was
        # 105.6 ms against HTTP/1.1's 49.5 (with 4o-mini at speed 1, 122 against 158 ms p50).
        notes.append("lag not predicted: HTTP/2's streams share one connection whose flow "
                     "control and window the terms do not follow (measured apart from "
                     "HTTP/1.1's either way without loss)")
        for k in ("lag_ms_mean", "lag_ms_p99", "ttft_ms_p50"):
            pred.pop(k, None)
    if not link.rate_known:
        notes.append("rate unknown (a trace): only its round trip is modelled, lag and first "
                     "token not checked" + (", nor a poll's requests and bytes (an answer held "
                                            "in a gap skips the polls due meanwhile)"
                                            if t in ("poll", "long-poll") else ""))
        for k in ("lag_ms_mean", "lag_ms_p99", "ttft_ms_p50"):
            pred.pop(k, None)
        if t in ("poll", "long-poll"):
            # Measured on Verizon-LTE-short (rtt=40): a 50 ms poll made 45.7 requests a stream
            # where a 40 ms link makes 57; how many depends on where the trace's gaps fall.
            for k in [k for k in pred if k == "requests_per_stream" or "bytes" in k]:
                pred.pop(k, None)
    elif deepest > queue or rho_up > SATURATED:
        notes.append(f"lag not predicted: the bottleneck queue overflows (backlog "
                     f"{deepest:.0f} packets of {queue:.0f} down, up {rho_up:.0%} of its rate): "
                     f"drops and retransmissions the model does not follow, and a sender held "
                     f"back by its window packs several events a segment (wire bytes neither)")
        for k in ("lag_ms_mean", "lag_ms_p99", "ttft_ms_p50", "wire_bytes_in_per_token"):
            pred.pop(k, None)
    return pred, notes


# The transports predict() models (bytes over HTTP/1.1 only; no connection cap).
MODELLED = ("sse", "rest", "poll", "long-poll")


def predictions_for(context, cases, notes=None):
    """{case name: {figure: (value, band)}} for every case whose recording can be found. A case
    on a link (field `link` other than `none`) gets predict_on_link's terms; notes, a dict when
    given, gets {case name: [why a figure is not predicted]}. ResultsError when a case names a
    link the run's context does not describe."""
    folder = context.get("recordings")
    cache = {}
    out = {}
    for c in cases:
        link = link_of(context, c["link"], f"{c['name']}: ")
        if link is not None:
            if c["transport"] not in MODELLED + ("ws",) or c["host_conns"] or c["max_concurrency"]:
                continue
            rid = c["recording"]
            if rid not in cache:
                try:
                    cache[rid] = load_recording(rid, folder)
                except (OSError, ValueError):
                    cache[rid] = None
            if cache[rid] is None:
                continue
            pred, why = predict_on_link(cache[rid], c, link, context,
                                        request_body_bytes(rid, folder))
            if str(c["http"]) != "1.1":
                pred = {k: v for k, v in pred.items() if "bytes" not in k}
            out[c["run_name"]] = pred
            if notes is not None and why:
                notes[c["name"]] = why
            continue
        if c["transport"] not in MODELLED or c["host_conns"] or c["max_concurrency"]:
            continue  # WebSocket, a connection cap's or concurrency cap's queue: no model yet
        # `none` in a run with the emulator crosses its TUN devices unshaped: a 1,500-byte MTU
        mss = MSS_BYTES if context.get("link_emulator") else None
        rid = c["recording"]
        if rid not in cache:
            try:
                cache[rid] = load_recording(rid, folder)
            except (OSError, ValueError):
                cache[rid] = None
        if cache[rid] is None:
            continue
        speed = c["counters"].get("speed", 1.0)
        pred = predict(cache[rid], c["transport"], c["interval_ms"], c["shape"], speed,
                       c["concurrency"] or 0, mss)
        if str(c["http"]) != "1.1":
            # The byte model is HTTP/1.1's (text headers, chunk framing); timing and requests hold.
            pred = {k: v for k, v in pred.items() if "bytes" not in k}
        out[c["run_name"]] = pred
    return out


def write(path):
    """Adds predicted_* fields to every entry of the benchmark.json (repetitions, aggregates)."""
    context, cases = results.load(path)
    path, data = results.read_json(path)
    preds = predictions_for(context, cases)
    for b in data.get("benchmarks", []):
        for figure, (value, band) in preds.get(b.get("run_name") or b["name"], {}).items():
            b["predicted_" + figure] = value
            b["predicted_" + figure + "_band"] = band
    data.setdefault("context", {})["model_note"] = (
        "predicted_<figure> from scripts/model.py (the recording and the case's settings alone); "
        "predicted_<figure>_band: the half-width a measurement should fall within")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return len(preds)


def check(path, wanted=None, transports=None, notes=None):
    """Rows (case, figure, predicted, band, measured, inside) and whether all are inside; notes
    (a dict) as predictions_for fills it."""
    context, cases = results.load(path)
    preds = predictions_for(context, cases, notes)
    rows = []
    for c in cases:
        if c["error"] or (transports and results.label(c) not in transports):
            continue
        for figure in wanted or FIGURES:
            if figure not in preds.get(c["run_name"], {}) or figure not in c["counters"]:
                continue
            value, band = preds[c["run_name"]][figure]
            measured = c["counters"][figure]
            rows.append((c["name"], figure, value, band, measured,
                         abs(measured - value) <= band))
    return rows, all(r[5] for r in rows)
