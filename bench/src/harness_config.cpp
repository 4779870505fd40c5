#include "ssebench/bench/harness_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "ssebench/bench/harness_link.hpp"
#include "ssebench/bench/schedule.hpp"

namespace ssebench::bench {

std::string_view to_string(ClientKind k) {
  switch (k) {
    case ClientKind::harness:
      return "harness";
    case ClientKind::browser:
      return "browser";
    case ClientKind::browser_eventsource:
      return "browser-eventsource";
  }
  return "?";
}

std::optional<ClientKind> parse_client(std::string_view name) {
  for (ClientKind k : {ClientKind::harness, ClientKind::browser, ClientKind::browser_eventsource})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::string default_chromium() {
  const char* env = std::getenv("SSEBENCH_CHROMIUM");
  return env && *env ? env : "/usr/bin/chromium";
}

std::string installed_prefix() {
  // An installed binary uses its own tree even where the build tree it came from still exists
  // (the install test runs beside it); a build-tree binary has no share/ssebench above it.
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path prefix = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
  if (ec || !fs::is_directory(prefix / "share/ssebench/recordings", ec)) return "";
  return prefix.string();
}

std::string built_server_binary() {
  if (const std::string prefix = installed_prefix(); !prefix.empty())
    return prefix + "/bin/ssebench-mock-server";
#ifdef SSEBENCH_MOCK_SERVER
  return SSEBENCH_MOCK_SERVER;
#else
  return "";
#endif
}

std::string built_recordings_dir() {
  if (const std::string prefix = installed_prefix(); !prefix.empty())
    return prefix + "/share/ssebench/recordings";
#ifdef SSEBENCH_RECORDINGS_DIR
  return SSEBENCH_RECORDINGS_DIR;
#else
  return "recordings";
#endif
}

std::string_view to_string(Suite s) {
  switch (s) {
    case Suite::core:
      return "core";
    case Suite::full:
      return "full";
    case Suite::quick:
      return "quick";
  }
  return "?";
}

std::optional<Suite> parse_suite(std::string_view name) {
  for (Suite s : {Suite::core, Suite::full, Suite::quick})
    if (to_string(s) == name) return s;
  return std::nullopt;
}

void apply_suite(HarnessConfig& c, const std::set<std::string>& given) {
  // An interval sweep or HTTP versions given by hand are the ones asked for.
  if (given.contains("intervals") && !given.contains("crossover-intervals"))
    c.crossover_intervals_ms.clear();
  if (given.contains("http") && !given.contains("http-beside")) c.http_beside_top_only = false;
  switch (c.suite) {
    case Suite::core:
      return;  // the in-class defaults
    case Suite::full:
      if (!given.contains("models")) c.models = full_models;
      if (!given.contains("intervals")) c.intervals_ms = full_intervals_ms;
      if (!given.contains("ws-turns")) c.ws_turns = {1, 4};
      if (!given.contains("http-beside")) c.http_beside_top_only = false;
      return;
    case Suite::quick:
      // CI gates these cases against a committed run: they stay as they were.
      if (!given.contains("models")) c.models = {"chat-gpt-4o-mini-text"};
      if (!given.contains("concurrency")) c.concurrency = {1, 10};
      if (!given.contains("intervals")) c.intervals_ms = {50, 250};
      if (!given.contains("ws-turns")) c.ws_turns = {1, 4};
      if (!given.contains("crossover-intervals")) c.crossover_intervals_ms.clear();
      if (!given.contains("http-beside")) c.http_beside_top_only = false;
      return;
  }
}

namespace {

/** A list flag's values, each a whole number of at least `min`. */
template <class T>
std::vector<T> counts(std::string_view flag, std::string_view text, T min) {
  return flags::list_of<T>(flag, text,
                           [&](std::string_view v) { return flags::integer<T>(flag, v, min); });
}

/** A duration in milliseconds as the clients take it (at most flags::max_duration_ms). */
long ms(std::string_view flag, std::string_view text, std::uint64_t min = 0) {
  return static_cast<long>(flags::duration_ms(flag, text, min));
}

/** A number above 0 (rates, gamma's shape): 0 itself is no rate. */
double positive(std::string_view flag, std::string_view text) {
  const double v = flags::real(flag, text);
  if (!(v > 0)) throw flags::bad_value(flag, text, "a number above 0");
  return v;
}

/** "I/N" with 0 <= I < N. */
Shard shard_of(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw flags::bad_value("shard", text, "I/N");
  Shard s;
  s.index = flags::integer<std::size_t>("shard", text.substr(0, slash));
  s.count = flags::integer<std::size_t>("shard", text.substr(slash + 1), 1);
  if (s.index >= s.count) throw flags::bad_value("shard", text, "I/N with 0 <= I < N");
  return s;
}

/** What no single flag can check: values that must agree with each other. */
void check_together(const HarnessConfig& c) {
  for (std::size_t n : c.users)
    if (n < c.shard.count)
      throw flags::Error(
          fmt::format("--users values must be at least the number of shards ({})", c.shard.count));
  if (!(c.duration_s > c.warmup_s + c.cooldown_s))
    throw flags::Error("--duration must exceed --warmup-s + --cooldown-s");
  if (!c.server.empty() && !c.server_args.empty())
    throw flags::Error("--server-args are for the server the harness starts; drop --server");
  if (!c.server.empty() && needs_emulator(c.links))
    throw flags::Error("--link starts its own server inside the link's namespace; drop --server");
  if (!c.server.empty() && needs_tls(c.tls) && (c.server_tls.empty() || c.tls_ca.empty()))
    throw flags::Error(
        "--tls starts its own server with a throwaway certificate; drop --server (or give the "
        "running server's --server-tls=https://... and --tls-ca=PEM)");
  if (c.server_tls.empty() != c.tls_ca.empty() || (c.server.empty() && !c.server_tls.empty()))
    throw flags::Error("--server-tls and --tls-ca go together, with --server");
  if (c.max_concurrency > 0 && c.max_concurrency < c.shard.count)
    throw flags::Error(
        fmt::format("--max-concurrency must be at least the number of shards ({})", c.shard.count));
}

}  // namespace

HarnessConfig parse_harness_flags(int argc, char** argv, bool& help) {
  HarnessConfig c;
  flags::Parser p;
  p.toggle("help", [&] { help = true; });
  p.value("server", [&](std::string_view v) { c.server = v; });
  p.value("server-binary", [&](std::string_view v) { c.server_binary = v; });
  p.value("server-threads", [&](std::string_view v) {
    c.server_threads = flags::integer<unsigned>("server-threads", v);
  });
  p.value("server-args", [&](std::string_view v) {
    c.server_args.clear();
    std::istringstream words{std::string(v)};
    for (std::string w; words >> w;) c.server_args.push_back(w);
  });
  p.value("recordings", [&](std::string_view v) { c.recordings = v; });
  p.value("cases", [&](std::string_view v) {
    c.transports = flags::list_of<Transport>("cases", v, [](std::string_view t) {
      const auto tr = parse_transport(t);
      if (!tr) throw flags::bad_value("cases", t, "sse, rest, poll, long-poll or ws");
      return *tr;
    });
  });
  p.value("models", [&](std::string_view v) {
    c.models =
        flags::list_of<std::string>("models", v, [](std::string_view m) { return std::string(m); });
  });
  p.value("concurrency",
          [&](std::string_view v) { c.concurrency = counts<std::size_t>("concurrency", v, 1); });
  p.value("intervals", [&](std::string_view v) {
    c.intervals_ms = flags::list_of<long>("intervals", v,
                                          [](std::string_view i) { return ms("intervals", i, 1); });
  });
  p.value("crossover-intervals", [&](std::string_view v) {
    c.crossover_intervals_ms.clear();
    if (v != "none")
      c.crossover_intervals_ms =
          flags::list_of<long>("crossover-intervals", v,
                               [](std::string_view i) { return ms("crossover-intervals", i, 1); });
  });
  p.value("ws-turns",
          [&](std::string_view v) { c.ws_turns = counts<std::size_t>("ws-turns", v, 1); });
  p.value("poll-shapes", [&](std::string_view v) {
    c.poll_shapes = flags::list_of<PollShape>("poll-shapes", v, [](std::string_view s) {
      const auto shape = parse_poll_shape(s);
      if (!shape) throw flags::bad_value("poll-shapes", s, "openai, snapshot, delta or events");
      return *shape;
    });
  });
  p.value("speed", [&](std::string_view v) { c.speed = flags::real("speed", v); });
  p.value("rounds", [&](std::string_view v) { c.rounds = flags::integer<int>("rounds", v, 1); });
  p.toggle("no-warmup", [&] { c.warmup = false; });
  p.value("poll-schedule", [&](std::string_view v) {
    if (v == "fixed-rate")
      c.schedule = PollSchedule::fixed_rate;
    else if (v == "after-response")
      c.schedule = PollSchedule::after_response;
    else
      throw flags::bad_value("poll-schedule", v, "fixed-rate or after-response");
  });
  p.toggle("no-keep-alive", [&] { c.keep_alive = false; });
  p.value("http", [&](std::string_view v) {
    c.http = flags::list_of<HttpVersion>("http", v, [](std::string_view h) {
      const auto version = parse_http_version(h);
      if (!version) throw flags::bad_value("http", h, "1.1, 2 or 1.0");
      return *version;
    });
  });
  p.value("http-beside", [&](std::string_view v) {
    if (v != "top" && v != "all") throw flags::bad_value("http-beside", v, "top or all");
    c.http_beside_top_only = v == "top";
  });
  p.value("stagger-ms", [&](std::string_view v) { c.stagger_ms = ms("stagger-ms", v); });
  p.value("long-poll-wait-ms",
          [&](std::string_view v) { c.long_poll_wait_ms = ms("long-poll-wait-ms", v); });
  p.value("host-connections", [&](std::string_view v) {
    c.host_connections = counts<std::size_t>("host-connections", v, 0);
  });
  // --suite=S, or its short forms --full and --quick; two different suites are a mistake.
  std::optional<Suite> suite;
  const auto pick_suite = [&](Suite s, std::string_view flag) {
    if (suite && *suite != s)
      throw flags::Error(
          fmt::format("{} and the {} suite are two suites; pick one", flag, to_string(*suite)));
    suite = s;
  };
  p.value("suite", [&](std::string_view v) {
    const auto s = parse_suite(v);
    if (!s) throw flags::bad_value("suite", v, "core, full or quick");
    pick_suite(*s, fmt::format("--suite={}", v));
  });
  p.toggle("full", [&] { pick_suite(Suite::full, "--full"); });
  p.toggle("quick", [&] { pick_suite(Suite::quick, "--quick"); });
  p.value("link", [&](std::string_view v) { c.links = parse_links(v); });
  p.value("server-tls", [&](std::string_view v) {
    if (!v.starts_with("https://")) throw flags::bad_value("server-tls", v, "an https:// URL");
    c.server_tls = v;
  });
  p.value("tls-ca", [&](std::string_view v) { c.tls_ca = v; });
  p.value("tls", [&](std::string_view v) {
    c.tls = flags::list_of<TlsMode>("tls", v, [](std::string_view t) {
      const auto mode = parse_tls_mode(t);
      if (!mode) throw flags::bad_value("tls", t, "off, on or noresume");
      return *mode;
    });
  });
  p.value("proxy", [&](std::string_view v) {
    c.proxies = flags::list_of<ProxyKind>("proxy", v, [](std::string_view name) {
      const auto k = parse_proxy(name);
      if (!k) throw flags::bad_value("proxy", name, "none, nginx, nginx-stream or haproxy");
      return *k;
    });
  });
  p.value("client", [&](std::string_view v) {
    c.clients = flags::list_of<ClientKind>("client", v, [](std::string_view name) {
      const auto k = parse_client(name);
      if (!k) throw flags::bad_value("client", name, "harness, browser or browser-eventsource");
      return *k;
    });
  });
  p.value("chromium", [&](std::string_view v) { c.chromium = v; });
  p.toggle("check-flags", [&] { c.check_flags = true; });
  p.value("rate", [&](std::string_view v) {
    c.rates =
        flags::list_of<double>("rate", v, [](std::string_view r) { return positive("rate", r); });
  });
  p.value("arrival", [&](std::string_view v) {
    const auto k = parse_arrival_kind(v);
    if (!k) throw flags::bad_value("arrival", v, "constant, poisson or gamma");
    c.arrival = *k;
  });
  p.value("burstiness", [&](std::string_view v) { c.burstiness = positive("burstiness", v); });
  p.value("seed",
          [&](std::string_view v) { c.seed = flags::integer<unsigned long long>("seed", v); });
  p.value("max-concurrency", [&](std::string_view v) {
    c.max_concurrency = flags::integer<std::size_t>("max-concurrency", v);
  });
  p.value("users", [&](std::string_view v) { c.users = counts<std::size_t>("users", v, 1); });
  p.value("think-ms", [&](std::string_view v) { c.think_ms = ms("think-ms", v); });
  // A window's seconds stay within a year, as every duration flag does.
  constexpr double max_s = static_cast<double>(flags::max_duration_ms) / 1000;
  p.value("duration",
          [&](std::string_view v) { c.duration_s = flags::real("duration", v, 0, max_s); });
  p.value("warmup-s",
          [&](std::string_view v) { c.warmup_s = flags::real("warmup-s", v, 0, max_s); });
  p.value("cooldown-s",
          [&](std::string_view v) { c.cooldown_s = flags::real("cooldown-s", v, 0, max_s); });
  p.value("behind-ms", [&](std::string_view v) { c.behind_ms = flags::real("behind-ms", v); });
  p.value("client-threads", [&](std::string_view v) {
    c.client_threads = flags::integer<unsigned>("client-threads", v);
    if (c.client_threads == 0) c.client_threads = std::max(1u, std::thread::hardware_concurrency());
  });
  p.value("shard", [&](std::string_view v) { c.shard = shard_of(v); });
  p.value("start-at", [&](std::string_view v) {
    c.start_at = parse_start_at(v);
    if (!c.start_at)
      throw flags::bad_value("start-at", v,
                             "unix seconds (1764903600.5) or ISO-8601 UTC (2026-12-05T03:00:00Z)");
  });
  p.value("slot-margin",
          [&](std::string_view v) { c.slot_margin = flags::real("slot-margin", v, 1, 100); });
  p.value("slot-pad-ms", [&](std::string_view v) {
    c.slot_pad_s = static_cast<double>(flags::duration_ms("slot-pad-ms", v, 100)) / 1000;
  });
  p.value("late-ms", [&](std::string_view v) { c.late_ms = flags::real("late-ms", v, 1); });

  const std::set<std::string> given = p.parse(argc, argv);
  if (!c.start_at)
    for (const char* f : {"slot-margin", "slot-pad-ms", "late-ms"})
      if (given.contains(f))
        throw flags::Error(fmt::format("--{} shapes the --start-at schedule: give --start-at", f));
  if (suite) c.suite = *suite;
  apply_suite(c, given);
  check_together(c);
  return c;
}

std::string harness_help(const HarnessConfig& d) {
  const auto join = [](const auto& v) {
    std::string s;
    for (const auto& x : v) {
      if (!s.empty()) s += ',';
      s += fmt::format("{}", x);
    }
    return s;
  };
  std::vector<std::string> ts;
  for (Transport t : d.transports) ts.emplace_back(to_string(t));
  std::vector<std::string> shapes;
  for (PollShape s : d.poll_shapes) shapes.emplace_back(to_string(s));
  std::vector<std::string> versions;
  for (HttpVersion h : d.http) versions.emplace_back(to_string(h));
  std::vector<std::string> tls;
  for (TlsMode m : d.tls) tls.emplace_back(to_string(m));
  std::vector<std::string> proxies;
  for (ProxyKind k : d.proxies) proxies.emplace_back(to_string(k));
  std::vector<std::string> clients;
  for (ClientKind k : d.clients) clients.emplace_back(to_string(k));
  return fmt::format(
      "ssebench-bench [Google Benchmark flags] [flags]   (--name=VALUE or --name VALUE)\n"
      "  --server=URL             use a running server (default: start {} on port 0)\n"
      "  --server-threads=N       threads of the started server (default {})\n"
      "  --server-args='FLAGS'    more flags for the started server, space-separated, e.g.\n"
      "                           '--sse-heartbeat-ms=15000 --x-accel-buffering-no'\n"
      "  --recordings=DIR         recordings folder (default {})\n"
      "  --cases=LIST             transports (default {})\n"
      "  --models=LIST            recording ids (default {})\n"
      "  --concurrency=LIST       streams per round (default {})\n"
      "  --intervals=LIST         poll intervals in ms, for poll (default {})\n"
      "  --crossover-intervals=LIST  more intervals for plain delta polls at the highest\n"
      "                           concurrency only, so the run has three to find where a poll\n"
      "                           costs more than SSE (crossover.txt); none = no more (default\n"
      "                           {}; none with --intervals or --quick)\n"
      "  --ws-turns=LIST          ws: sequential turns per connection, a case each (default {})\n"
      "  --poll-shapes=LIST       what poll answers carry: poll runs each, long-poll the cursor\n"
      "                           shapes delta and events (default {})\n"
      "  --speed=S                replay speed of measured rounds (default {})\n"
      "  --rounds=N               measured rounds per case (default {})\n"
      "  --no-warmup              skip the uncounted warm-up round (run at speed 0)\n"
      "  --poll-schedule=S        fixed-rate | after-response (default fixed-rate)\n"
      "  --no-keep-alive          a new connection for every request\n"
      "  --http=LIST              1.1, 2, 1.0: 2 = HTTP/2 cleartext (prior knowledge), a round's\n"
      "                           streams multiplexed over one connection; 1.0 = a default nginx\n"
      "                           upstream, a connection per request (default {})\n"
      "  --http-beside=W          the versions after the first: at every concurrency (all) or\n"
      "                           the highest only (top) (default {}; all with --full, --quick)\n"
      "  --stagger-ms=MS          spread stream starts over MS; 0 = all at once (default {})\n"
      "  --long-poll-wait-ms=W    wait_ms of long polls (default {})\n"
      "  --host-connections=LIST  connection caps per round, 0 = none; 6 = a browser tab over\n"
      "                           HTTP/1.1 (cases /host_conns:N, for concurrency > N; default {})\n"
      "  --suite=S                where the dimensions no flag gives come from (default {}):\n"
      "                           core = the defaults listed here (56 cases, ≈ 2 min);\n"
      "  --full                   = --suite=full (272 cases, ≈ 16 min): models\n"
      "                           {},\n"
      "                           intervals {}, ws turns 1,4;\n"
      "  --quick                  = --suite=quick, what CI gates on: models\n"
      "                           chat-gpt-4o-mini-text, concurrency 1,10, intervals 50,250, ws\n"
      "                           turns 1,4, every poll shape (52 cases, ≈ 40 s)\n"
      "  --link=LIST              links, every case on each (default {}): none = loopback;\n"
      "                           a profile of ssebench-link --list-profiles (3g, lte, ...) or\n"
      "                           trace:DOWN,UP[,rtt=MS] runs through the link emulator (root)\n"
      "  --tls=LIST               off, on, noresume, every case in each (default {}): on = HTTPS\n"
      "                           and wss against a throwaway CA (HTTP/2 by ALPN), sessions\n"
      "                           resumed; noresume = a full handshake per connection\n"
      "  --server-tls=URL         with --server: its https:// URL for the TLS cases, and\n"
      "  --tls-ca=PEM             the CA its certificate is verified against\n"
      "  --proxy=LIST             reverse proxies, every case through each (default {}): none,\n"
      "                           nginx (a plain proxy_pass, Debian's defaults), nginx-stream\n"
      "                           (tuned for streaming), haproxy (Debian's defaults); the run\n"
      "                           starts each on ports of its own beside the server\n"
      "  --client=LIST            who plays the streams, every case by each (default {}):\n"
      "                           harness (libcurl, Beast), browser (headless Chromium: fetch\n"
      "                           streams, WebSocket, setTimeout polls; cases /client:browser),\n"
      "                           browser-eventsource (sse by EventSource on the job's resume\n"
      "                           endpoint); combinations a browser cannot play are skipped\n"
      "  --chromium=PATH          Chromium for the browser clients (default {};\n"
      "                           $SSEBENCH_CHROMIUM sets the default)\n"
      "  --check-flags            check the flags and the recordings, run nothing (exit 0 or 2);\n"
      "                           says how many cases the command line runs and their planned "
      "time\n"
      "load models (METRICS.md, \"Load models\"):\n"
      "  --rate=LIST              open-loop arrivals in streams/s, a case each (/rate:R) instead\n"
      "                           of the closed rounds of --concurrency\n"
      "  --arrival=K              constant | poisson | gamma (default {})\n"
      "  --burstiness=B           gamma's shape: < 1 burstier, > 1 smoother (default {})\n"
      "  --seed=N                 of the arrival schedule (default {})\n"
      "  --max-concurrency=N      open-loop: streams at once, arrivals beyond wait (default {};\n"
      "                           0 = no cap; cases /max_conc:N)\n"
      "  --users=LIST             closed-loop chat sessions of N users, a case each (/users:N)\n"
      "  --think-ms=MS            a user's think time between turns (default {})\n"
      "  --duration=S             open-loop and sessions: seconds streams are due in (default {})\n"
      "  --warmup-s=S             streams due in the first S run, not counted (default {})\n"
      "  --cooldown-s=S           streams due in the last S run, not counted (default {})\n"
      "  --behind-ms=MS           flag a case whose harness lag p99 exceeds MS (default {})\n"
      "  --client-threads=N       threads, each its own multi handle; 0 = cores (default {})\n"
      "  --shard=I/N              run stream k of each case when k mod N = I (default {}/{})\n"
      "one schedule for all shards (docs/METRICS.md, \"Shards on one schedule\"):\n"
      "  --start-at=T             unix seconds (1764903600.5) or ISO-8601 UTC\n"
      "                           (2026-12-05T03:00:00Z) on the SERVER's clock (GET /mock/time):\n"
      "                           every case, and each of its rounds, runs in a window from T;\n"
      "                           shards given the same T and flags run in lock-step\n"
      "  --slot-margin=X          a round's slot = its planned time × X + the pad (default {:g})\n"
      "  --slot-pad-ms=MS         the pad; the warm-up slot is 2 pads + 1 ms per stream of a\n"
      "                           closed round (default {:g})\n"
      "  --late-ms=MS             a slot begun later than MS sets schedule_missed=1 (default "
      "{:g})\n",
      d.server_binary.empty() ? "(none built)" : d.server_binary, d.server_threads, d.recordings,
      join(ts), join(d.models), join(d.concurrency), join(d.intervals_ms),
      join(d.crossover_intervals_ms), join(d.ws_turns), join(shapes), d.speed, d.rounds,
      join(versions), d.http_beside_top_only ? "top" : "all", d.stagger_ms, d.long_poll_wait_ms,
      join(d.host_connections), to_string(d.suite), join(full_models), join(full_intervals_ms),
      join(d.links), join(tls), join(proxies), join(clients), d.chromium, to_string(d.arrival),
      d.burstiness, d.seed, d.max_concurrency, d.think_ms, d.duration_s, d.warmup_s, d.cooldown_s,
      d.behind_ms, d.client_threads, d.shard.index, d.shard.count, d.slot_margin,
      d.slot_pad_s * 1000, d.late_ms);
}

}  // namespace ssebench::bench
