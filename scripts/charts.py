#!/usr/bin/python3
"""Charts of an ssebench-bench JSON result, as PNG and SVG next to it (matplotlib, Agg backend).

Usage: scripts/charts.py results/<run>/benchmark.json [OUT_DIR]
Writes the trade-off charts of tradeoff_charts.py (ttft, lag_cdf, frontier, bytes_split,
scaling, model; see there) and three bar charts: lag.png (delivery lag p50 bars, p99 marks), bytes_per_token.png (wire bytes per token,
in and out) and cpu_per_token.png (client and server CPU per token): one panel per concurrency,
one group per transport (poll intervals and poll shapes apart: 'poll 250 ms / delta'), one bar
per recording. In the bytes and CPU charts a dotted line per recording marks its sse case, the
reference every other bar is read against (×sse).
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_results  # noqa: E402
import tradeoff_charts  # noqa: E402

TRANSPORT_ORDER = ["sse", "ws", "rest", "long-poll", "poll"]


def rank(order, value):
    return order.index(value) if value in order else len(order)


def variant_key(case):
    """sse, rest, long-poll, then poll by interval; the shapes of one setting together."""
    return (rank(TRANSPORT_ORDER, case.get("base", case["transport"])), case["interval_ms"],
            rank(bench_results.SHAPES, case["shape"]), case["shape"], case.get("via", ""))


def tick_label(case):
    """'poll 250 ms\ndelta', 'long-poll\nevents', 'sse', 'sse\nhttp:2': one short line each."""
    label = case.get("base", case["transport"])
    label += f" {case['interval_ms']}" if case["interval_ms"] else ""
    label += f"\n{case['shape']}" if case["shape"] else ""
    return label + ("\n" + case["via"].replace(" ", "\n") if case.get("via") else "")


def layout(cases):
    levels = sorted({c["concurrency"] for c in cases})
    first = {}  # one case per variant, for its sort key and label
    for c in cases:
        first.setdefault(bench_results.variant(c), c)
    variants = sorted(first, key=lambda v: variant_key(first[v]))
    labels = [tick_label(first[v]) for v in variants]
    recordings = sorted({c["recording"] for c in cases})
    return levels, variants, labels, recordings


def grouped(cases, out, title, ylabel, series, log=False, marks=None, baseline=False):
    """series: [(counter, label, alpha)] stacked per bar; marks: counter drawn as a tick;
    baseline: a dotted line per recording at its sse case's stacked total (the ×sse reference)."""
    levels, variants, labels, recordings = layout(cases)
    fig_width = min(30, max(8, 0.55 * len(variants) * max(1, len(recordings)) + 3))
    fig, axes = plt.subplots(len(levels), 1, figsize=(fig_width, 3.6 * len(levels)), squeeze=False)
    width = 0.8 / max(1, len(recordings))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    by = {(c["concurrency"], bench_results.variant(c), c["recording"]): c for c in cases}
    for ax, level in zip(axes[:, 0], levels):
        for ri, rec in enumerate(recordings):
            xs = []
            for vi, v in enumerate(variants):
                c = by.get((level, v, rec))
                if not c:
                    continue
                x = vi - 0.4 + width * (ri + 0.5)
                bottom = 0.0
                for si, (key, label, alpha) in enumerate(series):
                    value = c["counters"].get(key, 0.0)
                    ax.bar(x, value, width, bottom=bottom, color=colors[ri % len(colors)], alpha=alpha,
                           hatch="//" if c["error"] else None,
                           label=f"{rec} ({label})" if vi == 0 or not xs else None)
                    bottom += value
                if marks and marks in c["counters"]:
                    ax.plot([x - width / 2, x + width / 2], [c["counters"][marks]] * 2, color="black", lw=1.5)
                xs.append(x)
            reference = by.get((level, "sse", rec))
            if baseline and reference and not reference["error"]:
                total = sum(reference["counters"].get(key, 0.0) for key, _, _ in series)
                if total > 0:
                    ax.axhline(total, color=colors[ri % len(colors)], ls=":", lw=1,
                               label=f"{rec} (sse)")
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(labels, fontsize=7 if len(variants) > 8 else 10)
        ax.set_title(f"{title} — {level} concurrent stream{'s' if level != 1 else ''}")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        seen = {}
        for h, l in zip(handles, names):
            seen.setdefault(l, h)
        ax.legend(seen.values(), seen.keys(), fontsize=7, ncol=2)
    fig.tight_layout()
    # Temporary names, then renames: a chart is never seen half-written.
    root, ext = os.path.splitext(out)
    tmp = f"{root}.tmp-{os.getpid()}{ext}"
    tmp_svg = f"{root}.tmp-{os.getpid()}.svg"
    fig.savefig(tmp, dpi=110)
    fig.savefig(tmp_svg, metadata=tradeoff_charts.SVG_METADATA)
    os.replace(tmp_svg, root + ".svg")
    plt.close(fig)
    os.replace(tmp, out)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.dirname(os.path.abspath(path))
    context, cases = bench_results.load(path)
    os.makedirs(out_dir, exist_ok=True)
    cases = [c for c in cases if c["counters"].get("streams", 0) > 0]
    if not cases:
        print("charts.py: no case with measurements", file=sys.stderr)
        return 1
    note = "on loopback the kernel's TCP work is charged to whichever side runs it"
    grouped(cases, os.path.join(out_dir, "lag.png"), "Delivery lag per token (bar p50, tick p99)",
            "lag ms (log)", [("lag_ms_p50", "p50", 0.9)], log=True, marks="lag_ms_p99")
    grouped(cases, os.path.join(out_dir, "bytes_per_token.png"),
            "Wire bytes per token (stacked: solid in, light out; TCP payload + 52 B/segment; "
            "dotted: sse)", "bytes per token (log)",
            [("wire_bytes_in_per_token", "in", 0.9), ("wire_bytes_out_per_token", "out", 0.4)], log=True,
            baseline=True)
    grouped(cases, os.path.join(out_dir, "cpu_per_token.png"),
            f"CPU per token (stacked: solid client, light server; dotted: sse)\n{note}",
            "µs per token (log)",
            [("client_cpu_us_per_token", "client", 0.9), ("server_cpu_us_per_token", "server", 0.4)],
            log=True, baseline=True)
    drawn = tradeoff_charts.draw_all(context, cases, out_dir)
    names = sorted({os.path.splitext(os.path.basename(p))[0] for p in drawn})
    print(f"charts: {out_dir}/ lag, bytes_per_token, cpu_per_token, {', '.join(names)} "
          "(.png, .svg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
