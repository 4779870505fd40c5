#!/usr/bin/python3
"""The reference report: the findings section of results/README.md, generated from a run's JSON.

Usage: scripts/report.py RUN [--sweep=SWEEP_RUN] [--readme=results/README.md] [--write]
       scripts/report.py --check [--readme=results/README.md]
       scripts/report.py RUN --links   what changes once there is a network: the findings of a
                                       run over several links (ssebench/linkfindings.py)
       scripts/report.py RUN --html    writes RUN/report.html and prints its path: the findings
                                       of any run, its charts (hover a point, hide a transport),
                                       the whole table (sort, filter) and its context, in one
                                       file that opens from disk with no network (Chart.js from
                                       Debian's libjs-chart.js inlined; ssebench/html.py)
  --write   replace the text between the README's report markers with the generated section
  --check   exit 1 when the committed section differs from what the JSON of the runs its marker
            names gives (ctest runs this: a hand edit or a changed JSON fails it)
  --answers print the section's answers as plain text for a terminal: each question and the
            paragraph answering it (scripts/bench prints them after its table)
  (neither) print the section

The markers are `<!-- report:begin RUN [SWEEP] -->` and `<!-- report:end -->`; with --check the
runs are read from the begin marker, so the test needs no arguments but the README. Every number
in the section is computed here from the JSON; the words around them are chosen by the numbers
(less / more, cheaper / dearer), so a new run cannot leave a sentence saying the opposite.
"""
import sys

from ssebench import cli, html, linkfindings, report, results


def main(argv):
    ap = cli.parser(__doc__, "report.py")
    ap.add_argument("run", nargs="?",
                    help="the reference run (a results folder): the default suite")
    ap.add_argument("--sweep", help="a crossover sweep whose table the section quotes as well")
    ap.add_argument("--readme", default=report.README)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--links", action="store_true")
    mode.add_argument("--html", action="store_true")
    mode.add_argument("--answers", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.check:
            ok, messages = report.check(a.readme)
            for line in messages:
                print(line, file=sys.stdout if ok else sys.stderr)
            return 0 if ok else 1
        if a.run is None:
            ap.error("RUN is needed without --check")
        if a.html:
            print(html.write_run(a.run))
            return 0
        if a.answers:
            sys.stdout.write(report.answers(a.run))
            return 0
        if a.links:
            sys.stdout.write(linkfindings.section(a.run))
            return 0
        if a.write:
            if not report.write(a.readme, a.run, a.sweep):
                print(f"report: put `<!-- report:begin RUN -->` and `{report.END}` in "
                      f"{a.readme} first", file=sys.stderr)
                return 1
            print(f"report: wrote the findings of {a.run} into {a.readme}")
            return 0
        sys.stdout.write(report.section(a.run, a.sweep))
    except (results.ResultsError, html.PageError) as e:
        cli.fail("report", e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
