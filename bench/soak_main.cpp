// ssebench-soak: thousands of looping SSE streams plus polling and ws clients against one
// server for a long while; zero errors, and the server's descriptors and RSS flat from the first to
// the last 10 s of the measured window. Writes a JSON (atomically) and prints a summary.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "ssebench/bench/engine.hpp"
#include "ssebench/bench/result_file.hpp"
#include "ssebench/bench/server.hpp"
#include "ssebench/flags.hpp"

namespace ssebench::bench {
namespace {

#ifdef SSEBENCH_MOCK_SERVER
constexpr const char* default_server_binary = SSEBENCH_MOCK_SERVER;
#else
constexpr const char* default_server_binary = "";
#endif

struct SoakConfig {
  std::string server;   // running server URL; empty: start one
  long server_pid = 0;  // that server's process: its descriptors counted here, off its loop
  std::string server_binary = default_server_binary;
  std::string recordings = SSEBENCH_RECORDINGS_DIR;
  std::string model = "chat-gpt-4o-mini-text";  // 12 events over 0.57 s
  double speed = 0.025;                         // 22.8 s a stream, ≈ 0.53 events/s each
  std::size_t sse = 10'000;                     // looping SSE streams
  std::size_t poll = 500;                       // looping poll clients (shape delta)
  std::size_t long_poll = 200;                  // looping long-poll clients (shape delta)
  std::size_t ws = 0;                           // looping ws connections
  std::size_t ws_turns = 1;                     // turns per ws connection, back to back
  long poll_interval_ms = 1'000;
  long long_poll_wait_ms = 10'000;  // wait_ms of each long poll, re-issued when it times out
  /** Local addresses the groups' connections are bound to, in turn (ClientConfig::source). */
  std::vector<std::string> sources;
  /** The replay's zero for every stream, Unix µs (ClientConfig::epoch_us); 0 = each request's. */
  std::int64_t epoch_us = 0;
  long ramp_s = 30;      // stream starts spread over this (≈ 360 connections/s); not measured
  long duration_s = 60;  // the measured window, after the ramp
  long window_s = 10;    // the first and last this many seconds are compared
  std::string out;       // JSON file; empty: none
  /** The server is neither sampled nor reset: an orchestrator (scripts/hold) measures it. */
  bool no_sampling = false;
  HttpClient client = HttpClient::libcurl;  // ClientConfig::client
};

void print_help(const SoakConfig& d) {
  fmt::print(
      "ssebench-soak [flags]\n"
      "  --server=URL             use a running server (default: start {} with\n"
      "                           --max-connections 30000 --job-retention-ms 10000)\n"
      "  --server-pid=PID         with --server: count its descriptors in /proc/PID/fd here,\n"
      "                           not on the server's loop (where 10,000 of them cost ms)\n"
      "  --recordings=DIR         recordings folder (default {})\n"
      "  --model=ID               the recording every stream replays (default {})\n"
      "  --speed=S                replay speed (default {})\n"
      "  --sse=N                  looping SSE streams (default {})\n"
      "  --poll=N                 looping poll clients, shape delta (default {})\n"
      "  --long-poll=N            looping long-poll clients, shape delta (default {})\n"
      "  --ws=N                   looping ws connections (default {})\n"
      "  --ws-turns=N             turns per ws connection, one after the other (default {})\n"
      "  --poll-interval-ms=MS    poll period (default {})\n"
      "  --long-poll-wait-ms=MS   a long poll's wait_ms, asked again when it ends (default {})\n"
      "  --source=ADDR[,ADDR...]  bind the connections to these local addresses, a group of\n"
      "                           streams to each in turn (e.g. 127.0.1.1,127.0.1.2: more\n"
      "                           ephemeral ports than one address has; default: the kernel's)\n"
      "  --epoch-us=US            every stream's replay starts at this Unix time (µs), sent as\n"
      "                           x-ssebench-epoch-us: each event is due at one instant for all,\n"
      "                           and the lags are its fan-out latency (default: each request's\n"
      "                           arrival)\n"
      "  --ramp-s=S               starts spread over S seconds, not measured (default {})\n"
      "  --duration-s=S           the measured window (default {})\n"
      "  --window-s=S             first and last S seconds compared for flatness (default {})\n"
      "  --client=libcurl|epoll   what sends the HTTP requests: libcurl, or the soak's own\n"
      "                           HTTP/1.1 client (a connection a user on epoll, the same\n"
      "                           request bytes, a fraction of libcurl's CPU; cleartext to an\n"
      "                           IPv4 server only) (default libcurl)\n"
      "  --no-sampling            neither sample nor reset the server's stats (its caller\n"
      "                           measures the servers; no flatness check then)\n"
      "  --out=FILE               the JSON result (written to a temporary name, then renamed)\n",
      d.server_binary.empty() ? "(none built)" : d.server_binary, d.recordings, d.model, d.speed,
      d.sse, d.poll, d.long_poll, d.ws, d.ws_turns, d.poll_interval_ms, d.long_poll_wait_ms,
      d.ramp_s, d.duration_s, d.window_s);
}

/** Parses the flags; throws flags::Error. */
SoakConfig parse(int argc, char** argv, bool& help) {
  SoakConfig c;
  const auto count = [](const char* name, std::size_t& to) {
    return [name, &to](std::string_view v) { to = flags::integer<std::size_t>(name, v); };
  };
  const auto seconds = [](const char* name, long& to, long min) {
    return [name, &to, min](std::string_view v) {
      to = flags::integer<long>(name, v, min, static_cast<long>(flags::max_duration_ms / 1000));
    };
  };
  const auto text = [](std::string& to) { return [&to](std::string_view v) { to = v; }; };
  flags::Parser p;
  p.toggle("help", [&] { help = true; })
      .toggle("no-sampling", [&] { c.no_sampling = true; })
      .value("server", text(c.server))
      .value("server-pid",
             [&](std::string_view v) { c.server_pid = flags::integer<long>("server-pid", v); })
      .value("server-binary", text(c.server_binary))
      .value("recordings", text(c.recordings))
      .value("model", text(c.model))
      .value("speed",
             [&](std::string_view v) {
               c.speed = flags::real("speed", v);
               if (c.speed <= 0) throw flags::bad_value("speed", v, "above 0: streams must pace");
             })
      .value("sse", count("sse", c.sse))
      .value("poll", count("poll", c.poll))
      .value("long-poll", count("long-poll", c.long_poll))
      .value("ws", count("ws", c.ws))
      .value(
          "ws-turns",
          [&](std::string_view v) { c.ws_turns = flags::integer<std::size_t>("ws-turns", v, 1); })
      .value("poll-interval-ms",
             [&](std::string_view v) {
               c.poll_interval_ms = static_cast<long>(flags::duration_ms("poll-interval-ms", v, 1));
             })
      .value("long-poll-wait-ms",
             [&](std::string_view v) {
               c.long_poll_wait_ms = static_cast<long>(flags::duration_ms("long-poll-wait-ms", v));
             })
      .value("source",
             [&](std::string_view v) {
               c.sources.clear();
               for (std::string_view rest = v; !rest.empty();) {
                 const std::string_view a = rest.substr(0, rest.find(','));
                 rest.remove_prefix(std::min(rest.size(), a.size() + 1));
                 boost::system::error_code ec;
                 boost::asio::ip::make_address(std::string(a), ec);
                 if (ec) throw flags::bad_value("source", v, "IP addresses, comma-separated");
                 c.sources.emplace_back(a);
               }
               if (c.sources.empty())
                 throw flags::bad_value("source", v, "IP addresses, comma-separated");
             })
      .value(
          "epoch-us",
          [&](std::string_view v) { c.epoch_us = flags::integer<std::int64_t>("epoch-us", v, 1); })
      .value("ramp-s", seconds("ramp-s", c.ramp_s, 0))
      .value("duration-s", seconds("duration-s", c.duration_s, 0))
      .value("window-s", seconds("window-s", c.window_s, 0))
      .value("client",
             [&](std::string_view v) {
               if (v == "libcurl")
                 c.client = HttpClient::libcurl;
               else if (v == "epoll")
                 c.client = HttpClient::epoll;
               else
                 throw flags::bad_value("client", v, "libcurl or epoll");
             })
      .value("out", text(c.out));
  p.parse(argc, argv);
  if (c.duration_s < 2 * c.window_s)
    throw flags::Error("--duration-s must be at least twice --window-s");
  return c;
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) {
  stop.store(true, std::memory_order_relaxed);
}

struct Sample {
  double t_s = 0;  // since the measured window began
  ServerStats s;
};

struct Window {
  double min = 0, max = 0, mean = 0;
};

template <class F>
Window window_of(const std::vector<Sample>& samples, double from_s, double to_s, F value) {
  Window w;
  std::size_t n = 0;
  for (const Sample& x : samples) {
    if (x.t_s < from_s || x.t_s >= to_s) continue;
    const double v = value(x.s);
    w.min = n == 0 ? v : std::min(w.min, v);
    w.max = n == 0 ? v : std::max(w.max, v);
    w.mean += v;
    ++n;
  }
  if (n > 0) w.mean /= static_cast<double>(n);
  return w;
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return percentile(v, q);
}

int soak_main(int argc, char** argv) {
  bool help = false;
  SoakConfig c;
  try {
    c = parse(argc, argv, help);
  } catch (const flags::Error& e) {
    return flags::fail(argv[0], e);
  }
  if (help) {
    print_help(SoakConfig{});
    return 0;
  }
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
  const std::size_t streams = c.sse + c.poll + c.long_poll + c.ws;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < streams + 64) {
    fmt::print(stderr, "ssebench-soak: {} streams need {} descriptors; the limit is {}\n", streams,
               streams + 64, r.rlim_cur);
    return 2;
  }
  const FolderLoad loaded = load_folder(c.recordings);
  std::shared_ptr<const Recording> recording;
  for (const auto& rec : loaded.recordings)
    if (rec->id == c.model) recording = rec;
  if (!recording) {
    fmt::print(stderr, "ssebench-soak: no recording '{}' in {}\n", c.model, c.recordings);
    return 2;
  }
  const Expectation expect = make_expectation(recording);

  std::unique_ptr<ServerProcess> server;
  std::string url = c.server, server_desc = "running server at " + c.server;
  if (url.empty()) {
    try {
      server = std::make_unique<ServerProcess>(
          c.server_binary,
          std::vector<std::string>{"--recordings", c.recordings, "--max-connections", "30000",
                                   "--job-retention-ms", "10000"});
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-soak: {}\n", e.what());
      return 2;
    }
    url = server->url();
    server_desc = "started: " + server->command();
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string error;
  if (!fetch_stats(url, &error)) {
    fmt::print(stderr, "ssebench-soak: the server does not answer: {}\n", error);
    return 2;
  }

  std::signal(SIGINT, &on_signal);
  std::signal(SIGTERM, &on_signal);
  ClientConfig base;
  base.base_url = url;
  base.speed = c.speed;
  base.stop = &stop;
  base.interval = std::chrono::milliseconds(c.poll_interval_ms);
  base.shape = PollShape::delta;
  base.ws_turns = c.ws_turns;
  base.client = c.client;
  base.long_poll_wait = std::chrono::milliseconds(c.long_poll_wait_ms);
  if (c.epoch_us) base.epoch_us = c.epoch_us;
  // Each transport's streams in groups of at most 200, each group under a host name of its own
  // resolved to the server (ClientConfig::resolve). Each user keeps its connection in a cache of
  // its own (the engine's pool per user), as one device would; that also keeps libcurl's walks
  // of a host's connections (every new request) and of a cache's (every request that ends)
  // short, which over 15,000 connections in one cache would cost more than the streams do.
  constexpr std::size_t streams_per_name = 200;
  const auto colon = url.rfind(':');
  const std::string port = url.substr(colon + 1);
  const std::string address = url.substr(url.find("://") + 3, colon - url.find("://") - 3);
  std::vector<SoakGroup> groups;
  const auto group = [&](Transport t, std::size_t n) {
    for (std::size_t from = 0; from < n; from += streams_per_name) {
      SoakGroup g{&expect, t, base, std::min(streams_per_name, n - from)};
      if (!c.sources.empty()) g.config.source = c.sources[groups.size() % c.sources.size()];
      if (row_of(t).loop == Loop::curl) {  // ws's driver keeps no list of connections to walk
        const std::string host = fmt::format("soak{}.invalid", groups.size());
        g.config.base_url = fmt::format("http://{}:{}", host, port);
        g.config.resolve = {fmt::format("{}:{}:{}", host, port, address)};
      }
      groups.push_back(std::move(g));
    }
  };
  group(Transport::sse, c.sse);
  group(Transport::poll, c.poll);
  group(Transport::long_poll, c.long_poll);
  group(Transport::ws, c.ws);

  const auto ramp = std::chrono::seconds(c.ramp_s);
  fmt::print(stderr,
             "ssebench-soak: {} SSE + {} poll + {} long-poll streams + {} ws connections of {} at "
             "speed {}, looping; {} s ramp, then {} s measured, against {}\n",
             c.sse, c.poll, c.long_poll, c.ws, c.model, c.speed, c.ramp_s, c.duration_s, url);
  // The server is sampled once a second from a thread of its own, so that the engine's loop
  // never waits on it. Its descriptors are counted from /proc/PID/fd here when this process
  // started it: listing 10,000 of them takes ~50 ms, which on the server's loop would show in its
  // lateness; a --server=URL is asked for fds_open (on its own loop) instead.
  const std::string fd_dir = server         ? fmt::format("/proc/{}/fd", server->pid())
                             : c.server_pid ? fmt::format("/proc/{}/fd", c.server_pid)
                                            : "";
  const auto count_fds = [&]() -> std::int64_t {
    std::error_code ec;
    std::int64_t n = 0;
    for (std::filesystem::directory_iterator it(fd_dir, ec), end; !ec && it != end;
         it.increment(ec))
      ++n;
    return ec ? -1 : n;
  };
  std::vector<Sample> samples;
  std::atomic<bool> done{false};
  const auto t_begin = Clock::now();
  std::thread sampler([&] {
    const auto measured = t_begin + ramp;
    if (c.no_sampling) return;
    std::this_thread::sleep_until(measured);
    if (!done) reset_stats(url);  // lateness from here on
    long printed = -1;            // the last ten seconds a progress line was printed for
    for (auto next = measured; !done; next += std::chrono::seconds(1)) {
      std::this_thread::sleep_until(next);
      if (done) break;
      const double t = std::chrono::duration<double>(Clock::now() - measured).count();
      std::optional<ServerStats> s = fetch_stats(url, nullptr, fd_dir.empty());
      if (!s) continue;
      if (!fd_dir.empty()) s->fds_open = count_fds();
      samples.push_back({t, *s});
      if (static_cast<long>(t) / 10 == printed) continue;
      printed = static_cast<long>(t) / 10;
      fmt::print(stderr, "  {:5.1f} s: {} connections, {} streams, {} fds, RSS {:.1f} MiB\n", t,
                 s->connections_open, s->streams_active, s->fds_open,
                 static_cast<double>(s->rss_bytes) / 1048576);
    }
  });
  Engine engine;
  const SoakResult result = engine.run_soak(groups, ramp, std::chrono::seconds(c.duration_s),
                                            std::chrono::hours(1), [](Clock::duration) {});
  done = true;
  sampler.join();
  const std::optional<ServerStats> last = fetch_stats(url);

  const double d = static_cast<double>(c.duration_s), w = static_cast<double>(c.window_s);
  const auto fds = [](const ServerStats& s) { return static_cast<double>(s.fds_open); };
  const auto rss = [](const ServerStats& s) { return static_cast<double>(s.rss_bytes) / 1048576; };
  const Window fds_first = window_of(samples, 0, w, fds),
               fds_last = window_of(samples, d - w, d, fds);
  const Window rss_first = window_of(samples, 0, w, rss),
               rss_last = window_of(samples, d - w, d, rss);
  // Flat: the last window's mean within 2% (fds) and 5% (RSS) of the first's.
  const bool fds_flat =
      fds_first.mean > 0 && std::abs(fds_last.mean - fds_first.mean) <= 0.02 * fds_first.mean;
  const bool rss_flat = rss_first.mean > 0 && rss_last.mean <= 1.05 * rss_first.mean;

  // The groups of one transport, summed.
  std::vector<std::pair<Transport, std::size_t>> kinds;  // transport, streams
  std::vector<SoakGroupResult> by_kind;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (kinds.empty() || kinds.back().first != groups[i].transport) {
      kinds.emplace_back(groups[i].transport, 0);
      by_kind.emplace_back();
    }
    kinds.back().second += groups[i].count;
    SoakGroupResult& to = by_kind.back();
    const SoakGroupResult& from = result.groups[i];
    to.streams_ok += from.streams_ok;
    to.streams_failed += from.streams_failed;
    to.streams_cut += from.streams_cut;
    for (std::size_t k = 0; k < error_kind_count; ++k) to.errors[k] += from.errors[k];
    if (to.first_error.empty()) to.first_error = from.first_error;
    to.lag_ms.insert(to.lag_ms.end(), from.lag_ms.begin(), from.lag_ms.end());
    to.events += from.events;
    to.requests += from.requests;
    to.connections += from.connections;
    to.cut_lag_ms.insert(to.cut_lag_ms.end(), from.cut_lag_ms.begin(), from.cut_lag_ms.end());
    to.cut_events += from.cut_events;
    to.cut_requests += from.cut_requests;
  }
  // With --epoch-us every lag is one event's fan-out latency: the held streams' lags go out whole,
  // so that a run of several client processes takes its percentiles over all of them.
  const auto cut_lags = [&](const SoakGroupResult& g) {
    if (!c.epoch_us) return std::string();
    std::string list = ", \"cut_lag_ms\": [";
    for (std::size_t k = 0; k < g.cut_lag_ms.size(); ++k)
      fmt::format_to(std::back_inserter(list), "{}{:.3f}", k ? "," : "", g.cut_lag_ms[k]);
    return list + "]";
  };
  std::size_t errors = 0;
  std::string out = "{\n  \"context\": {\n";
  out += fmt::format(
      "    \"server\": \"{}\",\n    \"model\": \"{}\",\n    \"speed\": {},\n"
      "    \"streams\": {{\"sse\": {}, \"poll\": {}, \"long_poll\": {}, \"ws\": {}}},\n"
      "    \"ws_turns\": {},\n    \"client\": \"{}\",\n"
      "    \"poll_interval_ms\": {},\n    \"ramp_s\": {},\n    \"duration_s\": {},\n"
      "    \"window_s\": {},\n    \"interrupted\": {},\n    \"cores\": {}\n  }},\n",
      server_desc, c.model, c.speed, c.sse, c.poll, c.long_poll, c.ws, c.ws_turns,
      c.client == HttpClient::epoll ? "epoll" : "libcurl", c.poll_interval_ms, c.ramp_s,
      c.duration_s, c.window_s, stop.load() ? "true" : "false", sysconf(_SC_NPROCESSORS_ONLN));
  out += "  \"groups\": [\n";
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const SoakGroupResult& g = by_kind[i];
    errors += g.streams_failed;
    std::string kind_counts;
    for (std::size_t k = 0; k < error_kind_count; ++k)
      kind_counts += fmt::format("{}\"{}\": {}", k ? ", " : "",
                                 to_string(static_cast<ErrorKind>(k)), g.errors[k]);
    std::string first;
    for (char ch : g.first_error)
      if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) first += ch;
    out += fmt::format(
        "    {{\"transport\": \"{}\", \"count\": {}, \"streams_ok\": {}, \"streams_failed\": {}, "
        "\"streams_cut_at_end\": {}, \"errors\": {{{}}}, \"first_error\": \"{}\", "
        "\"events\": {}, \"requests\": {}, \"connections\": {}, \"lag_ms_p50\": {:.3f}, "
        "\"lag_ms_p99\": {:.3f}, "
        "\"lag_ms_max\": {:.3f}, \"cut_events\": {}, \"cut_requests\": {}, "
        "\"cut_lag_ms_p50\": {:.3f}, \"cut_lag_ms_p99\": {:.3f}, \"cut_lag_ms_max\": "
        "{:.3f}{}}}{}\n",
        to_string(kinds[i].first), kinds[i].second, g.streams_ok, g.streams_failed, g.streams_cut,
        kind_counts, first, g.events, g.requests, g.connections, pct(g.lag_ms, 0.5),
        pct(g.lag_ms, 0.99), pct(g.lag_ms, 1.0), g.cut_events, g.cut_requests,
        pct(g.cut_lag_ms, 0.5), pct(g.cut_lag_ms, 0.99), pct(g.cut_lag_ms, 1.0), cut_lags(g),
        i + 1 < kinds.size() ? "," : "");
    fmt::print(stderr,
               "{:>9}: {} streams ended well, {} failed, {} cut at the end; {} events, {} "
               "requests; client lag p50 {:.2f} ms, p99 {:.2f} ms{}\n",
               to_string(kinds[i].first), g.streams_ok, g.streams_failed, g.streams_cut, g.events,
               g.requests, pct(g.lag_ms, 0.5), pct(g.lag_ms, 0.99),
               g.first_error.empty() ? "" : "; first error: " + g.first_error);
  }
  out += "  ],\n";
  const double lat_p50 = last ? last->lateness_us_p50 : 0,
               lat_p99 = last ? last->lateness_us_p99 : 0,
               lat_max = last ? last->lateness_us_max : 0;
  const double events_per_s =
      last ? static_cast<double>(last->lateness_count) / std::max(1.0, d) : 0;
  out += fmt::format(
      "  \"server\": {{\"lateness_us_p50\": {:.1f}, \"lateness_us_p99\": {:.1f}, "
      "\"lateness_us_max\": {:.1f}, \"events_per_s\": {:.0f},\n"
      "    \"fds_first_window\": {{\"min\": {}, \"max\": {}, \"mean\": {:.1f}}},\n"
      "    \"fds_last_window\": {{\"min\": {}, \"max\": {}, \"mean\": {:.1f}}},\n"
      "    \"rss_mib_first_window\": {{\"min\": {:.1f}, \"max\": {:.1f}, \"mean\": {:.1f}}},\n"
      "    \"rss_mib_last_window\": {{\"min\": {:.1f}, \"max\": {:.1f}, \"mean\": {:.1f}}},\n"
      "    \"fds_flat\": {}, \"rss_flat\": {}}},\n",
      lat_p50, lat_p99, lat_max, events_per_s, fds_first.min, fds_first.max, fds_first.mean,
      fds_last.min, fds_last.max, fds_last.mean, rss_first.min, rss_first.max, rss_first.mean,
      rss_last.min, rss_last.max, rss_last.mean, fds_flat ? "true" : "false",
      rss_flat ? "true" : "false");
  out += fmt::format("  \"client_cpu_s\": {:.1f},\n  \"samples\": [", result.client_cpu_us / 1e6);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const ServerStats& s = samples[i].s;
    out += fmt::format(
        "{}\n    {{\"t_s\": {:.1f}, \"rss_bytes\": {}, \"fds_open\": {}, \"connections_open\": {}, "
        "\"streams_active\": {}, \"requests_held\": {}, \"jobs_active\": {}, \"jobs_held\": {}, "
        "\"cpu_us\": {:.0f}}}",
        i ? "," : "", samples[i].t_s, s.rss_bytes, s.fds_open, s.connections_open, s.streams_active,
        s.requests_held, s.jobs_active, s.jobs_held, s.cpu_us());
  }
  out += "\n  ]\n}\n";
  fmt::print(stderr,
             "server: {:.0f} events/s, lateness p50 {:.0f} µs, p99 {:.0f} µs, max {:.1f} ms\n"
             "server fds: first {} s {:.0f}–{:.0f} (mean {:.1f}), last {} s {:.0f}–{:.0f} "
             "(mean {:.1f}): {}\n"
             "server RSS: first {} s {:.1f}–{:.1f} MiB, last {} s {:.1f}–{:.1f} MiB: {}\n"
             "client CPU {:.1f} s over {} s\n",
             events_per_s, lat_p50, lat_p99, lat_max / 1000, c.window_s, fds_first.min,
             fds_first.max, fds_first.mean, c.window_s, fds_last.min, fds_last.max, fds_last.mean,
             fds_flat ? "flat" : "NOT FLAT", c.window_s, rss_first.min, rss_first.max, c.window_s,
             rss_last.min, rss_last.max, rss_flat ? "flat" : "NOT FLAT", result.client_cpu_us / 1e6,
             c.ramp_s + c.duration_s);
  if (!c.out.empty()) {
    std::string werr;
    if (!write_file_atomically(c.out, out, werr)) {
      fmt::print(stderr, "ssebench-soak: {}\n", werr);
      return 1;
    }
    fmt::print(stderr, "ssebench-soak: {}\n", c.out);
  }
  if (stop.load()) return 130;
  const bool ok = errors == 0 && (c.no_sampling || (fds_flat && rss_flat));
  fmt::print(stderr, "ssebench-soak: {}\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace ssebench::bench

int main(int argc, char** argv) {
  return ssebench::bench::soak_main(argc, argv);
}
