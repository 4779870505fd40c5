"""The console tables of a run (scripts/bench_table.py): one row per case with the figures whose
figures.py row has a column, the ×sse ratios, failed streams; then wire bytes per token by poll
shape beside SSE's."""
from . import figures, results

RATIOS = [  # header, counters summed; relative to the case's SSE reference (results.py)
    ("wire ×sse", ("wire_bytes_in_per_token", "wire_bytes_out_per_token")),
    ("CPU ×sse", ("client_cpu_us_per_token", "server_cpu_us_per_token")),
]


def ratio(case, reference, keys):
    if reference is None or reference is case:
        return "1.00" if reference is case else "-"
    try:
        num = sum(case["counters"][k] for k in keys)
        den = sum(reference["counters"][k] for k in keys)
    except KeyError:
        return "-"
    return f"{num / den:.2f}" if den > 0 else "-"


def header():
    cols = figures.columns()
    return ["case"] + [f.header for f in cols[:-1]] + [h for h, _ in RATIOS] + [cols[-1].header]


def rows(cases):
    sse = results.sse_references(cases)
    for c in cases:
        cells = [c["name"]]
        for f in figures.columns():
            v = c["counters"].get(f.name)
            cells.append(f.fmt.format(v) if v is not None else "-")
        reference = results.sse_reference(c, sse)
        cells[-1:-1] = [ratio(c, reference, keys) for _, keys in RATIOS]
        if c["error"]:
            cells[-1] = cells[-1] if cells[-1] not in ("-", "0") else "yes"
            cells[-1] += " (FAILED)"
        yield cells


def shape_rows(cases):
    """(header, rows): wire B/token (in + out) of sse and of each poll shape, side by side."""
    shapes = [s for s in results.SHAPES if any(c["shape"] == s for c in cases)]
    shapes += sorted({c["shape"] for c in cases if c["shape"]} - set(shapes))  # unknown, last
    if not shapes:
        return None, []
    sse = results.sse_references(cases)
    groups = {}  # (recording, load, setting) -> {shape: case}, in run order
    for c in cases:
        if c["shape"]:
            key = (c["recording"], results.load_key(c), results.setting(c))
            groups.setdefault(key, {})[c["shape"]] = c
    head = ["recording", "c", "polling", "sse"] + shapes
    table = []
    order = {r: i for i, r in enumerate(results.recordings(cases))}
    polling = {"poll": 0, "long-poll": 1}  # poll by interval, then long-poll

    def sort_key(item):
        (recording, load, _), by_shape = item
        c = next(iter(by_shape.values()))
        return (order[recording], load, polling.get(c["transport"], 2), c["interval_ms"],
                results.via(c))

    for (recording, _, setting), by_shape in sorted(groups.items(), key=sort_key):
        first = next(iter(by_shape.values()))
        reference = results.sse_reference(first, sse)
        ref = results.wire_total(reference) if reference else None
        polling = setting.replace("/", " ") + (" ms" if "/" in setting else "")
        load = str(first["concurrency"]) if first["load"] == "closed" else results.load_text(first)
        cells = [recording, load, polling, f"{ref:.0f}" if ref is not None else "-"]
        for shape in shapes:
            c = by_shape.get(shape)
            if c is None and first["transport"] == "long-poll" and shape not in ("delta", "events"):
                cells.append("n/a")  # long-poll runs only the cursor shapes
                continue
            v = results.wire_total(c) if c else None
            if v is None:
                cells.append("-")
                continue
            cell = f"{v:.0f}"
            if ref:
                cell += f" ({v / ref:.1f}×)"
            if c["error"]:
                cell += " FAILED"
            cells.append(cell)
        table.append(cells)
    return head, table


def render(head, table, markdown, left=1):
    """Lines of a table; `left`: how many leading columns are text (left-aligned)."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join(["---"] * left + ["---:"] * (len(head) - left)) + "|"]
        return lines + ["| " + " | ".join(r) + " |" for r in table]
    widths = [max(len(r[i]) for r in table + [head]) for i in range(len(head))]

    def line(r):
        return "  ".join(r[i].ljust(widths[i]) if i < left else r[i].rjust(widths[i])
                         for i in range(len(r)))

    return [line(head)] + [line(r) for r in table]


def report(context, cases, markdown=False):
    """(the text, exit status): 1 when a case failed or the run was interrupted."""
    out = []
    if context.get("interrupted"):
        out += [f"INTERRUPTED: {context['interrupted']}", ""]
    out += render(header(), list(rows(cases)), markdown)
    shape_header, shape_table = shape_rows(cases)
    if shape_table:
        out += ["", "wire bytes per token (in + out) by poll shape, beside sse's; (N×) = relative "
                "to sse", ""]
        out += render(shape_header, shape_table, markdown, left=3)
    failed = [c for c in cases if c["error"]]
    out += [f"FAILED {c['name']}: {c['error']}" for c in failed]
    return "\n".join(out), 1 if failed or context.get("interrupted") else 0
