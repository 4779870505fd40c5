"""scripts/variants_table.py's logic: the README's WebSocket / HTTP/2 table and ratios."""

from . import results

ROWS = [("sse", 0, ""), ("sse http:2", 0, ""), ("ws", 0, ""), ("ws turns:4", 0, ""),
        ("poll", 250, "delta"), ("poll http:2", 250, "delta"),
        ("poll", 250, "events"), ("poll http:2", 250, "events"),
        ("poll", 50, "delta"), ("poll http:2", 50, "delta"),
        ("long-poll", 0, "delta"), ("long-poll http:2", 0, "delta"),
        ("rest", 0, ""), ("rest http:2", 0, "")]


def wire(c):
    return results.wire_total(c)


def server_cpu(c):
    return c["counters"]["server_cpu_us_per_token"]


def table(cases, rec, level, replaced):
    by = {(results.label(c), c["interval_ms"], c["shape"]): c for c in cases
          if c["recording"] == rec and c["concurrency"] == level}
    print("| case | lag p50 / p99 ms | CPU µs/token: client + server | wire B/token in + out "
          "| header + framing B/request in, out | header share in |")
    print("|---|---|---|---|---|---|")
    for t, i, s in ROWS:
        c = by.get((t, i, s))
        if not c:
            continue
        c = replaced.get(c["name"], c)
        k = c["counters"]
        name = t + (f" {i} ms" if i else "") + (f" {s}" if s else "")
        hdr = (f"{k['header_bytes_in_per_request']:.0f}, {k['header_bytes_out_per_request']:.0f}"
               if "header_bytes_in_per_request" in k else "-")
        share = f"{100 * k['header_share_in']:.0f} %" if "header_share_in" in k else "-"
        print(f"| `{name}` | {k['lag_ms_p50']:.2f} / {k['lag_ms_p99']:.2f} | "
              f"{k['client_cpu_us_per_token']:.1f} + {k['server_cpu_us_per_token']:.1f} | "
              f"{k['wire_bytes_in_per_token']:.0f} + {k['wire_bytes_out_per_token']:.0f} | "
              f"{hdr} | {share} |")


def ratios(cases):
    by = {(c["recording"], c["concurrency"], results.label(c), c["interval_ms"], c["shape"]): c
          for c in cases if not c["error"]}
    print()
    for rec in dict.fromkeys(c["recording"] for c in cases):
        for level in sorted({c["concurrency"] for c in cases if c["load"] == "closed"}):
            parts = []
            for t, i, s in (("sse", 0, ""), ("poll", 250, "delta"), ("poll", 50, "delta"),
                            ("long-poll", 0, "delta"), ("rest", 0, "")):
                a, b = by.get((rec, level, t, i, s)), by.get((rec, level, t + " http:2", i, s))
                if a and b:
                    parts.append(f"{t}{' ' + str(i) if i else ''}: wire {wire(b) / wire(a):.2f}x "
                                 f"server CPU {server_cpu(b) / server_cpu(a):.2f}x")
            ws, sse = by.get((rec, level, "ws", 0, "")), by.get((rec, level, "sse", 0, ""))
            if ws and sse:
                parts.append(f"ws/sse: wire {wire(ws) / wire(sse):.2f}x server CPU "
                             f"{server_cpu(ws) / server_cpu(sse):.2f}x lag p50 "
                             f"{ws['counters']['lag_ms_p50']:.2f} vs {sse['counters']['lag_ms_p50']:.2f}")
            if parts:
                print(f"{rec} c:{level}, http:2 / http 1.1 — " + "; ".join(parts))
