"""scripts/report.py's logic: the findings section of results/README.md from a run's JSON."""

import difflib
import os
import re
import textwrap

from . import crossover, recordings, results

ROOT = recordings.ROOT
BEGIN = re.compile(r"<!-- report:begin (\S+)(?: (\S+))? -->")
END = "<!-- report:end -->"
# What "good enough" means here, stated with the findings: a stream whose tokens arrive at most
# this much later than SSE's (p99 of the added lag) still reads as a stream to a person.
GOOD_ENOUGH_LAG_P99_MS = 300.0
SHOWN_SHAPES = ["delta", "events", "snapshot", "openai"]


def fmt(v, digits=None):
    if v is None:
        return "-"
    if digits is not None:
        return f"{v:,.{digits}f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.2f}"


def between(lo, hi, digits=None):
    """'0.32–0.34', or one number when both ends print the same ('325', not '325–325')."""
    a, b = fmt(lo, digits), fmt(hi, digits)
    return a if a == b else f"{a}–{b}"


def ratio(a, b):
    return a / b if a is not None and b else None


def wire(c):
    return results.wire_total(c)


def cpu(c):
    return c["counters"].get("server_cpu_us_per_token")


def rel(path):
    return os.path.relpath(os.path.abspath(path), ROOT)


class Run:
    def __init__(self, path):
        self.path = path
        self.context, cases = results.load(path)
        self.cases = [c for c in cases if not c["error"]]
        self.failed = [c for c in cases if c["error"]]
        self.recordings = list(dict.fromkeys(c["recording"] for c in self.cases))
        self.levels = sorted({c["concurrency"] for c in self.cases if c["load"] == "closed"})
        self.intervals = sorted({c["interval_ms"] for c in self.cases if c["interval_ms"]})
        # By label: 'poll' is plain poll, 'poll http:2' another setting.
        self.by = {(results.label(c), c["recording"], c["concurrency"], c["interval_ms"],
                    c["shape"]): c for c in self.cases}

    def get(self, transport, rec, level, interval=0, shape=""):
        return self.by.get((transport, rec, level, interval, shape))


def lag(c, key="lag_ms_mean"):
    return c["counters"].get(key) if c else None


def envelope_bytes(run):
    """(least, most) over the run's recordings of the mean bytes an SSE content event carries
    beyond its text (SSE framing and the JSON around the token), from the recordings."""
    means = []
    for r in run.recordings:
        try:
            rec = recordings.load_recording(r, run.context.get("recordings"))
        except (OSError, ValueError):
            continue
        texts = [t for e, t in zip(rec.job_events, rec.text_escaped)
                 if e.get("kind") in recordings.CONTENT_KINDS]
        events = [e for e in rec.job_events if e.get("kind") in recordings.CONTENT_KINDS]
        if events:
            means.append(sum(len(e["bytes"].encode()) - len(t.encode())
                             for e, t in zip(events, texts)) / len(events))
    return (min(means), max(means)) if means else (0, 0)


def section(run_path, sweep_path=None, reference=True):
    """The findings of a run as markdown. reference=False: for any run's own report
    (report.html), which names the run without a link into results/ and draws its own charts."""
    run = Run(run_path)
    level = max(run.levels)
    ctx = run.context
    out = []
    say = out.append
    tokens = {r: next(c["counters"].get("tokens_per_stream") for c in run.cases
                      if c["recording"] == r) for r in run.recordings}
    duration = {}
    for r in run.recordings:
        rest = run.get("rest", r, level)
        sse = run.get("sse", r, level)
        duration[r] = (lag(sse, "ttlt_ms_p50") if sse else None)
    name = os.path.basename(os.path.abspath(run_path))
    files = ("Its table, JSON and charts (`frontier.png`, `lag_cdf.png`, `ttft.png`, "
             "`bytes_split.png`, `scaling.png`, `model.png`, `crossover.png`) are in the folder. "
             if reference else "")
    say((f"Reference run: [{rel(run_path)}/]({name}/)" if reference else f"Run `{name}`") + " — "
        f"commit `{ctx.get('ssebench_commit', '?')}`, {ctx.get('ssebench_build_type', '?')}, "
        f"{ctx.get('cpu_model', '?')} × {ctx.get('cores') or ctx.get('num_cpus')} cores, "
        f"interface `{str(ctx.get('interface', '?')).split(' ')[0]}` (MTU "
        f"{ctx.get('interface_mtu_bytes', '?')}), {len(run.cases) + len(run.failed)} cases"
        f" ({len(run.failed)} failed), concurrency {', '.join(map(str, run.levels))}, poll "
        f"intervals {', '.join(map(str, run.intervals)) or 'none'} ms, speed "
        f"{ctx.get('speed', '?')}. {files}The figures below are at {level} concurrent streams, "
        "per token, from that run's "
        "`benchmark.json`.")
    say("")
    rate = {r: tokens[r] / (duration[r] / 1000) if duration[r] else None for r in run.recordings}
    say("| recording | tokens | SSE stream (ttlt p50) | tokens per second |")
    say("|---|---:|---:|---:|")
    for r in run.recordings:
        say(f"| `{r}` | {fmt(tokens[r], 0)} | {fmt(duration[r], 0)} ms | {fmt(rate[r], 0)} |")
    say("")

    # 1. Latency.
    say("**Does SSE give lower latency than polling?**")
    sse_means = [lag(run.get("sse", r, level)) for r in run.recordings]
    sse_p99 = [lag(run.get("sse", r, level), "lag_ms_p99") for r in run.recordings]
    sse_means = [v for v in sse_means if v is not None]
    sse_p99 = [v for v in sse_p99 if v is not None]
    lines = []
    if sse_means:
        across = (f"across the {len(sse_means)} recordings" if len(sse_means) > 1
                  else "on its one recording")
        lines.append(f"SSE adds {between(min(sse_means), max(sse_means))} ms per token on "
                     f"average (p99 {between(min(sse_p99), max(sse_p99))} ms) {across}.")
    for p in run.intervals:
        means = [lag(run.get("poll", r, level, p, "delta")) for r in run.recordings]
        p99s = [lag(run.get("poll", r, level, p, "delta"), "lag_ms_p99") for r in run.recordings]
        means, p99s = [v for v in means if v is not None], [v for v in p99s if v is not None]
        if means and sse_means:
            lines.append(f"Polling every {p} ms adds {between(min(means), max(means))} ms "
                         f"(p99 {between(min(p99s), max(p99s))} ms; METRICS.md's P/2 = "
                         f"{p / 2:g} and 0.99·P = {0.99 * p:g}), at least "
                         f"{fmt(min(means) / max(sse_means), 0)}× SSE's.")
    openai = [(r, lag(run.get("poll", r, level, run.intervals[0], "openai")))
              for r in run.recordings] if run.intervals else []
    openai = [(r, v) for r, v in openai if v is not None]
    if openai:
        worst = max(openai, key=lambda x: x[1])
        lines.append(f"The `openai` shape (\"poll until complete\") adds the rest of the stream "
                     f"even at {run.intervals[0]} ms: up to {fmt(worst[1], 0)} ms on average "
                     f"(`{worst[0]}`), as REST does.")
    lp = [lag(run.get("long-poll", r, level, 0, "delta")) for r in run.recordings]
    lp = [v for v in lp if v is not None]
    if lp and sse_means:
        word = "as low as" if max(lp) <= 2 * max(sse_means) else "above"
        lines.append(f"Long polling's lag is {word} SSE's: {between(min(lp), max(lp))} ms.")
    fastest = [lag(run.get("poll", r, level, run.intervals[0], "delta"))
               for r in run.recordings] if run.intervals else []
    fastest = [v for v in fastest if v is not None]
    if not sse_means:
        say("No SSE case in this run.")
    else:
        verdict = ("Yes." if fastest and max(sse_means) < min(fastest) else
                   "No `delta` poll at this concurrency in this run to compare with."
                   if not fastest else "Not at every setting of this run.")
        say(verdict + " " + " ".join(lines))
    say("")
    header = ["recording", "sse", "long-poll delta"] + [f"poll {p} ms delta" for p in
                                                        run.intervals] + [
        f"poll {run.intervals[-1]} ms openai" if run.intervals else None, "rest"]
    header = [h for h in header if h]
    say("Mean / p99 delivery lag, ms:")
    say("")
    say("| " + " | ".join(header) + " |")
    say("|---|" + "---:|" * (len(header) - 1))
    for r in run.recordings:
        cells = [f"`{r}`"]
        cols = [run.get("sse", r, level), run.get("long-poll", r, level, 0, "delta")]
        cols += [run.get("poll", r, level, p, "delta") for p in run.intervals]
        if run.intervals:
            cols.append(run.get("poll", r, level, run.intervals[-1], "openai"))
        cols.append(run.get("rest", r, level))
        for c in cols:
            cells.append(f"{fmt(lag(c))} / {fmt(lag(c, 'lag_ms_p99'))}" if c else "-")
        say("| " + " | ".join(cells) + " |")
    say("")

    # 2. Load.
    say("**How much less server and network load?**")
    lines = []
    for r in run.recordings:
        sse = run.get("sse", r, level)
        if not sse or not run.intervals:
            continue
        slow = run.get("poll", r, level, run.intervals[-1], "delta")
        fast = run.get("poll", r, level, run.intervals[0], "delta")
        if not slow or not fast:
            continue
        b_slow, c_slow = ratio(wire(slow), wire(sse)), ratio(cpu(slow), cpu(sse))
        b_fast, c_fast = ratio(wire(fast), wire(sse)), ratio(cpu(fast), cpu(sse))
        also = (f", at {run.intervals[0]} ms {fmt(b_fast)}× and {fmt(c_fast)}×"
                if len(run.intervals) > 1 else "")
        lines.append(
            f"`{r}`: SSE costs {fmt(wire(sse), 0)} wire bytes and {fmt(cpu(sse))} µs of server "
            f"CPU per token; `delta` polling at {run.intervals[-1]} ms costs {fmt(b_slow)}× the "
            f"bytes and {fmt(c_slow)}× the CPU{also}.")
    if lines:
        cheaper = [c for c in run.cases if results.label(c) == "poll"
                   and c["concurrency"] == level
                   and run.get("sse", c["recording"], level)
                   and (ratio(wire(c), wire(run.get("sse", c["recording"], level))) or 9) < 1
                   and (ratio(cpu(c), cpu(run.get("sse", c["recording"], level))) or 9) < 1]
        envelope = envelope_bytes(run)
        settings = [c for c in run.cases if results.label(c) == "poll"
                    and c["concurrency"] == level]
        if cheaper:
            lead = (f"Every one of the run's {len(settings)} poll settings at this concurrency "
                    "costs fewer bytes *and* less server CPU per token than SSE: here polling "
                    "gives less load at every interval measured."
                    if len(cheaper) == len(settings) else
                    "SSE gives less load than polling only at short poll intervals: "
                    f"{len(cheaper)} of the run's {len(settings)} poll settings at this "
                    "concurrency cost fewer bytes *and* less server CPU per token than SSE.")
            say(f"{lead} SSE sends every token in its own write, chunk and segment, inside "
                f"OpenAI's chunk envelope ({between(envelope[0], envelope[1], 0)} bytes of "
                "JSON and SSE framing per content event around the token's text, from the "
                "recordings); a poll's answer batches the tokens since the last one. "
                + " ".join(lines))
        else:
            say("SSE costs less than every poll setting of this run. " + " ".join(lines))
    say("")
    say("Wire bytes (in + out) and server CPU per token relative to SSE's (bytes× / CPU×; below 1 "
        "= cheaper than SSE):")
    say("")
    shapes = [s for s in SHOWN_SHAPES if any(c["shape"] == s for c in run.cases)]
    say("| recording | poll ms | " + " | ".join(shapes) + " |")
    say("|---|---:|" + "---:|" * len(shapes))
    for r in run.recordings:
        sse = run.get("sse", r, level)
        for p in run.intervals:
            cells = [f"`{r}`", str(p)]
            for s in shapes:
                c = run.get("poll", r, level, p, s)
                cells.append(f"{fmt(ratio(wire(c), wire(sse)))} / {fmt(ratio(cpu(c), cpu(sse)))}"
                             if c and sse else "-")
            say("| " + " | ".join(cells) + " |")
    say("")

    # 3. Crossover.
    say("**At what interval does polling cost more than SSE?**")
    rows = [x for x in crossover.find(run.cases) if x["concurrency"] == level]
    sweep_rows = []
    if sweep_path:
        sweep = Run(sweep_path)
        sweep_rows = [x for x in crossover.find(sweep.cases)
                      if x["concurrency"] == max(sweep.levels)]
    use = sweep_rows or rows
    if use:
        src = (f"the sweep [{rel(sweep_path)}/]({os.path.basename(os.path.abspath(sweep_path))}/):"
               f" intervals {', '.join(map(str, sorted({c['interval_ms'] for c in sweep.cases if c['interval_ms']})))} ms, "
               f"{max(sweep.levels)} streams, `crossover.txt` and `crossover.png` there"
               if sweep_rows else f"this run's {len(run.intervals)} intervals")
        say(f"Below these intervals a poll costs more than SSE per token (from {src}; "
            "interpolated between the measured intervals, `<` = cheaper at every measured "
            "interval, `>` = dearer at every one), and the mean lag it adds there:")
        say("")
        say("| recording | shape | wire bytes: P* ms (lag ms) | server CPU: P* ms (lag ms) |")
        say("|---|---|---:|---:|")
        keyed = {}
        for x in use:
            keyed.setdefault((x["recording"], x["shape"]), {})[x["cost"]] = x
        for (r, s), by_cost in keyed.items():
            cells = [f"`{r}`", s]
            for kind in ("bytes", "cpu"):
                x = by_cost.get(kind)
                cells.append(f"{crossover.describe(x)} ({fmt(x['lag_ms_mean'], 0)})" if x else "-")
            say("| " + " | ".join(cells) + " |")
        say("")
        at = [x for x in use if x["how"] == "at" and x["shape"] == "delta"]
        if at:
            by_b = [x for x in at if x["cost"] == "bytes"]
            by_c = [x for x in at if x["cost"] == "cpu"]
            def span(xs, what):
                lo = min(x["interval_ms"] for x in xs)
                hi = max(x["interval_ms"] for x in xs)
                names = ", ".join(f"`{x['recording']}`" for x in xs)
                where = (f"{fmt(lo, 0)} ms" if round(lo) == round(hi) else
                         f"{fmt(lo, 0)}–{fmt(hi, 0)} ms")
                return f"in {what} below {where} ({names})"
            parts = []
            if by_b:
                parts.append(span(by_b, "bytes"))
            if by_c:
                parts.append(span(by_c, "server CPU"))
            rest_note = (" the other recordings' `delta` polls stay cheaper down to the shortest "
                         "interval measured" if len({x["recording"] for x in at}) <
                         len(run.recordings) else "")
            # Said only when the run shows it: the crossing interval (a recording cheaper at
            # every interval counts as crossing below the shortest) falls as tokens/s rise.
            ordered = True
            for kind in ("bytes", "cpu"):
                pts = sorted((rate.get(x["recording"]) or 0,
                              x["interval_ms"] if x["how"] == "at" else
                              (0 if x["how"] == "below" else 1e9))
                             for x in use if x["shape"] == "delta" and x["cost"] == kind)
                ordered &= all(a[1] >= b[1] for a, b in zip(pts, pts[1:]))
            why = (" — the fewer tokens per second a recording has, the longer the interval at "
                   "which a poll starts costing more than the tokens it brings" if ordered else "")
            say(f"For `delta`, the compact shape, polling becomes dearer than SSE "
                f"{' and '.join(parts)};{rest_note or ' every recording crosses'}{why}.")
            say("")

    else:
        say(f"Not told by this run: the crossing is interpolated between at least "
            f"{crossover.MIN_INTERVALS} poll intervals of one setting, and it has "
            f"{len(run.intervals)} (a sweep: `scripts/bench --intervals=…`, "
            "`scripts/crossover.py`).")
        say("")

    # 4. Good enough.
    say("**Where is polling, or REST, good enough?**")
    say(f"Taking \"good enough\" as: every token within {GOOD_ENOUGH_LAG_P99_MS:g} ms of SSE's "
        "(p99 of the added lag) at no more bytes and server CPU than SSE:")
    say("")
    for r in run.recordings:
        sse = run.get("sse", r, level)
        if not sse:
            continue
        fits = []
        for c in run.cases:
            if (c["recording"] == r and c["concurrency"] == level
                    and results.label(c) == "poll"
                    and lag(c, "lag_ms_p99") is not None
                    and lag(c, "lag_ms_p99") <= GOOD_ENOUGH_LAG_P99_MS
                    and (ratio(wire(c), wire(sse)) or 9) <= 1
                    and (ratio(cpu(c), cpu(sse)) or 9) <= 1):
                fits.append(c)
        rest = run.get("rest", r, level)
        rest_extra = (lag(rest, "ttft_ms_p50") - lag(sse, "ttft_ms_p50")) if rest else None
        text = f"- `{r}`: "
        if fits:
            best = min(fits, key=lambda c: (cpu(c), wire(c)))
            text += (f"polling is good enough: `{best['shape']}` at {best['interval_ms']} ms adds "
                     f"{fmt(lag(best))} ms (p99 {fmt(lag(best, 'lag_ms_p99'))}) for "
                     f"{fmt(ratio(wire(best), wire(sse)))}× SSE's bytes and "
                     f"{fmt(ratio(cpu(best), cpu(sse)))}× its server CPU")
        else:
            text += ("no poll setting of this run is both within "
                     f"{GOOD_ENOUGH_LAG_P99_MS:g} ms and no dearer than SSE")
        if rest_extra is not None:
            verdict = ("REST is good enough too" if rest_extra <= GOOD_ENOUGH_LAG_P99_MS
                       else "REST is not")
            text += (f"; {verdict}: its first token comes {fmt(rest_extra, 0)} ms after SSE's "
                     f"(the whole answer at once) for {fmt(ratio(wire(rest), wire(sse)))}× the "
                     f"bytes and {fmt(ratio(cpu(rest), cpu(sse)))}× the CPU.")
        else:
            text += "."
        say(text)
    say("")
    say("Measured on loopback with one server thread and one harness thread on the same "
        f"{ctx.get('cores') or ctx.get('num_cpus')} cores: "
        "the CPU figures include kernel TCP work of both sides (`cpu_note` in the context); "
        "ratios between transports of one run are the robust reading, absolute µs are this "
        "machine's.")
    return "\n".join(out) + "\n"


def answers(run_path):
    """The answers of section() as plain text for a terminal: each question, then the paragraph
    that answers it (and its list, when the paragraph introduces one), markdown stripped, wrapped
    at 100 columns. What scripts/bench prints last, so the answer does not wait for a browser."""
    def plain(text):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(r"\*(\w[^*]*\w)\*", r"\1", text.replace("**", ""))  # *and*, not P*
        return text.replace("`", "")

    if not Run(run_path).levels:
        return ("No answers: the findings compare transports at a closed-loop load, and this run "
                "has none (open-loop or user-session cases only).\n")
    blocks, block = [], []
    for line in section(run_path, reference=False).splitlines() + [""]:
        if line.strip():
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    out = []
    for i, b in enumerate(blocks):
        if not (b[0].startswith("**") and b[0].endswith("?**")):
            continue
        out.append(plain(b[0]))
        paragraph = b[1:] or (blocks[i + 1] if i + 1 < len(blocks) else [])
        lines = [" ".join(paragraph)]
        following = blocks[i + 1] if b[1:] and i + 1 < len(blocks) else []
        if lines[0].endswith(":") and following and following[0].startswith("- "):
            lines += following
        table = (following if lines[0].endswith(":") and following
                 and following[0].startswith("|") else [])
        for text in lines:
            bullet = text.startswith("- ")
            out += textwrap.wrap(plain(text), 100, initial_indent="  ",
                                 subsequent_indent="    " if bullet else "  ")
        out += ["  " + plain(row) for row in table if not row.startswith("|---")]
        out.append("")
    return "\n".join(out)


def replace_section(readme_text, body, run_path, sweep_path):
    marker = f"<!-- report:begin {rel(run_path)}" + (f" {rel(sweep_path)}" if sweep_path else "") \
        + " -->"
    note = ("<!-- Generated by scripts/report.py from the runs named in this marker; "
            "`ctest -R Scripts.Report` fails when it differs from their JSON. Do not edit by "
            "hand: rerun `scripts/report.py RUN --sweep=SWEEP --write`. -->")
    block = f"{marker}\n{note}\n\n{body}\n{END}"
    m = BEGIN.search(readme_text)
    if m:
        end = readme_text.index(END, m.start()) + len(END)
        return readme_text[:m.start()] + block + readme_text[end:]
    return None


README = os.path.join(ROOT, "results", "README.md")


def check(readme):
    """(ok, messages): whether README's section is what the JSON of the runs its marker names
    gives; messages for stderr (a diff) and stdout."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    m = BEGIN.search(text)
    if not m or END not in text[m.start():]:
        return False, [f"report: no report markers in {readme}"]
    run_path = os.path.join(ROOT, m.group(1))
    sweep_path = os.path.join(ROOT, m.group(2)) if m.group(2) else None
    expected = replace_section(text, section(run_path, sweep_path), run_path, sweep_path)
    if expected != text:
        diff = difflib.unified_diff(text.splitlines(), expected.splitlines(), "committed",
                                    "from the JSON", lineterm="", n=1)
        return False, ["\n".join(list(diff)[:60]),
                       f"report: {readme}'s findings differ from {m.group(1)}'s JSON: rerun "
                       "scripts/report.py with --write"]
    return True, [f"report: {readme} agrees with {m.group(1)}"
                  + (f" and {m.group(2)}" if m.group(2) else "")]


def write(readme, run_path, sweep_path):
    """Replaces README's section with RUN's; False when README has no markers."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    new = replace_section(text, section(run_path, sweep_path), run_path, sweep_path)
    if new is None:
        return False
    with open(readme, "w", encoding="utf-8") as f:
        f.write(new)
    return True
