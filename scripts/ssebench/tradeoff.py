"""The trade-off charts of a run (issue 10), drawn by scripts/charts.py beside its bar charts.

Each chart is one figure with a panel per recording (rows) and, where it says so, per load
(columns: the concurrency, rate or users); the figure's title names the machine, the commit,
the load at the start and any link, TLS, proxy or client setting from the run's context
(plot.machine), each panel its recording and load; every axis label carries its unit. Every chart is written as PNG and SVG.
- ttft: TTFT p50 by transport (bar; tick p99; hollow diamond: the model's prediction), the
  recording's own first-token time as a dashed line.
- lag_cdf: the delivery lag's CDF per transport, from the percentiles the JSON carries (min,
  p10, p25, p50, p75, p90, p95, p99, max; older runs have fewer).
- frontier: mean lag against wire bytes per token (in + out) and against server CPU per token,
  one point per transport × poll interval × shape at the run's highest concurrency; poll points
  of one shape joined across intervals; hollow markers: the model's (lag, bytes). Only the
  frontier (pareto(): the points nothing beats on both axes) is labelled, where no label
  overlaps another or a point (plot.place_labels); a panel of many settings is split by variant.
- bytes_split: bytes in per token split into payload (bodies without chunk framing), HTTP
  headers and framing, TCP/IP headers (52 B a segment); bytes out stacked light; x: the model.
- scaling: server CPU per token and p99 lag against concurrency (runs with several levels).
- model: measured against predicted (lag mean, bytes in per token), the bands as error bars.
"""
import math

from . import recordings, results
from . import figures, plot
from .plot import color as case_color, machine, plt, save_in

SHAPE_MARKERS = {"": "o", "openai": "X", "snapshot": "s", "delta": "^", "events": "D"}
SHAPE_LINES = {"": "-", "openai": ":", "snapshot": "--", "delta": "-", "events": "-."}
MIN_DRAWN_LAG_MS = 0.05  # the model's lag for sse and long-poll is ≈ 0: not drawn on a log axis
CDF_POINTS = [("lag_ms_min", 0.0), ("lag_ms_p10", 0.10), ("lag_ms_p25", 0.25),
              ("lag_ms_p50", 0.50), ("lag_ms_p75", 0.75), ("lag_ms_p90", 0.90),
              ("lag_ms_p95", 0.95), ("lag_ms_p99", 0.99), ("lag_ms_max", 1.0)]


def variant_key(case):
    return results.sort_key(case)


def label(case):
    """'poll http:2 250 ms delta', 'sse', 'ws turns:4': legends and annotations."""
    text = results.label(case) + (f" {case['interval_ms']} ms" if case["interval_ms"] else "")
    return text + (f" {case['shape']}" if case["shape"] else "")


def tick(case):
    """'poll', '50 ms', its shape, its variant ('http:2'): short lines under a bar."""
    return plot.tick(case)


def label_of(counter, log=False):
    """An axis label: the counter's label in figures.py."""
    return figures.get(counter).label + (" (log)" if log else "")


def loads(cases):
    """One case per load of the run (closed concurrency, open-loop rate, users), in order."""
    first = {}
    for c in cases:
        first.setdefault(results.load_key(c), c)
    return [first[k] for k in sorted(first)]


def same_load(a, b):
    return results.load_key(a) == results.load_key(b)


def grid(rows, cols, width_per_col, height_per_row):
    fig, axes = plt.subplots(rows, cols, figsize=(max(7, width_per_col * cols),
                                                  height_per_row * rows + 0.8), squeeze=False)
    return fig, axes


def save(fig, out_dir, name):
    return save_in(fig, out_dir, name)


def recorded_first_token_ms(case, recs):
    rec = recs.get(case["recording"])
    if rec is None or not rec.content:
        return None
    speed = case["counters"].get("speed", 1.0) or 1.0
    return rec.content[0]["t_us"] / 1000 / speed


def load_recordings(context, cases):
    recs = {}
    for rid in results.recordings(cases):
        try:
            recs[rid] = recordings.load_recording(rid, context.get("recordings"))
        except (OSError, ValueError):
            recs[rid] = None
    return recs


def ttft(context, cases, recs, out_dir):
    recs_in = results.recordings(cases)
    levels = loads(cases)
    variants = sorted({results.variant(c): c for c in cases}.values(), key=variant_key)
    fig, axes = grid(len(recs_in), len(levels), 0.45 * len(variants) + 2, 3.4)
    by = {(c["recording"], results.load_key(c), results.variant(c)): c for c in cases}
    for ri, rec in enumerate(recs_in):
        for li, level in enumerate(levels):
            ax = axes[ri][li]
            first = None
            for vi, v in enumerate(variants):
                c = by.get((rec, results.load_key(level), results.variant(v)))
                if not c or "ttft_ms_p50" not in c["counters"]:
                    continue
                k = c["counters"]
                ax.bar(vi, k["ttft_ms_p50"], 0.7, color=case_color(c, results.intervals(cases)),
                       alpha=0.85, hatch="//" if c["error"] else None)
                ax.text(vi, k["ttft_ms_p50"], f"{k['ttft_ms_p50']:.0f}", ha="center",
                        va="bottom", fontsize=5, rotation=90)
                if "ttft_ms_p99" in k:
                    ax.plot([vi - 0.35, vi + 0.35], [k["ttft_ms_p99"]] * 2, color="black", lw=1.2)
                if "predicted_ttft_ms_p50" in k:
                    ax.plot(vi, k["predicted_ttft_ms_p50"], marker="D", mfc="none", mec="red",
                            ms=6, ls="none")
                first = first or recorded_first_token_ms(c, recs)
            if first:
                ax.axhline(first, color="tab:green", ls="--", lw=1)
            ax.set_xticks(range(len(variants)))
            ax.set_xticklabels([tick(v) for v in variants], fontsize=6, rotation=90)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
            ax.set_ylabel(label_of("ttft_ms_p50"))
            ax.set_title(f"{rec} · {results.load_text(level)}", fontsize=9)
            ax.grid(axis="y", alpha=0.3)
    handles = [plt.Line2D([], [], color="tab:green", ls="--", label="recorded first-token time"),
               plt.Line2D([], [], color="black", lw=1.2, label="p99 (tick); bar: p50"),
               plt.Line2D([], [], marker="D", mfc="none", mec="red", ls="none",
                          label="model's prediction")]
    top = plot.suptitle(fig, f"Time to first token by transport (ms)\n{machine(context, cases)}")
    legend = fig.legend(handles=handles, loc="upper center", fontsize=8, ncol=3,
                        bbox_to_anchor=(0.5, top))
    plot.upright_if_crowded(fig)
    fig.tight_layout(rect=(0, 0, 1, top - 0.35 / fig.get_figheight()))
    plot.close_gap(fig, legend)
    return save(fig, out_dir, "ttft")


def lag_cdf(context, cases, out_dir):
    recs_in = results.recordings(cases)
    levels = loads(cases)
    intervals = results.intervals(cases)
    # A row per recording, or per recording and variant when one panel would hold more
    # settings than a reader tells apart (frontier_groups); the legend beside each row.
    rows = []
    for rec in recs_in:
        mine = sorted((c for c in cases if c["recording"] == rec), key=variant_key)
        per_load = max(sum(1 for c in mine if same_load(c, level)) for level in levels)
        groups = frontier_groups(mine) if per_load > MAX_FRONTIER_SETTINGS else [("", mine)]
        rows += [(rec, via, cs) for via, cs in groups]
    fig, axes = grid(len(rows), len(levels), 6.5, 3.6)
    fig.set_figwidth(fig.get_figwidth() + 2.4)
    for ri, (rec, via, group) in enumerate(rows):
        for li, level in enumerate(levels):
            ax = axes[ri][li]
            for c in (c for c in group if same_load(c, level)):
                pts = [(c["counters"][k], q) for k, q in CDF_POINTS if k in c["counters"]]
                pts = [(max(x, 1e-3), q) for x, q in pts]
                if len(pts) < 2:
                    continue
                xs, qs = zip(*pts)
                ax.plot(xs, qs, color=case_color(c, intervals), ls=SHAPE_LINES.get(c["shape"]),
                        marker=".", ms=3, lw=1.2, label=label(c))
            ax.set_xscale("log")
            plot.plain_log(ax, "x")
            ax.set_xlabel("delivery lag per token, ms (log)")
            ax.set_ylabel("fraction of tokens")
            ax.set_ylim(0, 1.02)
            ax.set_title(f"{rec} · {results.load_text(level)}" + (f" · {via}" if via else ""),
                         fontsize=9)
            ax.grid(alpha=0.3)
        handles, names = axes[ri][-1].get_legend_handles_labels()
        for ax in axes[ri][:-1]:  # every setting of the row, whichever load it ran at
            for h, n in zip(*ax.get_legend_handles_labels()):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        if handles:
            axes[ri][-1].legend(handles, names, fontsize=6, ncol=1 if len(names) <= 14 else 2,
                                loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    present = [k.replace("lag_ms_", "") for k, _ in CDF_POINTS
               if any(k in c["counters"] for c in cases)]
    plot.titled_layout(fig, f"Delivery lag CDF per transport (points: the run's "
                       f"{', '.join(present)})\n{machine(context, cases)}")
    return save(fig, out_dir, "lag_cdf")


# A frontier panel with more settings than this is split by variant (http:2, client:browser, …):
# past it the points of one panel crowd each other out of reading.
MAX_FRONTIER_SETTINGS = 14
def pareto(points):
    """The indices of the points no other point beats on both axes (lower is better): the
    frontier a reader chooses from."""
    best = []
    for i, (x, y) in enumerate(points):
        if not any((u <= x and v <= y) and (u < x or v < y) for j, (u, v) in enumerate(points)
                   if j != i):
            best.append(i)
    return best


def frontier_groups(mine):
    """The cases of one panel, or of several when there are too many settings to read: one
    panel per variant (results.via), the plain cases first, a variant of one or two settings
    (ws turns:4) kept with them."""
    if len(mine) <= MAX_FRONTIER_SETTINGS:
        return [("", mine)]
    groups = {}
    for c in mine:
        groups.setdefault(results.via(c), []).append(c)
    plain = [c for v, cs in groups.items() for c in cs if v == "" or len(cs) <= 2]
    out = [("", plain)] if plain else []
    out += [(v, cs) for v, cs in groups.items() if v != "" and len(cs) > 2]
    return out


def frontier(context, cases, out_dir, level=None, name="frontier"):
    """Mean lag against wire bytes and against server CPU per token, one point per setting at one
    load. Only the frontier's points (pareto(): nothing beats them on both axes) are labelled,
    joined by a step line; the others read by colour (transport, poll interval) and marker
    (shape). A panel of more than MAX_FRONTIER_SETTINGS settings is split by variant, each split
    panel showing the plain cases faintly for reference."""
    recs_in = results.recordings(cases)
    level = level or loads(cases)[-1]
    intervals = results.intervals(cases)
    panels = []  # (recording, variant, cases)
    for rec in recs_in:
        mine = sorted((c for c in cases if c["recording"] == rec and same_load(c, level)
                       and "lag_ms_mean" in c["counters"] and not c["error"]), key=variant_key)
        panels += [(rec, via, cs, mine) for via, cs in frontier_groups(mine)]
    fig, axes = grid(len(panels), 2, 6.5, 4.2)
    axis_of = [("wire", "wire bytes per token, in + out, B (log)"),
               ("server_cpu_us_per_token", label_of("server_cpu_us_per_token", log=True))]
    to_label = []  # (ax, [(text, x, y)])
    for ri, (rec, via, group, mine) in enumerate(panels):
        for col, (xkey, xlabel) in enumerate(axis_of):
            ax = axes[ri][col]

            def xy(c, xkey=xkey):
                k = c["counters"]
                x = results.wire_total(k) if xkey == "wire" else k.get(xkey)
                return None if x is None else (x, max(k["lag_ms_mean"], 1e-3))

            if via:  # the plain cases, faint: what the variant is read against
                for c in mine:
                    if results.is_plain(c) and xy(c):
                        ax.plot(*xy(c), marker=SHAPE_MARKERS.get(c["shape"], "o"), ls="none",
                                color=case_color(c, intervals), alpha=0.2, ms=5, zorder=1)
            drawn = [(c, xy(c)) for c in group if xy(c)]
            lines = {}
            for c, (x, y) in drawn:
                k = c["counters"]
                color = case_color(c, intervals)
                other = results.via(c) != via  # a small variant kept in the plain panel
                ax.plot(x, y, marker=SHAPE_MARKERS.get(c["shape"], "o"), color=color, ls="none",
                        ms=6, mec="red" if other else color, mew=1.2 if other else 1, zorder=3)
                if c["transport"] == "poll":  # a line per variant and shape
                    lines.setdefault((results.label(c), c["shape"]), []).append((x, y))
                if xkey == "wire" and k.get("predicted_lag_ms_mean", 0) >= MIN_DRAWN_LAG_MS and \
                        "predicted_wire_bytes_in_per_token" in k:
                    px = k["predicted_wire_bytes_in_per_token"] + k.get("wire_bytes_out_per_token",
                                                                        0)
                    ax.plot(px, max(k["predicted_lag_ms_mean"], 1e-3),
                            marker=SHAPE_MARKERS.get(c["shape"], "o"), mfc="none", mec=color,
                            ls="none", ms=9, alpha=0.5, zorder=2)
            for (_, shape), pts in lines.items():
                pts.sort(key=lambda p: p[1])
                ax.plot(*zip(*pts), color="0.6", lw=0.8, ls=SHAPE_LINES.get(shape, "-"), zorder=0)
            best = sorted((drawn[i] for i in pareto([p for _, p in drawn])), key=lambda d: d[1])
            if best:
                ax.step([p[0] for _, p in best], [p[1] for _, p in best], where="post",
                        color="tab:green", lw=2, alpha=0.35, zorder=0)
            to_label.append((ax, [(label(c), x, y) for c, (x, y) in best]))
            ax.set_xscale("log")
            ax.set_yscale("log")
            plot.plain_log(ax)
            ax.margins(0.12)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label_of("lag_ms_mean", log=True))
            ax.set_title(f"{rec} · {results.load_text(level)}" + (f" · {via}" if via else ""),
                         fontsize=9)
            ax.grid(alpha=0.3, which="both")
    present = {c["transport"] for c in cases}
    handles = [plt.Line2D([], [], color=results.COLORS[t], marker="o", ls="none", label=t)
               for t in results.TRANSPORTS if t in results.COLORS
               and (t in present or t != "ws")]
    handles += [plt.Line2D([], [], color=case_color({"transport": "poll", "interval_ms": i},
                                               intervals), marker="o", ls="none",
                           label=f"poll {i} ms") for i in intervals]
    handles += [plt.Line2D([], [], color="0.3", marker=m, ls="none", label=f"shape {s}")
                for s, m in SHAPE_MARKERS.items() if s and any(c["shape"] == s for c in cases)]
    handles.append(plt.Line2D([], [], color="tab:green", lw=2, alpha=0.35,
                              label="the frontier (labelled: nothing beats it on both axes)"))
    if any(results.via(c) for c in cases):
        handles.append(plt.Line2D([], [], color="0.6", marker="o", mec="red", ls="none",
                                  label="red edge: a variant (http:2, turns:4, …)"))
    handles.append(plt.Line2D([], [], color="0.3", marker="o", mfc="none", ls="none",
                              label="hollow: the model's (lag, bytes); sse, long-poll: ≈ 0"))
    ncol = min(5, len(handles))
    legend_in = 0.2 * math.ceil(len(handles) / ncol) + 0.1
    top = plot.suptitle(fig, f"Trade-off frontier: lag against network and server load, "
                        f"{results.load_text(level)} (lower left is better)\n"
                        f"{machine(context, cases)}")
    fig.legend(handles=handles, loc="upper center", fontsize=7, ncol=ncol,
               bbox_to_anchor=(0.5, top))
    fig.tight_layout(rect=(0, 0, 1, top - legend_in / fig.get_figheight()))
    plot.close_gap(fig, fig.legends[0])
    # Labels last, on the final layout: their places are measured in pixels.
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, items in to_label:
        unplaced = plot.place_labels(ax, items, renderer)
        if unplaced:  # said in the panel's corner rather than drawn over another label
            ax.text(0.01, 0.01, "also on the frontier: " + ", ".join(unplaced), fontsize=6,
                    transform=ax.transAxes, va="bottom", ha="left", color="tab:green")
    return save(fig, out_dir, name)


def split(case, recs):
    """(payload, http headers + framing, tcp/ip headers, out) bytes per token, or None."""
    k = case["counters"]
    try:
        http_in = k["http_bytes_in_per_token"]
        wire_in = k["wire_bytes_in_per_token"]
        tcp_in = k["tcp_payload_bytes_in_per_token"]
    except KeyError:
        return None
    tcpip = wire_in - tcp_in
    rec = recs.get(case["recording"])
    framing = 0.0
    if case["transport"] == "sse" and str(case["http"]) == "1.1" and rec is not None:
        framing = (sum(len(f"{len(e['bytes'].encode()):x}") + 4 for e in rec.events) + 5) / \
            max(rec.tokens, 1)
    if "http_header_bytes_in_per_token" in k:
        payload = http_in - k["http_header_bytes_in_per_token"] - framing
    elif "predicted_payload_bytes_in_per_token" in k:
        payload = min(k["predicted_payload_bytes_in_per_token"], http_in)  # older runs: the model's
    else:
        return None
    # TCP payload beyond the HTTP bytes (a retransmission) counts with the TCP/IP overhead.
    return (max(payload, 0.0), max(http_in - payload, 0.0), tcpip + max(tcp_in - http_in, 0.0),
            k.get("wire_bytes_out_per_token", 0.0))


def bytes_split(context, cases, recs, out_dir):
    recs_in = results.recordings(cases)
    level = loads(cases)[-1]
    variants = sorted({results.variant(c): c for c in cases}.values(), key=variant_key)
    ticks = [tick(v) for v in variants]
    # A tick line wider than its bar's slot ('client:browser-eventsource') would run into the
    # next: then the ticks stand upright, and the figure grows by their length.
    longest = max((len(line) for t in ticks for line in t.split("\n")), default=0)
    upright = longest > 9
    fig, axes = grid(len(recs_in), 1, 0.55 * len(variants) + 3,
                     3.4 + (0.075 * longest if upright else 0))
    by = {(c["recording"], results.load_key(c), results.variant(c)): c for c in cases}
    parts = [("payload (bodies, no chunk framing)", "tab:blue"),
             ("HTTP status, headers, chunk framing", "tab:orange"),
             ("TCP/IP headers (52 B per segment)", "tab:gray"),
             ("bytes out (requests, ACKs), all layers", "tab:olive")]
    measured_header = any("http_header_bytes_in_per_token" in c["counters"] for c in cases)
    seen = {}  # the legend: the first panel's parts
    for ri, rec in enumerate(recs_in):
        ax = axes[ri][0]
        splits = {}
        for vi, v in enumerate(variants):
            c = by.get((rec, results.load_key(level), results.variant(v)))
            s = split(c, recs) if c else None
            if s is not None:
                splits[vi] = (c, s)
        sse = [sum(s) for c, s in splits.values() if results.label(c) == "sse"]
        top = max([sum(s) for _, s in splits.values()] or [1])
        clip = min(top, 2.5 * sse[0]) if sse else top  # the few far taller bars are cut
        for vi, (c, s) in splits.items():
            bottom = 0.0
            for (name, color), value in zip(parts, s):
                ax.bar(vi, value, 0.7, bottom=bottom, color=color,
                       alpha=0.45 if name.startswith("bytes out") else 0.9,
                       label=name if vi == min(splits) else None)
                bottom += value
            total = sum(s)
            ax.text(vi, min(total, clip * 1.02), f"{total:.0f}" + (" ↑" if total > clip else ""),
                    ha="center", va="bottom", fontsize=6)
            if "predicted_wire_bytes_in_per_token" in c["counters"]:
                ax.plot(vi, min(c["counters"]["predicted_wire_bytes_in_per_token"], clip),
                        marker="x", color="red", ms=7, ls="none",
                        label="model: wire bytes in" if vi == min(splits) else None)
        ax.set_ylim(0, clip * 1.15)
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(ticks, fontsize=7, rotation=90 if upright else 0)
        ax.set_ylabel("bytes per token, B")
        ax.set_title(f"{rec} · {results.load_text(level)}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if ri == 0:
            handles, names = ax.get_legend_handles_labels()
            seen = dict(zip(names, handles))
    how = ("payload = HTTP bytes − status lines and headers (measured) − SSE chunk framing"
           if measured_header else "payload = the model's body bytes (this run has no header "
           "byte counter)")
    top = plot.suptitle(fig, f"Bytes per token by layer (stacked; number: the total; ↑: cut at "
                        f"2.5× sse)\n{how}\n{machine(context, cases)}", fontsize=9)
    # The legend under the title, the panels under the legend.
    legend = fig.legend(seen.values(), seen.keys(), fontsize=7, ncol=3, loc="upper center",
                        bbox_to_anchor=(0.5, top))
    rows = math.ceil(len(seen) / 3)
    fig.tight_layout(rect=(0, 0, 1, top - (0.2 * rows + 0.1) / fig.get_figheight()))
    plot.close_gap(fig, legend)
    return save(fig, out_dir, "bytes_split")


def scaling(context, cases, out_dir):
    cases = [c for c in cases if c["load"] == "closed"]  # against concurrency
    levels = sorted({c["concurrency"] for c in cases})
    if len(levels) < 2:
        return []
    recs_in = results.recordings(cases)
    intervals = results.intervals(cases)
    fig, axes = grid(len(recs_in), 2, 6.0, 3.4)
    fig.set_figwidth(fig.get_figwidth() + 2.6)  # the legend beside the panels
    for ri, rec in enumerate(recs_in):
        groups = {}
        for c in cases:
            if c["recording"] == rec and not c["error"]:
                groups.setdefault(results.variant(c), []).append(c)
        for col, key in enumerate(("server_cpu_us_per_token", "lag_ms_p99")):
            ylabel = label_of(key, log=True)
            ax = axes[ri][col]
            for v, cs in sorted(groups.items(), key=lambda item: variant_key(item[1][0])):
                pts = sorted((c["concurrency"], c["counters"][key]) for c in cs
                             if key in c["counters"])
                if len(pts) < 1:
                    continue
                c0 = cs[0]
                ax.plot(*zip(*pts), color=case_color(c0, intervals),
                        ls=SHAPE_LINES.get(c0["shape"], "-"),
                        marker=SHAPE_MARKERS.get(c0["shape"], "o"), ms=4, lw=1, label=label(c0),
                        # a variant (http:2, client:browser) hollow beside its plain case
                        mfc="white" if results.via(c0) else None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            plot.plain_log(ax)
            ax.set_xlabel("concurrent streams (log)")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{rec} · {', '.join(map(str, levels))} streams", fontsize=9)
            ax.grid(alpha=0.3, which="both")
            if ri == 0 and col == 1:  # beside the panels: over them it hid the lines
                ax.legend(fontsize=6, ncol=1 if len(groups) <= 14 else 2, loc="upper left",
                          bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    plot.titled_layout(fig, f"Scaling: server CPU per token and p99 lag against concurrency\n"
                        f"{machine(context, cases)}")
    return save(fig, out_dir, "scaling")


def model_fit(context, cases, out_dir):
    figures = [("lag_ms_mean", "mean delivery lag (polling, rest), ms"),
               ("wire_bytes_in_per_token", "wire bytes in per token, B"),
               ("requests_per_stream", "requests per stream")]
    intervals = results.intervals(cases)
    fig, axes = grid(1, len(figures), 5.0, 4.6)
    any_point = False
    for ax, (key, name) in zip(axes[0], figures):
        lo, hi = math.inf, 0
        for c in cases:
            k = c["counters"]
            if c["error"] or key not in k or "predicted_" + key not in k:
                continue
            p, band, m = k["predicted_" + key], k["predicted_" + key + "_band"], k[key]
            if key == "lag_ms_mean" and p < MIN_DRAWN_LAG_MS:
                continue  # sse, long-poll: predicted ≈ 0 ms, band a few ms
            floor = 1e-2
            ax.errorbar(max(p, floor), max(m, floor), xerr=[[min(band, max(p, floor) - floor / 2)],
                                                            [band]],
                        marker=SHAPE_MARKERS.get(c["shape"], "o"), color=case_color(c, intervals),
                        ms=4, lw=0.6, ls="none", alpha=0.8)
            lo, hi = min(lo, max(p, floor), max(m, floor)), max(hi, p + band, m)
            any_point = True
        if hi > 0:
            ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        plot.plain_log(ax)
        ax.set_xlabel(f"predicted {name} (log; bar: the band)")
        ax.set_ylabel(f"measured {name} (log)")
        ax.grid(alpha=0.3, which="both")
    if not any_point:
        plt.close(fig)
        return []
    plot.titled_layout(fig, f"The model against the measurement (dashed: measured = predicted; "
                        f"colors and markers as in frontier)\n{machine(context, cases)}")
    return save(fig, out_dir, "model")


def draw_all(context, cases, out_dir):
    recs = load_recordings(context, cases)
    paths = []
    paths += ttft(context, cases, recs, out_dir)
    paths += lag_cdf(context, cases, out_dir)
    paths += frontier(context, cases, out_dir)
    paths += bytes_split(context, cases, recs, out_dir)
    paths += scaling(context, cases, out_dir)
    paths += model_fit(context, cases, out_dir)
    return paths
