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

import copy
import json
import math
import os

from . import figures, results
from .recordings import Recording, load_recording

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


def predict(rec, transport, interval_ms=0, shape="", speed=1.0, concurrency=1):
    """{figure: (value, band half-width)} for one case."""
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
        segments = 1 + len(rec.events) + 1 + 1  # headers, one per event, the last chunk, an ACK
        lag_band = (busy_ms, 2 * busy_ms)
    elif transport == "rest":
        body = rec.nonstream["body"].encode() if rec.nonstream else b""
        at = us(rec.nonstream["offset_us"]) / 1000 if rec.nonstream else end_ms
        lags = [at - o for o in offsets_ms]
        headers = header_bytes(rec.nonstream.get("headers") or JSON_HEADERS, len(body))
        bodies = len(body)
        segments = 2
        lag_band = (3 * busy_ms, 3 * busy_ms)  # every body at once: the thread reads them in turn
    elif transport == "poll":
        polls = max(1, math.ceil(end_ms / p - 1e-9)) if p > 0 else 1
        if end_ms > 0 and polls * p <= end_ms:
            polls += 1  # the job ends only once its last event's time has passed
        requests = 1 + polls
        h, body = job_answer(b.pending)  # the creation's answer: the queued object
        headers, bodies, segments = h, body, 1
        seen = 0
        for k in range(1, polls + 1):
            due = due_at(k * p)
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
            segments += 1
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
        requests = 1 + (len(edges) - 1) + 1
        lags = [0.0] * len(offsets_ms)
        h, body = job_answer(b.pending)
        headers, bodies, segments = h, body, 1
        body_of = b.delta if shape == "delta" else b.events
        for first, due in list(zip(edges, edges[1:])) + [(len(job_times), len(job_times))]:
            body = body_of(first, due)
            h, _ = job_answer(body)
            headers += h
            bodies += body
            segments += 2  # the answer and, for a held one, the ACK of its request
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


# The transports predict() models (bytes over HTTP/1.1 only; no connection cap).
MODELLED = ("sse", "rest", "poll", "long-poll")


def predictions_for(context, cases):
    """{case name: {figure: (value, band)}} for every case whose recording can be found."""
    folder = context.get("recordings")
    cache = {}
    out = {}
    for c in cases:
        if c["transport"] not in MODELLED or c["host_conns"] or c["max_concurrency"]:
            continue  # WebSocket, a connection cap's or concurrency cap's queue: no model yet
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
                       c["concurrency"] or 0)
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


def check(path, wanted=None, transports=None):
    """Rows (case, figure, predicted, band, measured, inside) and whether all are inside."""
    context, cases = results.load(path)
    preds = predictions_for(context, cases)
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
