#!/usr/bin/python3
"""ssebench/figures.py against what the harness writes: every counter of the given runs has a row,
and every row names a counter of at least one of them (or says in `only_in` why those runs have
none). A counter without a row is a figure half-wired: no merge rule, no format, no label.

Usage: figures_test.py [--counters-only] BENCHMARK_JSON_OR_RUN...
  --counters-only  only the first check (committed runs: older ones lack newer rows' counters)
"""
import json
import sys

from ssebench import figures, results


def counters(path):
    """Every counter name of a run's entries: numbers that are not case fields or bookkeeping."""
    with open(results.json_path(path), encoding="utf-8") as f:
        data = json.load(f)
    return {k for b in data.get("benchmarks", []) for k, v in b.items()
            if results.is_counter(k, v)}


def main(argv):
    only_counters = "--counters-only" in argv
    paths = [a for a in argv if a != "--counters-only"]
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = []
    seen = set()
    for p in paths:
        try:
            names = counters(p)
        except (results.ResultsError, ValueError) as e:
            problems.append(str(e))
            continue
        if not names:
            problems.append(f"{p}: no counter at all")
        seen |= names
        for n in figures.unknown(names):
            problems.append(f"{p}: counter {n} has no row in scripts/ssebench/figures.py")
    if not only_counters:
        for f in figures.FIGURES:
            if f.name not in seen and not f.only_in:
                problems.append(f"row {f.name}: no counter of that name in the {len(paths)} "
                                "runs given (a stale row, or mark why in its only_in)")
    # The table itself: one row a name, a merge rule and a kind each, floors only on figures
    # with a direction.
    for f in figures.FIGURES:
        if f.kind not in (figures.MACHINE, figures.PROTOCOL, figures.SETTING):
            problems.append(f"row {f.name}: kind {f.kind!r}")
        if f.floor is not None and f.lower_is_better is not True:
            problems.append(f"row {f.name}: a compare floor on a figure that is not "
                            "lower-is-better")
    for line in problems:
        print(f"figures_test: {line}", file=sys.stderr)
    print(f"figures_test: {len(seen)} counters in {len(paths)} runs, {len(figures.FIGURES)} rows, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
