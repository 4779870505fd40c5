"""matplotlib for every chart of the scripts (Agg backend): figures saved as PNG and SVG
atomically, deterministic SVGs, the run's machine for titles, a case's colour."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402

from . import results  # noqa: E402

# Deterministic SVGs (no date, fixed element ids): drawing a run again changes no byte.
plt.rcParams["svg.hashsalt"] = "ssebench"
SVG_METADATA = {"Date": None}
PNG_DPI = 110
_TEXT_PATH = TextToPath()  # measures a title's width for wrap()


def wrap(text, width_in, fontsize):
    """Each line of `text` wrapped at spaces to `width_in` inches at `fontsize` points, measured
    in the default font: a title is never cut at the figure's edge."""
    font = FontProperties(size=fontsize)

    def inches(line):
        return _TEXT_PATH.get_text_width_height_descent(line, font, ismath=False)[0] / 72

    out = []
    for line in text.split("\n"):
        current = ""
        for word in line.split(" "):
            trial = f"{current} {word}" if current else word
            if current and inches(trial) > width_in:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return "\n".join(out)


def suptitle(fig, text, fontsize=10):
    """The figure's title wrapped to its width; returns the fraction of the height the layout
    must leave above the panels (tight_layout's rect top)."""
    text = wrap(text, fig.get_figwidth() - 0.2, fontsize)
    fig.suptitle(text, fontsize=fontsize)
    lines = text.count("\n") + 1
    return 1 - (0.2 + lines * 1.4 * fontsize / 72) / fig.get_figheight()


def close_gap(fig, above, pad_in=0.1):
    """After tight_layout: the panels raised to `pad_in` under the artist `above` (a legend
    between the title and the panels), the room tight_layout leaves there taken back."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    gap = above.get_window_extent(renderer).y0 - max(
        ax.title.get_window_extent(renderer).y1 if ax.get_title() else
        ax.get_window_extent(renderer).y1 for ax in fig.axes)
    fig.subplots_adjust(top=fig.subplotpars.top + gap / fig.bbox.height
                        - pad_in / fig.get_figheight())


def titled_layout(fig, text, fontsize=10):
    """suptitle(), tight_layout() under it, and the panels raised to just under the title (the
    room tight_layout leaves between them, in the matplotlib of Debian 12, is an inch)."""
    top = suptitle(fig, text, fontsize)
    fig.tight_layout(rect=(0, 0, 1, top))
    close_gap(fig, fig._suptitle)


def save(fig, path_png, dpi=PNG_DPI):
    """fig as PATH.png and PATH.svg, each through a temporary name and a rename: a chart is
    never seen half-written. Closes the figure; returns both paths."""
    root, _ = os.path.splitext(path_png)
    paths = []
    for ext in ("png", "svg"):
        final = f"{root}.{ext}"
        tmp = f"{root}.tmp-{os.getpid()}.{ext}"
        try:
            fig.savefig(tmp, dpi=dpi if ext == "png" else None,
                        metadata=SVG_METADATA if ext == "svg" else None)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        paths.append(final)
    plt.close(fig)
    return paths


def save_in(fig, out_dir, name):
    """save() as OUT_DIR/NAME.png and .svg."""
    return save(fig, os.path.join(out_dir, f"{name}.png"))


def machine(context, cases=()):
    """The run's context for a caption: 'vm: AMD EPYC, 2 cores, lo (MTU 65536), commit
    21caaef914a6, load 2.8 at the start', then the link, TLS, proxy and client settings the
    cases ran under when any is not the plain one ('link none, 3g · tls on · client browser')."""
    cores = context.get("cores") or context.get("num_cpus") or "?"
    iface = str(context.get("interface", "?")).split(" ")[0]
    text = (f"{context.get('host_name', '?')}: {context.get('cpu_model', '?')}, {cores} cores, "
            f"{iface} (MTU {context.get('interface_mtu_bytes', '?')}), "
            f"commit {context.get('ssebench_commit', '?')}")
    load = context.get("load_avg")
    if isinstance(load, list) and load:
        text += f", load {load[0]:.1f} at the start"
    axes = []
    for field in ("link", "tls", "proxy", "client"):
        values = list(dict.fromkeys(str(c.get(field, results.PLAIN[field])) for c in cases))
        if values and values != [str(results.PLAIN[field])]:
            axes.append(f"{field} {', '.join(values)}")
    return text + ("\n" + " · ".join(axes) if axes else "")


def tick(case, interval="\n{} ms"):
    """Short lines under a bar: the base transport, its interval (`interval` formats it), its
    shape, its variant parts one a line: 'poll\n250 ms\ndelta\nhttp:2', 'sse\nhttp:2'."""
    text = case["transport"]
    text += interval.format(case["interval_ms"]) if case["interval_ms"] else ""
    text += f"\n{case['shape']}" if case["shape"] else ""
    via = results.via(case)
    return text + ("\n" + via.replace(" ", "\n") if via else "")


def color(case, intervals):
    """One colour per base transport (results.COLORS), whatever its variant; poll's intervals
    on a blue-to-red ramp (`intervals`: the run's, results.intervals)."""
    fixed = results.COLORS.get(case["transport"])
    if fixed is not None:
        return fixed
    cmap = plt.get_cmap("plasma")
    i = intervals.index(case["interval_ms"]) if case["interval_ms"] in intervals else 0
    return cmap(0.1 + 0.75 * i / max(1, len(intervals) - 1))
