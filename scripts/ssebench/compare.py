"""scripts/compare's logic: two runs case by case, every figure of figures.compared() with its
change, its floor and the Mann-Whitney U test over the repetitions."""
import math

from . import figures, results

# The figures compared are figures.py's rows with a floor, the smallest change that counts: it
# keeps a relative threshold from flagging what no user or bill would notice (SSE's lag of
# 0.5 ms doubling to 1 ms is +100 % and measured between two runs of one commit). Every one is
# lower-is-better; --cpu-regression applies to the machine-bound ones in µs.
# Below this many repetitions a side, no two-sided U test reaches p < 0.05 (4 vs 4: p ≥ 0.029).
MIN_REPETITIONS = 4
EXACT_MAX = 8  # exact U distribution up to this many samples a side without ties (as scipy)


def _exact_u_counts(m, n):
    """counts[u]: how many of the C(m+n, m) orderings give U = u (no ties)."""
    # f(u; m, n) = f(u - n; m - 1, n) + f(u; m, n - 1)
    table = {}

    def f(mm, nn):
        if (mm, nn) in table:
            return table[(mm, nn)]
        if mm == 0 or nn == 0:
            res = [1]
        else:
            a, b = f(mm - 1, nn), f(mm, nn - 1)
            res = [0] * (mm * nn + 1)
            for u, c in enumerate(a):
                res[u + nn] += c
            for u, c in enumerate(b):
                res[u] += c
        table[(mm, nn)] = res
        return res

    return f(m, n)


def mann_whitney_u(xs, ys):
    """Two-sided p-value of the Mann-Whitney U test (scipy's method='auto': exact for small
    samples without ties, else the normal approximation with tie and continuity corrections)."""
    m, n = len(xs), len(ys)
    if m == 0 or n == 0:
        return None
    pooled = sorted([(v, 0) for v in xs] + [(v, 1) for v in ys])
    ranks = [0.0] * len(pooled)
    ties = []
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    r1 = sum(r for r, (_, side) in zip(ranks, pooled) if side == 0)
    u1 = r1 - m * (m + 1) / 2
    u = max(u1, m * n - u1)
    big_n = m + n
    if max(ties) == 1 and m <= EXACT_MAX and n <= EXACT_MAX:
        counts = _exact_u_counts(m, n)
        total = sum(counts)
        upper = sum(counts[int(round(u)):]) / total  # P(U >= u)
        return min(1.0, 2 * upper)
    tie_term = sum(t ** 3 - t for t in ties) / (big_n * (big_n - 1))
    var = m * n / 12 * ((big_n + 1) - tie_term)
    if var <= 0:
        return 1.0  # every value equal on both sides
    z = (u - m * n / 2 - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0) / math.sqrt(2)))


def same_machine(a, b):
    keys = ("host_name", "cpu_model", "num_cpus")
    return all(str(a.get(k)) == str(b.get(k)) for k in keys)


def compare(base_path, new_path, fail_pct=None, alpha=0.05, all_figures=False, cpu_pct=None,
            protocol_only=False):
    """(rows, only_base, only_new, failed_new, notes); a row is a dict per case and figure."""
    base_ctx, base_cases = results.load(base_path)
    new_ctx, new_cases = results.load(new_path)
    base = {c["name"]: c for c in base_cases}
    new = {c["name"]: c for c in new_cases}
    notes = []
    machine = same_machine(base_ctx, new_ctx)
    gate_machine_bound = (machine or all_figures) and not protocol_only
    if protocol_only:
        notes.append("--protocol-figures: only bytes, requests and segments are gated; latency "
                     "and CPU are shown")
    elif not machine:
        notes.append(
            "the runs come from different machines (host_name, cpu_model or num_cpus differ): "
            + ("latency and CPU are gated anyway (--all-figures)" if all_figures
               else "latency and CPU figures are shown, not gated"))
    rows = []
    few = False
    for name, nc in new.items():
        bc = base.get(name)
        if bc is None or bc["error"] or nc["error"]:
            continue
        for f in figures.compared():
            counter, unit, bound, floor = f.name, f.unit, f.kind == figures.MACHINE, f.floor
            xs = [r[counter] for r in bc["repetitions"] if counter in r]
            ys = [r[counter] for r in nc["repetitions"] if counter in r]
            if not xs or not ys:
                continue
            b_mean, n_mean = sum(xs) / len(xs), sum(ys) / len(ys)
            if b_mean == n_mean:
                change = 0.0
            elif b_mean == 0:
                change = math.inf
            else:
                change = (n_mean - b_mean) / abs(b_mean) * 100
            enough = min(len(xs), len(ys)) >= MIN_REPETITIONS
            p = mann_whitney_u(xs, ys) if len(xs) >= 2 and len(ys) >= 2 else None
            significant = p is not None and p < alpha if enough else None
            gated = gate_machine_bound or not bound
            cpu = bound and unit == "µs"
            pct = cpu_pct if cpu and cpu_pct is not None else fail_pct
            regression = (pct is not None and gated and change > pct
                          and n_mean - b_mean > floor and significant is not False)
            if regression and significant is None:
                few = True
            rows.append({"case": name, "figure": counter, "unit": unit, "base": b_mean,
                         "new": n_mean, "change_pct": change, "p": p, "n": (len(xs), len(ys)),
                         "significant": significant, "gated": gated, "regression": regression})
    if few:
        notes.append(f"some figures have fewer than {MIN_REPETITIONS} repetitions a side: their "
                     "significance cannot be told, and past the threshold they count as "
                     "regressions on the change alone")
    only_base = [n for n in base if n not in new]
    only_new = [n for n in new if n not in base]
    failed_new = [(n, c["error"]) for n, c in new.items() if c["error"]]
    return rows, only_base, only_new, failed_new, notes


def fmt_value(v):
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.4f}"


def report(rows, only_base, only_new, failed_new, notes, fail_pct, alpha, changed_only):
    """(the printed text, whether the gate fails): a row per case and figure, then the cases on
    one side, the failed ones, the notes and the count."""
    out = []
    header = ["case", "figure", "base", "new", "change", "p (n)", ""]
    table = []
    for r in rows:
        interesting = r["significant"] or r["regression"] or (
            fail_pct is not None and abs(r["change_pct"]) > fail_pct)
        if changed_only and not interesting:
            continue
        p = "-" if r["p"] is None else f"{r['p']:.3f}"
        verdict = ""
        if r["regression"]:
            verdict = "REGRESSION"
        elif r["significant"]:
            verdict = "worse" if r["change_pct"] > 0 else "better"
        if not r["gated"]:
            verdict += " (not gated)" if verdict else ""
        unit = f" {r['unit']}" if r["unit"] else ""
        table.append([r["case"], r["figure"], fmt_value(r["base"]) + unit,
                      fmt_value(r["new"]) + unit, f"{r['change_pct']:+.1f} %",
                      f"{p} ({r['n'][0]}/{r['n'][1]})", verdict])
    if table:
        widths = [max(len(x[i]) for x in table + [header]) for i in range(len(header))]
        for line in [header] + table:
            out.append("  ".join(c.ljust(widths[i]) if i < 2 or i == 6 else c.rjust(widths[i])
                               for i, c in enumerate(line)).rstrip())
    for n in only_base:
        out.append(f"only in BASE: {n}")
    for n in only_new:
        out.append(f"only in NEW: {n}")
    for n, e in failed_new:
        out.append(f"FAILED in NEW: {n}: {e}")
    for note in notes:
        out.append(f"note: {note}")
    regressions = [r for r in rows if r["regression"]]
    compared = len({r["case"] for r in rows})
    out.append(f"compare: {compared} cases in both, {len(only_base)} only in BASE, {len(only_new)} "
          f"only in NEW, {len(regressions)} regressions"
          + (f" past {fail_pct:g} %" if fail_pct is not None else "")
          + f" (U test, alpha {alpha:g})")
    return "\n".join(out), fail_pct is not None and bool(regressions or failed_new)

