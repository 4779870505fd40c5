#include "ssebench/bench/run_context.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "ssebench/bench/metrics.hpp"

#ifndef SSEBENCH_SOURCE_DIR
#define SSEBENCH_SOURCE_DIR "."
#endif
#ifndef SSEBENCH_BUILD_COMMIT
#define SSEBENCH_BUILD_COMMIT ""
#endif

namespace ssebench::bench {
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

void add_context(const HarnessConfig& c, const std::string& url, const std::string& server_desc,
                 const std::string& histograms_path) {
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
  const Link link = link_to(url);
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
  // core, full or quick: where the dimensions no flag named came from (harness_config.hpp).
  benchmark::AddCustomContext("suite", std::string(to_string(c.suite)));
  benchmark::AddCustomContext("speed", fmt::format("{}", c.speed));
  benchmark::AddCustomContext("warmup",
                              c.warmup ? "one uncounted round per case at speed 0" : "none");
  benchmark::AddCustomContext("rounds_per_case", std::to_string(c.rounds));
  benchmark::AddCustomContext(
      "poll_schedule", c.schedule == PollSchedule::fixed_rate ? "fixed-rate" : "after-response");
  benchmark::AddCustomContext("keep_alive", c.keep_alive ? "on" : "off");
  // fmt::join, not `a + b` in a loop: GCC 12's -Wrestrict misfires on that at -O2.
  std::vector<std::string_view> versions;
  for (HttpVersion h : c.http) versions.push_back(to_string(h));
  benchmark::AddCustomContext("http", fmt::format("{}", fmt::join(versions, ",")));
  benchmark::AddCustomContext("stagger_ms", std::to_string(c.stagger_ms));
  benchmark::AddCustomContext("long_poll_wait_ms", std::to_string(c.long_poll_wait_ms));
  benchmark::AddCustomContext("host_connections",
                              fmt::format("{}", fmt::join(c.host_connections, ",")));
  std::string shapes;
  for (PollShape s : c.poll_shapes)
    shapes += fmt::format("{}{}", shapes.empty() ? "" : ",", to_string(s));
  benchmark::AddCustomContext("poll_shapes", shapes);
  benchmark::AddCustomContext(
      "poll_shapes_note",
      "a poll or long-poll case's shape (its shape field; /shape:S in its name): openai = status "
      "only until the job ends, "
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
  if (!histograms_path.empty()) benchmark::AddCustomContext("histograms", histograms_path);
}

}  // namespace ssebench::bench
