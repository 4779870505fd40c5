#pragma once
/**
 * The harness's own flags (Google Benchmark's are taken out by benchmark::Initialize first): one
 * HarnessConfig whose fields carry their defaults, parsed on core's flags::Parser; `--help`
 * prints the defaults of a default-built config.
 */
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/bench/arrivals.hpp"
#include "ssebench/bench/load.hpp"
#include "ssebench/bench/proxy.hpp"
#include "ssebench/bench/transport.hpp"
#include "ssebench/flags.hpp"

namespace ssebench::bench {

/**
 * Who plays a case's streams (the case field `client`): the harness's own clients (libcurl,
 * Beast); headless Chromium driven by bench/browser/driver.mjs (browser_client.hpp), sse by
 * fetch() and a ReadableStream as the OpenAI JS SDK does; or Chromium's EventSource on the
 * background job's resume endpoint (sse only).
 */
enum class ClientKind { harness, browser, browser_eventsource };
/** "harness", "browser", "browser-eventsource": the --client values and the case field. */
std::string_view to_string(ClientKind k);
std::optional<ClientKind> parse_client(std::string_view name);
/** A browser plays the case (either browser kind). */
inline bool is_browser(ClientKind k) {
  return k != ClientKind::harness;
}
/** Chromium for --client=browser: $SSEBENCH_CHROMIUM, else Debian's /usr/bin/chromium. */
std::string default_chromium();

/**
 * PREFIX when this binary runs from an installed tree (`cmake --install`: PREFIX/bin holds the
 * harness beside the server and the link emulator, PREFIX/share/ssebench/recordings the
 * recordings), found from /proc/self/exe; empty when it runs from a build tree.
 */
std::string installed_prefix();
/** The mock server started when no --server is given: the installed one beside this binary, else
 *  the one this build made; empty: none built. */
std::string built_server_binary();
/** The installed recordings, else those of the source tree this build came from. */
std::string built_recordings_dir();

/**
 * The suite a run's dimensions come from when no flag names them: core (the default: the
 * question answered in minutes), full (every recording per timing profile, three intervals, ws
 * in 1 and 4 turns), quick (CI's gate; its cases must not change: .ci/run compares them with a
 * committed run).
 */
enum class Suite { core, full, quick };
/** "core", "full", "quick": the --suite values. */
std::string_view to_string(Suite s);
std::optional<Suite> parse_suite(std::string_view name);

/** The full suite: one recording per timing profile. For the reasoning profile,
 *  codex-max-4: its content is output text (METRICS.md's content event) and at 6.4 s it is the
 *  shortest codex-max. The four replay in 13 s; the full suite runs 68 settings of them (the 16
 *  HTTP settings — sse, rest, 4 poll shapes × 3 intervals, 2 long-poll shapes — over HTTP/1.1
 *  and HTTP/2, ws in 1 and 4 turns) at 2 concurrency levels: 272 cases, ≈ 16 min. */
inline const std::vector<std::string> full_models{"chat-gpt-4o-json", "chat-gpt-4o-mini-text",
                                                  "chat-gpt-4.1-nano-text",
                                                  "responses-gpt-5.1-codex-max-4"};
inline const std::vector<long> full_intervals_ms{50, 250, 1000};

struct HarnessConfig {
  std::string server;                                 // running server URL; empty: start one
  std::string server_binary = built_server_binary();  // the server started on port 0
  unsigned server_threads = 1;                        // its --threads
  /** More flags for the started server, e.g. "--sse-heartbeat-ms=15000 --x-accel-buffering-no"
   *  (mock_server/README.md); they show in the run context's server command. */
  std::vector<std::string> server_args;
  std::string recordings = built_recordings_dir();  // folder of *.jsonl
  std::vector<Transport> transports{std::begin(all_transports), std::end(all_transports)};
  /** Which suite the dimensions not given as flags come from (apply_suite). The in-class
   *  defaults below are the core suite's. */
  Suite suite = Suite::core;
  // The core suite (scripts/bench's default, ≈ 2 min of replay): two recordings, a fast token
  // rate and a slow one (chat-gpt-4o-json: 177 tokens in 2.8 s; chat-gpt-4o-mini-text: 9 in
  // 0.56 s), every transport side by side at 1 and 100 streams, the four poll shapes at one
  // interval (delta at two more, at 100 streams: crossover_intervals_ms), HTTP/2 beside HTTP/1.1
  // at 100 streams (http_beside_top_only), ws in one turn: 56 cases that still answer every
  // question of scripts/report.py. --full: full_models, full_intervals_ms, ws turns 1 and 4, HTTP/2
  // at every level (272 cases).
  std::vector<std::string> models{"chat-gpt-4o-json", "chat-gpt-4o-mini-text"};
  std::vector<std::size_t> concurrency{1, 100};  // streams at once per round
  std::vector<long> intervals_ms{250};           // poll periods
  /**
   * More poll intervals for plain delta polls only (HTTP/1.1, no cap) at the highest concurrency
   * of closed rounds: with intervals_ms, the three scripts/crossover.py needs to find where a
   * poll starts costing more than SSE, for 4 cases instead of a whole interval's 32. One already
   * in intervals_ms adds nothing; none when --intervals is given without it, or for --quick.
   */
  std::vector<long> crossover_intervals_ms{50, 1000};
  /** ws: turns per connection, one case each; 1 names the case ws/ID/c:C, N ws/ID/c:C/turns:N. */
  std::vector<std::size_t> ws_turns{1};
  /** What poll answers carry: poll runs every listed shape, long-poll the cursor ones. */
  std::vector<PollShape> poll_shapes{std::begin(all_poll_shapes), std::end(all_poll_shapes)};
  double speed = 1.0;  // replay speed of measured rounds
  int rounds = 1;      // measured rounds (iterations) per case
  bool warmup = true;  // one uncounted round at speed 0 first
  PollSchedule schedule = PollSchedule::fixed_rate;
  bool keep_alive = true;  // false: a new connection for every request
  /** HTTP versions of the libcurl transports, each a variant: 2 = HTTP/2 cleartext with prior
   *  knowledge, a round's streams over one connection, names ending in /http:2; 1.1 keeps the
   *  names as they were. */
  std::vector<HttpVersion> http{HttpVersion::http1_1, HttpVersion::http2};
  /**
   * The HTTP versions after the first of `http` at the highest closed concurrency only (true:
   * the core suite) or at every one. HTTP/2's difference is many streams over one connection:
   * at one stream its case repeats HTTP/1.1's at a whole replay's cost.
   */
  bool http_beside_top_only = true;
  /**
   * Stream starts spread evenly over this window, about one token gap: C streams replaying the
   * same recording from the same instant would emit every token in lockstep bursts that no real
   * traffic has. 0 = all at once (the worst-case burst).
   */
  long stagger_ms = 20;
  long long_poll_wait_ms = 10'000;  // wait_ms of long-poll requests
  /**
   * Connection caps per round (ClientConfig::max_host_connections), 0 = none. A cap N adds the
   * cases "/host_conns:N" beside the uncapped ones, for concurrency levels above N only (at or
   * below it the cap changes nothing). 6 = the browser profile: HTTP/1.1's per-origin limit.
   */
  std::vector<std::size_t> host_connections{0};
  /**
   * Links, the outermost loop (harness_link.hpp): every case on the first, then every case on
   * the next, ... `none` alone is loopback; any other starts the link emulator (root), and a
   * `none` beside others is the emulator's profile none (same namespaces, no shaping).
   */
  std::vector<std::string> links{"none"};
  /**
   * TLS modes, every case in each (inside the link loop; cases "/tls:on", "/tls:noresume"): off,
   * on (session resumption allowed), noresume (a full handshake per connection). Any but off
   * makes a throwaway CA and server certificate in a temporary folder and starts the server with
   * a TLS port beside its plain one.
   */
  std::vector<TlsMode> tls{TlsMode::off};
  /** With --server: the running server's https:// URL and the CA that signed its certificate,
   *  for the TLS cases (scripts/crosscheck --tls starts its server with a key log). */
  std::string server_tls;
  std::string tls_ca;
  /** Reverse proxies, each a case dimension inside the link loop (proxy.hpp): none = the
   *  clients talk to the server; any other is started by the run (ProxyProcess). */
  std::vector<ProxyKind> proxies{ProxyKind::none};
  /** Clients, a case dimension inside the proxy and TLS loops, outside the transports: harness
   *  (the default, names unchanged), browser, browser-eventsource ("/client:browser"). */
  std::vector<ClientKind> clients{ClientKind::harness};
  std::string chromium = default_chromium();  // the browser's binary (--client=browser)
  /** Parse the flags and load the recordings, then exit 0 without running anything: scripts/bench
   *  checks a command line this way before it makes the run's folder. */
  bool check_flags = false;

  // Load models (METRICS.md, "Load models").
  /** Open-loop arrival rates in streams/s, one case each ("/rate:R" where closed rounds have
   *  "/c:C"); empty: closed rounds of --concurrency streams started together. */
  std::vector<double> rates;
  ArrivalKind arrival = ArrivalKind::poisson;
  double burstiness = 1;            // gamma's shape: CV of the gaps = 1/sqrt(shape)
  std::uint64_t seed = 1;           // of the arrival schedule: fixed, so runs and shards agree
  std::size_t max_concurrency = 0;  // open-loop: streams at once, 0 = no cap ("/max_conc:N")
  /** Closed-loop chat sessions, one case each ("/users:N"): each user's turns back to back with
   *  --think-ms between them, over --duration (its windows as for the rates). */
  std::vector<std::size_t> users;
  long think_ms = 1000;    // a user's think time between turns
  double duration_s = 10;  // open-loop and sessions: the window streams are due in
  double warmup_s = 0;     // its head: streams due then run, not counted
  double cooldown_s = 0;   // its tail: the same
  /** A case whose harness lag p99 (t0 - scheduled start of the streams that did not wait for
   *  --max-concurrency) exceeds this is flagged: the harness was behind (harness_behind=1). */
  double behind_ms = 5;
  /**
   * Threads, each with its own libcurl multi handle, a case's streams split between them; 0 = one
   * per core. 1 by default: the suite's figures (client CPU per token of one thread, connections
   * per stream) and the committed results stay comparable; more threads are for scale runs,
   * where one thread becomes the client bottleneck.
   */
  unsigned client_threads = 1;
  Shard shard;  // --shard i/N: this process runs stream k of every case when k mod N = i
  /**
   * --start-at: the common schedule's start in unix seconds of the server's clock; every shard
   * given the same start and flags runs each case, and each round, in the same window
   * (schedule.hpp). nullopt: none, each case starts when the previous one ends.
   */
  std::optional<double> start_at;
  double slot_margin = 1.25;  // a round's slot: its planned time × this + slot_pad_s
  double slot_pad_s = 1;
  double late_ms = 200;  // a slot begun later than this: schedule_missed=1
};

/** Whether any of `modes` speaks TLS: the run then makes its certificate and the server's TLS
 *  port. */
inline bool needs_tls(const std::vector<TlsMode>& modes) {
  for (TlsMode m : modes)
    if (m != TlsMode::off) return true;
  return false;
}

/**
 * The suite's dimensions where no flag gave them (flags given still win). core: the in-class
 * defaults. full: full_models, full_intervals_ms, ws turns 1 and 4. quick: one short recording,
 * c:1 and c:10, intervals 50 and 250, ws turns 1 and 4; every poll shape stays, so the quick
 * suite still compares them all.
 */
void apply_suite(HarnessConfig& c, const std::set<std::string>& given);

/**
 * Parses what benchmark::Initialize left in argv (`--name=VALUE` or `--name VALUE`); `help` is
 * set by --help. Throws flags::Error: one line naming the flag and what it takes.
 */
HarnessConfig parse_harness_flags(int argc, char** argv, bool& help);

/** The --help text of the harness's flags, the defaults taken from `defaults`. */
std::string harness_help(const HarnessConfig& defaults);

}  // namespace ssebench::bench
