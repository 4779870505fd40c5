"""scripts/scale's arithmetic and its markdown table, apart from the runs: the medians, the
sustained rate of a speed ladder, every ratio and whether its target is met. Reads the fields it
needs from scale.json (scripts/scale.py writes it) and ignores the rest."""
import json
import os
import statistics

P99_LIMIT_US = 1000.0  # "sustained": server write lateness p99 at or under 1 ms


def median(points, key):
    """The median of one figure over a point's repetitions."""
    return statistics.median(p[key] for p in points)


def summarise(reps):
    """One ladder step, its repetitions folded into medians; errors summed. A repetition whose
    soak got no final stats from the server (events_per_s 0) measured nothing: it is left out of
    the medians and counted as unmeasured."""
    keys = ("events_per_s", "lateness_us_p99", "lateness_us_p50", "cpu_us_per_event",
            "rss_bytes_per_stream", "streams_held")
    measured = [p for p in reps if p["events_per_s"] > 0] or reps
    s = {k: median(measured, k) for k in keys}
    # Stream errors; a soak that exited 1 with none failed its RSS / descriptor flatness check.
    s["errors"] = sum(p["errors"] - (p.get("soak_rc", 0) != 0) for p in reps)
    s["soak_not_flat"] = sum(p["errors"] == 1 and p.get("soak_rc", 0) != 0 for p in reps)
    s["repetitions"] = len(measured)
    s["unmeasured"] = len(reps) - len(measured)
    return s


def resummarise(scale):
    """Every capacity ladder's steps and sustained rates again from its raw points."""
    for cap in scale.get("capacity", {}).values():
        for kind in ("server", "floor"):
            steps = []
            for speed in cap["speeds"]:
                reps = [p for p in cap["points"] if p["server"] == kind and p["speed"] == speed]
                if reps:
                    steps.append(dict(summarise(reps), speed=speed))
            cap["steps"][kind] = steps
            cap[f"{kind}_sustained"] = sustained(steps)
    return scale


def sustained(steps):
    """The fastest step whose median p99 is within the limit (None if none is), over steps
    already summarised; the ladder is in rising speed."""
    ok = [s for s in steps if s["lateness_us_p99"] <= P99_LIMIT_US and s["errors"] == 0]
    return max(ok, key=lambda s: s["events_per_s"]) if ok else None


def target(value, goal, higher_is_better=True):
    met = value >= goal if higher_is_better else value <= goal
    return {"value": value, "goal": goal, "met": met}


def verdicts(scale):
    """Every target of issue 9 with its ratio, from scale.json's summaries."""
    out = {}
    for n, cap in sorted(scale.get("capacity", {}).items(), key=lambda kv: int(kv[0])):
        srv, flo = cap["server_sustained"], cap["floor_sustained"]
        if srv and flo:
            out[f"capacity_{n}"] = target(srv["events_per_s"] / flo["events_per_s"], 0.5)
    peer = scale.get("peer")
    if peer:
        ours, theirs = peer["ours"], peer["peer"]
        out["peer_cpu"] = target(theirs["server_cpu_us_per_event"] /
                                 max(ours["server_cpu_us_per_event"], 1e-9), 5.0)
        out["peer_accuracy"] = target(theirs["timing_error_ms_p99"] /
                                      max(ours["timing_error_ms_p99"], 1e-9), 10.0)
    client = scale.get("client")
    if client:
        out["client_cpu"] = target(client["harness_cpu_us_per_event"] /
                                   client["openai_cpu_us_per_event"], 0.1, higher_is_better=False)
    poll = scale.get("poll")
    if poll:
        out["poll_rps"] = target(poll["server_rps"] / poll["nginx_rps"], 0.5)
    return out


def met(v):
    return "met" if v["met"] else "missed"


def table(scale):
    """The markdown the README quotes."""
    v = verdicts(scale)
    ctx = scale["context"]
    lines = [f"Commit {ctx['commit']}, {ctx['cores']} cores, shared with other work: load "
             f"{ctx['load_before']} before, {ctx['load_after']} after. Medians of "
             f"{ctx['repetitions']} repetitions; each ratio from the same run.", ""]
    if scale.get("capacity"):
        lines += ["| streams | model × speed ladder | server: sustained events/s (p99 ≤ 1 ms) | "
                  "floor: sustained events/s | ratio (≥ 0.5) | "
                  "server / floor CPU per event at one step | "
                  "server / floor RSS per stream | held; stream errors |",
                  "|---|---|---|---|---|---|---|---|"]
        for n, cap in sorted(scale["capacity"].items(), key=lambda kv: int(kv[0])):
            srv, flo = cap["server_sustained"], cap["floor_sustained"]
            ladder = f"{cap['model']} × {', '.join(str(s) for s in cap['speeds'])}"
            if not (srv and flo):
                # No ratio of sustained rates: the figures of the first step, side by side.
                s0, f0 = cap["steps"]["server"][0], cap["steps"]["floor"][0]
                verdict = "missed" if flo else "neither within 1 ms: not decided"
                lines.append(
                    f"| {int(n):,} | {ladder} | {fmt_rate(srv, s0)} | {fmt_rate(flo, f0)} | "
                    f"{verdict} | × {s0['speed']}: {s0['cpu_us_per_event']:.1f} / "
                    f"{f0['cpu_us_per_event']:.1f} µs = "
                    f"{s0['cpu_us_per_event'] / f0['cpu_us_per_event']:.1f}× | "
                    f"{s0['rss_bytes_per_stream'] / 1024:.1f} / "
                    f"{f0['rss_bytes_per_stream'] / 1024:.1f} KiB = "
                    f"{s0['rss_bytes_per_stream'] / max(f0['rss_bytes_per_stream'], 1):.1f}× | "
                    f"{s0['streams_held']:,.0f} / {f0['streams_held']:,.0f}; "
                    f"{s0['errors'] + f0['errors']}{not_flat(s0, f0)} |")
                continue
            r = v[f"capacity_{n}"]
            # CPU and RSS side by side at one step: the server's sustained one.
            same = [f for f in cap["steps"]["floor"] if f["speed"] == srv["speed"]]
            fl = same[0] if same else flo
            lines.append(
                f"| {int(n):,} | {ladder} | {srv['events_per_s']:,.0f} (p99 "
                f"{srv['lateness_us_p99']:.0f} µs) | {flo['events_per_s']:,.0f} (p99 "
                f"{flo['lateness_us_p99']:.0f} µs) | {r['value']:.2f} {met(r)} | "
                f"× {srv['speed']}: {srv['cpu_us_per_event']:.1f} / {fl['cpu_us_per_event']:.1f} µs"
                f" = {srv['cpu_us_per_event'] / fl['cpu_us_per_event']:.1f}× | "
                f"{srv['rss_bytes_per_stream'] / 1024:.1f} / "
                f"{fl['rss_bytes_per_stream'] / 1024:.1f} KiB = "
                f"{srv['rss_bytes_per_stream'] / max(fl['rss_bytes_per_stream'], 1):.1f}× | "
                f"{srv['streams_held']:,.0f} / {flo['streams_held']:,.0f}; "
                f"{srv['errors'] + flo['errors']}{not_flat(srv, fl)} |")
        lines.append("")
    peer = scale.get("peer")
    if peer:
        o, p = peer["ours"], peer["peer"]
        lines += ["| same client (openai 6.49.0), same streams | server CPU per event | "
                  "timing error p50 / p99 / max |", "|---|---|---|",
                  f"| ssebench-mock-server | {o['server_cpu_us_per_event']:.1f} µs | "
                  f"{o['timing_error_ms_p50']:.2f} / {o['timing_error_ms_p99']:.2f} / "
                  f"{o['timing_error_ms_max']:.1f} ms |",
                  f"| @dwmkerr/mock-llm {peer['version']} | {p['server_cpu_us_per_event']:.1f} µs | "
                  f"{p['timing_error_ms_p50']:.2f} / {p['timing_error_ms_p99']:.2f} / "
                  f"{p['timing_error_ms_max']:.1f} ms |",
                  f"| ratio (peer / ours) | {v['peer_cpu']['value']:.1f}× ({met(v['peer_cpu'])}, "
                  f"≥ 5×) | p99 {v['peer_accuracy']['value']:.1f}× ({met(v['peer_accuracy'])}, "
                  "≥ 10×) |", ""]
    client = scale.get("client")
    if client:
        c = v["client_cpu"]
        lines += ["| client CPU per event, same streams | µs |", "|---|---|",
                  f"| openai 6.49.0 (Node.js) | {client['openai_cpu_us_per_event']:.1f} |",
                  f"| ssebench harness engine (ssebench-soak) | "
                  f"{client['harness_cpu_us_per_event']:.1f} |",
                  f"| ratio (harness / openai) | {c['value']:.2f} ({met(c)}, ≤ 0.1) |", ""]
    poll = scale.get("poll")
    if poll:
        r = v["poll_rps"]
        lines += [f"| poll answer, {poll['body_bytes']} B body, `{poll['wrk']}` | requests/s |",
                  "|---|---|",
                  f"| ssebench-mock-server `{poll['path']}` | {poll['server_rps']:,.0f} |",
                  f"| nginx {poll['nginx_version']} static file | {poll['nginx_rps']:,.0f} |",
                  f"| ratio (ours / nginx) | {r['value']:.2f} ({met(r)}, ≥ 0.5) |", ""]
    return "\n".join(lines)


def not_flat(srv, flo):
    n = srv.get("soak_not_flat", 0), flo.get("soak_not_flat", 0)
    return f" (RSS/fds not flat: server {n[0]}, floor {n[1]} of the soaks)" if any(n) else ""


def fmt_rate(s, first):
    if s is not None:
        return f"{s['events_per_s']:,.0f} (p99 {s['lateness_us_p99']:.0f} µs)"
    return (f"none: at {first['events_per_s']:,.0f} events/s p99 "
            f"{first['lateness_us_p99'] / 1000:.1f} ms")



def rewrite(run_dir):
    """scale.json's summaries again from its raw points, and table.md; the table's text."""
    path = os.path.join(run_dir, "scale.json")
    with open(path) as f:
        scale = resummarise(json.load(f))
    with open(path + ".tmp", "w") as f:
        json.dump(scale, f, indent=1)
    os.replace(path + ".tmp", path)
    with open(os.path.join(run_dir, "table.md"), "w") as f:
        f.write(table(scale) + "\n")
    return table(scale)
