#include "ssebench/bench/harness.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "ssebench/bench/browser_client.hpp"
#include "ssebench/bench/cases.hpp"
#include "ssebench/bench/engine.hpp"
#include "ssebench/bench/harness_config.hpp"
#include "ssebench/bench/harness_link.hpp"
#include "ssebench/bench/load.hpp"
#include "ssebench/bench/proxy.hpp"
#include "ssebench/bench/results_reporter.hpp"
#include "ssebench/bench/run_context.hpp"
#include "ssebench/bench/schedule.hpp"
#include "ssebench/bench/server.hpp"
#include "ssebench/bench/stop_signal.hpp"
#include "ssebench/link/netns.hpp"
#include "ssebench/tls_files.hpp"

namespace ssebench::bench {

namespace {

/** Everything the cases share. */
struct Run {
  HarnessConfig config;
  std::string url;
  std::string tls_url;  // the server's https:// URL; empty: no TLS case
  std::string ca_file;  // the run's throwaway CA, which signed the server's certificate
  int cases_total = 0;
  int cases_done = 0;
  int cases_failed = 0;
  // For the progress lines' elapsed time and estimate of what is left.
  Clock::time_point started = Clock::now();  // reset when the first case starts
  double planned_total_s = 0;                // planned_s of every case that will run
  double planned_done_s = 0;                 // of those finished
  ResultsReporter* results = nullptr;
  bool interrupted = false;  // a case was cut by the interrupt
  /** Every case's latency histograms (repetitions merged), written beside the JSON. */
  CaseHistograms histograms;
  std::string histograms_path;   // empty: none written
  LinkEmulator* link = nullptr;  // the run's emulator; null: loopback
  std::string link_lost_at;      // the case during which the emulator was found gone
  ProxyRun* proxies = nullptr;   // the run's proxies; null: none
  std::string proxy_lost_at;     // the first case a proxy was found gone in or before
  /** The browser's driver, started before the first case when any is a browser case, kept
   *  across cases; one that dies fails its case and is started again for the next. */
  std::unique_ptr<BrowserClient> browser;
  BrowserSetup browser_setup;
  std::string browser_gone;  // why it could not be started again: the browser cases fail
  /** --start-at: the windows of the cases on the server's clock, and that clock against ours
   *  (measured again before each case). */
  std::optional<Schedule> schedule;
  ClockOffset clock;
};

/** The run's browser for the next case, started again when it was lost; null with `why` set
 *  when it cannot be. */
BrowserClient* browser_for_case(Run& run, std::string& why) {
  if (run.browser && !run.browser->lost()) return run.browser.get();
  if (!run.browser_gone.empty()) {
    why = run.browser_gone;
    return nullptr;
  }
  run.browser.reset();
  try {
    run.browser = std::make_unique<BrowserClient>(run.browser_setup);
    fmt::print(stderr, "ssebench-bench: browser started again: Chromium {} (pid {})\n",
               run.browser->chromium_version(), run.browser->browser_pid());
    return run.browser.get();
  } catch (const std::exception& e) {
    run.browser_gone = fmt::format("the browser could not be started again: {}", e.what());
    why = run.browser_gone;
    return nullptr;
  }
}

/**
 * A browser round's bytes, which the page cannot see: the server's counts over the round (of
 * every endpoint but /mock), shared evenly among its streams as HTTP bytes, and as the round's
 * TCP payload: the plaintext in cleartext (HTTP is all the payload there), the TLS records under
 * TLS; and the connections it accepted. Through a proxy these are the proxy's upstream
 * connections.
 */
void add_server_bytes(RoundResult& round, const ServerStats& before, const ServerStats& after,
                      bool tls) {
  std::uint64_t out = after.h2_connection_bytes_out - before.h2_connection_bytes_out,
                in = after.h2_connection_bytes_in - before.h2_connection_bytes_in, header_out = 0,
                header_in = 0;
  for (const auto& [name, e] : after.endpoints) {
    if (name == "mock") continue;
    const auto it = before.endpoints.find(name);
    const EndpointStats b = it == before.endpoints.end() ? EndpointStats{} : it->second;
    out += e.bytes_out - b.bytes_out;
    in += e.bytes_in - b.bytes_in;
    header_out += e.header_bytes_out - b.header_bytes_out;
    header_in += e.header_bytes_in - b.header_bytes_in;
  }
  // Connections the server accepted, less the one the `after` request itself came on (each
  // stats request is a connection of its own, accepted before it is answered).
  const std::uint64_t accepted = after.connections_accepted - before.connections_accepted;
  const std::uint64_t connections = accepted > 0 ? accepted - 1 : 0;
  round.tcp.bytes_out = tls ? after.tls_wire_bytes_in - before.tls_wire_bytes_in : in;
  round.tcp.bytes_in = tls ? after.tls_wire_bytes_out - before.tls_wire_bytes_out : out;
  const std::size_t n = round.streams.size();
  if (n == 0) return;
  // The client's out is the server's in; the remainder of an uneven share goes to the first.
  const auto share = [n](std::uint64_t total, std::size_t k) {
    return total / n + (k == 0 ? total % n : 0);
  };
  for (std::size_t k = 0; k < n; ++k) {
    StreamRecord& s = round.streams[k];
    s.http_bytes_out = share(in, k);
    s.http_bytes_in = share(out, k);
    s.http_header_bytes_in = share(header_out, k);
    s.body_bytes_out = share(in - std::min(in, header_in), k);
    s.body_bytes_in = share(out - std::min(out, header_out), k);
    s.connections = share(connections, k);
  }
}

/**
 * The server's /mock/stats, asked from inside the server's namespace when there is a link: over
 * that namespace's loopback, so these requests never cross the emulated link (nor count in its
 * figures, nor wait for its round trips). nullopt / false when the server does not answer.
 */
std::optional<ServerStats> server_stats(const Run& run, std::string* error = nullptr) {
  try {
    std::optional<link::EnterNetns> in_server;
    if (run.link) in_server.emplace(run.link->ready().server_ns);
    return fetch_stats(run.url, error);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

bool server_reset(const Run& run) {
  try {
    std::optional<link::EnterNetns> in_server;
    if (run.link) in_server.emplace(run.link->ready().server_ns);
    return reset_stats(run.url);
  } catch (const std::exception&) {
    return false;
  }
}

/** The server's clock against ours, measured as server_stats asks (from the server's namespace
 *  over a link). */
std::optional<ClockOffset> server_clock(const Run& run, std::string* error = nullptr) {
  try {
    std::optional<link::EnterNetns> in_server;
    if (run.link) in_server.emplace(run.link->ready().server_ns);
    return measure_clock(run.url, 8, error);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

/**
 * Whether a counter of the server went back between `before` and `after`: someone reset it
 * during the round (another shard's harness, without a common --start-at). The round's server
 * figures are then no difference of anything, and are left out.
 */
bool counters_went_back(const ServerStats& before, const ServerStats& after) {
  if (after.connections_accepted < before.connections_accepted ||
      after.h2_connection_bytes_out < before.h2_connection_bytes_out ||
      after.tls_wire_bytes_out < before.tls_wire_bytes_out ||
      after.lateness_count < before.lateness_count)
    return true;
  for (const auto& [name, b] : before.endpoints) {
    const auto it = after.endpoints.find(name);
    if (it != after.endpoints.end() &&
        (it->second.bytes_out < b.bytes_out || it->second.bytes_in < b.bytes_in))
      return true;
  }
  return false;
}

/** What the server's sessions wrote (`out`) or read, as they count it (the plaintext under
 *  TLS): every endpoint's bytes but /mock's (these stats requests), and HTTP/2's connection
 *  frames. */
std::uint64_t plaintext_bytes(const ServerStats& s, bool out) {
  std::uint64_t sum = out ? s.h2_connection_bytes_out : s.h2_connection_bytes_in;
  for (const auto& [name, e] : s.endpoints)
    if (name != "mock") sum += out ? e.bytes_out : e.bytes_in;
  return sum;
}

/** A folder of the run's own (its throwaway certificate), removed with what it holds. */
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ssebench-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp " + pattern + " failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/** The next window of `plan` for a case of `spec`, `planned` seconds in all (planned_s): its
 *  rounds' planned time, and the streams of a closed round for its warm-up slot. */
CaseWindow next_window(Schedule& plan, const CaseSpec& spec, double planned, int rounds) {
  return plan.next(planned / rounds, rounds, spec.load == LoadKind::closed ? spec.concurrency : 0);
}

SlotRules slot_rules(const HarnessConfig& config) {
  return {.margin = config.slot_margin, .pad_s = config.slot_pad_s, .warmup = config.warmup};
}

/** A selected case, as the schedule sees it: what it runs and its planned_s. */
struct PlannedCase {
  const CaseSpec* spec;
  double planned_s;
};

/** The --start-at schedule from `start_at`: the windows of `cases` in the order they run, each
 *  repetition after the other. `first_window_s`, when given, gets the first window's length. */
Schedule lay_out_windows(double start_at, const HarnessConfig& config,
                         const std::vector<PlannedCase>& cases, int repetitions,
                         double* first_window_s = nullptr) {
  Schedule plan(start_at, slot_rules(config));
  for (const PlannedCase& c : cases)
    for (int r = 0; r < repetitions; ++r) {
      const CaseWindow w = next_window(plan, *c.spec, c.planned_s, config.rounds);
      if (first_window_s && *first_window_s < 0) *first_window_s = w.length();
    }
  return plan;
}

/** A case and what it replays. */
struct RegisteredCase {
  CaseSpec spec;
  std::string name;  // spec.name(), for the progress lines
  const Expectation* expect = nullptr;
  double planned_s = 0;  // cases.hpp's planned_s, for the estimate of what is left
};

/** The name Google Benchmark registers a case under, and filters with --benchmark_filter:
 *  ours, then "/iterations:N/manual_time" (RegisterBenchmark below). */
std::string registered_name(const std::string& name, const HarnessConfig& config) {
  return fmt::format("{}/iterations:{}/manual_time", name, config.rounds);
}

/** A span as m:ss, or h:mm:ss from an hour. */
std::string clock_text(double s) {
  const long long t = std::llround(std::max(0.0, s));
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

/**
 * "0:41 elapsed, ≈ 1:55 left" for the progress line of a case just finished: what is left is
 * the plan of the cases still to run (planned_s), scaled by how long the finished ones took
 * against their plan (warm-ups, set-up and a loaded machine make the plan short); without a plan
 * (speed 0), the finished cases' mean time.
 */
std::string progress_text(Run& run, const RegisteredCase& one) {
  run.planned_done_s += one.planned_s;
  const double elapsed = std::chrono::duration<double>(Clock::now() - run.started).count();
  const int cases_left = std::max(0, run.cases_total - run.cases_done);
  double left = 0;
  if (run.planned_done_s > 0)
    left = std::max(0.0, run.planned_total_s - run.planned_done_s) * elapsed / run.planned_done_s;
  else if (run.cases_done > 0)
    left = elapsed / run.cases_done * cases_left;
  return fmt::format("{} elapsed, ≈ {} left", clock_text(elapsed), clock_text(left));
}

std::string summarize_errors(const CaseAggregate& agg, const std::string& prefix) {
  std::string kinds;
  for (std::size_t k = 0; k < error_kind_count; ++k)
    if (agg.errors()[k] > 0)
      kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ",
                           to_string(static_cast<ErrorKind>(k)), agg.errors()[k]);
  return fmt::format("{}{}/{} streams failed ({}); first: {}", prefix, agg.failed(), agg.streams(),
                     kinds, agg.first_error());
}

/** A counter by name; nullopt when the case has no such figure (no sample, no figure). */
std::optional<double> find(const std::vector<std::pair<std::string, double>>& counters,
                           std::string_view name) {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  return std::nullopt;
}

/** A counter for the progress line: "-" when the case has no such figure. */
std::string shown(const std::vector<std::pair<std::string, double>>& counters,
                  std::string_view name, int decimals) {
  const std::optional<double> v = find(counters, name);
  return v ? fmt::format("{:.{}f}", *v, decimals) : "-";
}

/** Poll interval of the warm-up round (at speed 0 a job is complete when created). */
constexpr std::chrono::milliseconds warmup_interval{10};

/** Half a loopback round trip: a smaller delivery lag means a clock bug (METRICS.md). */
constexpr double min_plausible_lag_ms = 0.005;

/** A case that cannot run (its link, proxy or browser is gone): failed, counted, said. */
void fail_unrun(benchmark::State& state, Run& run, const RegisteredCase& one,
                const std::string& not_run) {
  ++run.cases_done;
  ++run.cases_failed;
  state.SkipWithError(not_run.c_str());
  fmt::print(stderr, "[{}/{}] {}: FAILED {} ({})\n", run.cases_done, run.cases_total, one.name,
             not_run, progress_text(run, one));
}

void run_case(benchmark::State& state, Run& run, const RegisteredCase& one) {
  const HarnessConfig& hc = run.config;
  const CaseSpec& spec = one.spec;
  const Expectation& expect = *one.expect;
  ClientConfig cfg;
  cfg.base_url = spec.tls == TlsMode::off ? run.url : run.tls_url;
  cfg.tls = spec.tls;
  cfg.ca_file = run.ca_file;
  cfg.speed = hc.speed;
  if (spec.interval_ms > 0) cfg.interval = std::chrono::milliseconds(spec.interval_ms);
  if (spec.shape) cfg.shape = *spec.shape;
  cfg.schedule = hc.schedule;
  cfg.keep_alive = hc.keep_alive;
  cfg.stagger = std::chrono::milliseconds(hc.stagger_ms);
  cfg.long_poll_wait = std::chrono::milliseconds(hc.long_poll_wait_ms);
  cfg.ws_turns = spec.turns;
  cfg.http = spec.http;
  cfg.max_host_connections = spec.host_conns;
  if (spec.host_conns > 0 && spec.at_once() > 0) {
    // Streams wait their turn for a connection: the last of C over N connections starts after
    // about ceil(C / N) - 1 whole streams; its deadline allows for that.
    const std::size_t waves = (spec.at_once() + spec.host_conns - 1) / spec.host_conns;
    cfg.deadline_factor *= static_cast<double>(waves);
  }
  const bool in_browser = is_browser(spec.client);
  if (in_browser && spec.http == HttpVersion::http1_1 && spec.transport != Transport::ws) {
    // The browser's own six connections per origin over HTTP/1.1: the last of C streams
    // starts about ceil(C / 6) - 1 whole streams late; its deadline allows for that.
    constexpr std::size_t browser_conns_per_origin = 6;
    cfg.deadline_factor *= static_cast<double>((spec.concurrency + browser_conns_per_origin - 1) /
                                               browser_conns_per_origin);
  }
  cfg.stop = &stop_requested;
  // The case's window of the common schedule, taken before anything can end the case early:
  // every shard's next window then starts at the same instant, whatever happened here.
  std::optional<CaseWindow> window;
  if (run.schedule) window = next_window(*run.schedule, spec, one.planned_s, hc.rounds);
  if (stop_requested.load()) {
    state.SkipWithError(std::string(not_run_marker).c_str());
    return;
  }
  const Recording& rec = *expect.recording;
  const auto started = Clock::now();
  // A link: its profile (links are the outermost loop, so this switches once a link), the
  // clients in its client namespace (setns is per thread: the engines' threads are started
  // from this one, inside it), and the streams stopped when the emulator exits.
  std::optional<link::EnterNetns> in_client;
  if (run.link) {
    cfg.stop = run.link->abort_flag();
    std::string not_run;
    if (const std::optional<std::string> gone = run.link->lost()) {
      not_run = fmt::format("not run: the link emulator {} before this case", *gone);
      if (run.link_lost_at.empty())
        run.link_lost_at =
            fmt::format("before case {} of {} ({})", run.cases_done + 1, run.cases_total, one.name);
    } else {
      try {
        if (run.link->profile() != spec.link) run.link->switch_to(spec.link);
        in_client.emplace(run.link->ready().client_ns);
        std::size_t stream_bytes = 0;
        for (const Event& e : expect.recording->events) stream_bytes += e.bytes.size();
        cfg.deadline_slack += link_deadline_slack(spec.link, stream_bytes * spec.at_once());
      } catch (const std::exception& e) {
        not_run = fmt::format("not run: link {}: {}", spec.link, e.what());
      }
    }
    if (!not_run.empty()) {
      return fail_unrun(state, run, one, not_run);
    }
  }
  // A proxy: the clients talk to it (/mock/stats still goes to the server); one found gone
  // leaves its cases not run.
  ProxyProcess* proxy = run.proxies ? run.proxies->get(spec.proxy) : nullptr;
  if (proxy) {
    if (const std::optional<std::string> gone = proxy->lost()) {
      const std::string not_run =
          fmt::format("not run: the proxy {} {} before this case", to_string(spec.proxy), *gone);
      if (run.proxy_lost_at.empty())
        run.proxy_lost_at = fmt::format("{} {} before case {} of {} ({})", to_string(spec.proxy),
                                        *gone, run.cases_done + 1, run.cases_total, one.name);
      return fail_unrun(state, run, one, not_run);
    }
    cfg.base_url = proxy->url(spec.http == HttpVersion::http2, spec.tls != TlsMode::off);
  }
  BrowserClient* browser = nullptr;
  if (in_browser) {
    std::string why;
    browser = browser_for_case(run, why);
    if (!browser) {
      const std::string not_run = "not run: " + why;
      return fail_unrun(state, run, one, not_run);
    }
  }
  LoadRunner runner(hc.client_threads, hc.shard);
  // A closed round by whichever client plays the case.
  const auto play = [&](const ClientConfig& c, std::size_t streams) {
    if (!browser) return runner.run_round(expect, spec.transport, c, streams);
    return browser->run_round(
        expect,
        BrowserRoundSpec{.transport = spec.transport,
                         .eventsource = spec.client == ClientKind::browser_eventsource,
                         .concurrency = streams},
        c, &stop_requested);
  };
  const bool open = spec.load == LoadKind::open;
  const bool sessions = spec.load == LoadKind::users;
  const auto us = [](double s) { return std::chrono::microseconds(std::llround(s * 1e6)); };
  OpenLoop load;
  UserLoad user_load{.users = spec.users,
                     .think = std::chrono::milliseconds(hc.think_ms),
                     .duration = us(hc.duration_s),
                     .warmup = us(hc.warmup_s),
                     .cooldown = us(hc.cooldown_s)};
  if (open) {
    load.arrivals = {
        .rate_per_s = spec.rate, .kind = hc.arrival, .burstiness = hc.burstiness, .seed = hc.seed};
    load.duration = us(hc.duration_s);
    load.warmup = us(hc.warmup_s);
    load.cooldown = us(hc.cooldown_s);
    load.max_concurrency = spec.max_concurrency;
  }

  // The schedule: the server's clock measured again while this shard waits for the window (a
  // few probes, /mock requests: never counted), then each slot waited for. `late_s`: how late
  // this shard began its latest-begun slot of the case.
  double late_s = 0;
  double began_at = 0;  // server clock: when the window's first slot began here
  // Shard 0 alone resets the server's counters before each round's slot, when the server is
  // shared (--server); with a server of its own a shard resets it as usual.
  const bool resets_server = !window || hc.server.empty() || hc.shard.index == 0;
  const auto wait_slot = [&](double slot_start) {
    const double late = wait_until(slot_start, run.clock, stop_requested);
    if (!stop_requested.load()) late_s = std::max(late_s, late);
    return late;
  };
  if (window) {
    if (const std::optional<ClockOffset> clock = server_clock(run)) run.clock = *clock;
    wait_slot(window->start);
    began_at = server_now(run.clock);
  }

  // The proxy's RSS before the warm-up opens this case's connections: its memory per held
  // stream is the growth from here (after the warm-up, the pools it grew are still held).
  const std::int64_t proxy_rss_idle = proxy ? proxy->sample().rss_bytes : 0;
  // Verify and warm up (connections, caches) cheaply at speed 0; never counted.
  std::string failure;
  if (hc.warmup && !stop_requested.load()) {
    ClientConfig warm = cfg;
    warm.speed = 0;
    warm.interval = std::min(cfg.interval, warmup_interval);  // the job is complete at once
    CaseAggregate w(expect.clock.content_offsets(), rec.completion_tokens, 0);
    // Open-loop: a few streams per engine, enough to verify and open connections.
    const std::size_t warm_streams =
        open || sessions ? 2 * hc.shard.count * runner.threads() : spec.concurrency;
    try {
      w.add(play(warm, warm_streams));
      if (w.failed() > 0) failure = summarize_errors(w, "warm-up: ");
    } catch (const std::exception& e) {
      failure = fmt::format("warm-up: {}", e.what());
    }
  }

  CaseAggregate agg(expect.clock.content_offsets(), rec.completion_tokens, cfg.speed);
  agg.set_tls(spec.tls != TlsMode::off);
  // The link's window: the measured rounds (the warm-up is never counted).
  if (run.link && failure.empty()) {
    try {
      run.link->reset();
    } catch (const std::exception&) {
      // Gone: lost() says so below.
    }
  }
  // The proxy's CPU and memory over the measured rounds.
  std::optional<ProxyMeter> proxy_meter;
  if (proxy && failure.empty()) proxy_meter.emplace(*proxy);
  int round_index = 0;
  bool went_back = false;  // a round's server counters were reset by someone else
  for (auto _ : state) {
    if (!failure.empty()) break;
    std::optional<ServerStats> before;
    if (window) {
      // Every shard's round starts at the slot's start; the counters were reset just before.
      const double slot = window->round_start(round_index);
      if (resets_server) {
        wait_until(slot - run.schedule->reset_lead_s(), run.clock, stop_requested);
        server_reset(run);
      }
      wait_slot(slot);
      if (stop_requested.load()) break;
      before = server_stats(run);
    } else if (server_reset(run)) {
      before = server_stats(run);
    }
    RoundResult round;
    try {
      round = open       ? runner.run_open(expect, spec.transport, cfg, load)
              : sessions ? runner.run_users(expect, spec.transport, cfg, user_load)
                         : play(cfg, spec.concurrency);
    } catch (const std::exception& e) {
      // A load the engine cannot run says why: the case fails, counted; the run goes on.
      failure = e.what();
      break;
    }
    if (before && window) {
      // Read when every shard's round is over, at the slot's end (before the next reset): the
      // server's figures of the rounds all of them ran at once.
      wait_until(window->round_start(round_index + 1) - 2 * run.schedule->reset_lead_s(), run.clock,
                 stop_requested);
    }
    ++round_index;
    if (before) {
      std::optional<ServerStats> after = server_stats(run);
      if (after && counters_went_back(*before, *after)) {
        after.reset();
        went_back = true;
      }
      if (after) {
        ServerRound s;
        s.cpu_us = after->cpu_us() - before->cpu_us();
        s.plaintext_bytes_out = plaintext_bytes(*after, true) - plaintext_bytes(*before, true);
        s.plaintext_bytes_in = plaintext_bytes(*after, false) - plaintext_bytes(*before, false);
        s.lateness_us_p50 = after->lateness_us_p50;
        s.lateness_us_p99 = after->lateness_us_p99;
        s.lateness_us_max = after->lateness_us_max;
        round.server = s;
        if (round.browser) add_server_bytes(round, *before, *after, spec.tls != TlsMode::off);
      }
    }
    state.SetIterationTime(round.wall_s);
    agg.add(round);
  }
  if (failure.empty() && agg.failed() > 0) failure = summarize_errors(agg, "");
  std::vector<std::pair<std::string, double>> link_figures;
  if (run.link) {
    try {
      link_figures = run.link->stats();
    } catch (const std::exception&) {
      // Gone: lost() says so next.
    }
    if (const std::optional<std::string> gone = run.link->lost()) {
      failure = fmt::format("the link emulator {} during this case{}", *gone,
                            agg.failed() > 0 ? ": " + summarize_errors(agg, "") : "");
      if (run.link_lost_at.empty())
        run.link_lost_at =
            fmt::format("during case {} of {} ({})", run.cases_done + 1, run.cases_total, one.name);
    }
  }
  // Not an optional: GCC 12 at -O2 sees its fields as maybe uninitialized.
  ProxyUsage proxy_usage;
  bool proxy_measured = false;
  if (proxy_meter) {
    proxy_usage = proxy_meter->finish();
    proxy_measured = true;
  }
  if (proxy) {
    if (const std::optional<std::string> gone = proxy->lost()) {
      failure = fmt::format("the proxy {} {} during this case{}", to_string(spec.proxy), *gone,
                            agg.failed() > 0 ? ": " + summarize_errors(agg, "") : "");
      proxy_measured = false;
      if (run.proxy_lost_at.empty())
        run.proxy_lost_at = fmt::format("{} {} during case {} of {} ({})", to_string(spec.proxy),
                                        *gone, run.cases_done + 1, run.cases_total, one.name);
    }
  }
  if (stop_requested.load()) {
    // Whatever its streams saw, the case did not run to its end.
    failure = fmt::format("interrupted ({}) during this case{}", stop_signal_name(),
                          agg.failed() > 0 ? ": " + summarize_errors(agg, "") : "");
    run.interrupted = true;
    run.results->mark_interrupted(
        fmt::format("{} during case {} of {} ({}): the cases before it finished; it is marked "
                    "failed; the rest did not run",
                    stop_signal_name(), run.cases_done + 1, run.cases_total, one.name));
  }

  const auto counters = agg.counters();
  for (const auto& [name, value] : counters) state.counters[name] = value;
  // The case's dimensions (concurrency, rate, max_concurrency, users, interval_ms, turns,
  // host_conns, ...) are fields of its entries (case_fields): the counters are its figures and
  // the run's settings.
  if (open || sessions) {
    if (sessions) state.counters["think_ms"] = static_cast<double>(hc.think_ms);
    state.counters["duration_s"] = hc.duration_s;
    const double behind = find(counters, "harness_lag_ms_p99").value_or(0);
    state.counters["harness_behind"] = behind > hc.behind_ms ? 1 : 0;
    if (behind > hc.behind_ms)
      fmt::print(stderr,
                 "{}: warning: the harness fell behind its schedule (harness lag p99 {:.2f} ms > "
                 "{} ms): more --client-threads, or a lower rate\n",
                 one.name, behind, hc.behind_ms);
  }
  if (went_back)
    fmt::print(stderr,
               "{}: warning: the server's counters were reset during a round by someone else "
               "(shards without a common --start-at?): its server figures are left out\n",
               one.name);
  if (window) {
    const double late_ms = late_s * 1000;
    state.counters["schedule_late_ms"] = late_ms;
    state.counters["schedule_missed"] = late_ms > hc.late_ms ? 1 : 0;
    state.counters["clock_offset_ms"] = run.clock.offset_s * 1000;
    state.counters["clock_uncertainty_ms"] = run.clock.uncertainty_s * 1000;
    fmt::print(stderr,
               "{}: schedule: window from {:.6f} (server clock), began at {:.6f}, latest slot "
               "{:.1f} ms late; clock offset {:+.2f} ms ± {:.2f}\n",
               one.name, window->start, began_at, late_ms, run.clock.offset_s * 1000,
               run.clock.uncertainty_s * 1000);
    if (late_ms > hc.late_ms)
      fmt::print(stderr,
                 "{}: warning: this shard began a slot of its window {:.0f} ms late (> --late-ms "
                 "{:g}): its load did not overlap the other shards'; merge_shards refuses it "
                 "without --allow-late\n",
                 one.name, late_ms, hc.late_ms);
  }
  for (const auto& [name, value] : link_figures) state.counters[name] = value;
  if (proxy_measured) {
    // Its CPU covers every stream the rounds ran (as the server's does); its memory per stream
    // held at once is the peak's growth over its RSS before the case. Memory freed when streams
    // end stays in the process (malloc keeps it): a case after one that held more streams
    // shows little or no growth.
    const double ran = find(counters, "streams_run").value_or(0);
    const double requests = find(counters, "requests_per_stream").value_or(0) * ran;
    const double tokens = find(counters, "tokens_per_stream").value_or(0) * ran;
    state.counters["proxy_cpu_ms"] = proxy_usage.cpu_us / 1000;
    if (requests > 0) state.counters["proxy_cpu_us_per_request"] = proxy_usage.cpu_us / requests;
    if (tokens > 0) state.counters["proxy_cpu_us_per_token"] = proxy_usage.cpu_us / tokens;
    const std::int64_t before = std::min(proxy_rss_idle, proxy_usage.rss_bytes_before);
    state.counters["proxy_rss_bytes_before"] = static_cast<double>(before);
    state.counters["proxy_rss_bytes_peak"] = static_cast<double>(proxy_usage.rss_bytes_peak);
    const auto held = static_cast<double>(std::max<std::size_t>(spec.at_once(), 1));
    state.counters["proxy_rss_bytes_per_stream"] =
        static_cast<double>(proxy_usage.rss_bytes_peak - before) / held;
  }
  if (find(link_figures, "link_behind").value_or(0) > 0)
    fmt::print(stderr,
               "{}: warning: the link emulator fell behind its schedule (its release lateness p99 "
               "{:.0f} µs > its --behind-us): the emulator, not the link, shaped this case\n",
               one.name, find(link_figures, "link_lateness_us_p99").value_or(0));
  if (hc.shard.count > 1) state.counters["shards"] = static_cast<double>(hc.shard.count);
  for (auto& [figure, h] : agg.histograms()) run.histograms[one.name][figure].merge(h);
  write_histograms(run.histograms_path, run.histograms);
  state.counters["speed"] = hc.speed;
  state.SetLabel(rec.model);

  ++run.cases_done;
  // lag_ms_min exists only when content events were received.
  const std::optional<double> lag_min = find(counters, "lag_ms_min");
  if (agg.streams() > agg.failed() && lag_min && *lag_min < min_plausible_lag_ms)
    fmt::print(stderr, "{}: warning: a lag of {:.4f} ms is below half a loopback round trip\n",
               one.name, *lag_min);
  const double took_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (!failure.empty()) {
    ++run.cases_failed;
    state.SkipWithError(failure.c_str());
    fmt::print(stderr, "[{}/{}] {}: FAILED {} ({:.1f} s; {})\n", run.cases_done, run.cases_total,
               one.name, failure, took_s, progress_text(run, one));
  } else {
    const std::string tls = spec.tls == TlsMode::off
                                ? ""
                                : fmt::format(", TLS handshake p50 {} ms, {} resumed",
                                              shown(counters, "tls_handshake_ms_p50", 2),
                                              shown(counters, "tls_resumed_share", 2));
    fmt::print(stderr,
               "[{}/{}] {}: {}/{} ok, ttft p50 {} ms, lag p50 {} ms p99 {} ms, {} req/stream{} "
               "({:.1f} s; {})\n",
               run.cases_done, run.cases_total, one.name, agg.streams() - agg.failed(),
               agg.streams(), shown(counters, "ttft_ms_p50", 1), shown(counters, "lag_ms_p50", 2),
               shown(counters, "lag_ms_p99", 2), shown(counters, "requests_per_stream", 1), tls,
               took_s, progress_text(run, one));
  }
}

}  // namespace

int harness_main(int argc, char** argv) {
  // The filter and the repetitions, to count the cases that will run in the progress lines
  // (Initialize removes both): each repetition of a case runs it again, warm-up included.
  std::string filter;
  int repetitions = 1;
  bool interleaved = false;  // Google Benchmark's random order of the repetitions
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--benchmark_filter="))
      filter = a.substr(std::string_view("--benchmark_filter=").size());
    else if (constexpr std::string_view flag = "--benchmark_repetitions="; a.starts_with(flag))
      repetitions = std::max(1, std::atoi(argv[i] + flag.size()));
    else if (a.starts_with("--benchmark_enable_random_interleaving"))
      interleaved = !a.ends_with("=false") && !a.ends_with("=0");
  }
  bool help = false;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help") help = true;
  if (help) {
    // Then Google Benchmark's own flags, and Initialize exits.
    fmt::print("{}\nGoogle Benchmark flags:\n", harness_help(HarnessConfig{}));
    std::fflush(stdout);
  }
  // The JSON result is written here, atomically after every case (ResultsReporter), rather than
  // by Google Benchmark; other formats stay Google Benchmark's.
  std::string json_path;
  {
    std::string out, format = "json";
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a.starts_with("--benchmark_out=")) out = a.substr(16);
      if (a.starts_with("--benchmark_out_format=")) format = a.substr(23);
    }
    if (!out.empty() && format == "json") {
      json_path = out;
      int kept = 1;
      for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (!a.starts_with("--benchmark_out=") && !a.starts_with("--benchmark_out_format="))
          argv[kept++] = argv[i];
      }
      argc = kept;
      argv[argc] = nullptr;
    }
  }
  // Read before Initialize takes it out: the console format of the display reporter.
  std::string display_format = "console";
  for (int i = 1; i < argc; ++i)
    if (std::string_view a = argv[i]; a.starts_with("--benchmark_format="))
      display_format = a.substr(19);
  benchmark::Initialize(&argc, argv);
  HarnessConfig config;
  try {
    config = parse_harness_flags(argc, argv, help);
  } catch (const flags::Error& e) {
    return flags::fail(argv[0], e);
  }
  if (config.start_at && interleaved)
    return flags::fail(argv[0],
                       flags::Error("--start-at needs the cases in one order in every shard: "
                                    "--benchmark_enable_random_interleaving shuffles them per "
                                    "process"));
  if (help) {
    fmt::print("{}", harness_help(HarnessConfig{}));
    return 0;
  }
  raise_nofile_limit();
  install_stop_handlers();

  auto run = std::make_unique<Run>();
  run->config = config;
  run->histograms_path = histograms_path_for(json_path);

  const FolderLoad loaded = load_folder(config.recordings);
  for (const std::string& e : loaded.errors) fmt::print(stderr, "ssebench-bench: skipped {}\n", e);
  // By recording id; the recordings in config.models' order for the cases.
  std::map<std::string, std::unique_ptr<Expectation>> expectations;
  std::vector<const Recording*> recordings;
  for (const std::string& id : config.models) {
    const auto it = std::find_if(loaded.recordings.begin(), loaded.recordings.end(),
                                 [&](const auto& r) { return r->id == id; });
    if (it == loaded.recordings.end()) {
      fmt::print(stderr, "ssebench-bench: no recording '{}' in {}\n", id, config.recordings);
      return 2;
    }
    try {
      expectations[id] = std::make_unique<Expectation>(make_expectation(*it));
      recordings.push_back(it->get());
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: {}\n", e.what());
      return 2;
    }
  }
  // Every proxy named is installed, before anything starts (and for --check-flags too).
  for (ProxyKind k : config.proxies) {
    if (k == ProxyKind::none || find_program(proxy_program(k))) continue;
    fmt::print(stderr,
               "ssebench-bench: --proxy={}: {} is not on PATH (Debian installs it in /usr/sbin; "
               "package {})\n",
               to_string(k), proxy_program(k), k == ProxyKind::haproxy ? "haproxy" : "nginx-light");
    return 2;
  }
  // A browser client: Chromium and Node.js are there, before anything starts.
  const bool any_browser = std::any_of(config.clients.begin(), config.clients.end(),
                                       [](ClientKind k) { return is_browser(k); });
  if (any_browser) {
    const std::optional<std::string> node = find_program("node");
    std::string missing;
    if (::access(config.chromium.c_str(), X_OK) != 0)
      missing = fmt::format(
          "no Chromium at {} (Debian's package chromium; or --chromium=PATH, $SSEBENCH_CHROMIUM)",
          config.chromium);
    else if (!node)
      missing = "node is not on PATH (Debian's package nodejs)";
    else if (::access(built_browser_driver().c_str(), R_OK) != 0)
      missing = fmt::format("no browser driver at {}", built_browser_driver());
    if (!missing.empty()) {
      fmt::print(stderr, "ssebench-bench: --client={}: {}\n",
                 to_string(*std::find_if(config.clients.begin(), config.clients.end(),
                                         [](ClientKind k) { return is_browser(k); })),
                 missing);
      return 2;
    }
    run->browser_setup = BrowserSetup{
        .node = *node, .driver = built_browser_driver(), .chromium = config.chromium, .cert = ""};
  }
  if (config.check_flags) {
    // Every flag parsed, every recording named was found: what the command line runs.
    const CaseList cases = enumerate_cases(config, recordings);
    int count = 0;
    double planned = 0;
    std::vector<PlannedCase> chosen;
    for (const CaseSpec& spec : cases.cases) {
      if (!selected(filter, registered_name(spec.name(), config))) continue;
      count += repetitions;
      chosen.push_back(
          {&spec, planned_s(spec, *expectations.at(spec.recording)->recording, config)});
      planned += repetitions * chosen.back().planned_s;
    }
    // With --start-at, how long the windows of the schedule take in all.
    const Schedule plan = lay_out_windows(config.start_at.value_or(0), config, chosen, repetitions);
    fmt::print("{} case{} of the {} suite, planned {} (m:ss) of replay{}\n", count,
               count == 1 ? "" : "s", to_string(config.suite), clock_text(planned),
               config.start_at ? fmt::format("; the --start-at schedule's windows take {}, from {} "
                                             "to {}",
                                             clock_text(plan.end() - plan.start_at()),
                                             iso_utc(plan.start_at()), iso_utc(plan.end()))
                               : "");
    return 0;
  }

  // A link (any but none): the emulator first, the server inside its server namespace next.
  std::unique_ptr<LinkEmulator> link;
  if (needs_emulator(config.links)) {
    if (::geteuid() != 0) {
      fmt::print(stderr,
                 "ssebench-bench: --link={} needs root (network namespaces and TUN devices): run "
                 "it with sudo\n",
                 fmt::join(config.links, ","));
      return 1;
    }
    const std::string exe = built_link_binary();
    if (exe.empty()) {
      fmt::print(stderr, "ssebench-bench: --link: no link emulator (ssebench-link) was built\n");
      return 2;
    }
    try {
      link = std::make_unique<LinkEmulator>(exe, config.links.front());
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: {}\n", e.what());
      return 1;
    }
    run->link = link.get();
  }
  std::unique_ptr<TempDir> tls_dir;   // outlives the server, which reads its files
  std::optional<TlsFiles> tls_files;  // the run's CA and server certificate (the proxies' too)
  std::unique_ptr<ServerProcess> server;
  std::string server_desc;
  if (!config.server.empty()) {
    run->url = config.server;
    while (!run->url.empty() && run->url.back() == '/') run->url.pop_back();
    run->tls_url = config.server_tls;
    while (!run->tls_url.empty() && run->tls_url.back() == '/') run->tls_url.pop_back();
    run->ca_file = config.tls_ca;
    server_desc = "running server at " + run->url;
  } else {
    if (config.server_binary.empty()) {
      fmt::print(stderr, "ssebench-bench: no server built; pass --server=URL\n");
      return 2;
    }
    std::vector<std::string> server_args{"--recordings", config.recordings, "--threads",
                                         std::to_string(config.server_threads)};
    server_args.insert(server_args.end(), config.server_args.begin(), config.server_args.end());
    if (link) {
      server_args.push_back("--bind");
      server_args.push_back(link->ready().server_addr);
    }
    if (needs_tls(config.tls)) {
      // A CA and a leaf for this run only, in a folder removed when the run ends: the clients
      // verify against the CA, never without verification.
      try {
        tls_dir = std::make_unique<TempDir>();
        std::vector<std::string> names;
        if (link) names.push_back(link->ready().server_addr);
        const TlsFiles& files = tls_files.emplace(make_throwaway_tls(tls_dir->path(), names));
        run->ca_file = files.ca_cert.string();
        server_args.push_back("--tls-port=0");
        server_args.push_back("--tls-cert=" + files.server_cert.string());
        server_args.push_back("--tls-key=" + files.server_key.string());
      } catch (const std::exception& e) {
        fmt::print(stderr, "ssebench-bench: --tls: {}\n", e.what());
        return 1;
      }
    }
    try {
      server = std::make_unique<ServerProcess>(config.server_binary, std::move(server_args),
                                               link ? link->ready().server_ns : std::string());
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: {}\n", e.what());
      return 2;
    }
    run->url = server->url();
    run->tls_url = server->tls_url();
    server_desc = "started: " + server->command();
    if (link) server_desc += fmt::format(" (in network namespace {})", link->ready().server_ns);
  }
  std::string stats_error;
  if (!server_stats(*run, &stats_error)) {
    fmt::print(stderr, "ssebench-bench: the server does not answer: {}\n", stats_error);
    return 2;
  }

  const CaseList cases = enumerate_cases(config, recordings);
  for (const std::string& why : cases.skipped) fmt::print(stderr, "ssebench-bench: {}\n", why);
  // The proxies the selected cases go through, started before anything is measured.
  std::unique_ptr<ProxyRun> proxies;
  {
    std::vector<ProxyNeed> needs;
    for (const CaseSpec& spec : cases.cases) {
      if (spec.proxy == ProxyKind::none || !selected(filter, registered_name(spec.name(), config)))
        continue;
      auto it = std::find_if(needs.begin(), needs.end(),
                             [&](const ProxyNeed& n) { return n.kind == spec.proxy; });
      if (it == needs.end()) it = needs.insert(needs.end(), ProxyNeed{.kind = spec.proxy});
      it->h2c = it->h2c || (spec.http == HttpVersion::http2 && spec.tls == TlsMode::off);
      it->tls = it->tls || spec.tls != TlsMode::off;
    }
    const bool proxied_tls =
        std::any_of(needs.begin(), needs.end(), [](const ProxyNeed& n) { return n.tls; });
    if (proxied_tls && !tls_files) {
      fmt::print(stderr,
                 "ssebench-bench: --tls through a --proxy needs the server the harness starts "
                 "(the proxy serves the run's certificate); drop --server\n");
      return 2;
    }
    if (!needs.empty()) {
      try {
        // Over a link, beside the server in its namespace, on its address (a child runs in
        // the namespace of the thread that forks it): the clients reach the proxy across the
        // link, the proxy reaches the server without crossing it, as a reverse proxy sits
        // next to its upstream.
        std::optional<link::EnterNetns> in_server;
        if (link) in_server.emplace(link->ready().server_ns);
        proxies =
            std::make_unique<ProxyRun>(needs, upstream_of(run->url),
                                       tls_files ? tls_files->server_cert : std::filesystem::path(),
                                       tls_files ? tls_files->server_key : std::filesystem::path(),
                                       link ? link->ready().server_addr : "127.0.0.1");
      } catch (const ProxyMissing& e) {
        fmt::print(stderr, "ssebench-bench: {}\n", e.what());
        return 2;
      } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "ssebench-bench: --proxy: {}\n", e.what());
        return 2;
      } catch (const std::exception& e) {
        fmt::print(stderr, "ssebench-bench: --proxy: {}\n", e.what());
        return 1;
      }
      run->proxies = proxies.get();
      std::string desc;
      for (const auto& p : proxies->all()) {
        fmt::print(stderr, "ssebench-bench: proxy {} started: {}\n", to_string(p->setup().kind),
                   p->command());
        desc += fmt::format("{}{}: {} ({})", desc.empty() ? "" : "; ", to_string(p->setup().kind),
                            proxy_version(p->command().substr(0, p->command().find(' '))),
                            p->command());
      }
      benchmark::AddCustomContext("proxies", desc);
    }
  }
  // The browser, when a selected case is a browser's: started once, before any case runs.
  if (std::any_of(cases.cases.begin(), cases.cases.end(), [&](const CaseSpec& spec) {
        return is_browser(spec.client) && selected(filter, registered_name(spec.name(), config));
      })) {
    // Chromium accepts the run's throwaway certificate by its key (--cert: its SPKI hash).
    if (tls_files) run->browser_setup.cert = tls_files->server_cert.string();
    try {
      run->browser = std::make_unique<BrowserClient>(run->browser_setup);
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: --client=browser: {}\n", e.what());
      return 2;
    }
    fmt::print(stderr,
               "ssebench-bench: browser started: Chromium {} (pid {}, driver pid {}), page at {}\n",
               run->browser->chromium_version(), run->browser->browser_pid(),
               run->browser->driver_pid(), run->browser->page_origin());
    benchmark::AddCustomContext(
        "browser", fmt::format("Chromium {} headless, driven by {}",
                               run->browser->chromium_version(), run->browser_setup.driver));
  }
  // The registered lambdas refer to the cases: they live until the run ends.
  std::vector<std::unique_ptr<RegisteredCase>> registered;
  for (const CaseSpec& spec : cases.cases) {
    const Expectation* expect = expectations.at(spec.recording).get();
    auto one = std::make_unique<RegisteredCase>(
        RegisteredCase{.spec = spec,
                       .name = spec.name(),
                       .expect = expect,
                       .planned_s = planned_s(spec, *expect->recording, config)});
    Run* r = run.get();
    const RegisteredCase* c = one.get();
    benchmark::RegisterBenchmark(one->name.c_str(),
                                 [r, c](benchmark::State& st) { run_case(st, *r, *c); })
        ->UseManualTime()
        ->Iterations(config.rounds)
        ->Unit(benchmark::kMillisecond);
    registered.push_back(std::move(one));
  }
  run->cases_total = 0;
  std::vector<PlannedCase> chosen;
  for (const auto& one : registered) {
    if (!selected(filter, registered_name(one->name, config))) continue;
    run->cases_total += repetitions;
    run->planned_total_s += repetitions * one->planned_s;
    chosen.push_back({&one->spec, one->planned_s});
  }
  if (config.start_at && run->cases_total > 0) {
    // The common schedule, on the server's clock: its windows in the order the cases run (each
    // repetition of a case after the other), the first one's length to tell a start long past.
    std::string error;
    const std::optional<ClockOffset> clock = server_clock(*run, &error);
    if (!clock) {
      fmt::print(stderr, "ssebench-bench: --start-at: the server's clock cannot be read: {}\n",
                 error);
      return 2;
    }
    run->clock = *clock;
    double first_window_s = -1;
    const Schedule plan =
        lay_out_windows(*config.start_at, config, chosen, repetitions, &first_window_s);
    const double now = server_now(run->clock);
    const double ahead = *config.start_at - now;
    const std::string start = iso_utc(*config.start_at);
    constexpr double day_s = 24 * 3600;
    if (ahead > day_s) {
      fmt::print(stderr,
                 "ssebench-bench: --start-at={} is {:.1f} h away on the server's clock (now {}): "
                 "more than 24 h, a mistake?\n",
                 start, ahead / 3600, iso_utc(now));
      return 2;
    }
    if (-ahead > first_window_s) {
      fmt::print(stderr,
                 "ssebench-bench: --start-at={} passed {} ago on the server's clock (now {}), "
                 "more than the first case's window ({:.1f} s): every case would start late; "
                 "give a later start\n",
                 start, clock_text(-ahead), iso_utc(now), first_window_s);
      return 2;
    }
    run->schedule.emplace(*config.start_at, slot_rules(config));
    benchmark::AddCustomContext("start_at", start);
    benchmark::AddCustomContext("schedule", run->schedule->describe(config.late_ms));
    fmt::print(stderr,
               "ssebench-bench: schedule from {} (server clock; offset {:+.2f} ms ± {:.2f}): "
               "the first window {} {:.1f} s{}, the last one ends at {}\n",
               start, run->clock.offset_s * 1000, run->clock.uncertainty_s * 1000,
               ahead >= 0 ? "in" : "began", ahead >= 0 ? ahead : -ahead, ahead >= 0 ? "" : " ago",
               iso_utc(plan.end()));
  }
  {
    // The interface, its MTU and the route as the clients see them: from the client namespace.
    std::optional<link::EnterNetns> in_client;
    if (link) in_client.emplace(link->ready().client_ns);
    add_context(config, run->url, server_desc, run->histograms_path);
  }
  add_link_context(config.links, link.get());
  fmt::print(stderr, "ssebench-bench: {} case{} of the {} suite against {}, planned {} of replay\n",
             run->cases_total, run->cases_total == 1 ? "" : "s", to_string(config.suite), run->url,
             clock_text(run->planned_total_s));

  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (display_format == "json")  // csv (deprecated by Google Benchmark) shows as the console
    display = std::make_unique<benchmark::JSONReporter>();
  else
    display = std::make_unique<benchmark::ConsoleReporter>(
        isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                              : benchmark::ConsoleReporter::OO_Tabular);
  ResultsReporter results(std::move(display), json_path);
  for (const auto& one : registered) results.add_case(one->name, case_fields(one->spec));
  run->results = &results;
  run->started = Clock::now();
  benchmark::RunSpecifiedBenchmarks(&results);
  benchmark::Shutdown();
  run->browser.reset();  // Chromium closed before the server goes
  if (stop_requested.load()) {
    fmt::print(stderr, "ssebench-bench: interrupted ({}) after {} finished cases of {}{}\n",
               stop_signal_name(), run->cases_done - (run->interrupted ? 1 : 0), run->cases_total,
               json_path.empty() ? "" : fmt::format("; {} holds them", json_path));
    return stop_exit_status();
  }
  if (results.write_failed()) return 1;
  if (link && (link->lost() || !run->link_lost_at.empty())) {
    fmt::print(stderr,
               "ssebench-bench: the link emulator {} {}: that case's streams failed and the "
               "cases after it did not run\n",
               link->lost().value_or("failed"),
               run->link_lost_at.empty() ? "after the last case" : run->link_lost_at);
    return 1;
  }
  if (!run->proxy_lost_at.empty()) {
    fmt::print(stderr,
               "ssebench-bench: the proxy {}: that case's streams failed and the cases through it "
               "after it did not run\n",
               run->proxy_lost_at);
    return 1;
  }
  if (run->cases_failed > 0) {
    fmt::print(stderr, "ssebench-bench: {} of {} cases failed\n", run->cases_failed,
               run->cases_done);
    return 1;
  }
  return 0;
}

}  // namespace ssebench::bench
