"""scripts/report.py --links: what changes once there is a network, in sentences with their
figures, from a run over several links (issue 16). Like report.py, every number comes from the
run's JSON and the words around it are chosen by the numbers (later / earlier, more / fewer), so
a new run cannot leave a sentence saying the opposite. The figures are those of the cases the
link charts draw (linkcharts.chosen: HTTP/1.1, one poll shape, the load measured on the most
links) and, for head-of-line blocking, the lossy links' sse cases over both HTTP versions at the
run's highest concurrency."""

from . import linkcharts, model, results
from .report import fmt, rel

short = linkcharts.short_name


def describe_link(name, p, context):
    if name == "none":
        return ("`none` (unshaped, through the emulator's TUN devices: a 1,500-byte MTU)"
                if context.get("link_emulator") else "`none` (loopback)")
    rate = (f"{float(p['down_mbit']):g} / {float(p['up_mbit']):g} Mbit/s"
            if p.get("down_mbit") and p.get("up_mbit") else "rate from its trace")
    loss = float(p.get("loss") or 0)
    extra = f", {loss:.0%} loss each way" if loss else ""
    rtt = float(p.get("rtt_ms") or 0)
    return f"`{linkcharts.short_name(name)}` ({rtt:g} ms RTT, {rate}{extra})"


def signed(v):
    """fmt with a real minus sign: '−0.04', '137'."""
    return ("−" if v < 0 else "") + fmt(abs(v))


def rtts(delta_ms, rtt_ms):
    """'about one round trip', 'about two round trips', '1.4 round trips'."""
    if rtt_ms <= 0:
        return ""
    n = delta_ms / rtt_ms
    for whole, word in ((1, "one round trip"), (2, "two round trips"), (3, "three round trips")):
        if abs(n - whole) <= 0.15 * whole:
            return f"about {word}"
    return f"{n:.1f} round trips"


class LinkRun:
    def __init__(self, path):
        self.path = path
        self.context, cases = results.load(path)
        self.all = cases
        self.links = linkcharts.links(self.context, cases)
        self.profiles = dict(self.links)
        self.groups = linkcharts.chosen(cases)

    def rtt(self, link):
        return float(self.profiles[link].get("rtt_ms") or 0)

    def lossless(self):
        """The links with a known rate and no loss, in RTT order, loopback first."""
        return [n for n, p in self.links if not float(p.get("loss") or 0)
                and (n == "none" or (p.get("down_mbit") and p.get("up_mbit")))]

    def find(self, rec, link, transport, interval=0):
        for c in self.groups.get(rec, []):
            if (c["link"], c["transport"], c["interval_ms"] or 0) == (link, transport, interval):
                return c
        return None


def value(c, key):
    return c["counters"].get(key) if c else None


def ttft_sentences(run, rec):
    base = value(run.find(rec, "none", "sse"), "ttft_ms_p50")
    parts = []
    for link in run.lossless():
        if link == "none":
            continue
        v = value(run.find(rec, link, "sse"), "ttft_ms_p50")
        if v is None or base is None:
            continue
        d = v - base
        parts.append(f"`{short(link)}` {'+' if d >= 0 else '−'}{fmt(abs(d))} ms "
                     f"({rtts(d, run.rtt(link)) or 'no RTT'})")
    if not parts:
        return []
    return [f"SSE's first token (p50) comes later than on loopback ({fmt(base)} ms) by: "
            f"{', '.join(parts)}. A kept connection pays one round trip (the request's way and "
            f"the answer's), a new one a second (TCP's handshake), plus the request's and the "
            f"first answer's bytes at the link's rate."]


def lag_sentences(run, rec):
    out = []
    sse = {link: value(run.find(rec, link, "sse"), "lag_ms_mean") for link in run.lossless()}
    shown = [f"`{short(link)}` {fmt(v)} ms" for link, v in sse.items() if v is not None]
    if len(shown) > 1:
        out.append(f"SSE's mean lag is the way back plus the request's way (measured from before "
                   f"the request): {', '.join(shown)}.")
    intervals = sorted({c["interval_ms"] for c in run.groups.get(rec, []) if c["interval_ms"]})
    for p in intervals:
        parts, late = [], []
        for link in run.lossless():
            poll, s = run.find(rec, link, "poll", p), sse.get(link)
            if poll is None or s is None:
                continue
            extra = value(poll, "lag_ms_mean") - s
            parts.append(f"`{short(link)}` {signed(extra)} ms")
            if link != "none" and run.rtt(link) >= p:
                late.append(link)
        if not parts:
            continue
        text = (f"Beyond SSE's, a poll every {p} ms adds on average: {', '.join(parts)} "
                f"(P/2 = {fmt(p / 2)}): its request leaves on the schedule, so while the round "
                f"trip is shorter than P it costs no more than SSE's.")
        for link in late:
            a = value(run.find(rec, "none", "poll", p), "requests_per_stream")
            b = value(run.find(rec, link, "poll", p), "requests_per_stream")
            if b is None:
                continue
            text += (f" On `{short(link)}` the round trip ({fmt(run.rtt(link))} ms) is at least "
                     f"P: a poll waits for the previous answer, so it adds more, and makes "
                     f"{fmt(b)} requests a stream" +
                     (f" (loopback: {fmt(a)})." if a is not None else "."))
        out.append(text)
    return out


def long_poll_sentences(run, rec):
    rows = []
    tokens = None
    for link in run.lossless():
        lp, s = run.find(rec, link, "long-poll"), run.find(rec, link, "sse")
        if lp is None:
            continue
        tokens = value(lp, "tokens_per_stream") or tokens
        req = value(lp, "requests_per_stream")
        extra = (value(lp, "lag_ms_p99") - value(s, "lag_ms_p99")) if s else None
        rows.append((link, req, extra))
    if len(rows) < 2:
        return []
    parts = []
    for link, req, extra in rows:
        batch = f", {fmt(tokens / max(req - 2, 1))} tokens an answer" if tokens else ""
        parts.append(f"`{short(link)}` {fmt(req)} requests{batch}"
                     + (f", p99 lag {signed(extra)} ms beyond SSE's" if extra is not None else ""))
    first, last = rows[0][1], rows[-1][1]
    trend = "fewer" if last < first else "more" if last > first else "as many"
    shortest = "loopback" if rows[0][0] == "none" else f"`{short(rows[0][0])}`"
    return [f"Long polling batches once tokens come faster than a round trip (≈ max(1, RTT × "
            f"token rate) an answer): {'; '.join(parts)} — {trend} requests on the longest "
            f"round trip than on {shortest}, and its lag grows by up to a round trip."]


def bytes_sentences(run, rec):
    out = []
    for transport in ("sse", "long-poll", "poll"):
        vals = []
        for link in run.lossless():
            cs = [c for c in run.groups.get(rec, []) if c["link"] == link
                  and c["transport"] == transport]
            c = min(cs, key=lambda c: c["interval_ms"] or 0) if cs else None
            if c is not None and results.wire_total(c) is not None:
                vals.append((link, results.wire_total(c), c))
        if len(vals) < 2:
            continue
        name = results.setting(linkcharts.off_link(vals[0][2]))
        lo, hi = min(v for _, v, _ in vals), max(v for _, v, _ in vals)
        parts = ", ".join(f"`{short(link)}` {fmt(v)}" for link, v, _ in vals)
        if hi <= 1.02 * lo:
            out.append(f"`{name}`'s wire bytes per token (in + out) hardly move with the link: "
                       f"{parts}.")
        else:
            why = ("fewer, bigger answers as the round trip grows" if transport != "sse" else
                   "a 1,500-byte MTU splits events over 1,448 bytes into more segments (52 "
                   "bytes of headers each), and ACKs and retransmissions vary")
            out.append(f"`{name}`'s wire bytes per token (in + out) range from {fmt(lo)} to "
                       f"{fmt(hi)} over the links: {parts} — {why}.")
    return out


def crossover_sentences(run):
    found = linkcharts.crossovers(run.context, run.all)
    parts = []
    for link, rows in found.items():
        for r in rows:
            if r["cost"] == "bytes" and r["shape"] == "delta":
                how = {"at": "", "below": "< ", "above": "> "}[r["how"]]
                parts.append(f"`{short(link)}` {how}{r['interval_ms']:.0f} ms ({r['recording']})")
    if len(parts) < 2:
        return []
    return [f"The interval below which `delta` polling costs more wire bytes than SSE, per "
            f"link: {', '.join(parts)}."]


def hol_sentences(run):
    pairs, top = linkcharts.hol_cases(run.context, run.all)
    out, higher, lossy_pairs = [], 0, 0
    for (link, rec, setting), both in sorted(pairs.items(),
                                             key=lambda kv: run.profiles[kv[0][0]].get("loss")):
        h1, h2 = both["1.1"], both["2"]
        loss = float(run.profiles[link].get("loss") or 0)
        p99_1, p99_2 = value(h1, "lag_ms_p99"), value(h2, "lag_ms_p99")
        p50_1, p50_2 = value(h1, "lag_ms_p50"), value(h2, "lag_ms_p50")
        if None in (p99_1, p99_2, p50_1, p50_2):
            continue
        word = "higher" if p99_2 > p99_1 else "lower"
        if loss:
            lossy_pairs += 1
            higher += p99_2 > p99_1
        lossword = f"{loss:.0%} loss each way" if loss else "no loss: the queue alone"
        text = (f"`{short(link)}` ({lossword}), {top} concurrent `{setting}` "
                f"streams of "
                f"`{rec}`: HTTP/2's one connection has a p99 lag of {fmt(p99_2)} ms (p50 "
                f"{fmt(p50_2)}), {word} than HTTP/1.1's connection per stream, {fmt(p99_1)} ms "
                f"(p50 {fmt(p50_1)})")
        if p99_1 > 0:
            text += f": {p99_2 / p99_1:.2f}×"
        e1, e2 = value(h1, "errors") or 0, value(h2, "errors") or 0
        r1, r2 = value(h1, "tcp_retransmits"), value(h2, "tcp_retransmits")
        text += f"; failed streams {fmt(e2, 0)} against {fmt(e1, 0)}"
        if r1 is not None and r2 is not None:
            text += f", client retransmissions {fmt(r2, 0)} against {fmt(r1, 0)}"
        out.append(text + ".")
    if lossy_pairs:
        verdict = ("so head-of-line blocking shows at the p99" if higher * 2 > lossy_pairs else
                   "so at this load head-of-line blocking does not show at the p99 (the model's "
                   "reading: the data "
                   "behind a loss waits in the bottleneck's queue anyway, and the queue is what "
                   "both HTTP versions measure)")
        out.append(f"On HTTP/2 a lost segment holds back every stream's bytes behind it on the "
                   f"shared connection until it is retransmitted (RACK: about 1.25 RTT; a tail "
                   f"loss: the RTO, RTT + 200 ms); over HTTP/1.1 a loss stalls only its own "
                   f"stream. Measured, HTTP/2's p99 lag is higher in {higher} of {lossy_pairs} "
                   f"lossy pairs, {verdict}.")
    return out


def model_sentence(run):
    notes = {}
    rows, ok = model.check(run.path, notes=notes)
    on_links = [r for r in rows if "link:" in r[0]] or rows
    inside = sum(r[5] for r in on_links)
    text = (f"`scripts/model.py --check`: {inside} of {len(on_links)} predicted figures of the "
            f"cases on links are inside their bands")
    if notes:
        text += (f"; {len(notes)} cases have figures it does not predict (saturated or lossy "
                 f"HTTP/2 past its bound, traces' unknown rate: `scripts/model.py RUN` lists "
                 f"why)")
    return [text + "."]


def section(path):
    """The findings of a run over several links, Markdown."""
    run = LinkRun(path)
    if len(run.links) < 2:
        only = run.links[0][0] if run.links else "none"
        raise results.ResultsError(f"{path}: its cases are on one link only ({only}): no link "
                                   f"findings")
    commit = run.context.get("ssebench_commit", "?")
    lines = [f"Run: [{rel(path)}]({rel(path)}) — commit `{commit}`, "
             f"links: {', '.join(describe_link(n, p, run.context) for n, p in run.links)}.", ""]
    lines.append("**What changes once there is a network**")
    lines.append("")
    for rec, cs in run.groups.items():
        body = (ttft_sentences(run, rec) + lag_sentences(run, rec) + long_poll_sentences(run, rec)
                + bytes_sentences(run, rec))
        if body:
            lines.append(f"`{rec}`, {results.load_text(cs[0])}:")
            lines += [f"- {s}" for s in body]
            lines.append("")
    for s in crossover_sentences(run) + hol_sentences(run) + model_sentence(run):
        lines.append(f"- {s}")
    traces = [n for n, p in run.links
              if n != "none" and not (p.get("down_mbit") and p.get("up_mbit"))]
    if traces:
        names = ", ".join(f"`{short(t)}`" for t in traces)
        lines.append(f"- Traces ({names}): their rate is the trace's "
                     f"and varies, so their figures are read against their RTT only.")
    return "\n".join(lines).rstrip() + "\n"
