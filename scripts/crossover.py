#!/usr/bin/python3
"""The crossover finder: the poll interval below which polling costs more than SSE.

Reads a sweep (sse and poll at several intervals, e.g.
`scripts/bench --cases=sse,poll --intervals=25,50,100,250,500,1000,2000`) and, for every
recording, concurrency and poll shape, finds the interval P* at which polling's cost per token
equals SSE's, for two costs: wire bytes per token (in + out) and server CPU per token. Polling
gets cheaper as P grows; P* is interpolated between the two measured intervals around the
crossing (linear in log P and log cost), and the lag polling costs there is interpolated the
same way (mean and p99). A shape cheaper than SSE at every measured interval has P* "< lowest";
one dearer at every one "> highest".

Writes OUT_DIR/crossover.txt (the table; `--markdown` prints it as Markdown as well) and
crossover.png / .svg (per recording: poll's cost relative to SSE's against the interval, one line
per shape and cost, the crossings marked). scripts/bench runs it after every run with sse and
at least three poll intervals; with fewer it writes nothing and exits 0.
"""
import os
import sys

from ssebench import cli, crossover


def main(argv):
    ap = cli.parser(__doc__, "crossover.py")
    ap.add_argument("run", help="a sweep's run folder or its benchmark.json")
    ap.add_argument("out_dir", nargs="?", metavar="OUT_DIR",
                    help="where crossover.txt and the chart go (default: beside the JSON)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown too")
    a = ap.parse_args(argv)
    path = a.run
    out_dir = a.out_dir or (path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    context, cases = cli.load("crossover", path)
    rows = crossover.find(cases)
    if not rows:
        print(f"crossover: no sse case with poll at {crossover.MIN_INTERVALS}+ intervals in "
              f"{path}: nothing to find", file=sys.stderr)
        return 0
    header, body = crossover.table(rows)
    text = crossover.render(header, body, False)
    with open(os.path.join(out_dir, "crossover.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)
    if a.markdown:
        print()
        print(crossover.render(header, body, True))
    crossover.chart(context, rows, out_dir)
    print(f"crossover: {out_dir}/crossover.txt, crossover.png, crossover.svg", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
