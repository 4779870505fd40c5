"""scripts/charts.py's bar charts (lag, bytes_per_token, cpu_per_token), then the trade-off
charts of tradeoff.py: one panel per load, one group per transport variant in results.sort_key's
order, one bar per recording; colours per recording, the sse reference as a dotted line."""
import os

from . import figures, linkcharts, plot, results, tradeoff
from .plot import plt


def tick_label(case):
    """'poll 250\ndelta', 'long-poll\nevents', 'sse', 'sse\nhttp:2': one short line each."""
    return plot.tick(case, " {}")


def layout(cases):
    levels = tradeoff.loads(cases)
    first = {}  # one case per variant, for its sort key and label
    for c in cases:
        first.setdefault(results.variant(c), c)
    variants = sorted(first, key=lambda v: results.sort_key(first[v]))
    labels = [tick_label(first[v]) for v in variants]
    recordings = sorted({c["recording"] for c in cases})
    return levels, variants, labels, recordings


def grouped(cases, out, title, ylabel, series, log=False, marks=None, baseline=False,
            context=None):
    """series: [(counter, label, alpha)] stacked per bar; marks: counter drawn as a tick;
    baseline: a dotted line per recording at its sse case's stacked total (the ×sse reference);
    context: the run's, named above the panels (plot.machine).
    A log axis is for one series only: stacked on a log axis, a part below the axis floor is
    hidden and an upper part's height depends on the one under it."""
    if log and len(series) > 1:
        raise ValueError(f"{out}: stacked bars on a log axis hide their lower parts")
    levels, variants, labels, recordings = layout(cases)
    fig_width = min(30, max(8, 0.55 * len(variants) * max(1, len(recordings)) + 3))
    fig, axes = plt.subplots(len(levels), 1, figsize=(fig_width, 3.6 * len(levels)), squeeze=False)
    width = 0.8 / max(1, len(recordings))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    by = {(results.load_key(c), results.variant(c), c["recording"]): c for c in cases}
    for ax, level in zip(axes[:, 0], levels):
        for ri, rec in enumerate(recordings):
            xs = []
            for vi, v in enumerate(variants):
                c = by.get((results.load_key(level), v, rec))
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
            reference = by.get((results.load_key(level), "sse", rec))  # plain sse
            if baseline and reference and not reference["error"]:
                total = sum(reference["counters"].get(key, 0.0) for key, _, _ in series)
                if total > 0:
                    ax.axhline(total, color=colors[ri % len(colors)], ls=":", lw=1,
                               label=f"{rec} (sse)")
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(labels, fontsize=7 if len(variants) > 8 else 10)
        # Centred over the axes, which the y label pushes right: an inch less than the figure.
        ax.set_title(plot.wrap(f"{title} — {results.load_text(level, 'concurrent stream')}",
                               fig_width - 1, 12))
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        seen = {}
        for h, l in zip(handles, names):
            seen.setdefault(l, h)
        ax.legend(seen.values(), seen.keys(), fontsize=7, ncol=2)
    plot.upright_if_crowded(fig)
    if context:
        plot.titled_layout(fig, plot.machine(context, cases), fontsize=9)
    else:
        fig.tight_layout()
    return plot.save(fig, out)


# The bar charts: (file, title, y label, [(counter, legend, alpha)] stacked, tick counter,
# sse baseline, log axis). Every counter is a row of figures.py (checked when drawn). Stacked
# charts are linear: on a log axis poll's client CPU and rest http:2's bytes in fell below the
# floor and vanished (issue 23).
NOTE = "on loopback the kernel's TCP work is charged to whichever side runs it"
BARS = [
    ("lag", "Delivery lag per token (bar p50, tick p99)", "delivery lag per token, ms (log)",
     [("lag_ms_p50", "p50", 0.9)], "lag_ms_p99", False, True),
    ("bytes_per_token", "Wire bytes per token (stacked: solid in, light out; TCP payload + "
     "52 B/segment; dotted: sse)", "wire bytes per token, B",
     [("wire_bytes_in_per_token", "in", 0.9), ("wire_bytes_out_per_token", "out", 0.4)], None,
     True, False),
    ("cpu_per_token", f"CPU per token (stacked: solid client, light server; dotted: sse)\n{NOTE}",
     "CPU per token, µs",
     [("client_cpu_us_per_token", "client", 0.9), ("server_cpu_us_per_token", "server", 0.4)],
     None, True, False),
]


def draw_all(context, cases, out_dir):
    """Every chart of a run into OUT_DIR; the paths written."""
    linkcharts.links(context, cases)  # a case on an unknown link fails before anything is drawn
    paths = []
    for name, title, ylabel, series, marks, baseline, log in BARS:
        for counter in [k for k, _, _ in series] + ([marks] if marks else []):
            figures.get(counter)
        paths += grouped(cases, os.path.join(out_dir, f"{name}.png"), title, ylabel, series,
                         log=log, marks=marks, baseline=baseline, context=context)
    paths += tradeoff.draw_all(context, cases, out_dir)
    return paths + linkcharts.draw_all(context, cases, out_dir)  # [] unless on several links
