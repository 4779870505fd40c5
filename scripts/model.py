#!/usr/bin/python3
"""The analytic model: what METRICS.md's formulas predict for a case, from its recording alone
(ssebench/model.py says how).

scripts/model.py RUN            predictions beside each case's measurement
scripts/model.py RUN --write    adds predicted_<figure> (and predicted_<figure>_band, the half-width
                                of the band a measurement should fall in) to every entry of the
                                benchmark.json, in place: scripts/bench runs it after every run
scripts/model.py --check RUN    exit 1 when a figure leaves its band (tests/scripts)
scripts/model.py --what-if=3g,lossy-1 [--recordings=A,B] [--concurrency=N] [--http=2]
                                what the model predicts on those links (link/src/profile.cpp's
                                profiles; `none` is loopback) before any run: first token, lag,
                                requests per stream per transport, or why it predicts none

A case on a link (its field `link`, the run's context.link_profiles) gets the link's round-trip,
rate and loss terms; a figure the model leaves out there (a saturated link, a trace's unknown
rate, HTTP/2's one connection past its loss bound) is listed with the reason. A case on a link
the context does not describe: one line, exit 2.
"""
import sys

from ssebench import cli, model, results


def main(argv):
    ap = cli.parser(__doc__, "model.py")
    ap.add_argument("run", nargs="?", help="a run folder or its benchmark.json")
    ap.add_argument("--what-if", metavar="LINKS", help="comma-separated profiles (no run)")
    ap.add_argument("--recordings", default="chat-gpt-4o-json,chat-gpt-4o-mini-text,"
                    "chat-gpt-4.1-nano-text,responses-gpt-5.1-codex-max-4",
                    help="--what-if's recordings (default: the default suite's)")
    ap.add_argument("--concurrency", type=int, default=1, help="--what-if's streams (1)")
    ap.add_argument("--http", choices=["1.1", "2"], default="1.1", help="--what-if's (1.1)")
    ap.add_argument("--intervals", default="250", help="--what-if's poll intervals, ms (250)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    if a.what_if:
        return what_if(a)
    if a.run is None:
        ap.error("RUN is needed without --what-if")
    try:
        if a.write:
            n = model.write(a.run)
            print(f"model: predicted_* fields for {n} cases in {a.run}")
            return 0
        notes = {}
        rows, ok = model.check(a.run, notes=notes)
    except results.ResultsError as e:
        cli.fail("model.py", e)
    for name, figure, value, band, measured, inside in rows:
        if a.check and inside:
            continue
        print(f"{name:64} {figure:32} predicted {value:10.2f} ± {band:8.2f}  measured "
              f"{measured:10.2f}  {'ok' if inside else 'OUTSIDE'}")
    for name, why in notes.items():
        print(f"{name:64} {'; '.join(why)}")
    if a.check:
        print(f"model: {sum(r[5] for r in rows)}/{len(rows)} figures inside their bands")
        return 0 if ok else 1
    return 0


def what_if(a):
    try:
        intervals = [int(x) for x in a.intervals.split(",") if x]
    except ValueError:
        cli.fail("model.py", f"--intervals={a.intervals}: want whole milliseconds, e.g. 50,250")
    try:
        rows = model.what_if([x for x in a.what_if.split(",") if x],
                             [x for x in a.recordings.split(",") if x], a.concurrency, a.http,
                             intervals)
    except results.ResultsError as e:
        cli.fail("model.py", e)
    print(f"{'recording':32} {'link':14} {'setting':18} {'ttft p50':>9} {'lag mean':>9} "
          f"{'lag p99':>9} {'req/stream':>10}  (ms; c:{a.concurrency}, HTTP/{a.http})")
    for rid, link, setting, v, notes in rows:
        cells = [f"{v[k]:9.0f}" if k in v else f"{'-':>9}"
                 for k in ("ttft_ms_p50", "lag_ms_mean", "lag_ms_p99")]
        req = f"{v['requests_per_stream']:10.1f}" if "requests_per_stream" in v else f"{'-':>10}"
        print(f"{rid:32} {link:14} {setting:18} {' '.join(cells)} {req}  {'; '.join(notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
