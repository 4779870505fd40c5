"""scripts/merge_shards' logic: N shards' runs of one suite into one run, each counter by the
merge rule of its row in figures.py."""
import json
import os

from . import figures, histograms, results


class MergeError(ValueError):
    """Shards that cannot be merged: one line."""


def _weight(rule, entry):
    streams = entry.get("streams", 0)
    if rule == figures.MEAN_REQUESTS:
        return entry.get("requests_per_stream", 0) * streams
    if rule in (figures.MEAN_RUN, figures.SERVER):
        return entry.get("streams_run", streams)
    return streams


def merge_entries(entries, hists, scheduled=False):
    """One entry of the shards' entries of a case; `hists` its merged histograms by figure.
    `scheduled`: the shards ran on one --start-at schedule, so each shard's server figures are
    the server's over every shard's streams (figures.SERVER)."""
    out = dict(entries[0])  # names, fields, Google Benchmark's bookkeeping: the first shard's
    numeric = {k for e in entries for k, v in e.items() if results.is_counter(k, v)}
    unknown = figures.unknown(numeric)
    if unknown:
        raise MergeError(f"{out.get('name', '?')}: no merge rule for {', '.join(unknown)} "
                         "(add its row to scripts/ssebench/figures.py)")
    for k in numeric:
        rule = figures.get(k).merge
        values = [e.get(k, 0) for e in entries]
        if rule == figures.SUM:
            out[k] = sum(values)
        elif rule == figures.SAME:
            out[k] = values[0]
        elif rule == figures.MAX:
            out[k] = max(values)
        elif rule == figures.SHARDS:
            out[k] = len(entries)
        else:  # the weighted means; HISTOGRAM's fallback without histograms
            w = [_weight(rule, e) for e in entries]
            out[k] = sum(v * x for v, x in zip(values, w)) / sum(w) if sum(w) else values[0]
            if rule == figures.SERVER and scheduled and sum(w):
                # Each shard saw the server's total over the slot all of them ran in: their
                # mean total over every shard's streams.
                out[k] /= len(entries)
    # Latency figures from the merged histograms, where the harness had samples.
    for figure, h in hists.items():
        for suffix, value in histograms.figures_ms(h).items():
            name = f"{figure}_{suffix}"
            if name in out and figures.get(name).merge == figures.HISTOGRAM:
                out[name] = value
    out["shards"] = len(entries)
    offsets = [e["clock_offset_ms"] for e in entries if "clock_offset_ms" in e]
    if offsets:
        out["clock_skew_ms"] = max(offsets) - min(offsets)
    if scheduled:
        out["shards_late"] = sum(1 for e in entries if e.get("schedule_missed"))
    errors = [e.get("error_message", "failed") for e in entries if e.get("error_occurred")]
    if errors:
        out["error_occurred"] = True
        out["error_message"] = "; ".join(f"a shard: {m}" for m in errors)
    return out


def shard_of(path, context):
    """(I, N) of the harness's --shard=I/N, from the run's context (0/1: a run not split)."""
    text = str(context.get("shard", ""))
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise MergeError(f"{path}: no shard I/N in its context (got '{text}'): not a run of "
                         "ssebench-bench --shard") from None
    if not 0 <= index < count:
        raise MergeError(f"{path}: shard {text} is not I/N with 0 <= I < N")
    return index, count


def check_shards(runs):
    """Every shard I/N of one split exactly once: a shard missing or given twice, or shards of
    different splits, would merge into figures of a run that never happened."""
    shards = [(path, shard_of(path, data.get("context", {}))) for path, data, _ in runs]
    counts = sorted({n for _, (_, n) in shards})
    if len(counts) > 1:
        raise MergeError("shards of different splits: " + ", ".join(
            f"{p} is {i}/{n}" for p, (i, n) in shards))
    count = counts[0]
    seen = {}
    for path, (index, _) in shards:
        if index in seen:
            raise MergeError(f"shard {index}/{count} given twice: {seen[index]} and {path}")
        seen[index] = path
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise MergeError(f"{len(shards)} of {count} shards given; missing "
                         f"{', '.join(missing)}")
    return count


def _case_name(entry):
    return results.display_name(entry.get("run_name") or entry.get("name", "?"))


def check_schedule(runs, allow_late, notes):
    """The shards' common schedule (harness --start-at): the start_at of their contexts, or None
    when none had one (a note says so). Shards of different starts, or some with one and some
    without, are refused; so is a shard that began a slot of a case late (schedule_missed),
    unless `allow_late`: then a warning per late shard goes to `notes`."""
    starts = [(path, data.get("context", {}).get("start_at")) for path, data, _ in runs]
    given = {s for _, s in starts if s}
    if not given:
        if len(runs) > 1:
            notes.append("merge_shards: note: the shards had no common schedule (no --start-at): "
                         "nothing says they ran each case at the same time")
        return None
    if len(given) > 1 or any(not s for _, s in starts):
        raise MergeError("shards of different schedules: " + ", ".join(
            f"{p} has start_at {s or '(none)'}" for p, s in starts))
    late = []  # (path, shard text, [(case, late ms)])
    for path, data, _ in runs:
        index, count = shard_of(path, data.get("context", {}))
        cases = [(_case_name(b), b.get("schedule_late_ms", 0))
                 for b in data.get("benchmarks", [])
                 if b.get("run_type", "iteration") == "iteration" and b.get("schedule_missed")]
        if cases:
            late.append((path, f"{index}/{count}", cases))
    if late and not allow_late:
        path, shard, cases = late[0]
        case, ms = cases[0]
        more = sum(len(c) for _, _, c in late) - 1
        raise MergeError(
            f"shard {shard} ({path}) began case {case} {ms:.0f} ms late (schedule_missed): its "
            "load did not overlap the other shards'" + (f"; {more} more late" if more else "") +
            ". Run it again, or merge anyway with --allow-late")
    for path, shard, cases in late:
        case, ms = max(cases, key=lambda c: c[1])
        notes.append(f"merge_shards: warning: shard {shard} ({path}) began {len(cases)} "
                     f"case{'s' if len(cases) > 1 else ''} late, the latest by {ms:.0f} ms "
                     f"({case}): merged anyway (--allow-late), counted in shards_late")
    return given.pop()


def merge(out_dir, shards, allow_late=False, notes=None):
    """Writes OUT_DIR/benchmark.json and benchmark.histograms.json; returns (shards, cases).
    Checks everything before writing: on a MergeError nothing is created. Shards on one
    --start-at schedule that began a slot late are refused unless `allow_late`; the notes and
    warnings to print are appended to `notes`."""
    notes = [] if notes is None else notes
    runs = []
    for s in shards:
        path, data = results.read_json(s)
        try:
            runs.append((path, data, histograms.load(path)))
        except (OSError, ValueError) as e:
            raise MergeError(f"{s}: {e}") from None
    check_shards(runs)
    start_at = check_schedule(runs, allow_late, notes)
    keys = []  # (run_name, repetition_index) in the first shard's order
    by_run = []
    for path, data, _ in runs:
        entries = {}
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue  # aggregates: recomputed by nobody; the scripts use the iterations
            entries[(b.get("run_name") or b["name"], b.get("repetition_index", 0))] = b
        by_run.append(entries)
        if not keys:
            keys = list(entries)
        elif set(entries) != set(keys):
            raise MergeError(f"{path} has other cases than {runs[0][0]}")
    merged_hists = {}
    for _, _, hists in runs:
        for case, figs in hists.items():
            into = merged_hists.setdefault(case, {})
            for figure, h in figs.items():
                into[figure] = histograms.merge(into.get(figure, histograms.empty()), h)
    benchmarks = [merge_entries([r[key] for r in by_run],
                                merged_hists.get(results.display_name(key[0]), {}),
                                scheduled=start_at is not None)
                  for key in keys]
    context = dict(runs[0][1].get("context", {}))
    context["merged_shards"] = [p for p, _, _ in runs]
    skews = [b["clock_skew_ms"] for b in benchmarks if "clock_skew_ms" in b]
    if skews:
        # The shards' clocks against the server's disagreed by at most this, over the cases.
        context["clock_skew_ms"] = max(skews)
    if start_at is not None:
        notes.append(f"merge_shards: one schedule from {start_at}; the shards' clock offsets to "
                     f"the server differed by at most {max(skews, default=0):.2f} ms")
    os.makedirs(out_dir, exist_ok=True)
    out_json = os.path.join(out_dir, "benchmark.json")
    if "histograms" in context:
        # The merged run's own histograms, not shard 0's (its context named its own file).
        context["histograms"] = histograms.path_for(out_json)
    for path, payload in ((out_json, {"context": context, "benchmarks": benchmarks}),
                          (histograms.path_for(out_json),
                           {"version": 1, "unit": "ns",
                            "sub_bucket_bits": histograms.SUB_BUCKET_BITS,
                            "cases": merged_hists})):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1)
        os.replace(path + ".tmp", path)
    return len(runs), len(benchmarks)
