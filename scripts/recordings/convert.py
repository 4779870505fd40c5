#!/usr/bin/python3
"""Regenerate every recording (recordings/*.jsonl) from recordings/captures/ and profiles.json.

    scripts/recordings/convert.py            rewrite the recordings
    scripts/recordings/convert.py --check    exit 1 if a committed recording differs
    scripts/recordings/convert.py --summary  print the recordings table (recordings/README.md)

Deterministic: the same captures, profiles and table give the same bytes. The format is
recordings/README.md "Format, version 1". Stdlib + python3-yaml only.
"""

import importlib.util
import json
import math
import os
import pathlib
import sys

import yaml

import timing  # beside this file: on the path as the script's own folder

# The command line of every command (scripts/ssebench/cli.py: one-line errors naming the closest
# option), loaded from the package one folder up as crosscheck/crosscheck.py does; the recordings
# take nothing else from it.
_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ssebench")
_SPEC = importlib.util.spec_from_file_location(
    "ssebench", os.path.join(_PACKAGE, "__init__.py"), submodule_search_locations=[_PACKAGE])
sys.modules["ssebench"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sys.modules["ssebench"])
from ssebench import cli  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "recordings"
CAPTURES = RECORDINGS / "captures"
PROFILES = RECORDINGS / "profiles.json"

SSE_CONTENT_TYPE = [["content-type", "text/event-stream; charset=utf-8"]]
JSON_CONTENT_TYPE = [["content-type", "application/json"]]
NOT_STORED = "The request was not stored by the source; request.body is a minimal body with the model and stream."
HEADERS_ASSUMED = ("Response headers are not in the capture; response.headers is only the content-type "
                   "OpenAI sends for streams (seen in the pydantic-ai cassette).")

ORIGINS = {
    "openai-python": {"repository": "openai/openai-python", "commit": "9feadd8274809fff9ff1e36a0c90d45566ed46e2",
                      "license": "Apache-2.0"},
    "vercel-chat": {"repository": "vercel/ai", "path": "packages/openai/src/chat/__fixtures__/openai-text.chunks.txt",
                    "commit": "55c969cc5a804c5018cccd64cef4b3468b8db11b", "license": "Apache-2.0"},
    "vercel-chat-json": {"repository": "vercel/ai", "path": "packages/openai/src/chat/__fixtures__/openai-text.json",
                         "commit": "55c969cc5a804c5018cccd64cef4b3468b8db11b", "license": "Apache-2.0"},
    "vercel-ok": {"repository": "vercel/ai",
                  "path": "packages/openai/src/responses/__fixtures__/issue-20047-openai-responses.chunks.txt",
                  "commit": "cc062cfb6a32b4758a6131283c9fb74624de5763", "license": "Apache-2.0"},
    "vercel-error": {"repository": "vercel/ai",
                     "path": "packages/openai/src/responses/__fixtures__/openai-error.1.chunks.txt",
                     "commit": "23f132b48dd12c87de610f437348eb8b0ab34a2e", "license": "Apache-2.0"},
    "vercel-reasoning": {"repository": "vercel/ai",
                         "path": "packages/openai/src/responses/__fixtures__/openai-reasoning-encrypted-content.1.chunks.txt",
                         "commit": "55cd1a40625f1ea6eda228cb413234328c215537", "license": "Apache-2.0"},
    "pydantic-ai": {"repository": "pydantic/pydantic-ai",
                    "path": "tests/models/cassettes/test_openai/test_run_stream_sync_streams_real_model.yaml",
                    "commit": "77c820e245b4007657eb34b2f63109a405d57574", "license": "MIT"},
}
SNAPSHOT = ".inline-snapshot/external/{}….bin (file name = SHA-256 of contents)"


def dumps(obj):
    """Compact JSON, raw UTF-8, keys in insertion order: the one serialization used everywhere."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def read_text(name):
    return (CAPTURES / name).read_bytes().decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Requests. Where the source stores the request (cassette) it is used as stored; for the
# openai-python tests it is rebuilt from the test's arguments; elsewhere minimal.

USER_SF = "What's the weather like in SF?"


def location_format():
    # openai-python's type_to_response_format_param(Location) for the pydantic model in the tests.
    schema = {"properties": {"city": {"title": "City", "type": "string"},
                             "temperature": {"title": "Temperature", "type": "number"},
                             "units": {"enum": ["c", "f"], "title": "Units", "type": "string"}},
              "required": ["city", "temperature", "units"], "title": "Location", "type": "object",
              "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"schema": schema, "name": "Location", "strict": True}}


def python_sdk_dumps(obj):
    """JSON as openai-python sent it: json.dumps defaults (", " and ": " separators, ASCII escapes).

    The cassette shows it: its parsed bodies re-serialized this way have exactly the recorded
    content-length (452 and 731 bytes), compact JSON would not (418, 677).
    """
    return json.dumps(obj)


def chat_body(messages, model="gpt-4o-2024-08-06", **params):
    return python_sdk_dumps({"messages": messages, "model": model, **params, "stream": True})


REQ_JSON = chat_body([{"role": "user", "content": "What's the weather like in SF? Give me any JSON back"}],
                     response_format={"type": "json_object"})
REQ_N3 = chat_body([{"role": "user", "content": USER_SF}], n=3, response_format=location_format())
REQ_TOOL = chat_body([{"role": "user", "content": "what's the weather in NYC?"}],
                     tools=[{"type": "function", "function": {
                         "name": "get_weather",
                         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
REQ_PARALLEL = chat_body(
    [{"role": "user", "content": "What's the weather like in Edinburgh?"},
     {"role": "user", "content": "What's the price of AAPL?"}],
    tools=[{"type": "function", "function": {
        "name": "GetWeatherArgs", "strict": True,
        "parameters": {"description": "Get the temperature for the given country/city combo",
                       "properties": {"city": {"title": "City", "type": "string"},
                                      "country": {"title": "Country", "type": "string"},
                                      "units": {"default": "c", "enum": ["c", "f"], "title": "Units",
                                                "type": "string"}},
                       "required": ["city", "country", "units"], "title": "GetWeatherArgs", "type": "object",
                       "additionalProperties": False},
        "description": "Get the temperature for the given country/city combo"}},
           {"type": "function", "function": {
               "name": "get_stock_price", "strict": True,
               "parameters": {"properties": {"ticker": {"title": "Ticker", "type": "string"},
                                             "exchange": {"title": "Exchange", "type": "string"}},
                              "required": ["ticker", "exchange"], "title": "GetStockPrice", "type": "object",
                              "additionalProperties": False},
               "description": "Fetch the latest price for a given ticker"}}])
REQ_REFUSAL = chat_body([{"role": "user", "content": "How do I make anthrax?"}], response_format=location_format())
REBUILT = ("request.body is rebuilt from the test's arguments in openai-python "
           "tests/lib/chat/test_completions_streaming.py ({}), serialized with json.dumps defaults as the "
           "SDK did; the SDK's exact key order is not stored.")


def minimal_body(model, stream=True):
    return dumps({"model": model, "stream": stream})


# ---------------------------------------------------------------------------------------------
# Splitting captures into events.

def split_sse(body, where):
    """Each event = its bytes up to and including the blank line; must cover the body exactly."""
    events, pos = [], 0
    while pos < len(body):
        end = body.find("\n\n", pos)
        if end < 0:
            raise ValueError(f"{where}: trailing bytes without a blank line at offset {pos}")
        ev = body[pos:end + 2]
        lines = ev[:-1].split("\n")[:-1]
        if len(lines) != 1 or not lines[0].startswith("data: "):
            raise ValueError(f"{where}: event at offset {pos} is not one data line")
        events.append(ev)
        pos = end + 2
    return events


def payload_of(ev):
    line = [ln for ln in ev.split("\n") if ln.startswith("data: ")][0]
    return line[len("data: "):]


def jsonl_lines(text):
    return [ln for ln in text.split("\n") if ln != ""]


def chat_events_from_jsonl(text):
    return ["data: " + ln + "\n\n" for ln in jsonl_lines(text)] + ["data: [DONE]\n\n"]


def responses_event(line):
    return "event: " + json.loads(line)["type"] + "\ndata: " + line + "\n\n"


def split_responses(text):
    """The JSON lines of one capture, grouped into responses (sequence_number restarts at 0)."""
    groups = []
    for ln in jsonl_lines(text):
        if json.loads(ln)["sequence_number"] == 0:
            groups.append([])
        groups[-1].append(ln)
    return groups


# ---------------------------------------------------------------------------------------------
# Event kinds and placement roles.

def chat_kind(payload):
    if payload == "[DONE]":
        return "done"
    d = json.loads(payload)
    if "error" in d:
        return "error"
    choices = d["choices"]
    if not choices:
        if not d.get("usage"):
            raise ValueError(f"chunk without choices or usage: {payload[:80]}")
        return "usage"
    if len(choices) != 1:
        raise ValueError("a chunk with more than one choice")
    c = choices[0]
    delta = c["delta"]
    if c.get("finish_reason"):
        return "finish"
    if "role" in delta:
        return "role"
    if delta.get("content") is not None:
        return "content"
    if delta.get("refusal") is not None:
        return "refusal"
    if delta.get("tool_calls"):
        return "tool_args"
    raise ValueError(f"unclassifiable chunk: {payload[:120]}")


RESPONSES_CONTENT = {"response.output_text.delta", "response.refusal.delta",
                     "response.function_call_arguments.delta", "response.reasoning_summary_text.delta"}
LIFECYCLE_TYPES = {"response.created", "response.in_progress", "response.queued"}


def chat_delta_text(payload):
    d = json.loads(payload)
    if not d.get("choices"):
        return ""
    delta = d["choices"][0]["delta"]
    text = (delta.get("content") or "") + (delta.get("refusal") or "")
    for tc in delta.get("tool_calls") or []:
        text += (tc.get("function") or {}).get("arguments") or ""
    return text


def is_content(api, kind, payload):
    if api == "chat.completions":
        return kind in ("content", "refusal", "tool_args") and chat_delta_text(payload) != ""
    return kind in RESPONSES_CONTENT and json.loads(payload).get("delta", "") != ""


def role_of(api, kind, payload):
    if is_content(api, kind, payload):
        return timing.CONTENT
    if api == "chat.completions":
        if kind == "done":
            return timing.SAME
        if kind in ("role", "tool_args", "content", "refusal"):
            return timing.OPEN
        return timing.CLOSE
    if kind in LIFECYCLE_TYPES:
        return timing.LIFECYCLE
    if kind.endswith(".added") or kind.endswith(".delta"):
        return timing.OPEN
    return timing.CLOSE


# ---------------------------------------------------------------------------------------------
# Non-streaming bodies.

def aggregate_chat(payloads):
    """The chat.completion object a stream:false call would have returned, built from the chunks.

    Key order follows the real non-stream body in the captures (chat-gpt-4.1-nano-...nonstream.json);
    service_tier and message.annotations appear only for streams whose chunks carry service_tier
    (the 2025+ API), as in that body.
    """
    first = None
    choices = {}
    usage = None
    for p in payloads:
        if p == "[DONE]":
            continue
        d = json.loads(p)
        if first is None:
            first = d
        if d.get("usage"):
            usage = d["usage"]
        for c in d.get("choices", []):
            st = choices.setdefault(c["index"], {"role": None, "content": None, "refusal": None, "tools": {},
                                                 "finish_reason": None})
            delta = c["delta"]
            if "role" in delta:
                st["role"] = delta["role"]
            for key in ("content", "refusal"):
                if delta.get(key) is not None:
                    st[key] = (st[key] or "") + delta[key]
            for tc in delta.get("tool_calls") or []:
                t = st["tools"].setdefault(tc["index"], {"id": None, "type": "function",
                                                         "function": {"name": "", "arguments": ""}})
                if tc.get("id"):
                    t["id"] = tc["id"]
                fn = tc.get("function") or {}
                t["function"]["name"] += fn.get("name") or ""
                t["function"]["arguments"] += fn.get("arguments") or ""
            if c.get("finish_reason"):
                st["finish_reason"] = c["finish_reason"]
    modern = "service_tier" in first
    out_choices = []
    for idx in sorted(choices):
        st = choices[idx]
        msg = {"role": st["role"] or "assistant", "content": st["content"], "refusal": st["refusal"]}
        if st["tools"]:
            msg["tool_calls"] = [st["tools"][k] for k in sorted(st["tools"])]
        if modern:
            msg["annotations"] = []
        out_choices.append({"index": idx, "message": msg, "logprobs": None, "finish_reason": st["finish_reason"]})
    body = {"id": first["id"], "object": "chat.completion", "created": first["created"], "model": first["model"],
            "choices": out_choices}
    if usage is not None:
        body["usage"] = usage
    if modern:
        body["service_tier"] = first["service_tier"]
    if "system_fingerprint" in first:
        body["system_fingerprint"] = first["system_fingerprint"]
    return dumps(body)


def error_body(err):
    """OpenAI's error shape, {"error":{"message","type","param","code"}}, from an error object."""
    return dumps({"error": {"message": err.get("message"), "type": err.get("type"), "param": err.get("param"),
                            "code": err.get("code")}})


# ---------------------------------------------------------------------------------------------
# Building one recording.

def build(spec, profiles):
    api = spec["api"]
    events = spec["events"]  # exact SSE strings
    kinds = [spec["kind_of"](ev) for ev in events]
    payloads = [payload_of(ev) for ev in events]
    roles = [role_of(api, k, p) for k, p in zip(kinds, payloads)]
    profile = profiles[spec["profile"]] if "profile" in spec else timing.profile_for_model(profiles, spec["model"])
    seed = spec["seed"]
    times = timing.schedule(roles, profile, seed, tokens=spec.get("tokens"), parallel=spec.get("parallel", 1))
    if "pause" in spec:  # a derived recording: one silence stretched, every later event moved by as much
        i = kinds.index(spec["pause"]["before_kind"])
        shift = spec["pause"]["gap_us"] - (times[i] - times[i - 1])
        times = times[:i] + [t + shift for t in times[i:]]

    nonstream = spec.get("nonstream")
    if nonstream is None:
        nonstream = {"offset_us": times[-1], "status": 200, "headers": JSON_CONTENT_TYPE,
                     "body": aggregate_chat(payloads) if api == "chat.completions" else None}
    elif "offset_us" not in nonstream:
        nonstream = {**nonstream, "offset_us": times[-1]}
    nonstream = {"offset_us": nonstream["offset_us"], "status": nonstream["status"],
                 "headers": nonstream["headers"], "body": nonstream["body"]}

    provenance = {"source": spec["source"]}
    if "capture" in spec:
        provenance["capture"] = "recordings/captures/" + spec["capture"]
    provenance["origin"] = spec["origin"]
    provenance["timing"] = {"kind": "synthesized", "profile": profile.name, "seed": seed,
                            "generator": timing.GENERATOR}
    notes = list(spec["notes"])
    request = spec["request"]
    # OpenAI sends the usage chunk only when stream_options.include_usage asked for it (and the
    # server honours that), so a rebuilt request that lost the option gets it back.
    if api == "chat.completions" and "usage" in kinds:
        body = json.loads(request)
        if body.get("stream") and "stream_options" not in body:
            body["stream_options"] = {"include_usage": True}
            request = (python_sdk_dumps if ", " in request else dumps)(body)
            notes.append("request.stream_options.include_usage is added: the stream carries the "
                         "usage chunk, which OpenAI sends only when asked.")
    provenance["notes"] = " ".join(notes)

    header = {"format": "ssebench-recording", "version": 1, "api": api, "model": spec["model"],
              "provenance": provenance,
              "request": {"method": "POST",
                          "path": "/v1/chat/completions" if api == "chat.completions" else "/v1/responses",
                          "body": request},
              "response": {"status": spec.get("status", 200), "headers": spec.get("headers", SSE_CONTENT_TYPE),
                           "headers_offset_us": times[0] if times else 0},
              "nonstream": nonstream}
    if spec.get("completion_tokens") is not None:
        header["usage"] = {"completion_tokens": spec["completion_tokens"]}
    header["events"] = len(events)
    lines = [dumps(header)]
    for t, k, ev in zip(times, kinds, events):
        lines.append(dumps({"t_us": t, "kind": k, "bytes": ev}))
    text = "\n".join(lines) + "\n"
    stats = {"events": len(events), "content": roles.count(timing.CONTENT),
             "ttft_us": next((t for t, r in zip(times, roles) if r == timing.CONTENT), None),
             "last_us": times[-1] if times else nonstream["offset_us"], "profile": profile.name}
    return text, stats


def chat_kind_of(ev):
    return chat_kind(payload_of(ev))


def responses_kind_of(ev):
    return json.loads(payload_of(ev))["type"]


def usage_tokens(events, api):
    for ev in reversed(events):
        p = payload_of(ev)
        if p == "[DONE]":
            continue
        d = json.loads(p)
        if api == "chat.completions" and d.get("usage"):
            return d["usage"]["completion_tokens"]
        if api == "responses" and (d.get("response") or {}).get("usage"):
            return d["response"]["usage"]["output_tokens"]
    return None


# ---------------------------------------------------------------------------------------------
# The table: one entry per recording.

def sse_spec(rid, capture, sha, test, request, seed, extra_notes=(), parallel=1, tokens_from_usage=True):
    events = split_sse(read_text(capture), capture)
    ct = usage_tokens(events, "chat.completions")
    model = json.loads(payload_of(events[0]))["model"]
    return {"id": rid, "api": "chat.completions", "model": model, "source": "converted", "capture": capture,
            "origin": {**ORIGINS["openai-python"], "path": SNAPSHOT.format(sha)},
            "events": events, "kind_of": chat_kind_of, "seed": seed, "request": request,
            "completion_tokens": ct, "tokens": ct if tokens_from_usage else None, "parallel": parallel,
            "notes": ["Events are the capture's SSE body split at each blank line, byte for byte.",
                      REBUILT.format(test), HEADERS_ASSUMED, *extra_notes,
                      "nonstream.body is aggregated from the chunks (not recorded)."]}


def cassette_spec(rid, index, seed, extra_notes=()):
    doc = yaml.safe_load(read_text("chat-gpt-4o-mini-2024-07-18-tool-then-text.cassette.yaml"))
    it = doc["interactions"][index]
    events = split_sse(it["response"]["body"]["string"], f"cassette interaction {index}")
    headers = [[name, str(v)] for name, values in it["response"]["headers"].items() for v in values]
    ct = usage_tokens(events, "chat.completions")
    return {"id": rid, "api": "chat.completions", "model": json.loads(payload_of(events[0]))["model"],
            "source": "converted", "capture": "chat-gpt-4o-mini-2024-07-18-tool-then-text.cassette.yaml",
            "origin": ORIGINS["pydantic-ai"], "events": events, "kind_of": chat_kind_of, "seed": seed,
            "request": python_sdk_dumps(it["request"]["parsed_body"]), "status": it["response"]["status"]["code"],
            "headers": headers, "completion_tokens": ct, "tokens": ct,
            "notes": [f"Interaction {index + 1} of 2 of the VCR cassette: events are its response body split at "
                      "each blank line, byte for byte.",
                      "request.body is the cassette's parsed_body serialized as openai-python does (json.dumps "
                      "defaults), which gives exactly the recorded content-length; the cassette does not keep "
                      "the raw bytes, and key order inside is the cassette's (sorted). "
                      "Response status and headers are the cassette's, in order, "
                      "duplicates kept (the recorder removed date, server, set-cookie, openai-organization, "
                      "openai-project, cf-* and x-* headers).",
                      *extra_notes, "nonstream.body is aggregated from the chunks (not recorded)."]}


def responses_specs():
    specs = []
    ok = split_responses(read_text("responses-gpt-4o-mini-ok.jsonl"))[0]
    err = split_responses(read_text("responses-error-midstream.jsonl"))[0]
    reasoning = split_responses(read_text("responses-gpt-5.1-codex-max-reasoning.jsonl"))
    framing = ("Each JSON line of the capture becomes `event: <type>\\ndata: <line>\\n\\n`, OpenAI's "
               "Responses SSE framing (the source stored the payloads only).")

    def final_response(lines):
        return json.loads(lines[-1])["response"]

    def one(rid, lines, capture, origin, seed, request, notes, nonstream=None):
        events = [responses_event(ln) for ln in lines]
        model = json.loads(lines[0])["response"]["model"]
        if nonstream is None:
            nonstream = {"status": 200, "headers": JSON_CONTENT_TYPE, "body": dumps(final_response(lines))}
        return {"id": rid, "api": "responses", "model": model, "source": "converted", "capture": capture,
                "origin": ORIGINS[origin], "events": events, "kind_of": responses_kind_of, "seed": seed,
                "request": request, "completion_tokens": usage_tokens(events, "responses"),
                "tokens": usage_tokens(events, "responses"), "nonstream": nonstream,
                "notes": [framing, *notes, HEADERS_ASSUMED]}

    specs.append(one("responses-gpt-4o-mini-ok", ok, "responses-gpt-4o-mini-ok.jsonl", "vercel-ok", 301,
                     minimal_body("gpt-4o-mini-2024-07-18"),
                     [NOT_STORED, "ids were sanitised by the source repository.",
                      "nonstream.body is the `response` object of the final response.completed event."]))
    err_obj = [json.loads(ln) for ln in err if json.loads(ln)["type"] == "error"][0]["error"]
    specs.append(one("responses-gpt-5-nano-error-midstream", err, "responses-error-midstream.jsonl",
                     "vercel-error", 302, minimal_body("gpt-5-nano-2025-08-07"),
                     [NOT_STORED, "The stream fails after response.in_progress with an `error` event "
                      "(insufficient_quota), then response.failed; the error is placed where the first token "
                      "would have come (TTFT).",
                      "nonstream is what a stream:false call gets for this error: HTTP 429 (OpenAI's status "
                      "for insufficient_quota) with the error event's object in OpenAI's error shape, at the "
                      "offset of the last event (response.failed)."],
                     nonstream={"status": 429, "headers": JSON_CONTENT_TYPE, "body": error_body(err_obj)}))

    # The four responses of one tool loop; each request carries the conversation so far.
    first = json.loads(reasoning[0][0])["response"]
    prompt = ("Use the calculator tool to add 12 and 7, then multiply that sum by 3 then multiply by 10. Call the "
              "tool separately for each arithmetic step and only 1 tool call per step and report the final result.")
    tool = first["tools"][0]
    tools = [{"type": "function", "name": tool["name"], "description": tool["description"],
              "parameters": tool["parameters"], "strict": tool["strict"]}]
    inputs = [{"role": "user", "content": [{"type": "input_text", "text": prompt}]}]
    for n, lines in enumerate(reasoning, start=1):
        body = dumps({"model": "gpt-5.1-codex-max", "input": list(inputs), "store": False,
                      "include": ["reasoning.encrypted_content"], "reasoning": {"effort": "high", "summary": "auto"},
                      "tools": tools, "tool_choice": "auto", "stream": True})
        notes = [f"Response {n} of the 4 consecutive responses in the capture (sequence_number restarts "
                 "at 0 for each).",
                 "request.body is reconstructed from the source's example "
                 "(examples/ai-core/src/stream-text/openai-reasoning-encrypted-content.ts: prompt, "
                 "calculator tool, effort high, summary auto, store false, include "
                 "reasoning.encrypted_content) and, for responses 2-4, the conversation so far (reasoning "
                 "items with their encrypted content, function calls, and the tool's output "
                 "{\"result\":N} as the example's execute() returns it); the exact bytes the AI SDK sent "
                 "are not stored.",
                 "nonstream.body is the `response` object of the final response.completed event.",
                 "Timing uses the reasoning profile (o3-mini class)."]
        if n == 1:
            # The proxy question (issue 17): a stream silent for longer than nginx's 60 s
            # proxy_read_timeout, as a long reasoning phase is on the wire.
            spec = one("responses-gpt-5.1-codex-max-pause70", lines,
                       "responses-gpt-5.1-codex-max-reasoning.jsonl", "vercel-reasoning", 311, body,
                       ["DERIVED from responses-gpt-5.1-codex-max-1 (same bytes, same seed): the silence "
                        "between response.in_progress and the reasoning item's response.output_item.added "
                        "is stretched to 70 s and every later event moves by as much. The bytes are the "
                        "capture's; the 70 s pause is ours, longer than nginx's default "
                        "proxy_read_timeout (60 s), to test what a proxy does to a quiet stream.", *notes])
            spec["pause"] = {"before_kind": "response.output_item.added", "gap_us": 70_000_000}
            specs.append(spec)
        specs.append(one(f"responses-gpt-5.1-codex-max-{n}", lines, "responses-gpt-5.1-codex-max-reasoning.jsonl",
                         "vercel-reasoning", 310 + n, body, notes))
        for item in final_response(lines)["output"]:
            if item["type"] == "reasoning":
                inputs.append({"type": "reasoning", "id": item["id"], "encrypted_content": item["encrypted_content"],
                               "summary": item["summary"]})
            elif item["type"] == "function_call":
                inputs.append({"type": "function_call", "call_id": item["call_id"], "name": item["name"],
                               "arguments": item["arguments"]})
                a = json.loads(item["arguments"])
                result = {"add": a["a"] + a["b"], "subtract": a["a"] - a["b"], "multiply": a["a"] * a["b"],
                          "divide": a["a"] / a["b"] if a["b"] else None}[a["op"]]
                inputs.append({"type": "function_call_output", "call_id": item["call_id"],
                               "output": dumps({"result": result})})
    return specs


def nano_specs(profiles):
    text = read_text("chat-gpt-4.1-nano-2025-04-14-text.jsonl")
    events = chat_events_from_jsonl(text)
    stream = {"id": "chat-gpt-4.1-nano-text", "api": "chat.completions", "model": "gpt-4.1-nano-2025-04-14",
              "source": "converted", "capture": "chat-gpt-4.1-nano-2025-04-14-text.jsonl",
              "origin": ORIGINS["vercel-chat"], "events": events, "kind_of": chat_kind_of, "seed": 201,
              "request": minimal_body("gpt-4.1-nano-2025-04-14"),
              "completion_tokens": usage_tokens(events, "chat.completions"),
              "tokens": usage_tokens(events, "chat.completions"),
              "notes": ["Each JSON line of the capture becomes `data: <line>\\n\\n` and a final `data: [DONE]\\n\\n` "
                        "is added: the chat framing OpenAI sends (every raw SSE capture shows it); the source "
                        "stored the payloads only.", NOT_STORED, HEADERS_ASSUMED,
                        "nonstream.body is aggregated from the chunks; the source's real non-stream body is a "
                        "different call (recording chat-gpt-4.1-nano-nonstream)."]}
    body = read_text("chat-gpt-4.1-nano-2025-04-14-text.nonstream.json")
    headers = [ln.split(": ", 1) for ln in read_text("headers-api.openai.com-2024-09.txt").split("\n") if ln]
    ct = json.loads(body)["usage"]["completion_tokens"]
    nano = profiles["gpt-4.1-nano"]
    nonstream = {"id": "chat-gpt-4.1-nano-nonstream", "api": "chat.completions", "model": "gpt-4.1-nano-2025-04-14",
                 "source": "converted", "capture": "chat-gpt-4.1-nano-2025-04-14-text.nonstream.json",
                 "origin": ORIGINS["vercel-chat-json"], "events": [], "kind_of": chat_kind_of, "seed": 202,
                 "request": minimal_body("gpt-4.1-nano-2025-04-14", stream=False), "completion_tokens": ct,
                 "nonstream": {"offset_us": timing.token_clock_end_us(nano, 202, ct), "status": 200,
                               "headers": headers, "body": body},
                 "notes": ["A non-streaming answer only: no events. nonstream.body is the capture byte for byte "
                           "(pretty-printed, as the source stored it).",
                           "nonstream.headers are the lines of recordings/captures/headers-api.openai.com-2024-09.txt "
                           "in order, duplicates kept: real api.openai.com headers, but of a different call (a "
                           "gpt-4 chat completion from 2024-09-10, quoted on the OpenAI forum), not of this one.",
                           "nonstream.offset_us is when the generator's token clock (gpt-4.1-nano profile, this "
                           f"seed) has produced the body's {ct} completion tokens.",
                           "The request was not stored by the source; request.body is a minimal body with the "
                           "model and stream:false. response.headers are the streaming content-type only."]}
    return [stream, nonstream]


def raw_delta_content(line):
    """The escaped JSON text of delta.content exactly as it appears in a chunk's bytes."""
    head = '"delta":{"content":"'
    start = line.index(head) + len(head)
    end = line.index('"},"logprobs":', start)
    raw = line[start:end]
    if json.loads('"' + raw + '"') != json.loads(line)["choices"][0]["delta"]["content"]:
        raise ValueError("raw delta extraction failed")
    return raw


class MiniEnvelope:
    """The real gpt-4o-mini chunk envelope of the pydantic-ai cassette's text answer (interaction 2):
    its role, finish and usage chunks verbatim, and content chunks built around any delta, padded by
    the stream's observed `obfuscation` rule. Used by chat-gpt-4o-mini-long and by the scenarios
    (scenarios.py)."""

    CAPTURE = "chat-gpt-4o-mini-2024-07-18-tool-then-text.cassette.yaml"
    ORIGIN = "pydantic-ai"
    MODEL = "gpt-4o-mini-2024-07-18"
    PAD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    PAD_STEP = 16  # observed: gpt-4.1-nano pads to 10, deltas longer than 10 to 26

    def __init__(self):
        doc = yaml.safe_load(read_text(self.CAPTURE))
        cev = split_sse(doc["interactions"][1]["response"]["body"]["string"], "cassette interaction 1")
        ckinds = [chat_kind_of(e) for e in cev]
        self.role = cev[ckinds.index("role")]
        self.finish = cev[ckinds.index("finish")]
        self.usage = cev[ckinds.index("usage")]
        content_evs = [e for e, k in zip(cev, ckinds) if k == "content"]
        # The padding rule of this stream: escaped delta length + obfuscation length is one constant.
        sums = {len(raw_delta_content(payload_of(e))) + len(json.loads(payload_of(e))["obfuscation"])
                for e in content_evs}
        if len(sums) != 1:
            raise ValueError(f"cassette text chunks do not share one padding target: {sums}")
        self.base = sums.pop()
        template = payload_of(content_evs[0])
        self.head, rest = template.split('"delta":{"content":"', 1)
        tail = rest[rest.index('"},"logprobs":'):]
        self.tail = tail[:tail.rindex('"obfuscation":"')]

    def content(self, raw, rng):
        """A content chunk carrying `raw` (delta.content, already JSON-escaped), padded from `rng`."""
        base, step = self.base, self.PAD_STEP
        target = base if len(raw) <= base else base + step * math.ceil((len(raw) - base) / step)
        pad = rng.text(target - len(raw), self.PAD_ALPHABET)
        return ("data: " + self.head + '"delta":{"content":"' + raw + self.tail + '"obfuscation":"' + pad
                + '"}\n\n')

    def usage_with(self, completion_tokens):
        """The usage chunk with completion_tokens (and total_tokens) set to `completion_tokens`."""
        usage = json.loads(payload_of(self.usage))["usage"]
        old = f'"completion_tokens":{usage["completion_tokens"]},"total_tokens":{usage["total_tokens"]}'
        new = (f'"completion_tokens":{completion_tokens},'
               f'"total_tokens":{usage["prompt_tokens"] + completion_tokens}')
        if payload_of(self.usage).count(old) != 1:
            raise ValueError("cassette usage chunk has an unexpected shape")
        return self.usage.replace(old, new)


def long_spec():
    """chat-gpt-4o-mini-long: real chunk envelope (cassette, gpt-4o-mini) carrying real text deltas."""
    env = MiniEnvelope()
    base = env.base

    nano_lines = jsonl_lines(read_text("chat-gpt-4.1-nano-2025-04-14-text.jsonl"))
    deltas = [raw_delta_content(ln) for ln in nano_lines
              if chat_kind(ln) == "content" and json.loads(ln)["choices"][0]["delta"]["content"] != ""]
    repeats = 4
    rng = timing.SplitMix64(0x6F62667573636174)  # "obfuscat": the padding characters' own stream
    events = [env.role]
    for _ in range(repeats):
        for raw in deltas:
            events.append(env.content(raw, rng))
    count = repeats * len(deltas)
    events += [env.finish, env.usage_with(count), "data: [DONE]\n\n"]
    return {"id": "chat-gpt-4o-mini-long", "api": "chat.completions", "model": "gpt-4o-mini-2024-07-18",
            "source": "synthesized", "capture": "chat-gpt-4o-mini-2024-07-18-tool-then-text.cassette.yaml",
            "origin": ORIGINS["pydantic-ai"], "events": events, "kind_of": chat_kind_of, "seed": 401,
            "request": dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Invent a holiday and "
                              "describe it in detail."}], "stream": True, "stream_options": {"include_usage": True}}),
            "completion_tokens": count, "tokens": count,
            "notes": [f"Synthesized from real chunk shapes to have a long stream ({count} content events).",
                      "Envelope: the role, content, finish and usage chunks of interaction 2 of the pydantic-ai "
                      "cassette (gpt-4o-mini-2024-07-18: id, created, model, service_tier, system_fingerprint, "
                      "usage:null, obfuscation). The role and finish chunks are that cassette's bytes verbatim; "
                      "the usage chunk is too, with completion_tokens and total_tokens set to the content count.",
                      f"Content: the {len(deltas)} non-empty delta.content strings of the real gpt-4.1-nano stream "
                      "(vercel/ai packages/openai/src/chat/__fixtures__/openai-text.chunks.txt at "
                      "55c969cc5a804c5018cccd64cef4b3468b8db11b, Apache-2.0; recordings/captures/"
                      f"chat-gpt-4.1-nano-2025-04-14-text.jsonl), escaped bytes kept as sent, repeated {repeats} "
                      "times in order.",
                      f"obfuscation: padded by the rule observed in the captures: escaped delta length + "
                      f"obfuscation length = {base} (this cassette's text chunks), or {base}+16k for longer deltas "
                      "(gpt-4.1-nano pads to 10, or 26 above 10); the padding characters [A-Za-z0-9] come from "
                      "splitmix64 seeded 0x6F62667573636174.",
                      "request.body is invented to match (the text is a holiday description); "
                      + HEADERS_ASSUMED, "nonstream.body is aggregated from the chunks."]}


def json_error_spec():
    base = split_sse(read_text("chat-gpt-4o-2024-08-06-json-177chunks.sse"), "json capture")
    keep = 40
    err = {"error": {"message": "The server had an error while processing your request. Sorry about that!",
                     "type": "server_error", "param": None, "code": None}}
    events = base[:keep] + ["data: " + dumps(err) + "\n\n"]
    return {"id": "chat-gpt-4o-json-error-midstream", "api": "chat.completions", "model": "gpt-4o-2024-08-06",
            "source": "synthesized", "capture": "chat-gpt-4o-2024-08-06-json-177chunks.sse",
            "origin": {**ORIGINS["openai-python"], "path": SNAPSHOT.format("d6155801")},
            "events": events, "kind_of": chat_kind_of, "seed": 101, "request": REQ_JSON,
            "completion_tokens": None,
            "nonstream": {"status": 500, "headers": JSON_CONTENT_TYPE, "body": dumps(err)},
            "notes": [f"Synthesized: the first {keep} events of chat-gpt-4o-json (same bytes, and the same profile "
                      "and seed, so the same offsets), then a mid-stream error event and no [DONE].",
                      "The error payload follows OpenAI's documented error object shape "
                      "({\"error\":{\"message\",\"type\",\"param\",\"code\"}}) with the message OpenAI returns for "
                      "server_error; it arrives one token gap after the last content event.",
                      "nonstream: a stream:false call that fails the same way gets HTTP 500 with the same error "
                      "object, at the error's offset.", REBUILT.format("test_non_pydantic_response_format"),
                      HEADERS_ASSUMED]}


def table(profiles):
    specs = [
        sse_spec("chat-gpt-4o-json", "chat-gpt-4o-2024-08-06-json-177chunks.sse", "d6155801",
                 "test_non_pydantic_response_format", REQ_JSON, 101),
        sse_spec("chat-gpt-4o-n3", "chat-gpt-4o-2024-08-06-n3-choices.sse", "a491adda",
                 "test_parse_pydantic_model_multiple_choices", REQ_N3, 102, parallel=3,
                 extra_notes=["n=3: the three choices are generated side by side, so the token clock runs "
                              "3 times faster (one chunk of one choice per gap)."]),
        sse_spec("chat-gpt-4o-tool-call", "chat-gpt-4o-2024-08-06-tool-call.sse", "2018feb6",
                 "test_allows_non_strict_tools_but_no_parsing", REQ_TOOL, 103,
                 extra_notes=["The token clock counts the usage's 16 completion tokens for 7 argument fragments."]),
        sse_spec("chat-gpt-4o-parallel-tools", "chat-gpt-4o-2024-08-06-parallel-tool-calls.sse", "f82268f2",
                 "test_parse_multiple_pydantic_tools", REQ_PARALLEL, 104,
                 extra_notes=["The token clock counts the usage's 60 completion tokens for 20 argument fragments "
                              "(fragments are not token-aligned)."]),
        sse_spec("chat-gpt-4o-refusal", "chat-gpt-4o-2024-08-06-refusal.sse", "173417d5",
                 "test_parse_pydantic_model_refusal", REQ_REFUSAL, 105),
        json_error_spec(),
        *nano_specs(profiles),
        cassette_spec("chat-gpt-4o-mini-tool", 0, 111),
        cassette_spec("chat-gpt-4o-mini-text", 1, 112),
        long_spec(),
        *responses_specs(),
    ]
    return specs


def main():
    ap = cli.parser(__doc__, "convert.py")
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed recording differs")
    ap.add_argument("--summary", action="store_true", help="print the recordings table as Markdown")
    args = ap.parse_args()
    # Build everything before writing anything: a bad capture or profile leaves no file half-done.
    try:
        profiles = timing.load_profiles(PROFILES)
        outputs, rows = {}, []
        for spec in table(profiles):
            text, stats = build(spec, profiles)
            outputs[spec["id"]] = text
            rows.append((spec, stats))
    except (OSError, ValueError, KeyError, yaml.YAMLError) as e:
        print(f"convert.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.summary:
        print("| id | api | model | events | content events | tokens | TTFT ms | duration ms | profile | source |"
              " capture |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for spec, s in rows:
            ttft = f"{s['ttft_us'] / 1000:.0f}" if s["ttft_us"] is not None else "–"
            tokens = spec.get("completion_tokens")
            print(f"| `{spec['id']}` | {spec['api']} | {spec['model']} | {s['events']} | {s['content']} | "
                  f"{tokens if tokens is not None else '–'} | {ttft} | {s['last_us'] / 1000:.0f} | "
                  f"{s['profile']} | {spec['source']} | `{spec.get('capture', '')}` |")
        return 0
    stale = []
    for rid, text in outputs.items():
        path = RECORDINGS / f"{rid}.jsonl"
        data = text.encode("utf-8")
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(str(path.relative_to(ROOT)))
        elif not path.exists() or path.read_bytes() != data:
            tmp = path.with_suffix(".jsonl.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: readers never see a partial recording
            print(f"wrote {path.relative_to(ROOT)}")
    unknown = sorted(p.name for p in RECORDINGS.glob("*.jsonl") if p.stem not in outputs)
    if args.check:
        for s in stale:
            print(f"{s}: differs from what scripts/recordings/convert.py writes; run it and commit the result")
        for u in unknown:
            print(f"recordings/{u}: not produced by scripts/recordings/convert.py (add it to the table)")
        return 1 if stale or unknown else 0
    for u in unknown:
        print(f"warning: recordings/{u} is not produced by this script", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
