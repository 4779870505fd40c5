"""A synthetic run over several links in the link axis's format (issue 16): every entry carries
the case field `link` (`none` for loopback) and `link_*` counters; the context has `links` and
`link_profiles` {NAME: {rtt_ms, down_mbit, up_mbit, loss, queue_packets, source}} (a trace's
rates null), each as JSON text, as Google Benchmark's context holds strings. Its recording is
a tiny one written beside it, so the model and the charts read it.
The timing counters are the model's own predictions (model.predictions_for), so --check passes
on it as built; a test plants a change to see it fail."""
import json
import os

from ssebench import migrate, model, results

REC = "tiny-links"
TRACE = "trace:/traces/lte.down,/traces/lte.up,rtt=40"  # a trace profile is named by its paths
PROFILES = {
    "lan": {"rtt_ms": 1, "down_mbit": 100, "up_mbit": 100, "loss": 0, "queue_packets": 1000,
            "source": "test"},
    "3g": {"rtt_ms": 300, "down_mbit": 1.6, "up_mbit": 0.768, "loss": 0, "queue_packets": 1000,
           "source": "WebPageTest"},
    "lossy-1": {"rtt_ms": 40, "down_mbit": 10, "up_mbit": 10, "loss": 0.01,
                "queue_packets": 1000, "source": "test"},
    "lossy-3": {"rtt_ms": 40, "down_mbit": 10, "up_mbit": 10, "loss": 0.03,
                "queue_packets": 1000, "source": "test"},
    "geo-satellite": {"rtt_ms": 600, "down_mbit": 20, "up_mbit": 3, "loss": 0,
                      "queue_packets": 1000, "source": "test"},
    TRACE: {"rtt_ms": 40, "down_mbit": None, "up_mbit": None, "loss": 0, "queue_packets": 0,
            "down_trace": "/traces/lte.down", "up_trace": "/traces/lte.up",
            "source": "mahimahi-format traces at the paths given"},
}
LINKS = ["none"] + list(PROFILES)
INTERVALS = [50, 250, 1000]


def chunk(kind, t_ms, content=None):
    payload = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1,
               "model": "m", "choices": [{"index": 0, "delta": {} if content is None else
                                          {"content": content}, "finish_reason": None}]}
    return {"t_us": int(t_ms * 1000), "kind": kind,
            "bytes": "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"}


def recording(folder, tokens=20, gap_ms=50, first_ms=100):
    """`tokens` one-token content events, the first at first_ms, then every gap_ms, a finish
    10 ms after the last, [DONE]. Returns its path."""
    end = first_ms + gap_ms * (tokens - 1) + 10
    head = {"format": "ssebench-recording", "version": 1, "api": "chat.completions",
            "model": "m", "request": {}, "usage": {"completion_tokens": tokens},
            "response": {"status": 200, "headers": [["content-type", "text/event-stream"]],
                         "headers_offset_us": 50000},
            "nonstream": {"offset_us": end * 1000, "status": 200,
                          "headers": [["content-type", "application/json"]],
                          "body": json.dumps({"choices": [{"message": {
                              "content": "a" * tokens}}]})}}
    events = [chunk("content", first_ms + gap_ms * i, "a") for i in range(tokens)]
    events += [chunk("finish", end), {"t_us": end * 1000, "kind": "done",
                                      "bytes": "data: [DONE]\n\n"}]
    path = os.path.join(folder, REC + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for line in [head] + events:
            f.write(json.dumps(line) + "\n")
    return path


def names(link):
    """The cases on one link: every transport at c:1, poll at three intervals; on a lossy link
    sse at c:100 over HTTP/1.1 and HTTP/2 too (head-of-line)."""
    out = [f"sse/{REC}/c:1", f"ws/{REC}/c:1", f"rest/{REC}/c:1",
           f"long-poll/{REC}/c:1/shape:delta"]
    out += [f"poll/{REC}/c:1/interval_ms:{p}/shape:delta" for p in INTERVALS]
    if PROFILES.get(link, {}).get("loss"):
        out += [f"sse/{REC}/c:100", f"sse/{REC}/c:100/http:2"]
    return out


def entry(name, link, counters):
    fields = migrate.fields_from_name(name)
    fields["link"] = link
    full = name + (f"/link:{link}" if link != "none" else "") + "/iterations:1/manual_time"
    e = {"name": full, "run_name": full, **fields, "run_type": "iteration", "repetitions": 1,
         "repetition_index": 0, "threads": 1, "iterations": 1, "real_time": 2000.0,
         "cpu_time": 10.0, "time_unit": "ms"}
    e.update(counters)
    return e


BASE = {"streams": 1.0, "errors": 0.0, "tokens_per_stream": 20.0, "speed": 1.0,
        "connections_per_stream": 0.0, "wire_bytes_out_per_token": 30.0,
        "client_cpu_us_per_token": 20.0, "server_cpu_us_per_token": 15.0,
        "tcp_retransmits": 0.0, "lag_ms_p50": 1.0}


def run(folder, links=None, context_extra=None, emulator=True):
    """The run's benchmark.json dict, its predicted figures set as the measured ones. emulator:
    the context says an ssebench-link ran (then `none` crosses its TUN devices unshaped)."""
    links = links or LINKS
    rec_dir = os.path.join(folder, "recordings")
    os.makedirs(rec_dir, exist_ok=True)
    recording(rec_dir)
    context = {"host_name": "ci-runner", "cpu_model": "Test CPU", "num_cpus": 2,
               "recordings": rec_dir, "ssebench_commit": "0000000", "long_poll_wait_ms": "10000",
               "links": json.dumps(links),
               "link_profiles": json.dumps({k: v for k, v in PROFILES.items() if k in links})}
    if emulator:
        context["link_emulator"] = json.dumps({"path": "build/link/ssebench-link"})
    context.update(context_extra or {})
    benchmarks = []
    for link in links:
        for name in names(link):
            counters = dict(BASE)
            if "c:100" in name:
                counters.update(streams=100.0, connections_per_stream=0.04,
                                tcp_retransmits=40.0 if "http:2" not in name else 12.0)
            if link != "none":
                counters.update(link_down_packets=1000.0, link_down_drops_loss=
                                10.0 * (PROFILES[link]["loss"] or 0) * 100, link_behind=0.0)
            benchmarks.append(entry(name, link, counters))
    data = {"context": context, "benchmarks": benchmarks}
    return fill(data)


def fill(data):
    """Sets each entry's predicted figures as its measured ones (lag p50 from the mean), and
    the wire bytes of the cases the model gives none (HTTP/2, ws) from their HTTP/1.1 twin."""
    context = data["context"]
    cases = [dict(results.record(b), name=results.display_name(b["run_name"]),
                  run_name=b["run_name"], error="", counters={k: v for k, v in b.items()
                                                               if results.is_counter(k, v)})
             for b in data["benchmarks"]]
    preds = model.predictions_for(context, cases)
    for b in data["benchmarks"]:
        for figure, (value, _) in preds.get(b["run_name"], {}).items():
            if figure in ("payload_bytes_in_per_token",):
                continue
            b[figure] = value
        if "lag_ms_mean" in b:
            b["lag_ms_p50"] = b["lag_ms_mean"]
        b.setdefault("wire_bytes_in_per_token", 400.0)
        b.setdefault("ttft_ms_p50", 500.0)
        b.setdefault("lag_ms_mean", 400.0)
        b.setdefault("lag_ms_p99", 800.0)
    return data


def write(folder, name, data):
    d = os.path.join(folder, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "benchmark.json"), "w", encoding="utf-8") as f:
        json.dump(data, f)
    return d
