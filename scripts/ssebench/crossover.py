"""scripts/crossover.py's logic: the poll interval below which polling costs more than SSE."""

import math

from . import results

MIN_INTERVALS = 3
COSTS = [("bytes", "wire B/token (in+out)"), ("cpu", "server CPU µs/token")]


def cost(case, kind):
    if kind == "bytes":
        return results.wire_total(case)
    return case["counters"].get("server_cpu_us_per_token")


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
    sse = results.sse_references(cases)
    groups = {}
    for c in cases:
        # plain poll (HTTP/1.1, no connection cap) against plain sse: one crossing per setting
        if results.label(c) == "poll" and not c["error"] and "lag_ms_mean" in c["counters"]:
            groups.setdefault((c["recording"], results.load_key(c), c["shape"]), []).append(c)
    rows = []
    order = {r: i for i, r in enumerate(results.recordings(cases))}
    for (rec, _, shape), cs in sorted(groups.items(),
                                      key=lambda g: (order[g[0][0]], g[0][1],
                                                     results.rank(results.SHAPES, g[0][2]))):
        ref_case = results.sse_reference(cs[0], sse)
        conc = cs[0]["concurrency"]
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
            rows.append({"recording": rec, "concurrency": conc, "load": results.load_text(cs[0]),
                         "load_key": results.load_key(cs[0]), "shape": shape or "events",
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
        load = str(r["concurrency"]) if r["concurrency"] is not None else r["load"]
        out.append([r["recording"], load, r["shape"],
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
    from . import plot
    plt = plot.plt

    keys = []
    for r in rows:
        if (r["recording"], r["concurrency"]) not in keys:
            keys.append((r["recording"], r["concurrency"]))
    loads = {(r["recording"], r["concurrency"]): r["load"] for r in rows}
    cols = min(2, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.5 * cols, 3.8 * nrows + 1), squeeze=False)
    colors = {"openai": "tab:gray", "snapshot": "tab:red", "delta": "tab:green",
              "events": "tab:blue"}
    crossings = []  # (ax, [(text, x, y)]): labelled once the layout is final
    for i, key in enumerate(keys):
        ax = axes[i // cols][i % cols]
        crossings.append((ax, []))
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
                crossings[-1][1].append((f"{r['interval_ms']:.0f} ms", r["interval_ms"], 1.0,
                                         colors.get(r["shape"], "black")))
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        plot.plain_log(ax)
        ax.set_xlabel("poll interval, ms (log)")
        ax.set_ylabel("poll cost ÷ sse cost, per token (log)")
        ax.set_title(f"{key[0]} · {loads[key]}", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.margins(y=0.15)
    for j in range(len(keys), nrows * cols):
        axes[j // cols][j % cols].axis("off")
    # One legend above the panels for all of them: inside a panel it covered the curves.
    seen = {}
    for ax in axes.flat:
        for h, n in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(n, h)
    top = plot.suptitle(fig, "Where polling costs more than SSE: above the line (solid: wire "
                        f"bytes, dashed: server CPU; ★ the crossing)\n{plot.machine(context)}")
    ncol = min(4, max(1, len(seen)))
    legend = fig.legend(list(seen.values()), list(seen), fontsize=7, ncol=ncol,
                        loc="upper center", bbox_to_anchor=(0.5, top))
    fig.tight_layout(rect=(0, 0, 1, top - (0.2 * math.ceil(len(seen) / ncol) + 0.1)
                           / fig.get_figheight()))
    plot.close_gap(fig, legend)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, items in crossings:  # the crossings' intervals, where no label covers another
        unplaced = plot.place_labels(ax, sorted(items, key=lambda t: t[1]), renderer)
        if unplaced:
            ax.text(0.01, 0.01, "also crossing at: " + ", ".join(unplaced), fontsize=6,
                    transform=ax.transAxes, va="bottom", ha="left")
    return plot.save_in(fig, out_dir, "crossover")
