#!/usr/bin/python3
"""The crossover finder: the poll interval below which polling costs more than SSE.

Usage: scripts/crossover.py results/<sweep run>[/benchmark.json] [OUT_DIR] [--markdown]
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
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_results  # noqa: E402

MIN_INTERVALS = 3
COSTS = [("bytes", "wire B/token (in+out)"), ("cpu", "server CPU µs/token")]


def cost(case, kind):
    k = case["counters"]
    if kind == "bytes":
        if "wire_bytes_in_per_token" not in k:
            return None
        return k["wire_bytes_in_per_token"] + k.get("wire_bytes_out_per_token", 0.0)
    return k.get("server_cpu_us_per_token")


def log_interp(x0, y0, x1, y1, x):
    """y at x on the line through (x0, y0), (x1, y1) in log-log (linear if a value is 0)."""
    if min(x0, x1, x, y0, y1) <= 0:
        t = (x - x0) / (x1 - x0) if x1 != x0 else 0
        return y0 + t * (y1 - y0)
    t = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))


def crossing(series, reference):
    """series: [(interval, cost, lag_mean, lag_p99)] by interval. (P*, lag mean, lag p99, how):
    how is 'at' (interpolated), 'below' (cheaper everywhere) or 'above' (dearer everywhere)."""
    pts = [s for s in series if s[1] is not None]
    if not pts or not reference:
        return None
    # From the longest interval down: the first interval at which polling is dearer than SSE.
    pts.sort()
    for (p0, c0, m0, q0), (p1, c1, m1, q1) in zip(reversed(pts[:-1]), reversed(pts[1:])):
        if c1 <= reference < c0:
            # log cost is linear in log P between the two: solve for cost = reference.
            lc0, lc1, lr = (math.log(max(v, 1e-12)) for v in (c0, c1, reference))
            t = (lr - lc0) / (lc1 - lc0) if lc1 != lc0 else 0.5
            p = math.exp(math.log(p0) + t * (math.log(p1) - math.log(p0)))
            return p, log_interp(p0, m0, p1, m1, p), log_interp(p0, q0, p1, q1, p), "at"
    if all(c <= reference for _, c, _, _ in pts):
        p, _, m, q = pts[0]
        return p, m, q, "below"
    if all(c > reference for _, c, _, _ in pts):
        p, _, m, q = pts[-1]
        return p, m, q, "above"
    # Not monotone (noise around the crossing): the longest interval still dearer than SSE.
    dearer = [s for s in pts if s[1] > reference]
    p, _, m, q = dearer[-1]
    return p, m, q, "at"


def find(cases):
    """Rows: dicts per recording, concurrency, shape and cost."""
    sse = {(c["recording"], c["concurrency"]): c for c in cases
           if c["transport"] == "sse" and not c["error"]}
    groups = {}
    for c in cases:
        if c["transport"] == "poll" and not c["error"] and "lag_ms_mean" in c["counters"]:
            groups.setdefault((c["recording"], c["concurrency"], c["shape"]), []).append(c)
    rows = []
    order = {}
    for c in cases:
        order.setdefault(c["recording"], len(order))
    for (rec, conc, shape), cs in sorted(groups.items(),
                                         key=lambda g: (order[g[0][0]], g[0][1],
                                                        bench_results.SHAPES.index(g[0][2])
                                                        if g[0][2] in bench_results.SHAPES else 9)):
        ref_case = sse.get((rec, conc))
        if ref_case is None or len({c["interval_ms"] for c in cs}) < MIN_INTERVALS:
            continue
        for kind, _ in COSTS:
            ref = cost(ref_case, kind)
            series = sorted((c["interval_ms"], cost(c, kind), c["counters"]["lag_ms_mean"],
                             c["counters"].get("lag_ms_p99", 0.0)) for c in cs)
            found = crossing(series, ref)
            if found is None:
                continue
            p, lag_mean, lag_p99, how = found
            rows.append({"recording": rec, "concurrency": conc, "shape": shape or "events",
                         "cost": kind, "sse_cost": ref, "interval_ms": p, "how": how,
                         "lag_ms_mean": lag_mean, "lag_ms_p99": lag_p99, "series": series,
                         "sse_lag_ms_mean": ref_case["counters"].get("lag_ms_mean")})
    return rows


def describe(row):
    if row["how"] == "below":
        return f"< {row['interval_ms']:.0f}"
    if row["how"] == "above":
        return f"> {row['interval_ms']:.0f}"
    return f"{row['interval_ms']:.0f}"


def table(rows):
    header = ["recording", "c", "shape", "cost", "sse cost", "poll dearer than sse below P ms",
              "poll lag mean there ms", "lag p99 there ms", "sse lag mean ms"]
    out = []
    for r in rows:
        unit = "B" if r["cost"] == "bytes" else "µs"
        lag_note = "" if r["how"] == "at" else " (at that end)"
        out.append([r["recording"], str(r["concurrency"]), r["shape"],
                    "wire bytes" if r["cost"] == "bytes" else "server CPU",
                    f"{r['sse_cost']:.1f} {unit}", describe(r),
                    f"{r['lag_ms_mean']:.0f}{lag_note}", f"{r['lag_ms_p99']:.0f}",
                    f"{r['sse_lag_ms_mean']:.2f}" if r["sse_lag_ms_mean"] is not None else "-"])
    return header, out


def render(header, rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] * 4 + ["---:"] * (len(header) - 4)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    return "\n".join("  ".join(r[i].ljust(widths[i]) if i < 4 else r[i].rjust(widths[i])
                               for i in range(len(header))).rstrip() for r in [header] + rows)


def chart(context, rows, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tradeoff_charts

    keys = []
    for r in rows:
        if (r["recording"], r["concurrency"]) not in keys:
            keys.append((r["recording"], r["concurrency"]))
    cols = min(2, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.5 * cols, 3.8 * nrows + 1), squeeze=False)
    colors = {"openai": "tab:gray", "snapshot": "tab:red", "delta": "tab:green",
              "events": "tab:blue"}
    for i, key in enumerate(keys):
        ax = axes[i // cols][i % cols]
        for r in rows:
            if (r["recording"], r["concurrency"]) != key:
                continue
            xs = [s[0] for s in r["series"] if s[1] is not None]
            ys = [s[1] / r["sse_cost"] for s in r["series"] if s[1] is not None]
            ls = "-" if r["cost"] == "bytes" else "--"
            ax.plot(xs, ys, ls=ls, marker="o" if r["cost"] == "bytes" else "s", ms=3,
                    color=colors.get(r["shape"], "black"),
                    label=f"{r['shape']}: {'wire bytes' if r['cost'] == 'bytes' else 'server CPU'}")
            if r["how"] == "at":
                ax.plot(r["interval_ms"], 1.0, marker="*", ms=11, color=colors.get(r["shape"]),
                        mec="black", mew=0.5)
                ax.annotate(f"{r['interval_ms']:.0f} ms", (r["interval_ms"], 1.0), fontsize=6,
                            xytext=(3, 6 if r["cost"] == "bytes" else -10),
                            textcoords="offset points")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("poll interval, ms (log)")
        ax.set_ylabel("poll cost ÷ sse cost, per token (log)")
        ax.set_title(f"{key[0]} · {key[1]} stream{'s' if key[1] != 1 else ''}", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6, ncol=2)
    for j in range(len(keys), nrows * cols):
        axes[j // cols][j % cols].axis("off")
    fig.suptitle("Where polling costs more than SSE: above the line (solid: wire bytes, dashed: "
                 f"server CPU; ★ the crossing)\n{tradeoff_charts.machine(context)}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / fig.get_figheight()))
    return tradeoff_charts.save(fig, out_dir, "crossover")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = args[0]
    out_dir = args[1] if len(args) == 2 else (
        path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    context, cases = bench_results.load(path)
    rows = find(cases)
    if not rows:
        print(f"crossover: no sse case with poll at {MIN_INTERVALS}+ intervals in {path}: "
              "nothing to find", file=sys.stderr)
        return 0
    header, body = table(rows)
    text = render(header, body, False)
    with open(os.path.join(out_dir, "crossover.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)
    if "--markdown" in argv:
        print()
        print(render(header, body, True))
    chart(context, rows, out_dir)
    print(f"crossover: {out_dir}/crossover.txt, crossover.png, crossover.svg", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
