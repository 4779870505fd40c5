#!/usr/bin/python3
"""Charts of an ssebench-bench JSON result, as PNG and SVG next to it (matplotlib, Agg backend).

Writes the trade-off charts of ssebench/tradeoff.py (ttft, lag_cdf, frontier, bytes_split,
scaling, model; see there) and three bar charts: lag.png (delivery lag p50 bars, p99 marks),
bytes_per_token.png (wire bytes per token, in and out) and cpu_per_token.png (client and server
CPU per token): one panel per load, one group per transport (poll intervals and poll shapes
apart: 'poll 250 / delta'), one bar per recording. In the bytes and CPU charts a dotted line per
recording marks its sse case, the reference every other bar is read against (×sse).
A run over several links (field `link`) also gets ssebench/linkcharts.py's link_*.png.
"""
import os
import sys

from ssebench import charts, cli, results


def main():
    ap = cli.parser(__doc__, "charts.py")
    ap.add_argument("run", help="a run folder or its benchmark.json")
    ap.add_argument("out_dir", nargs="?", metavar="OUT_DIR",
                    help="where the charts go (default: beside the JSON)")
    a = ap.parse_args()
    context, cases = cli.load("charts.py", a.run)
    out_dir = a.out_dir or (a.run if os.path.isdir(a.run)
                            else os.path.dirname(os.path.abspath(a.run)))
    os.makedirs(out_dir, exist_ok=True)
    cases = [c for c in cases if c["counters"].get("streams", 0) > 0]
    if not cases:
        print("charts.py: no case with measurements", file=sys.stderr)
        return 1
    try:
        drawn = charts.draw_all(context, cases, out_dir)
    except results.ResultsError as e:  # a case on a link the context does not describe
        cli.fail("charts.py", e)
    names = list(dict.fromkeys(os.path.splitext(os.path.basename(p))[0] for p in drawn))
    bars, rest = names[:3], sorted(names[3:])
    print(f"charts: {out_dir}/ {', '.join(bars + rest)} (.png, .svg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
