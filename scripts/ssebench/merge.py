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
    if rule == figures.MEAN_RUN:
        return entry.get("streams_run", streams)
    return streams


def merge_entries(entries, hists):
    """One entry of the shards' entries of a case; `hists` its merged histograms by figure."""
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
    # Latency figures from the merged histograms, where the harness had samples.
    for figure, h in hists.items():
        for suffix, value in histograms.figures_ms(h).items():
            name = f"{figure}_{suffix}"
            if name in out and figures.get(name).merge == figures.HISTOGRAM:
                out[name] = value
    out["shards"] = len(entries)
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


def merge(out_dir, shards):
    """Writes OUT_DIR/benchmark.json and benchmark.histograms.json; returns (shards, cases).
    Checks everything before writing: on a MergeError nothing is created."""
    runs = []
    for s in shards:
        path, data = results.read_json(s)
        try:
            runs.append((path, data, histograms.load(path)))
        except (OSError, ValueError) as e:
            raise MergeError(f"{s}: {e}") from None
    check_shards(runs)
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
                                merged_hists.get(results.display_name(key[0]), {}))
                  for key in keys]
    context = dict(runs[0][1].get("context", {}))
    context["merged_shards"] = [p for p, _, _ in runs]
    os.makedirs(out_dir, exist_ok=True)
    out_json = os.path.join(out_dir, "benchmark.json")
    for path, payload in ((out_json, {"context": context, "benchmarks": benchmarks}),
                          (histograms.path_for(out_json),
                           {"version": 1, "unit": "ns",
                            "sub_bucket_bits": histograms.SUB_BUCKET_BITS,
                            "cases": merged_hists})):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1)
        os.replace(path + ".tmp", path)
    return len(runs), len(benchmarks)
