"""The charts of a run over several links (issue 16), drawn by scripts/charts.py beside the others
when the run's cases are on more than one link (field `link`; context.link_profiles gives each
profile's numbers):

- link_lag.png: delivery lag p50 and p99 against the link's RTT, a line per transport;
- link_bytes.png: wire bytes per token (in + out) against RTT;
- link_ttft.png: time to first token p50 against RTT (hollow: the model's prediction);
- link_crossover.png: the poll interval below which polling costs more than SSE (crossover.py,
  once per link) against RTT;
- link_hol.png: HTTP/1.1's connection per stream against HTTP/2's one connection on the lossy
  links at the run's highest concurrency: lag p50 and p99, failed streams, retransmissions.

RTT on a log axis; loopback (`none`, RTT 0) is drawn at LOOPBACK_X and labelled so. A line joins
the loss-free links whose rate is known; a lossy link is an ×, a trace (rate unknown) a △,
neither joined: they differ from their neighbours in more than the RTT.
"""
import os
import textwrap

from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from . import crossover, model, plot, results
from .plot import machine, plt, save_in

LOOPBACK_X = 0.3  # where RTT 0 sits on the log axis, ms
PREFERRED_SHAPES = ["delta", "events", "snapshot", "openai"]
MARK_LOSSY, MARK_TRACE, MARK_PLAIN = "x", "^", "o"


def profile(context, name):
    """{rtt_ms, down_mbit, up_mbit, loss, ...} of a link; loopback's zeros for `none`."""
    if name == "none":
        return {"rtt_ms": 0.0, "down_mbit": 0.0, "up_mbit": 0.0, "loss": 0.0}
    p = model.context_value(context, "link_profiles", {}).get(name)
    if not isinstance(p, dict):
        raise results.ResultsError(f"link '{name}' is not in the run's context.link_profiles")
    return p


def links(context, cases):
    """The run's links in RTT order (loopback first), each (name, profile)."""
    names = list(dict.fromkeys(c["link"] for c in cases))
    return sorted(((n, profile(context, n)) for n in names),
                  key=lambda lp: (float(lp[1].get("rtt_ms") or 0), float(lp[1].get("loss") or 0),
                                  lp[0]))


def short_name(name):
    """A profile's name for ticks and sentences: a trace by its down file's name
    ('trace:…/Verizon-LTE-short.down,…' → 'trace Verizon-LTE-short')."""
    if not name.startswith("trace:"):
        return name
    down = name[len("trace:"):].split(",")[0]
    return "trace " + os.path.splitext(os.path.basename(down))[0]


def is_multi_link(cases):
    return len({c["link"] for c in cases}) > 1


def x_of(p):
    rtt = float(p.get("rtt_ms") or 0)
    return rtt if rtt > 0 else LOOPBACK_X


def marker(name, p):
    if float(p.get("loss") or 0) > 0:
        return MARK_LOSSY
    if name != "none" and not (p.get("down_mbit") and p.get("up_mbit")):
        return MARK_TRACE
    return MARK_PLAIN


def off_link(case):
    """The case as if on loopback: its series key is the same on every link."""
    return dict(case, link="none")


def series_key(case):
    return results.variant(off_link(case))


def chosen(cases):
    """The cases the RTT charts draw: HTTP/1.1 without a connection cap, poll and long-poll in one
    shape (the first of PREFERRED_SHAPES the run has), not failed; at each recording's highest
    load: the one measured on the most links, the highest closed-loop concurrency of those."""
    shapes = {c["shape"] for c in cases if c["shape"]}
    shape = next((s for s in PREFERRED_SHAPES if s in shapes), None)
    out = {}
    for c in cases:
        if c["error"] or str(c["http"]) != "1.1" or c["host_conns"] or c["turns"] not in (None, 1):
            continue
        if c["shape"] and c["shape"] != shape:
            continue
        out.setdefault(c["recording"], []).append(c)
    for rec, cs in out.items():
        on = {}
        for c in cs:
            on.setdefault(results.load_key(c), set()).add(c["link"])
        level = max(on, key=lambda k: (len(on[k]), k[0] == 0, k))
        out[rec] = [c for c in cs if results.load_key(c) == level]
    return out


def color(case, intervals):
    from .plot import color as plot_color
    return plot_color(off_link(case), intervals)


def rtt_axis(ax, context, cases, ylabel):
    ls = links(context, cases)
    xs = {}
    for name, p in ls:
        xs.setdefault(x_of(p), []).append(short_name(name) if name != "none" else "loopback")
    ax.set_xscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{'/'.join(v)}\n{k if k != LOOPBACK_X else 0:g} ms"
                        for k, v in xs.items()],
                       fontsize=6, rotation=40, ha="right")
    ax.minorticks_off()
    ax.set_xlabel("link RTT, ms (log" + ("; loopback at the left)" if "none" in dict(ls)
                                          else ")"))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")


def draw_lines(ax, context, cases, value, intervals, predicted=None):
    """A line per series over the loss-free links; lossy and trace links as lone markers."""
    by = {}
    for c in cases:
        by.setdefault(series_key(c), []).append(c)
    drawn = False
    for key in sorted(by, key=lambda k: results.sort_key(off_link(by[k][0]))):
        pts = []
        for c in by[key]:
            v = value(c)
            if v is None or v <= 0:
                continue
            p = profile(context, c["link"])
            pts.append((x_of(p), v, marker(c["link"], p), c))
        if not pts:
            continue
        col = color(by[key][0], intervals)
        line = sorted((x, v) for x, v, m, _ in pts if m == MARK_PLAIN)
        if line:
            ax.plot([x for x, _ in line], [v for _, v in line], marker="o", ms=3, lw=1.2,
                    color=col, label=key)
        for x, v, m, _ in pts:
            if m != MARK_PLAIN:
                ax.plot(x, v, marker=m, ms=6, color=col, ls="none",
                        label=None if line else key)
        if predicted:
            for x, _, _, c in pts:
                pv = c["counters"].get(predicted)
                if pv and pv > 0:
                    ax.plot(x, pv, marker="o", ms=6, mfc="none", mec=col, ls="none")
        drawn = True
    return drawn


def finish(fig, title, context, rows):
    """The title wrapped to the figure's width (about 12 characters an inch at 10 pt), so it
    never runs off the sides, and room made for its lines above the panels."""
    lines = textwrap.wrap(title, int(fig.get_figwidth() * 12)) + [machine(context)]
    plot.upright_if_crowded(fig)
    fig.suptitle("\n".join(lines), fontsize=10)
    # tight_layout leaves the suptitle out of its sums here: keep its lines' height free
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.12 + 0.18 * len(lines)) / fig.get_figheight()))


def plain_log_y(ax):
    """A log y axis whose ticks read 50, 200, 1000, not 5×10¹."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def legend(ax):
    handles, names = ax.get_legend_handles_labels()
    seen = {}
    for h, n in zip(handles, names):
        seen.setdefault(n, h)
    if seen:
        ax.legend(list(seen.values()), list(seen), fontsize=6, ncol=2)


def rtt_chart(context, cases, out_dir, name, title, panels, log_y=True):
    """panels: [(y label, value(case) or None, predicted counter or None)]: a column each, a row
    per recording."""
    groups = chosen(cases)
    if not groups:
        return []
    intervals = results.intervals(cases)
    recs = list(groups)
    fig, axes = plt.subplots(len(recs), len(panels), squeeze=False,
                             figsize=(max(7.5, 6.0 * len(panels)), 4.2 * len(recs) + 1.0))
    any_drawn = False
    for row, rec in enumerate(recs):
        cs = groups[rec]
        for col, (ylabel, value, predicted) in enumerate(panels):
            ax = axes[row][col]
            any_drawn |= draw_lines(ax, context, cs, value, intervals, predicted)
            rtt_axis(ax, context, cases, ylabel)
            if log_y:
                plain_log_y(ax)
            ax.set_title(f"{rec} · {results.load_text(cs[0])}", fontsize=9)
            legend(ax)
    if not any_drawn:
        plt.close(fig)
        return []
    finish(fig, title, context, len(recs))
    return save_in(fig, out_dir, name)


def counter(key):
    return lambda c: c["counters"].get(key)


def lag_chart(context, cases, out_dir):
    return rtt_chart(context, cases, out_dir, "link_lag",
                     "Delivery lag against the link's RTT (lines: loss-free links; × lossy, "
                     "△ trace)",
                     [("lag p50, ms (log)", counter("lag_ms_p50"), None),
                      ("lag p99, ms (log)", counter("lag_ms_p99"), None)])


def bytes_chart(context, cases, out_dir):
    return rtt_chart(context, cases, out_dir, "link_bytes",
                     "Wire bytes per token (in + out) against the link's RTT",
                     [("wire bytes per token, in + out (log)", results.wire_total, None)])


def ttft_chart(context, cases, out_dir):
    return rtt_chart(context, cases, out_dir, "link_ttft",
                     "Time to first token against the link's RTT (hollow: the model's)",
                     [("TTFT p50, ms (log)", counter("ttft_ms_p50"), "predicted_ttft_ms_p50")])


def crossovers(context, cases):
    """{link: crossover.find's rows} for each link whose cases make a sweep."""
    out = {}
    for name, _ in links(context, cases):
        rows = crossover.find([off_link(c) for c in cases if c["link"] == name])
        if rows:
            out[name] = rows
    return out


def crossover_chart(context, cases, out_dir):
    found = crossovers(context, cases)
    if not found:
        return []
    keys = []
    for rows in found.values():
        for r in rows:
            k = (r["recording"], r["load"])
            if k not in keys:
                keys.append(k)
    fig, axes = plt.subplots(len(keys), 2, squeeze=False,
                             figsize=(12.0, 4.0 * len(keys) + 1.0))
    colors = {"openai": "tab:gray", "snapshot": "tab:red", "delta": "tab:green",
              "events": "tab:blue"}
    how_marker = {"at": "o", "below": "v", "above": "^"}
    for row, key in enumerate(keys):
        for col, (kind, what) in enumerate(crossover.COSTS):
            ax = axes[row][col]
            series = {}
            for name, rows in found.items():
                x = x_of(profile(context, name))
                for r in rows:
                    if (r["recording"], r["load"]) == key and r["cost"] == kind:
                        series.setdefault(r["shape"], []).append((x, r["interval_ms"], r["how"]))
            for shape, pts in series.items():
                pts.sort()
                col_ = colors.get(shape, "black")
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=col_, lw=1, label=shape)
                for x, y, how in pts:
                    ax.plot(x, y, marker=how_marker[how], color=col_, ms=5,
                            mfc=col_ if how == "at" else "none", ls="none")
            rtt_axis(ax, context, cases, "crossover poll interval P*, ms (log)")
            plain_log_y(ax)
            ax.set_title(f"{key[0]} · {key[1]} · {what}", fontsize=9)
            legend(ax)
    finish(fig, "Below which poll interval polling costs more than SSE, per link (● crossing, "
           "▽ cheaper at every interval measured, △ dearer at every one)", context, len(keys))
    return save_in(fig, out_dir, "link_crossover")


def same_link_but_loss(a, b):
    return all(float(a.get(k) or 0) == float(b.get(k) or 0)
               for k in ("rtt_ms", "down_mbit", "up_mbit"))


def hol_cases(context, cases):
    """({(link, recording, transport setting): {"1.1": case, "2": case}}, concurrency) on the
    lossy links, and a loss-free link of the same RTT and rates when the run has one (the
    reference: what the queue alone does), at the run's highest concurrency there, for the
    transports measured over both HTTP versions."""
    ls = links(context, cases)
    lossy = [n for n, p in ls if float(p.get("loss") or 0) > 0]
    lossy += [n for n, p in ls if not float(p.get("loss") or 0) and n != "none"
              and any(same_link_but_loss(p, profile(context, m)) for m in lossy)]
    closed = [c for c in cases if c["load"] == "closed" and c["link"] in lossy
              and not c["host_conns"]]
    if not closed:
        return {}, None
    top = max(c["concurrency"] or 0 for c in closed)
    pairs = {}
    for c in closed:
        if c["concurrency"] != top:
            continue
        key = (c["link"], c["recording"], results.variant(dict(off_link(c), http="1.1")))
        pairs.setdefault(key, {})[str(c["http"])] = c
    return {k: v for k, v in pairs.items() if "1.1" in v and "2" in v}, top


def hol_chart(context, cases, out_dir):
    pairs, top = hol_cases(context, cases)
    if not pairs:
        return []
    keys = sorted(pairs, key=lambda k: (float(profile(context, k[0]).get("loss") or 0), k))
    # Linear axes: bars on a log axis start nowhere in particular and overstate differences.
    panels = [("lag p50, ms", "lag_ms_p50", False), ("lag p99, ms", "lag_ms_p99", False),
              ("failed streams", "errors", False),
              ("client TCP retransmissions, segments", "tcp_retransmits", False)]
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(max(12.0, 1.0 * len(keys) * len(panels)), 5.6))
    width = 0.38
    for ax, (ylabel, key, log) in zip(axes[0], panels):
        for i, k in enumerate(keys):
            for j, (http, col) in enumerate((("1.1", "tab:blue"), ("2", "tab:orange"))):
                c = pairs[k][http]
                v = c["counters"].get(key, 0.0) or 0.0
                if log and v <= 0:
                    continue
                ax.bar(i + (j - 0.5) * width, max(v, 0.0), width, color=col,
                       hatch="//" if c["error"] else None,
                       label=f"HTTP/{http}" + (" (one connection)" if http == "2" else
                                               " (a connection per stream)") if i == 0 else None)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([f"{short_name(k[0])}\n{k[2]}\n{textwrap.fill(k[1], 14)}"
                            for k in keys], fontsize=6)
        ax.set_ylabel(ylabel)
        if log:
            plain_log_y(ax)
        else:
            ax.set_ylim(0, max([ax.get_ylim()[1], 1.0]))
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=8)
    losses = ", ".join(f"{short_name(n)} {float(profile(context, n).get('loss') or 0):.0%}"
                       for n in dict.fromkeys(k[0] for k in keys))
    losses = losses.replace(" 0%", " no loss")
    finish(fig, f"Head-of-line blocking: HTTP/2's one connection against HTTP/1.1's connection "
           f"per stream, {top} concurrent streams ({losses} loss each way; hatched: the case "
           f"failed)", context, 1)
    fig.subplots_adjust(bottom=0.22)  # the shared legend under the panels
    return save_in(fig, out_dir, "link_hol")


def draw_all(context, cases, out_dir):
    """Every link chart the run has the cases for; [] unless it is on more than one link."""
    if not is_multi_link(cases):
        return []
    paths = []
    for draw in (lag_chart, bytes_chart, ttft_chart, crossover_chart, hol_chart):
        paths += draw(context, cases, out_dir)
    return paths


def rtt_label(p):
    rtt = float(p.get("rtt_ms") or 0)
    return "loopback" if rtt == 0 else f"{rtt:g} ms"

