#!/usr/bin/python3
"""Write the scenario recordings: streams that are not one model answer but a held channel.

    scripts/recordings/scenarios.py              rewrite recordings/scenarios/scenario-*.jsonl
    scripts/recordings/scenarios.py --check      exit 1 if a committed scenario differs
    scripts/recordings/scenarios.py --scenario=notify --seed=7 --duration=20 --mean=2 --out=DIR

  notify  messages at Poisson intervals (mean --mean s, default 20) over --duration s (540)
  ticker  small updates every 1/--rate s (--rate Hz, default 20) over --duration s (60)
  idle    nothing but the stream itself: the role chunk at 0, the end at --duration s (540)

Each is an ordinary chat.completions recording (recordings/README.md, "Scenarios") in the real
gpt-4o-mini chunk envelope of the pydantic-ai cassette (convert.py's MiniEnvelope): every message
or update is one content chunk, so every transport and poll shape rebuilds the same text. The
id is the file stem, scenario-NAME; provenance.source is "synthetic" and provenance.generator
names this script, the scenario, the seed and the parameters. Deterministic: the same options
give the same bytes. A shorter --duration with the same seed gives a prefix of the longer one's
messages (times, text and padding each come from their own splitmix64 stream).
"""

import json
import math
import os
import pathlib
import sys

import convert  # beside this file: the envelope, dumps() and the stream:false body
import timing

from ssebench import cli  # loaded by convert, as convert loads it

SCRIPT = "scripts/recordings/scenarios.py"
OUT = convert.RECORDINGS / "scenarios"
SCENARIOS = ("notify", "ticker", "idle")
# Defaults: what the committed recordings use. 540 s stays under the server's default
# --stream-lifetime-limit-ms (600 s), so the default server serves them whole.
DEFAULT_SEED = 19
DURATION_S = {"notify": 540.0, "ticker": 60.0, "idle": 540.0}
MEAN_S = 20.0  # notify: mean interval between messages
RATE_HZ = 20.0  # ticker: updates per second
MAX_DURATION_S = 86400.0  # the loader's limit on t_us (a day)
MAX_RATE_HZ = 1000.0
# The loader's RecordingLimits::max_file_bytes: a larger file is not served. A content chunk is
# about 420 bytes, so about 40,000 of them fit; more than MAX_MESSAGES is refused before building.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_MESSAGES = 40000
# Each purpose has its own stream of numbers, so a shorter run is a prefix of a longer one.
TEXT_STREAM = 0x74657874  # "text"
PAD_STREAM = 0x6F62667573636174  # "obfuscat", as chat-gpt-4o-mini-long's padding

# Notifications a chat or app user might get; {n} is a number drawn with the message.
NOTICES = (
    "Ana: are we still on for tomorrow?",
    "Your order #{n} has shipped.",
    "Build {n} passed on main.",
    "Build {n} failed: 2 tests.",
    "Ben commented on your post.",
    "Reminder: stand-up in {n} minutes.",
    "Payment of ${n}.00 received.",
    "{n} new followers.",
    "Deploy {n} finished.",
    "Sensor {n}: battery low.",
    "Chloe shared a file with you.",
    "Meeting moved to room {n}.",
)


def message_times_us(scenario, duration_s, mean_s, rate_hz, seed):
    """Offsets of the content chunks, in µs, each strictly inside (0, duration)."""
    end_us = round(duration_s * 1e6)
    times = []
    if scenario == "notify":
        rng = timing.SplitMix64(seed)
        t = 0.0
        while True:
            t += -mean_s * math.log(rng.uniform())  # exponential gaps: a Poisson process
            if round(t * 1e6) >= end_us:
                return times
            times.append(round(t * 1e6))
    if scenario == "ticker":
        k = 1
        while round(k * 1e6 / rate_hz) < end_us:
            times.append(round(k * 1e6 / rate_hz))
            k += 1
    return times


def message_texts(scenario, count, seed):
    """The text of each content chunk: a notice and a line end (notify), a price and a space
    (ticker: a random walk in cents from 100.00)."""
    rng = timing.SplitMix64(seed ^ TEXT_STREAM)
    texts = []
    cents = 10000
    for _ in range(count):
        if scenario == "notify":
            notice = NOTICES[rng.next_u64() % len(NOTICES)]
            texts.append(notice.format(n=1 + rng.next_u64() % 99) + "\n")
        else:
            cents = max(1, cents + round(5 * rng.normal()))
            texts.append(f"{cents // 100}.{cents % 100:02d} ")
    return texts


def build(scenario, seed, duration_s, mean_s=None, rate_hz=None):
    """The recording's text (JSON lines) and a summary row."""
    env = convert.MiniEnvelope()
    rid = f"scenario-{scenario}"
    end_us = round(duration_s * 1e6)
    times = message_times_us(scenario, duration_s, mean_s, rate_hz, seed)
    texts = message_texts(scenario, len(times), seed)
    pad_rng = timing.SplitMix64(seed ^ PAD_STREAM)
    content = [env.content(json.dumps(t, ensure_ascii=False)[1:-1], pad_rng) for t in texts]
    events = ([(0, "role", env.role)] + [(t, "content", c) for t, c in zip(times, content)]
              + [(end_us, "finish", env.finish), (end_us, "usage", env.usage_with(len(content))),
                 (end_us, "done", "data: [DONE]\n\n")])

    generator = {"script": SCRIPT, "scenario": scenario, "seed": seed, "duration_s": duration_s}
    if scenario == "notify":
        generator["mean_s"] = mean_s
        what = (f"{len(times)} messages at Poisson intervals (exponential gaps, mean {mean_s:g} s) over "
                f"{duration_s:g} s, each one content chunk carrying a short notice and a line end")
    elif scenario == "ticker":
        generator["rate_hz"] = rate_hz
        what = (f"{len(times)} updates, one every {1 / rate_hz:g} s over {duration_s:g} s, each one "
                f"content chunk carrying a price (a random walk in cents) and a space")
    else:
        what = (f"no message: the role chunk at 0, then nothing for {duration_s:g} s, then the finish "
                f"chunk, the usage chunk (sent only with include_usage) and [DONE]: the smallest valid "
                f"chat stream that stays open the whole time; any other byte is the transport's own "
                f"(heartbeats, pings, polls)")
    notes = [f"Synthetic scenario `{scenario}`: {what}. Not a model's answer: a held channel, as a "
             f"chat or notification app keeps one open between answers.",
             "Envelope: the role, content, finish and usage chunks of interaction 2 of the pydantic-ai "
             "cassette (gpt-4o-mini-2024-07-18); role and finish verbatim, the usage chunk with "
             "completion_tokens set to the content count, content chunks padded by the cassette's "
             "obfuscation rule (recordings/README.md, chat-gpt-4o-mini-long). Every chunk keeps the "
             "cassette's id and created.",
             f"Offsets and text are generated by {SCRIPT} from the seed (splitmix64, timing.py's): "
             "not measured."]
    provenance = {"source": "synthetic", "generator": generator,
                  "capture": "recordings/captures/" + env.CAPTURE, "origin": convert.ORIGINS[env.ORIGIN],
                  "timing": {"kind": "synthesized", "profile": rid, "seed": seed, "generator": SCRIPT},
                  "notes": " ".join(notes)}
    payloads = [convert.payload_of(b) for _, _, b in events]
    request = convert.dumps({"model": rid, "messages": [{"role": "user", "content": "Keep me posted."}],
                             "stream": True, "stream_options": {"include_usage": True}})
    header = {"format": "ssebench-recording", "version": 1, "api": "chat.completions", "model": env.MODEL,
              "provenance": provenance,
              "request": {"method": "POST", "path": "/v1/chat/completions", "body": request},
              "response": {"status": 200, "headers": convert.SSE_CONTENT_TYPE, "headers_offset_us": 0},
              "nonstream": {"offset_us": end_us, "status": 200, "headers": convert.JSON_CONTENT_TYPE,
                            "body": convert.aggregate_chat(payloads)},
              "usage": {"completion_tokens": len(content)},
              "events": len(events)}
    lines = [convert.dumps(header)] + [convert.dumps({"t_us": t, "kind": k, "bytes": b}) for t, k, b in events]
    return rid, "\n".join(lines) + "\n", {"content": len(content), "duration_s": duration_s}


def write_atomic(path, data):
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # readers never see a partial recording


def positive(ap, name, value, limit):
    """A usage error unless `value` (None: not given) is in (0, limit]; NaN is not."""
    if value is not None and not 0 < value <= limit:
        ap.error(f"{name} must be above 0 and at most {limit:g} (got {value:g})")


def main():
    ap = cli.parser(__doc__, "scenarios.py")
    ap.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all",
                    help="which scenario to write (default: all three)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    ap.add_argument("--duration", type=float, metavar="S",
                    help="seconds from the first event to the end (default: notify and idle "
                         f"{DURATION_S['notify']:g}, ticker {DURATION_S['ticker']:g})")
    ap.add_argument("--mean", type=float, metavar="S", help=f"notify: mean seconds between messages "
                    f"(default {MEAN_S:g})")
    ap.add_argument("--rate", type=float, metavar="HZ", help=f"ticker: updates per second (default "
                    f"{RATE_HZ:g})")
    ap.add_argument("--out", metavar="DIR", help="folder to write scenario-NAME.jsonl into (default "
                    "recordings/scenarios; it must exist)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a file in the folder differs from what would be written")
    args = ap.parse_args()
    names = SCENARIOS if args.scenario == "all" else (args.scenario,)
    if args.mean is not None and "notify" not in names:
        ap.error("--mean is for --scenario=notify")
    if args.rate is not None and "ticker" not in names:
        ap.error("--rate is for --scenario=ticker")
    if not 0 <= args.seed < 2 ** 63:
        ap.error(f"--seed must be a whole number from 0 to 2^63-1 (got {args.seed})")
    positive(ap, "--duration", args.duration, MAX_DURATION_S)
    positive(ap, "--mean", args.mean, MAX_DURATION_S)
    positive(ap, "--rate", args.rate, MAX_RATE_HZ)
    for n in names:
        duration = args.duration or DURATION_S[n]
        expected = {"notify": duration / (args.mean or MEAN_S), "ticker": duration * (args.rate or RATE_HZ),
                    "idle": 0}[n]
        if expected > MAX_MESSAGES:
            ap.error(f"{n} would have about {expected:,.0f} messages; the loader takes a file of "
                     f"{MAX_FILE_BYTES // 2**20} MiB at most (about {MAX_MESSAGES:,}): shorten --duration")
    out = pathlib.Path(args.out) if args.out else OUT
    if not out.is_dir():
        cli.fail("scenarios.py", f"{out}: not a folder")

    # Build everything before writing anything: nothing is left half-done.
    try:
        built = [build(n, args.seed, args.duration or DURATION_S[n],
                       mean_s=(args.mean or MEAN_S) if n == "notify" else None,
                       rate_hz=(args.rate or RATE_HZ) if n == "ticker" else None) for n in names]
    except (OSError, ValueError, KeyError) as e:
        cli.fail("scenarios.py", f"{type(e).__name__}: {e}")
    for rid, text, _ in built:
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            cli.fail("scenarios.py", f"{rid}: {len(text.encode('utf-8')):,} bytes, over the loader's "
                     f"limit of {MAX_FILE_BYTES:,}: shorten --duration")
    stale = []
    for rid, text, row in built:
        path = out / f"{rid}.jsonl"
        data = text.encode("utf-8")
        if path.exists() and path.read_bytes() == data:
            continue
        if args.check:
            stale.append(path)
            continue
        write_atomic(path, data)
        print(f"wrote {path} ({row['content']} content events over {row['duration_s']:g} s)")
    for path in stale:
        print(f"{path}: differs from what {SCRIPT} writes; run it and commit the result")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
