"""The table of figures: every counter ssebench-bench writes into an entry of benchmark.json, once.

A row says what the counter is (its name carries its unit), which way is better, whether the
machine or the protocol fixes it, the smallest change scripts/compare counts, how merge_shards
merges it across shards, how the console table prints it and what charts call it. merge_shards,
bench_table, compare, model and the charts read it from here; tests/scripts/figures_test.py
fails when a run has a counter without a row, or a row names a counter no run has.

Families (the latency statistics, the error kinds, the per-stream / per-token pairs) are made by
the helpers below, one explicit row per counter: FIGURES is the whole list, in order.
"""
from dataclasses import dataclass

# kind: what fixes a figure's value.
MACHINE = "machine-bound"     # latency, CPU: this machine's, compared between runs of one machine
PROTOCOL = "protocol-fixed"   # bytes, requests, segments: the same on any machine
SETTING = "setting"           # a setting of the run or bookkeeping: no quality, never gated

# merge: how merge_shards makes one entry of N shards' entries of a case.
SUM = "sum"                   # counts: summed
SAME = "same"                 # settings: the same in every shard (the first shard's)
MAX = "max"                   # worst of the shards
MEAN_STREAMS = "streams-weighted mean"        # means over counted streams
MEAN_RUN = "streams-run-weighted mean"        # the round's CPU and TCP counters: over streams run
MEAN_REQUESTS = "requests-weighted mean"      # per-request figures: over requests
HISTOGRAM = "from histograms"  # latency statistics: from the shards' merged histograms (exact to
                               # 0.4 %); a streams-weighted mean when the run has no histograms
SHARDS = "shard count"         # the number of shards merged
SERVER = "server's, over every shard's streams"  # the server's own figures per stream or token:
                               # shards on one --start-at schedule each read the server over the
                               # rounds all of them ran at once, so the merge is their mean total
                               # over every shard's streams; without a schedule, as MEAN_RUN

# Google Benchmark's own fields of an entry, not figures of the case: the reader leaves them out.
BOOKKEEPING = ("family_index", "per_family_instance_index", "repetitions", "repetition_index",
               "threads")


@dataclass(frozen=True)
class Figure:
    name: str                 # the counter, its unit in its name
    unit: str                 # "ms", "µs", "B", "" (a count or ratio), "s", "1/s"
    lower_is_better: object   # True, False, or None (no direction: a setting or a count)
    kind: str                 # MACHINE | PROTOCOL | SETTING
    merge: str                # SUM | SAME | MAX | MEAN_* | HISTOGRAM | SHARDS
    floor: object = None      # compare: the smallest change that counts; None = not compared
    fmt: str = "{:.2f}"       # the console table's format
    label: str = ""           # what tables and charts call it
    column: object = None     # its place among the console table's columns (None: not shown)
    header: str = ""          # the console table's column header
    predicted: bool = False   # scripts/model.py predicts it (predicted_<name>, _band)
    only_in: str = ""         # why the harness runs ctest makes (smoke, ws, HTTP/2, merged
                              # shards) do not have it; "" = they do (figures_test.py checks)


FIGURES = []


def _row(name, unit, lower, kind, merge, **kw):
    FIGURES.append(Figure(name, unit, lower, kind, merge, **kw))


def _latency(name, what, suffixes, compared=(), columns=None, predicted=(), only_in=""):
    """One row per statistic of a latency figure (harness: CaseAggregate::counters' stats())."""
    for s in suffixes:
        label = f"{what} {s}, ms"
        column, header, fmt = (columns or {}).get(s, (None, "", "{:.2f}"))
        _row(f"{name}_{s}", "ms", True, MACHINE, HISTOGRAM, floor=1.0 if s in compared else None,
             fmt=fmt, label=label, column=column, header=header, predicted=s in predicted,
             only_in=only_in)


def _per(name, unit, what, kind, merge, floors=None, columns=None, predicted=()):
    """A total the harness divides by streams and by tokens: NAME_per_stream, NAME_per_token."""
    for s in ("per_stream", "per_token"):
        full = f"{name}_{s}"
        column, header, fmt = (columns or {}).get(s, (None, "", "{:.1f}"))
        _row(full, unit, True, kind, merge, floor=(floors or {}).get(s), fmt=fmt,
             label=f"{what} per {s.split('_')[1]}", column=column, header=header,
             predicted=full in predicted)


# Counts of the case.
_row("streams", "", None, SETTING, SUM, fmt="{:.0f}", label="streams counted")
_row("streams_run", "", None, SETTING, SUM, fmt="{:.0f}",
     label="streams run (warm-up and cool-down windows too)")
_row("streams_ok", "", False, SETTING, SUM, fmt="{:.0f}", label="streams ok")
_row("errors", "", True, SETTING, SUM, fmt="{:.0f}", label="errors", column=9, header="errors")
# metrics.cpp's ErrorKind, each a count of failed streams.
ERROR_KINDS = ("http_status", "curl", "text_mismatch", "timeout", "missing_events",
               "bad_response", "truncated", "interrupted")
for _k in ERROR_KINDS:
    _row(f"errors_{_k}", "", True, SETTING, SUM, fmt="{:.0f}", label=f"errors: {_k}")
_row("tokens_per_stream", "", None, SETTING, SAME, fmt="{:.0f}", label="tokens per stream")
_row("events_per_stream", "", None, PROTOCOL, MEAN_STREAMS, fmt="{:.1f}",
     label="events per stream")
_row("content_events_per_stream", "", None, PROTOCOL, MEAN_STREAMS, fmt="{:.1f}",
     label="content events per stream")

# Latency (ms); the statistics the harness writes for each.
FULL = ("mean", "p50", "p90", "p99", "max")
SHORT = ("mean", "p50", "p99")
_latency("ttfb_ms", "TTFB", SHORT)
_latency("queue_ms", "queue", FULL)
_latency("ttft_ms", "TTFT", FULL, compared=("p50", "p99"), predicted=("p50",),
         columns={"p50": (1, "ttft p50 ms", "{:.1f}")})
_latency("ttlt_ms", "TTLT", SHORT)
# The lag's CDF: min, p10 … p95 too.
_latency("lag_ms", "delivery lag",
         ("min", "mean", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "max"),
         compared=("mean", "p50", "p99"), predicted=("mean", "p99"),
         columns={"p50": (2, "lag p50 ms", "{:.2f}"), "p99": (3, "lag p99 ms", "{:.2f}")})
_latency("itl_ms", "inter-token gap", SHORT)
_latency("dispatch_lag_ms", "dispatch lag", FULL)
_latency("harness_lag_ms", "harness lag", FULL)

# Requests and connections.
_row("requests_per_stream", "", True, PROTOCOL, MEAN_STREAMS, floor=0.5, fmt="{:.1f}",
     label="requests per stream", column=4, header="req/stream", predicted=True)
_row("connections_per_stream", "", True, PROTOCOL, MEAN_STREAMS, fmt="{:.2f}",
     label="connections per stream")
_row("empty_polls_per_stream", "", True, PROTOCOL, MEAN_STREAMS, fmt="{:.1f}",
     label="empty polls per stream")
# A count: answers libcurl held back over HTTP/2 until kicked.
_row("h2_kicks", "", True, MACHINE, SUM, fmt="{:.0f}", label="HTTP/2 answers kicked")

# Bytes (B) and segments.
_per("wire_bytes_in", "B", "wire bytes in", PROTOCOL, MEAN_RUN, floors={"per_token": 2.0},
     columns={"per_token": (7, "wire B/tok in", "{:.0f}")},
     predicted=("wire_bytes_in_per_token",))
_per("wire_bytes_out", "B", "wire bytes out", PROTOCOL, MEAN_RUN, floors={"per_token": 2.0},
     columns={"per_token": (8, "wire B/tok out", "{:.0f}")})
_per("http_bytes_out", "B", "HTTP bytes out", PROTOCOL, MEAN_STREAMS)
_per("http_bytes_in", "B", "HTTP bytes in", PROTOCOL, MEAN_STREAMS, floors={"per_token": 2.0},
     predicted=("http_bytes_in_per_token",))
_per("http_header_bytes_in", "B", "HTTP status and header bytes in", PROTOCOL, MEAN_STREAMS,
     predicted=("http_header_bytes_in_per_token",))
_per("tcp_payload_bytes_out", "B", "TCP payload bytes out", PROTOCOL, MEAN_RUN)
_per("tcp_payload_bytes_in", "B", "TCP payload bytes in", PROTOCOL, MEAN_RUN)
_per("segments_out", "", "segments out", PROTOCOL, MEAN_RUN)
_per("segments_in", "", "segments in", PROTOCOL, MEAN_RUN, floors={"per_token": 0.02})
for _d in ("in", "out"):
    _row(f"body_bytes_{_d}_per_request", "B", True, PROTOCOL, MEAN_REQUESTS, fmt="{:.0f}",
         label=f"body bytes {_d} per request")
    _row(f"header_bytes_{_d}_per_request", "B", True, PROTOCOL, MEAN_REQUESTS, fmt="{:.0f}",
         label=f"header and framing bytes {_d} per request")
    _row(f"header_share_{_d}", "", True, PROTOCOL, MEAN_RUN, fmt="{:.2f}",
         label=f"header share of the TCP payload {_d}")
# CPU (µs): the round's, over every stream run.
_per("client_cpu_us", "µs", "client CPU µs", MACHINE, MEAN_RUN, floors={"per_token": 2.0},
     columns={"per_token": (5, "client CPU µs/tok", "{:.1f}")})
_per("server_cpu_us", "µs", "server CPU µs", MACHINE, SERVER, floors={"per_token": 2.0},
     columns={"per_token": (6, "server CPU µs/tok", "{:.1f}")})
_row("server_lateness_us_p50", "µs", True, MACHINE, MEAN_STREAMS, fmt="{:.0f}",
     label="server write lateness p50, µs")
_row("server_lateness_us_p99", "µs", True, MACHINE, MAX, fmt="{:.0f}",
     label="server write lateness p99, µs")
_row("server_lateness_us_max", "µs", True, MACHINE, MAX, fmt="{:.0f}",
     label="server write lateness max, µs")

# TLS (cases tls:on and tls:noresume only). A handshake is counted where a connection opens:
# with keep-alive the warm-up opens the HTTP transports' connections, so their measured rounds
# have none (ws opens one per connection of turns; --no-keep-alive one per request).
_TLS = "--tls cases (BenchHarness.Tls checks them)"
_latency("tls_handshake_ms", "TLS handshake (TCP connected to TLS done)", SHORT, only_in=_TLS)
_row("tls_handshakes_per_stream", "", True, PROTOCOL, MEAN_STREAMS, fmt="{:.2f}",
     label="TLS handshakes per stream", only_in=_TLS)
_row("tls_resumed_share", "", None, PROTOCOL, MEAN_STREAMS, fmt="{:.2f}",
     label="share of TLS handshakes that resumed a session", only_in=_TLS)
_row("tls_handshake_share_of_ttft", "", True, MACHINE, MEAN_STREAMS, fmt="{:.2f}",
     label="TLS handshake p50 / TTFT p50", only_in=_TLS)
for _d, _way in (("in", "in (records, handshakes, tickets)"), ("out", "out")):
    _row(f"tls_overhead_bytes_{_d}_per_token", "B", True, PROTOCOL, MEAN_RUN, fmt="{:.1f}",
         label=f"TLS bytes {_way} per token: TCP payload less the server's plaintext",
         only_in=_TLS)

_row("tcp_retransmits", "", True, MACHINE, SUM, fmt="{:.0f}", label="TCP retransmissions")
_row("round_wall_s_mean", "s", True, MACHINE, MAX, fmt="{:.2f}", label="round wall time, s")

# The link emulator's own figures over the case's measured rounds (--link runs only: `reset`
# before them, `stats` after; link/README.md's stats fields). down = server -> client. A sharded
# link run starts an emulator per shard: counts sum, the worst percentiles and flag win.
_LINK = "--link runs (root; BenchHarness.LinkAxis checks them)"
for _d, _way in (("down", "server to client"), ("up", "client to server")):
    _row(f"link_{_d}_packets", "", None, PROTOCOL, SUM, fmt="{:.0f}",
         label=f"link: packets {_way}", only_in=_LINK)
    _row(f"link_{_d}_bytes", "B", None, PROTOCOL, SUM, fmt="{:.0f}",
         label=f"link: IP bytes {_way}", only_in=_LINK)
    _row(f"link_{_d}_delivered", "", None, PROTOCOL, SUM, fmt="{:.0f}",
         label=f"link: packets {_way} delivered in the window", only_in=_LINK)
    _row(f"link_{_d}_drops_loss", "", True, PROTOCOL, SUM, fmt="{:.0f}",
         label=f"link: packets {_way} lost (the profile's loss)", only_in=_LINK)
    _row(f"link_{_d}_drops_queue", "", True, PROTOCOL, SUM, fmt="{:.0f}",
         label=f"link: packets {_way} dropped by the full queue", only_in=_LINK)
    _row(f"link_{_d}_queue_delay_ms_p50", "ms", True, PROTOCOL, MEAN_STREAMS, fmt="{:.2f}",
         label=f"link: queueing delay {_way} p50, ms", only_in=_LINK)
    _row(f"link_{_d}_queue_delay_ms_p99", "ms", True, PROTOCOL, MAX, fmt="{:.2f}",
         label=f"link: queueing delay {_way} p99, ms", only_in=_LINK)
_row("link_cpu_us_per_packet", "µs", True, MACHINE, MEAN_STREAMS, fmt="{:.1f}",
     label="link emulator CPU per packet, µs", only_in=_LINK)
_row("link_lateness_us_p50", "µs", True, MACHINE, MEAN_STREAMS, fmt="{:.0f}",
     label="link emulator release lateness p50, µs", only_in=_LINK)
_row("link_lateness_us_p99", "µs", True, MACHINE, MAX, fmt="{:.0f}",
     label="link emulator release lateness p99, µs", only_in=_LINK)
_row("link_lateness_us_max", "µs", True, MACHINE, MAX, fmt="{:.0f}",
     label="link emulator release lateness max, µs", only_in=_LINK)
_row("link_behind", "", True, SETTING, MAX, fmt="{:.0f}",
     label="link emulator behind its schedule (1 = yes)", only_in=_LINK)

# The reverse proxy's own use over the case's measured rounds (--proxy runs only: /proc of its
# master and workers, sampled at the start, every 20 ms and at the end; bench/src/proxy.cpp). Its
# CPU covers every stream run, as the server's does; its memory per stream is the RSS peak's
# growth over the RSS before the case (before its warm-up), over the streams held at once; RSS
# freed by ended streams stays with the process, so a case after a bigger one shows little growth.
_PROXY = "--proxy runs (BenchHarness.Proxy_transports checks them)"
_row("proxy_cpu_ms", "ms", True, MACHINE, SUM, fmt="{:.1f}", label="proxy CPU, ms",
     only_in=_PROXY)
_row("proxy_cpu_us_per_request", "µs", True, MACHINE, MEAN_RUN, fmt="{:.1f}",
     label="proxy CPU per request, µs", only_in=_PROXY)
_row("proxy_cpu_us_per_token", "µs", True, MACHINE, MEAN_RUN, floor=2.0, fmt="{:.1f}",
     label="proxy CPU per token, µs", only_in=_PROXY)
_row("proxy_rss_bytes_before", "B", None, MACHINE, MAX, fmt="{:.0f}",
     label="proxy RSS before the case, B", only_in=_PROXY)
_row("proxy_rss_bytes_peak", "B", True, MACHINE, MAX, fmt="{:.0f}",
     label="proxy RSS peak, B", only_in=_PROXY)
_row("proxy_rss_bytes_per_stream", "B", True, MACHINE, MAX, fmt="{:.0f}",
     label="proxy RSS per held stream, B", only_in=_PROXY)

# The browser's own figures over the case's measured rounds (--client=browser cases only;
# bench/src/browser_client.cpp): CPU (user + sys, /proc) of its processes, whose sum is the case's
# client_cpu_us; its page's main thread (CDP's TaskDuration), long tasks, CORS preflights. The
# browser's connection queue is queue_ms (Resource Timing's requestStart - t0); its bytes are the
# server's counts, and it has no segment or wire_bytes figures (its sockets are out of reach).
_BROWSER = "--client=browser cases (BenchHarness.Browser_run checks them)"
for _p, _what in (("renderer", "renderer"), ("network", "network service"),
                  ("process", "browser process")):
    for _s in ("per_stream", "per_token"):
        _row(f"browser_{_p}_cpu_us_{_s}", "µs", True, MACHINE, MEAN_RUN,
             floor=2.0 if _s == "per_token" else None, fmt="{:.1f}",
             label=f"browser {_what} CPU µs per {_s.split('_')[1]}", only_in=_BROWSER)
_row("browser_main_thread_busy_ms_per_stream", "ms", True, MACHINE, MEAN_RUN, fmt="{:.2f}",
     label="browser main thread busy per stream, ms", only_in=_BROWSER)
_row("browser_main_thread_busy_us_per_token", "µs", True, MACHINE, MEAN_RUN, fmt="{:.1f}",
     label="browser main thread busy per token, µs", only_in=_BROWSER)
_row("browser_long_tasks", "", True, MACHINE, SUM, fmt="{:.0f}",
     label="browser long tasks (over 50 ms)", only_in=_BROWSER)
_row("browser_preflights_per_stream", "", True, PROTOCOL, MEAN_RUN, fmt="{:.2f}",
     label="CORS preflights per stream", only_in=_BROWSER)

# Settings of the run the harness writes as counters (the case's dimensions are fields).
_row("speed", "", None, SETTING, SAME, fmt="{:g}", label="replay speed")
_row("duration_s", "s", None, SETTING, SAME, fmt="{:g}", label="duration, s")
_row("think_ms", "ms", None, SETTING, SAME, fmt="{:g}", label="think time, ms",
     only_in="users cases (none in the smoke runs)")
_row("harness_behind", "", True, SETTING, MAX, fmt="{:.0f}",
     label="harness behind its schedule (1 = yes)")
_row("shards", "", None, SETTING, SHARDS, fmt="{:.0f}", label="shards merged")
# One schedule for all shards (--start-at; bench/include/ssebench/bench/schedule.hpp): each
# shard's lateness against its case's window and its clock against the server's; merge_shards
# adds the skew between the shards' clocks and how many shards were late.
_SCHEDULE = "--start-at runs (BenchHarness.ShardsOnOneSchedule checks them)"
_row("schedule_late_ms", "ms", True, SETTING, MAX, fmt="{:.1f}",
     label="began a slot of the case's window this late, ms", only_in=_SCHEDULE)
_row("schedule_missed", "", True, SETTING, MAX, fmt="{:.0f}",
     label="missed its window's start by more than --late-ms (1 = yes)", only_in=_SCHEDULE)
_row("clock_offset_ms", "ms", None, SETTING, MAX, fmt="{:.2f}",
     label="clock offset to the server (server - local), ms; merged: the largest",
     only_in=_SCHEDULE)
_row("clock_uncertainty_ms", "ms", True, SETTING, MAX, fmt="{:.2f}",
     label="clock offset's uncertainty (half the probe's round trip), ms", only_in=_SCHEDULE)
_row("clock_skew_ms", "ms", True, SETTING, MAX, fmt="{:.2f}",
     label="merged shards: largest - smallest clock offset, ms",
     only_in="merged --start-at runs (BenchHarness.ShardsOnOneSchedule checks them)")
_row("shards_late", "", True, SETTING, SUM, fmt="{:.0f}",
     label="merged shards that missed the window (merge_shards --allow-late)",
     only_in="merged --start-at runs (BenchHarness.ShardsOnOneSchedule checks them)")
# Google Benchmark's own numbers of an entry.
_row("iterations", "", None, SETTING, SAME, fmt="{:.0f}", label="rounds")
_row("real_time", "ms", None, SETTING, MAX, fmt="{:.0f}", label="round time (manual), ms")
_row("cpu_time", "ms", None, SETTING, MEAN_STREAMS, fmt="{:.1f}",
     label="main thread CPU time, ms")

# What scripts/model.py --write adds beside a measured figure: predicted_<figure> and
# predicted_<figure>_band. payload_bytes_in_per_token is predicted only (no counter measures it).
PREDICTED_ONLY = ("payload_bytes_in_per_token",)
for _f in [f.name for f in FIGURES if f.predicted] + list(PREDICTED_ONLY):
    for _suffix in ("", "_band"):
        _row(f"predicted_{_f}{_suffix}", "", None, SETTING, SAME, fmt="{:.2f}",
             label=f"model: {_f}{' band' if _suffix else ''}",
             only_in="written by scripts/model.py --write after a run")

BY_NAME = {f.name: f for f in FIGURES}
assert len(BY_NAME) == len(FIGURES), "a figure is in the table twice"


def get(name):
    """The row of a counter; KeyError names it when it has none."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name}: no row in scripts/ssebench/figures.py") from None


def compared():
    """scripts/compare's figures, in table order: those with a floor."""
    return [f for f in FIGURES if f.floor is not None]


def columns():
    """The console table's figure columns, in their order."""
    return sorted((f for f in FIGURES if f.column is not None), key=lambda f: f.column)


def predicted():
    """The measured figures scripts/model.py predicts, in table order."""
    return [f.name for f in FIGURES if f.predicted]


def unknown(names):
    """The counters of `names` that have no row."""
    return sorted(n for n in names if n not in BY_NAME)
