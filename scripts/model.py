#!/usr/bin/python3
"""The analytic model: what METRICS.md's formulas predict for a case, from its recording alone
(ssebench/model.py says how).

scripts/model.py RUN            predictions beside each case's measurement
scripts/model.py RUN --write    adds predicted_<figure> (and predicted_<figure>_band, the half-width
                                of the band a measurement should fall in) to every entry of the
                                benchmark.json, in place: scripts/bench runs it after every run
scripts/model.py --check RUN    exit 1 when a figure leaves its band (tests/scripts)

A case on a link (its field `link`, the run's context.link_profiles) gets the link's round-trip,
rate and loss terms; a figure the model leaves out there (a saturated link, a trace's unknown
rate, HTTP/2's one connection past its loss bound) is listed with the reason. A case on a link
the context does not describe: one line, exit 2.
"""
import sys

from ssebench import cli, model, results


def main(argv):
    ap = cli.parser(__doc__, "model.py")
    ap.add_argument("run", help="a run folder or its benchmark.json")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
