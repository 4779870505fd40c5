#include "ssebench/bench/harness.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "ssebench/bench/engine.hpp"
#include "ssebench/bench/histogram.hpp"
#include "ssebench/bench/load.hpp"
#include "ssebench/bench/result_file.hpp"
#include "ssebench/bench/server.hpp"

namespace ssebench::bench {

namespace {

#ifdef SSEBENCH_MOCK_SERVER
constexpr const char* default_server_binary = SSEBENCH_MOCK_SERVER;
#else
constexpr const char* default_server_binary = "";
#endif

/** The harness's own flags (Google Benchmark's are taken out by benchmark::Initialize first). */
struct HarnessConfig {
  std::string server;                                 // running server URL; empty: start one
  std::string server_binary = default_server_binary;  // the server started on port 0
  unsigned server_threads = 1;                        // its --threads
  std::string recordings = SSEBENCH_RECORDINGS_DIR;   // folder of *.jsonl
  std::vector<Transport> transports{std::begin(all_transports), std::end(all_transports)};
  // One recording per timing profile. For the reasoning profile, codex-max-4: its content is
  // output text (METRICS.md's content event) and at 6.4 s it is the shortest codex-max. The four
  // replay in 13 s; the default suite runs 68 settings of them (the 16 HTTP settings — sse, rest,
  // 4 poll shapes × 3 intervals, 2 long-poll shapes — over HTTP/1.1 and HTTP/2, ws in 1 and 4
  // turns) at 2 concurrency levels.
  std::vector<std::string> models{"chat-gpt-4o-json", "chat-gpt-4o-mini-text",
                                  "chat-gpt-4.1-nano-text", "responses-gpt-5.1-codex-max-4"};
  std::vector<std::size_t> concurrency{1, 100};   // streams at once per round
  std::vector<long> intervals_ms{50, 250, 1000};  // poll periods
  /** ws: turns per connection, one case each; 1 names the case ws/ID/c:C, N ws/ID/c:C/turns:N. */
  std::vector<std::size_t> ws_turns{1, 4};
  /** What poll answers carry: poll runs every listed shape, long-poll the cursor ones. */
  std::vector<PollShape> poll_shapes{std::begin(all_poll_shapes), std::end(all_poll_shapes)};
  double speed = 1.0;  // replay speed of measured rounds
  int rounds = 1;      // measured rounds (iterations) per case
  bool warmup = true;  // one uncounted round at speed 0 first
  PollSchedule schedule = PollSchedule::fixed_rate;
  bool keep_alive = true;
  /** HTTP versions of the libcurl transports, each a variant: 2 = HTTP/2 cleartext with prior
   *  knowledge, a round's streams over one connection, names ending in /http:2; 1.1 keeps the
   *  names as they were. */
  std::vector<HttpVersion> http{HttpVersion::http1_1, HttpVersion::http2};
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
  bool quick = false;  // CI's reduced set

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
  long think_ms = 1000;
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
};

/**
 * --quick: one short recording, c:1 and c:10, intervals 50 and 250 (flags given still win);
 * every poll shape stays, so the quick suite still compares them all.
 */
void apply_quick(HarnessConfig& c, const std::set<std::string>& given) {
  if (!given.contains("models")) c.models = {"chat-gpt-4o-mini-text"};
  if (!given.contains("concurrency")) c.concurrency = {1, 10};
  if (!given.contains("intervals")) c.intervals_ms = {50, 250};
}

void print_help(const HarnessConfig& d) {
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
  fmt::print(
      "ssebench-bench [Google Benchmark flags] [flags]\n"
      "  --server=URL             use a running server (default: start {} on port 0)\n"
      "  --server-threads=N       threads of the started server (default {})\n"
      "  --recordings=DIR         recordings folder (default {})\n"
      "  --cases=LIST             transports (default {})\n"
      "  --models=LIST            recording ids (default {})\n"
      "  --concurrency=LIST       streams per round (default {})\n"
      "  --intervals=LIST         poll intervals in ms, for poll (default {})\n"
      "  --ws-turns=LIST          ws: sequential turns per connection, a case each (default {})\n"
      "  --poll-shapes=LIST       what poll answers carry: poll runs each, long-poll the cursor\n"
      "                           shapes delta and events (default {})\n"
      "  --speed=S                replay speed of measured rounds (default {})\n"
      "  --rounds=N               measured rounds per case (default {})\n"
      "  --no-warmup              skip the uncounted warm-up round (run at speed 0)\n"
      "  --poll-schedule=S        fixed-rate | after-response (default fixed-rate)\n"
      "  --no-keep-alive          a new connection for every request\n"
      "  --http=LIST              1.1 and/or 2: HTTP/2 cleartext (prior knowledge), a round's\n"
      "                           streams multiplexed over one connection (default 1.1,2)\n"
      "  --stagger-ms=MS          spread stream starts over MS; 0 = all at once (default {})\n"
      "  --long-poll-wait-ms=W    wait_ms of long polls (default {})\n"
      "  --host-connections=LIST  connection caps per round, 0 = none; 6 = a browser tab over\n"
      "                           HTTP/1.1 (cases /host_conns:N, for concurrency > N; default 0)\n"
      "  --quick                  models chat-gpt-4o-mini-text, concurrency 1,10, intervals "
      "50,250\n"
      "                           (every poll shape stays)\n"
      "load models (METRICS.md, \"Load models\"):\n"
      "  --rate=LIST              open-loop arrivals in streams/s, a case each (/rate:R) instead\n"
      "                           of the closed rounds of --concurrency\n"
      "  --arrival=K              constant | poisson | gamma (default poisson)\n"
      "  --burstiness=B           gamma's shape: < 1 burstier, > 1 smoother (default {})\n"
      "  --seed=N                 of the arrival schedule (default {})\n"
      "  --max-concurrency=N      open-loop: streams at once, arrivals beyond wait (default 0 =\n"
      "                           no cap; cases /max_conc:N)\n"
      "  --users=LIST             closed-loop chat sessions of N users, a case each (/users:N)\n"
      "  --think-ms=MS            a user's think time between turns (default {})\n"
      "  --duration=S             open-loop and sessions: seconds streams are due in (default {})\n"
      "  --warmup-s=S             streams due in the first S run, not counted (default {})\n"
      "  --cooldown-s=S           streams due in the last S run, not counted (default {})\n"
      "  --behind-ms=MS           flag a case whose harness lag p99 exceeds MS (default {})\n"
      "  --client-threads=N       threads, each its own multi handle; 0 = cores (default {})\n"
      "  --shard=I/N              run stream k of each case when k mod N = I (default 0/1)\n",
      d.server_binary.empty() ? "(none built)" : d.server_binary, d.server_threads, d.recordings,
      join(ts), join(d.models), join(d.concurrency), join(d.intervals_ms), join(d.ws_turns),
      join(shapes), d.speed, d.rounds, d.stagger_ms, d.long_poll_wait_ms, d.burstiness, d.seed,
      d.think_ms, d.duration_s, d.warmup_s, d.cooldown_s, d.behind_ms, d.client_threads);
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    std::string part(s.substr(0, comma));
    if (!part.empty()) out.push_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

template <typename T>
T to_number(const std::string& flag, const std::string& text) {
  std::istringstream in(text);
  T v{};
  if (!(in >> v) || !in.eof() || v < T{})
    throw std::invalid_argument(fmt::format("bad value '{}' for --{}", text, flag));
  return v;
}

/** Longest duration a flag may give (a year): the clients' time points must not overflow. */
constexpr long max_duration_ms = 365L * 24 * 3600 * 1000;

long to_ms(const std::string& flag, const std::string& text) {
  const long v = to_number<long>(flag, text);
  if (v > max_duration_ms)
    throw std::invalid_argument(
        fmt::format("bad value '{}' for --{}: at most {} ms", text, flag, max_duration_ms));
  return v;
}

/** Parses what benchmark::Initialize left in argv; throws std::invalid_argument. */
HarnessConfig parse_flags(int argc, char** argv, bool& help) {
  HarnessConfig c;
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--"))
      throw std::invalid_argument(fmt::format("unexpected argument '{}'", arg));
    arg.remove_prefix(2);
    const auto eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
    given.insert(name);
    if (name == "help") {
      help = true;
    } else if (name == "server") {
      c.server = value;
    } else if (name == "server-binary") {
      c.server_binary = value;
    } else if (name == "server-threads") {
      c.server_threads = to_number<unsigned>(name, value);
    } else if (name == "recordings") {
      c.recordings = value;
    } else if (name == "cases") {
      c.transports.clear();
      for (const std::string& t : split(value)) {
        const auto tr = parse_transport(t);
        if (!tr) throw std::invalid_argument(fmt::format("unknown transport '{}' in --cases", t));
        c.transports.push_back(*tr);
      }
    } else if (name == "models") {
      c.models = split(value);
    } else if (name == "concurrency") {
      c.concurrency.clear();
      for (const std::string& v : split(value))
        c.concurrency.push_back(to_number<std::size_t>(name, v));
    } else if (name == "intervals") {
      c.intervals_ms.clear();
      for (const std::string& v : split(value)) c.intervals_ms.push_back(to_ms(name, v));
    } else if (name == "ws-turns") {
      c.ws_turns.clear();
      for (const std::string& v : split(value))
        c.ws_turns.push_back(to_number<std::size_t>(name, v));
    } else if (name == "poll-shapes") {
      c.poll_shapes.clear();
      for (const std::string& v : split(value)) {
        const auto s = parse_poll_shape(v);
        if (!s)
          throw std::invalid_argument(fmt::format(
              "unknown poll shape '{}' in --poll-shapes (openai, snapshot, delta, events)", v));
        // A shape listed twice would register its cases twice.
        if (std::find(c.poll_shapes.begin(), c.poll_shapes.end(), *s) == c.poll_shapes.end())
          c.poll_shapes.push_back(*s);
      }
      if (c.poll_shapes.empty())
        throw std::invalid_argument("--poll-shapes needs at least one shape");
    } else if (name == "speed") {
      c.speed = to_number<double>(name, value);
    } else if (name == "rounds") {
      c.rounds = to_number<int>(name, value);
    } else if (name == "no-warmup") {
      c.warmup = false;
    } else if (name == "poll-schedule") {
      if (value == "fixed-rate")
        c.schedule = PollSchedule::fixed_rate;
      else if (value == "after-response")
        c.schedule = PollSchedule::after_response;
      else
        throw std::invalid_argument(fmt::format("bad value '{}' for --poll-schedule", value));
    } else if (name == "stagger-ms") {
      c.stagger_ms = to_ms(name, value);
    } else if (name == "no-keep-alive") {
      c.keep_alive = false;
    } else if (name == "host-connections") {
      c.host_connections.clear();
      for (const std::string& v : split(value))
        c.host_connections.push_back(to_number<std::size_t>(name, v));
      if (c.host_connections.empty())
        throw std::invalid_argument("--host-connections needs at least one value");
    } else if (name == "http") {
      c.http.clear();
      for (const std::string& text : split(value)) {
        const std::optional<HttpVersion> v = parse_http_version(text);
        if (!v)
          throw std::invalid_argument(fmt::format("bad value '{}' for --http (1.1, 2)", text));
        if (std::find(c.http.begin(), c.http.end(), *v) == c.http.end()) c.http.push_back(*v);
      }
      if (c.http.empty()) throw std::invalid_argument("--http needs at least one version");
    } else if (name == "long-poll-wait-ms") {
      c.long_poll_wait_ms = to_ms(name, value);
    } else if (name == "quick") {
      c.quick = true;
    } else if (name == "rate") {
      c.rates.clear();
      for (const std::string& v : split(value)) c.rates.push_back(to_number<double>(name, v));
      if (c.rates.empty()) throw std::invalid_argument("--rate needs at least one rate");
    } else if (name == "arrival") {
      const std::optional<ArrivalKind> k = parse_arrival_kind(value);
      if (!k)
        throw std::invalid_argument(
            fmt::format("bad value '{}' for --arrival (constant, poisson, gamma)", value));
      c.arrival = *k;
    } else if (name == "users") {
      c.users.clear();
      for (const std::string& v : split(value)) c.users.push_back(to_number<std::size_t>(name, v));
      if (c.users.empty()) throw std::invalid_argument("--users needs at least one count");
    } else if (name == "think-ms") {
      c.think_ms = to_ms(name, value);
    } else if (name == "burstiness") {
      c.burstiness = to_number<double>(name, value);
    } else if (name == "seed") {
      c.seed = to_number<std::uint64_t>(name, value);
    } else if (name == "max-concurrency") {
      c.max_concurrency = to_number<std::size_t>(name, value);
    } else if (name == "duration") {
      c.duration_s = to_number<double>(name, value);
    } else if (name == "warmup-s") {
      c.warmup_s = to_number<double>(name, value);
    } else if (name == "cooldown-s") {
      c.cooldown_s = to_number<double>(name, value);
    } else if (name == "behind-ms") {
      c.behind_ms = to_number<double>(name, value);
    } else if (name == "client-threads") {
      c.client_threads = to_number<unsigned>(name, value);
      if (c.client_threads == 0)
        c.client_threads = std::max(1u, std::thread::hardware_concurrency());
    } else if (name == "shard") {
      const auto slash = value.find('/');
      if (slash == std::string::npos)
        throw std::invalid_argument(fmt::format("bad value '{}' for --shard (I/N)", value));
      c.shard.index = to_number<std::size_t>(name, value.substr(0, slash));
      c.shard.count = to_number<std::size_t>(name, value.substr(slash + 1));
      if (c.shard.count == 0 || c.shard.index >= c.shard.count)
        throw std::invalid_argument(fmt::format("bad value '{}' for --shard: 0 <= I < N", value));
    } else {
      throw std::invalid_argument(fmt::format("unknown flag --{} (see --help)", name));
    }
  }
  if (c.quick) apply_quick(c, given);
  if (c.rounds < 1) throw std::invalid_argument("--rounds must be at least 1");
  for (std::size_t n : c.concurrency)
    if (n == 0) throw std::invalid_argument("--concurrency values must be at least 1");
  for (long n : c.intervals_ms)
    if (n <= 0) throw std::invalid_argument("--intervals values must be at least 1");
  for (std::size_t n : c.ws_turns)
    if (n == 0) throw std::invalid_argument("--ws-turns values must be at least 1");
  for (double r : c.rates)
    if (!(r > 0)) throw std::invalid_argument("--rate values must be above 0");
  for (std::size_t n : c.users)
    if (n < c.shard.count)
      throw std::invalid_argument("--users values must be at least 1 (and the number of shards)");
  if (!(c.burstiness > 0)) throw std::invalid_argument("--burstiness must be above 0");
  if (!(c.duration_s > c.warmup_s + c.cooldown_s) || c.duration_s * 1000 > max_duration_ms)
    throw std::invalid_argument("--duration must exceed --warmup-s + --cooldown-s (and a year)");
  if (c.max_concurrency > 0 && c.max_concurrency < c.shard.count)
    throw std::invalid_argument("--max-concurrency must be at least the number of shards");
  return c;
}

/** Many concurrent streams need many descriptors. */
void raise_nofile_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/** The interface the kernel routes the server's address over, and its MTU. */
struct Link {
  std::string interface;  // e.g. "lo", "ssebench-c0"; empty when it could not be told
  std::string local_address;
  std::string server_address;
  int mtu_bytes = 0;  // 0 = unknown
};

/**
 * Asks the kernel rather than assuming loopback: a UDP socket connected to the server's address
 * (connect sends nothing) gets the local address of the route's source, and the interface holding
 * that address is the one the TCP connections use. SIOCGIFMTU reads the MTU in the namespace the
 * harness runs in (a /sys path could be the host's when run under `ip netns exec` without a
 * remount).
 */
Link link_to(const std::string& url) {
  Link link;
  std::string_view rest = url;
  std::string port = "80";
  if (const auto p = rest.find("://"); p != std::string_view::npos) {
    if (rest.substr(0, p) == "https") port = "443";
    rest.remove_prefix(p + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  std::string host;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return link;
    host = rest.substr(1, close - 1);
    if (rest.size() > close + 2 && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) return link;
  const auto numeric = [](const sockaddr* a, socklen_t len) {
    char buf[NI_MAXHOST] = {};
    getnameinfo(a, len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST);
    return std::string(buf);
  };
  link.server_address = numeric(found->ai_addr, found->ai_addrlen);
  const int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  const bool routed = fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0;
  freeaddrinfo(found);
  if (routed) {
    link.local_address = numeric(reinterpret_cast<const sockaddr*>(&local), local_len);
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
      for (const ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != local.ss_family) continue;
        const socklen_t len =
            local.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        if (numeric(i->ifa_addr, len) == link.local_address) {
          link.interface = i->ifa_name;
          break;
        }
      }
      freeifaddrs(ifs);
    }
    ifreq req{};
    if (!link.interface.empty() && link.interface.size() < sizeof req.ifr_name) {
      link.interface.copy(req.ifr_name, link.interface.size());
      if (ioctl(fd, SIOCGIFMTU, &req) == 0) link.mtu_bytes = req.ifr_mtu;
    }
  }
  if (fd >= 0) close(fd);
  return link;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  return "unknown";
}

/** Whether Google Benchmark's --benchmark_filter (a regex, '-' negates) selects `name`. */
bool selected(const std::string& filter, const std::string& name) {
  if (filter.empty() || filter == "all" || filter == ".") return true;
  const bool negate = filter.front() == '-';
  try {
    const std::regex re(negate ? filter.substr(1) : filter, std::regex::extended);
    return std::regex_search(name, re) != negate;
  } catch (const std::regex_error&) {
    return true;
  }
}

// ---- interruption: SIGINT or SIGTERM ends the run, keeping what finished -------------------

std::atomic<bool> stop_requested{false};
volatile std::sig_atomic_t stop_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested.store(true, std::memory_order_relaxed);
}

/** The first SIGINT or SIGTERM stops the run cleanly; a second one kills (SA_RESETHAND). */
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: a wait in curl_multi_poll returns early
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const char* stop_signal_name() {
  return stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

/** The error message of a case not run because the run was interrupted: left out of the JSON. */
constexpr std::string_view not_run_marker = "ssebench: not run (interrupted)";

/**
 * The display reporter, which also keeps the JSON result (--benchmark_out, taken from Google
 * Benchmark, whose own writer opens the file at the start and completes it only at the end):
 * after the context and after every case, the JSON of what has finished so far is written to
 * a temporary name and renamed over the file, so that it is always complete and valid — after
 * an interrupt, a crash or a kill. An interrupted run's context says so ("interrupted").
 */
class ResultsReporter : public benchmark::BenchmarkReporter {
 public:
  /** `display` prints to the console; `json_path` empty: no JSON file. */
  ResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> display, std::string json_path)
      : display_(std::move(display)), path_(std::move(json_path)) {
    if (!path_.empty()) {
      json_.SetOutputStream(&json_text_);
      json_.SetErrorStream(&std::cerr);
    }
  }

  bool ReportContext(const Context& context) override {
    const bool ok = display_->ReportContext(context);
    if (!path_.empty()) {
      json_.ReportContext(context);
      commit();
    }
    return ok;
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> kept;
    for (const Run& r : runs)
      if (!(r.error_occurred && r.error_message == not_run_marker)) kept.push_back(r);
    if (kept.empty()) return;
    display_->ReportRuns(kept);
    if (!path_.empty()) {
      json_.ReportRuns(kept);
      commit();
    }
  }

  void Finalize() override {
    display_->Finalize();
    if (!path_.empty()) {
      json_.Finalize();
      finalized_ = true;
      commit();
    }
  }

  /** From now on the JSON's context carries "interrupted": note. */
  void mark_interrupted(std::string note) { interrupted_ = std::move(note); }
  const std::string& path() const { return path_; }
  bool write_failed() const { return write_failed_; }

 private:
  void commit() {
    std::string text = json_text_.str();
    if (!finalized_) text += "\n  ]\n}\n";  // what JSONReporter::Finalize writes
    if (!interrupted_.empty()) {
      constexpr std::string_view context_open = "\"context\": {\n";
      if (const auto at = text.find(context_open); at != std::string::npos) {
        std::string note;
        for (char c : interrupted_)
          if (c != '"' && c != '\\') note += c;
        text.insert(at + context_open.size(), fmt::format("    \"interrupted\": \"{}\",\n", note));
      }
    }
    std::string error;
    if (!write_file_atomically(path_, text, error) && !write_failed_) {
      write_failed_ = true;
      fmt::print(stderr, "ssebench-bench: cannot write the results: {}\n", error);
    }
  }

  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  std::string path_;
  benchmark::JSONReporter json_;
  std::ostringstream json_text_;
  bool finalized_ = false;
  bool write_failed_ = false;
  std::string interrupted_;
};

/** Everything the cases share. */
struct Run {
  HarnessConfig config;
  std::string url;
  int cases_total = 0;
  int cases_done = 0;
  int cases_failed = 0;
  ResultsReporter* results = nullptr;
  bool interrupted = false;  // a case was cut by the interrupt
  /** Every case's latency histograms (repetitions merged), written beside the JSON. */
  std::map<std::string, std::map<std::string, Histogram>> histograms;
  std::string histograms_path;  // empty: none written
};

/** benchmark.json -> benchmark.histograms.json: beside it, never one run's over another's. */
std::string histograms_path_for(const std::string& json_path) {
  if (json_path.empty()) return "";
  const std::string_view ext = ".json";
  const std::string stem =
      json_path.ends_with(ext) ? json_path.substr(0, json_path.size() - ext.size()) : json_path;
  return stem + ".histograms.json";
}

/** {"version":1,"unit":"ns","sub_bucket_bits":8,"cases":{NAME:{FIGURE:Histogram::to_json()}}}:
 *  scripts/merge_shards adds the buckets of several runs' files. */
void write_histograms(const Run& run) {
  if (run.histograms_path.empty()) return;
  std::string text = fmt::format(R"({{"version":1,"unit":"ns","sub_bucket_bits":{},"cases":{{)",
                                 Histogram::sub_bucket_bits);
  bool first_case = true;
  for (const auto& [name, figures] : run.histograms) {
    text += fmt::format("{}\n\"{}\":{{", first_case ? "" : ",", name);
    first_case = false;
    bool first = true;
    for (const auto& [figure, h] : figures) {
      text += fmt::format("{}\"{}\":{}", first ? "" : ",", figure, h.to_json());
      first = false;
    }
    text += "}";
  }
  text += "\n}}\n";
  std::string error;
  if (!write_file_atomically(run.histograms_path, text, error))
    fmt::print(stderr, "ssebench-bench: cannot write {}: {}\n", run.histograms_path, error);
}

/**
 * How a case's transport runs beyond its interval and shape: each variant is a name part
 * (`/host_conns:6`, `/turns:4`) after the shape; the plain variant has none, so plain cases keep
 * the names they always had.
 */
struct Variant {
  HttpVersion http = HttpVersion::http1_1;  // libcurl transports
  std::size_t host_connections = 0;         // connection cap over HTTP/1.1, 0 = none
  std::size_t ws_turns = 1;                 // sequential turns per connection (ws)

  std::string suffix() const {
    std::string s;
    if (http != HttpVersion::http1_1) s += fmt::format("/http:{}", to_string(http));
    if (ws_turns > 1) s += fmt::format("/turns:{}", ws_turns);
    if (host_connections > 0) s += fmt::format("/host_conns:{}", host_connections);
    return s;
  }
};

/**
 * The variants a transport runs at concurrency `c`: ws its turns (over HTTP/1.1, its upgrade);
 * the libcurl transports each HTTP version, and over HTTP/1.1 the connection caps above which
 * `c` lies (at or below the cap it would change nothing; HTTP/2 has one connection anyway).
 */
std::vector<Variant> variants_for(Transport t, std::size_t c, const HarnessConfig& config) {
  std::vector<Variant> out;
  if (t == Transport::ws) {
    for (std::size_t n : config.ws_turns) out.push_back(Variant{.ws_turns = n});
    return out;
  }
  for (HttpVersion h : config.http) {
    if (h != HttpVersion::http1_1) {
      out.push_back(Variant{.http = h});
      continue;
    }
    for (std::size_t cap : config.host_connections)
      if (cap == 0 || c > cap) out.push_back(Variant{.host_connections = cap});
  }
  return out;
}

struct CaseSpec {
  std::string name;
  const Expectation* expect = nullptr;
  Transport transport = Transport::sse;
  std::size_t concurrency = 1;
  long interval_ms = 0;
  std::optional<PollShape> shape;  // poll and long-poll only
  Variant variant;
  double rate = 0;        // open-loop arrivals per second; 0 = not open-loop
  std::size_t users = 0;  // closed-loop sessions; 0 = none (rate 0 too: a closed round)
};

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

void run_case(benchmark::State& state, Run& run, const CaseSpec& spec) {
  const HarnessConfig& hc = run.config;
  ClientConfig cfg;
  cfg.base_url = run.url;
  cfg.speed = hc.speed;
  if (spec.interval_ms > 0) cfg.interval = std::chrono::milliseconds(spec.interval_ms);
  if (spec.shape) cfg.shape = *spec.shape;
  cfg.schedule = hc.schedule;
  cfg.keep_alive = hc.keep_alive;
  cfg.stagger = std::chrono::milliseconds(hc.stagger_ms);
  cfg.long_poll_wait = std::chrono::milliseconds(hc.long_poll_wait_ms);
  const Variant& v = spec.variant;
  cfg.ws_turns = v.ws_turns;
  cfg.http = v.http;
  cfg.max_host_connections = v.host_connections;
  if (v.host_connections > 0 && spec.concurrency > 0) {
    // Streams wait their turn for a connection: the last of C over N connections starts after
    // about ceil(C / N) - 1 whole streams; its deadline allows for that.
    const std::size_t waves = (spec.concurrency + v.host_connections - 1) / v.host_connections;
    cfg.deadline_factor *= static_cast<double>(waves);
  }
  cfg.stop = &stop_requested;
  if (stop_requested.load()) {
    state.SkipWithError(std::string(not_run_marker).c_str());
    return;
  }
  const Recording& rec = *spec.expect->recording;
  const auto started = Clock::now();
  LoadRunner runner(hc.client_threads, hc.shard);
  const bool open = spec.rate > 0;
  const bool sessions = spec.users > 0;
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
    load.max_concurrency = hc.max_concurrency;
  }

  // Verify and warm up (connections, caches) cheaply at speed 0; never counted.
  std::string failure;
  if (hc.warmup) {
    ClientConfig warm = cfg;
    warm.speed = 0;
    warm.interval = std::min(cfg.interval, warmup_interval);  // the job is complete at once
    CaseAggregate w(spec.expect->clock.content_offsets(), rec.completion_tokens, 0);
    // Open-loop: a few streams per engine, enough to verify and open connections.
    const std::size_t warm_streams =
        open || sessions ? 2 * hc.shard.count * runner.threads() : spec.concurrency;
    w.add(runner.run_round(*spec.expect, spec.transport, warm, warm_streams));
    if (w.failed() > 0) failure = summarize_errors(w, "warm-up: ");
  }

  CaseAggregate agg(spec.expect->clock.content_offsets(), rec.completion_tokens, cfg.speed);
  for (auto _ : state) {
    if (!failure.empty()) break;
    std::optional<ServerStats> before;
    if (reset_stats(run.url)) before = fetch_stats(run.url);
    RoundResult round = open ? runner.run_open(*spec.expect, spec.transport, cfg, load)
                        : sessions
                            ? runner.run_users(*spec.expect, spec.transport, cfg, user_load)
                            : runner.run_round(*spec.expect, spec.transport, cfg, spec.concurrency);
    if (before) {
      if (const std::optional<ServerStats> after = fetch_stats(run.url)) {
        ServerRound s;
        s.cpu_us = after->cpu_us() - before->cpu_us();
        s.lateness_us_p50 = after->lateness_us_p50;
        s.lateness_us_p99 = after->lateness_us_p99;
        s.lateness_us_max = after->lateness_us_max;
        round.server = s;
      }
    }
    state.SetIterationTime(round.wall_s);
    agg.add(round);
  }
  if (failure.empty() && agg.failed() > 0) failure = summarize_errors(agg, "");
  if (stop_requested.load()) {
    // Whatever its streams saw, the case did not run to its end.
    failure = fmt::format("interrupted ({}) during this case{}", stop_signal_name(),
                          agg.failed() > 0 ? ": " + summarize_errors(agg, "") : "");
    run.interrupted = true;
    run.results->mark_interrupted(
        fmt::format("{} during case {} of {} ({}): the cases before it finished; it is marked "
                    "failed; the rest did not run",
                    stop_signal_name(), run.cases_done + 1, run.cases_total, spec.name));
  }

  const auto counters = agg.counters();
  for (const auto& [name, value] : counters) state.counters[name] = value;
  if (open || sessions) {
    if (open) state.counters["rate_per_s"] = spec.rate;
    if (sessions) state.counters["users"] = static_cast<double>(spec.users);
    if (sessions) state.counters["think_ms"] = static_cast<double>(hc.think_ms);
    state.counters["duration_s"] = hc.duration_s;
    if (open && hc.max_concurrency > 0)
      state.counters["max_concurrency"] = static_cast<double>(hc.max_concurrency);
    const double behind = find(counters, "harness_lag_ms_p99").value_or(0);
    state.counters["harness_behind"] = behind > hc.behind_ms ? 1 : 0;
    if (behind > hc.behind_ms)
      fmt::print(stderr,
                 "{}: warning: the harness fell behind its schedule (harness lag p99 {:.2f} ms > "
                 "{} ms): more --client-threads, or a lower rate\n",
                 spec.name, behind, hc.behind_ms);
  } else {
    state.counters["concurrency"] = static_cast<double>(spec.concurrency);
  }
  if (hc.shard.count > 1) state.counters["shards"] = static_cast<double>(hc.shard.count);
  for (auto& [figure, h] : agg.histograms()) run.histograms[spec.name][figure].merge(h);
  write_histograms(run);
  if (spec.interval_ms > 0) state.counters["interval_ms"] = static_cast<double>(spec.interval_ms);
  if (spec.transport == Transport::ws)
    state.counters["ws_turns"] = static_cast<double>(spec.variant.ws_turns);
  if (spec.variant.host_connections > 0)
    state.counters["host_connections"] = static_cast<double>(spec.variant.host_connections);
  state.counters["speed"] = hc.speed;
  state.SetLabel(rec.model);

  ++run.cases_done;
  // lag_ms_min exists only when content events were received.
  const std::optional<double> lag_min = find(counters, "lag_ms_min");
  if (agg.streams() > agg.failed() && lag_min && *lag_min < min_plausible_lag_ms)
    fmt::print(stderr, "{}: warning: a lag of {:.4f} ms is below half a loopback round trip\n",
               spec.name, *lag_min);
  const double took_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (!failure.empty()) {
    ++run.cases_failed;
    state.SkipWithError(failure.c_str());
    fmt::print(stderr, "[{}/{}] {}: FAILED {} ({:.1f} s)\n", run.cases_done, run.cases_total,
               spec.name, failure, took_s);
  } else {
    fmt::print(stderr,
               "[{}/{}] {}: {}/{} ok, ttft p50 {} ms, lag p50 {} ms p99 {} ms, {} req/stream "
               "({:.1f} s)\n",
               run.cases_done, run.cases_total, spec.name, agg.streams() - agg.failed(),
               agg.streams(), shown(counters, "ttft_ms_p50", 1), shown(counters, "lag_ms_p50", 2),
               shown(counters, "lag_ms_p99", 2), shown(counters, "requests_per_stream", 1), took_s);
  }
}

void add_context(const Run& run, const std::string& server_desc) {
  std::string commit =
      command_output("git -C '" SSEBENCH_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null");
  if (commit.empty()) commit = SSEBENCH_BUILD_COMMIT;
  if (!command_output("git -C '" SSEBENCH_SOURCE_DIR
                      "' status --porcelain --untracked-files=no 2>/dev/null")
           .empty())
    commit += "-dirty";
  benchmark::AddCustomContext("ssebench_commit", commit);
  benchmark::AddCustomContext("ssebench_build_commit", SSEBENCH_BUILD_COMMIT);
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
#endif
#ifdef NDEBUG
  benchmark::AddCustomContext("ssebench_build_type", "release (NDEBUG)");
#else
  benchmark::AddCustomContext("ssebench_build_type",
                              "debug (assertions on): do not quote these figures");
#endif
  utsname u{};
  uname(&u);
  benchmark::AddCustomContext("kernel", fmt::format("{} {} {}", u.sysname, u.release, u.machine));
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("cores", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("server", server_desc);
  const Link link = link_to(run.url);
  benchmark::AddCustomContext("interface", link.interface.empty() ? "unknown" : link.interface);
  benchmark::AddCustomContext("interface_mtu_bytes",
                              link.mtu_bytes > 0 ? std::to_string(link.mtu_bytes) : "unknown");
  benchmark::AddCustomContext(
      "interface_route", link.local_address.empty()
                             ? "unknown"
                             : fmt::format("{} -> {}", link.local_address, link.server_address));
  benchmark::AddCustomContext("wire_bytes_formula", std::string(wire_bytes_formula));
  benchmark::AddCustomContext(
      "cpu_note",
      "client CPU is the harness threads' (CLOCK_THREAD_CPUTIME_ID, summed over "
      "--client-threads), server CPU the server "
      "process's (GET /mock/stats, user+sys); on loopback the kernel's TCP work for both sides is "
      "charged to whichever side runs it, so neither figure is that side's alone");
  benchmark::AddCustomContext(
      "timing_note",
      "steady_clock; t0 just before a stream's first request; an event is received when the read "
      "that completes it returns (polls: when the answer carrying it has been read; shapes "
      "without event numbers, snapshot and openai, tell a content event by the text length it "
      "reaches); lag = receive - (t0 + recorded offset / speed); open-loop (/rate:R) and session "
      "(/users:N) cases count ttft, ttlt and lag from the scheduled start instead of t0; "
      "percentiles exact (linear between order statistics), histograms beside the JSON within "
      "0.4 %");
  const HarnessConfig& c = run.config;
  benchmark::AddCustomContext("speed", fmt::format("{}", c.speed));
  benchmark::AddCustomContext("warmup",
                              c.warmup ? "one uncounted round per case at speed 0" : "none");
  benchmark::AddCustomContext("rounds_per_case", std::to_string(c.rounds));
  benchmark::AddCustomContext(
      "poll_schedule", c.schedule == PollSchedule::fixed_rate ? "fixed-rate" : "after-response");
  benchmark::AddCustomContext("keep_alive", c.keep_alive ? "on" : "off");
  std::string versions;
  for (HttpVersion h : c.http)
    versions += (versions.empty() ? "" : ",") + std::string(to_string(h));
  benchmark::AddCustomContext("http", versions);
  benchmark::AddCustomContext("stagger_ms", std::to_string(c.stagger_ms));
  benchmark::AddCustomContext("long_poll_wait_ms", std::to_string(c.long_poll_wait_ms));
  std::string caps;
  for (std::size_t n : c.host_connections) caps += (caps.empty() ? "" : ",") + std::to_string(n);
  benchmark::AddCustomContext("host_connections", caps);
  std::string shapes;
  for (PollShape s : c.poll_shapes)
    shapes += fmt::format("{}{}", shapes.empty() ? "" : ",", to_string(s));
  benchmark::AddCustomContext("poll_shapes", shapes);
  benchmark::AddCustomContext(
      "poll_shapes_note",
      "the last part of a poll or long-poll case name: openai = status only until the job ends, "
      "then the whole object; snapshot = the object with all output so far; delta = the text new "
      "since the cursor; events = the job-event payloads since the cursor; long-poll runs the "
      "cursor shapes (delta, events) only");
  benchmark::AddCustomContext("recordings", c.recordings);
  benchmark::AddCustomContext("client_threads", std::to_string(c.client_threads));
  benchmark::AddCustomContext("shard", fmt::format("{}/{}", c.shard.index, c.shard.count));
  if (!c.users.empty())
    benchmark::AddCustomContext(
        "session_model",
        fmt::format("closed-loop sessions: each user's next turn {} ms after its last ended, "
                    "over {} s, the first {} s and the last {} s not counted; ttft, ttlt and lag "
                    "from each turn's scheduled start",
                    c.think_ms, c.duration_s, c.warmup_s, c.cooldown_s));
  if (!c.rates.empty())
    benchmark::AddCustomContext(
        "load_model",
        fmt::format("open-loop: {} arrivals (burstiness {}, seed {}) over {} s, the first {} s "
                    "and the last {} s not counted, max concurrency {}; ttft, ttlt and lag from "
                    "each stream's scheduled start",
                    to_string(c.arrival), c.burstiness, c.seed, c.duration_s, c.warmup_s,
                    c.cooldown_s,
                    c.max_concurrency > 0 ? std::to_string(c.max_concurrency) : "none"));
  if (!run.histograms_path.empty()) benchmark::AddCustomContext("histograms", run.histograms_path);
}

}  // namespace

int harness_main(int argc, char** argv) {
  // The filter and the repetitions, to count the cases that will run in the progress lines
  // (Initialize removes both): each repetition of a case runs it again, warm-up included.
  std::string filter;
  int repetitions = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--benchmark_filter="))
      filter = a.substr(std::string_view("--benchmark_filter=").size());
    else if (constexpr std::string_view flag = "--benchmark_repetitions="; a.starts_with(flag))
      repetitions = std::max(1, std::atoi(argv[i] + flag.size()));
  }
  bool help = false;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help") help = true;
  if (help) {
    print_help(HarnessConfig{});  // then Google Benchmark's own flags, and exit
    fmt::print("\nGoogle Benchmark flags:\n");
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
    config = parse_flags(argc, argv, help);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ssebench-bench: {}\n", e.what());
    return 2;
  }
  if (help) {
    print_help(HarnessConfig{});
    return 0;
  }
  raise_nofile_limit();
  install_stop_handlers();

  auto run = std::make_unique<Run>();
  run->config = config;
  run->histograms_path = histograms_path_for(json_path);

  const FolderLoad loaded = load_folder(config.recordings);
  for (const std::string& e : loaded.errors) fmt::print(stderr, "ssebench-bench: skipped {}\n", e);
  std::vector<std::unique_ptr<Expectation>> expectations;
  for (const std::string& id : config.models) {
    const auto it = std::find_if(loaded.recordings.begin(), loaded.recordings.end(),
                                 [&](const auto& r) { return r->id == id; });
    if (it == loaded.recordings.end()) {
      fmt::print(stderr, "ssebench-bench: no recording '{}' in {}\n", id, config.recordings);
      return 2;
    }
    try {
      expectations.push_back(std::make_unique<Expectation>(make_expectation(*it)));
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: {}\n", e.what());
      return 2;
    }
  }

  std::unique_ptr<ServerProcess> server;
  std::string server_desc;
  if (!config.server.empty()) {
    run->url = config.server;
    while (!run->url.empty() && run->url.back() == '/') run->url.pop_back();
    server_desc = "running server at " + run->url;
  } else {
    if (config.server_binary.empty()) {
      fmt::print(stderr, "ssebench-bench: no server built; pass --server=URL\n");
      return 2;
    }
    try {
      server = std::make_unique<ServerProcess>(
          config.server_binary,
          std::vector<std::string>{"--recordings", config.recordings, "--threads",
                                   std::to_string(config.server_threads)});
    } catch (const std::exception& e) {
      fmt::print(stderr, "ssebench-bench: {}\n", e.what());
      return 2;
    }
    run->url = server->url();
    server_desc = "started: " + server->command();
  }
  std::string stats_error;
  if (!fetch_stats(run->url, &stats_error)) {
    fmt::print(stderr, "ssebench-bench: the server does not answer: {}\n", stats_error);
    return 2;
  }

  std::vector<std::unique_ptr<CaseSpec>> specs;
  for (Transport t : config.transports) {
    // sse and rest have no shape: one pass with none.
    std::vector<std::optional<PollShape>> shapes;
    for (PollShape s : shapes_for(t, config.poll_shapes)) shapes.emplace_back(s);
    if (!is_polled(t)) shapes.emplace_back(std::nullopt);
    if (shapes.empty()) {
      fmt::print(stderr,
                 "ssebench-bench: {}: no cursor shape (delta, events) in --poll-shapes, "
                 "skipped\n",
                 to_string(t));
      continue;
    }
    for (const auto& x : expectations) {
      const auto& nonstream = x->recording->nonstream;
      if (t == Transport::rest &&
          (!nonstream || nonstream->status < 200 || nonstream->status >= 300)) {
        fmt::print(stderr,
                   "ssebench-bench: rest/{}: the recording has no successful stream:false answer, "
                   "skipped\n",
                   x->recording->id);
        continue;
      }
      if (t != Transport::rest && x->recording->events.empty()) {
        fmt::print(stderr, "ssebench-bench: {}/{}: the recording has no streamed events, skipped\n",
                   to_string(t), x->recording->id);
        continue;
      }
      // Closed rounds of C streams; or open-loop rates (C is then the cap, if any) and user
      // sessions (C the users), which replace them.
      struct CaseLoad {
        std::size_t c = 0;
        double rate = 0;
        std::size_t users = 0;
      };
      std::vector<CaseLoad> loads;
      if (config.rates.empty() && config.users.empty())
        for (std::size_t c : config.concurrency) loads.push_back({.c = c});
      else if (t == Transport::ws)
        fmt::print(stderr, "ssebench-bench: ws/{}: no open-loop or session cases for ws, skipped\n",
                   x->recording->id);
      else {
        for (double r : config.rates)
          loads.push_back(
              {.c = config.max_concurrency > 0 ? config.max_concurrency : SIZE_MAX, .rate = r});
        for (std::size_t n : config.users) loads.push_back({.c = n, .users = n});
      }
      for (const auto& [c, rate, users] : loads) {
        const std::vector<long> intervals =
            has_interval(t) ? config.intervals_ms : std::vector<long>{0};
        for (long interval : intervals) {
          // The shape innermost but for the variants: a table lists one setting's shapes together.
          for (const std::optional<PollShape>& shape : shapes) {
            for (const Variant& v : variants_for(t, c, config)) {
              auto spec = std::make_unique<CaseSpec>();
              spec->name = fmt::format("{}/{}/", to_string(t), x->recording->id);
              if (rate > 0)
                spec->name += fmt::format("rate:{}", rate) +
                              (config.max_concurrency > 0
                                   ? fmt::format("/max_conc:{}", config.max_concurrency)
                                   : "");
              else if (users > 0)
                spec->name += fmt::format("users:{}", users);
              else
                spec->name += fmt::format("c:{}", c);
              if (interval > 0) spec->name += fmt::format("/interval_ms:{}", interval);
              if (shape) spec->name += fmt::format("/shape:{}", to_string(*shape));
              spec->name += v.suffix();
              spec->expect = x.get();
              spec->transport = t;
              spec->concurrency = rate > 0 ? config.max_concurrency : c;  // 0: no cap
              spec->users = users;
              spec->interval_ms = interval;
              spec->shape = shape;
              spec->variant = v;
              spec->rate = rate;
              const CaseSpec* s = spec.get();
              Run* r = run.get();
              benchmark::RegisterBenchmark(spec->name.c_str(),
                                           [r, s](benchmark::State& st) { run_case(st, *r, *s); })
                  ->UseManualTime()
                  ->Iterations(config.rounds)
                  ->Unit(benchmark::kMillisecond);
              specs.push_back(std::move(spec));
            }
          }
        }
      }
    }
  }
  run->cases_total = 0;
  for (const auto& spec : specs) run->cases_total += selected(filter, spec->name) ? repetitions : 0;
  add_context(*run, server_desc);
  fmt::print(stderr, "ssebench-bench: {} cases against {}\n", specs.size(), run->url);

  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (display_format == "json")  // csv (deprecated by Google Benchmark) shows as the console
    display = std::make_unique<benchmark::JSONReporter>();
  else
    display = std::make_unique<benchmark::ConsoleReporter>(
        isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                              : benchmark::ConsoleReporter::OO_Tabular);
  ResultsReporter results(std::move(display), json_path);
  run->results = &results;
  benchmark::RunSpecifiedBenchmarks(&results);
  benchmark::Shutdown();
  if (stop_requested.load()) {
    fmt::print(stderr, "ssebench-bench: interrupted ({}) after {} finished cases of {}{}\n",
               stop_signal_name(), run->cases_done - (run->interrupted ? 1 : 0), run->cases_total,
               json_path.empty() ? "" : fmt::format("; {} holds them", json_path));
    return 128 + (stop_signal == SIGTERM ? SIGTERM : SIGINT);
  }
  if (results.write_failed()) return 1;
  if (run->cases_failed > 0) {
    fmt::print(stderr, "ssebench-bench: {} of {} cases failed\n", run->cases_failed,
               run->cases_done);
    return 1;
  }
  return 0;
}

}  // namespace ssebench::bench
