"""matplotlib for every chart of the scripts (Agg backend): figures saved as PNG and SVG
atomically, deterministic SVGs, the run's machine for titles, a case's colour."""
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402
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


def plain_log(ax, which="xy"):
    """Log axes whose ticks read 0.5, 2, 100, 1000 — not 5×10⁻¹, 2×10², whose minor labels ran
    into each other on a narrow range — at 1, 2 and 5 of each decade; over more than four
    decades only the powers of ten are labelled (1000 and 2000 would touch)."""
    def formatter(axis):
        def text(v, _):
            lo, hi = axis.get_view_interval()
            mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9) if v > 0 else 1
            wide = min(lo, hi) > 0 and max(lo, hi) / min(lo, hi) > 1e4
            return "" if wide and abs(mantissa - 1) > 1e-6 else f"{v:g}"
        return FuncFormatter(text)

    for axis in [getattr(ax, f"{w}axis") for w in which]:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(formatter(axis))
        axis.set_minor_formatter(NullFormatter())


def upright_if_crowded(fig):
    """Each axes' x tick labels turned upright when two of them touch as drawn (a run over
    several links: 'sse\nlink:3g' beside 'sse\nlink:geo-satellite'). Before the last layout,
    which makes room for them."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        lo, hi = sorted(ax.get_xlim())
        shown = [t for tick, t in zip(ax.xaxis.get_major_ticks(), ax.get_xticklabels())
                 if t.get_text().strip() and lo <= tick.get_loc() <= hi]
        boxes = [t.get_window_extent(renderer) for t in shown]
        if any(a.x1 > b.x0 + 1 and b.x1 > a.x0 + 1 and a.y1 > b.y0 and b.y1 > a.y0
               for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            for t in shown:
                t.set_rotation(90)
                t.set_ha("center")


def titled_layout(fig, text, fontsize=10):
    """suptitle(), tight_layout() under it, and the panels raised to just under the title (the
    room tight_layout leaves between them, in the matplotlib of Debian 12, is an inch)."""
    top = suptitle(fig, text, fontsize)
    fig.tight_layout(rect=(0, 0, 1, top))
    close_gap(fig, fig._suptitle)


# Where a point's label may go, in points from the point, tried in order (ha follows the side).
LABEL_OFFSETS = [(5, 3), (5, -9), (-5, 3), (-5, -9), (0, 8), (0, -14), (12, 10), (12, -16),
                 (-12, 10), (-12, -16), (22, 0), (-22, 0), (0, 20), (0, -26), (28, 18),
                 (28, -24), (-28, 18), (-28, -24), (40, 6), (-40, 6), (40, -12), (-40, -12),
                 (10, -30), (-10, -30), (50, 24), (50, -32), (-50, 24), (-50, -32), (0, 40),
                 (0, -44)]


def place_labels(ax, items, renderer):
    """Each (text, x, y[, colour]) labelled beside its point at the first offset where the label
    overlaps no label placed before it and no point, and stays inside the axes; on one line, or
    else on two ('poll http:2' over '250 ms delta'). Returns the texts that found no place (the
    caller lists them). Called once the layout is final: places are measured in pixels."""
    ax_box = ax.get_window_extent(renderer)
    taken = []
    for line in ax.get_lines():  # every drawn marker, as a small box
        if line.get_marker() in (None, "None", "") or not line.get_visible() \
                or (line.get_alpha() or 1) < 0.3 or line.get_markerfacecolor() == "none":
            continue  # a faint reference point or the model's hollow one may be covered
        size = line.get_markersize() * renderer.points_to_pixels(1) / 2 + 1
        for px, py in ax.transData.transform(line.get_xydata()):
            taken.append((px - size, py - size, px + size, py + size))
    unplaced = []
    for text, x, y, *colour in items:
        # Straight above or below, the label may also start or end at the point.
        words = text.split(" ")
        cut = -3 if "ms" in words[-2:] and len(words) > 3 else -2  # '250 ms delta' together
        two_lines = " ".join(words[:cut]) + "\n" + " ".join(words[cut:]) if len(words) > 2 \
            else text
        tries = [(shown, dx, dy, ha) for shown in dict.fromkeys([text, two_lines])
                 for dx, dy in LABEL_OFFSETS
                 for ha in (["left"] if dx > 0 else ["right"] if dx < 0
                            else ["center", "left", "right"])]
        for shown, dx, dy, ha in tries:
            a = ax.annotate(shown, (x, y), xytext=(dx, dy), textcoords="offset points",
                            fontsize=6.5, ha=ha, va="bottom", color=(colour or ["black"])[0],
                            arrowprops=dict(arrowstyle="-", lw=0.4, color="0.4",
                                            shrinkA=0, shrinkB=3) if abs(dx) + abs(dy) > 20
                            else None)
            box = a.get_window_extent(renderer)
            inside = (box.x0 >= ax_box.x0 + 1 and box.x1 <= ax_box.x1 - 1
                      and box.y0 >= ax_box.y0 + 1 and box.y1 <= ax_box.y1 - 1)
            if inside and not any(box.x0 < t[2] and box.x1 > t[0] and box.y0 < t[3]
                                  and box.y1 > t[1] for t in taken):
                taken.append((box.x0 - 1, box.y0 - 1, box.x1 + 1, box.y1 + 1))
                break
            a.remove()
        else:
            unplaced.append(text)
    return unplaced


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
    from .linkcharts import short_name

    axes = []
    for field in ("link", "tls", "proxy", "client"):
        values = list(dict.fromkeys(str(c.get(field, results.PLAIN[field])) for c in cases))
        values = [short_name(v) for v in values] if field == "link" else values
        if values and values != [str(results.PLAIN[field])]:
            axes.append(f"{field} {', '.join(values)}")
    return text + ("\n" + " · ".join(axes) if axes else "")


def tick(case, interval="\n{} ms"):
    """Short lines under a bar: the base transport, its interval (`interval` formats it), its
    shape, its variant parts one a line: 'poll\n250 ms\ndelta\nhttp:2', 'sse\nhttp:2'."""
    from .linkcharts import short_name  # (linkcharts draws with this module)

    text = case["transport"]
    text += interval.format(case["interval_ms"]) if case["interval_ms"] else ""
    text += f"\n{case['shape']}" if case["shape"] else ""
    # A trace link by its down file's name: its whole path made the ticks taller than the panel.
    parts = [f"link:{short_name(p[5:])}" if p.startswith("link:") else p
             for p in results.via(case).split(" ") if p]
    return "\n".join([text] + parts)


def color(case, intervals):
    """One colour per base transport (results.COLORS), whatever its variant; poll's intervals
    on a blue-to-red ramp (`intervals`: the run's, results.intervals)."""
    fixed = results.COLORS.get(case["transport"])
    if fixed is not None:
        return fixed
    cmap = plt.get_cmap("plasma")
    i = intervals.index(case["interval_ms"]) if case["interval_ms"] in intervals else 0
    return cmap(0.1 + 0.75 * i / max(1, len(intervals) - 1))
