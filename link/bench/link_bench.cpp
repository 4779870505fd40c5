// ssebench-link-bench: the emulator's own benchmark (not a test). Starts ssebench-link with a
// delay only, sends UDP datagrams through it at a fixed packet rate from the client namespace to
// the server namespace, and reports (1) the emulator's release lateness against its schedule and
// its CPU per packet, from its control socket, and (2) each datagram's one-way delay beyond the
// configured one, measured end to end on the same steady clock (the kernel's path included).
#include <arpa/inet.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "ssebench/flags.hpp"
#include "ssebench/link/netns.hpp"
#include "ssebench/link/process.hpp"

namespace sl = ssebench::link;
namespace flags = ssebench::flags;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string exe = SSEBENCH_LINK_BIN;  // --exe: the emulator to measure
  unsigned rate = 10'000;               // --rate: datagrams per second
  double seconds = 5;                   // --seconds: how long to send
  double delay_ms = 20;                 // --delay-ms: the emulator's one-way delay
  std::string profile = "none";         // --profile: the link (its delay unless --delay-ms)
  bool delay_given = false;
  bool adaptive_wake = true;  // --no-adaptive-wake: passed on
  unsigned size = 200;        // --size: UDP payload bytes
  int spin_us = 0;            // --spin-us: passed on
  int rt_priority = 10;       // --rt-priority: passed on
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

sl::Fd udp_in(const std::string& ns) {
  sl::EnterNetns inside(ns);
  return sl::Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

double quantile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e3;
}

double field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  return at == std::string::npos ? std::nan("") : std::stod(json.substr(at + key.size() + 3));
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  bool help = false;
  flags::Parser p;
  p.value("exe", [&](std::string_view v) { c.exe = v; });
  p.value("rate",
          [&](std::string_view v) { c.rate = flags::integer<unsigned>("rate", v, 1, 1'000'000); });
  p.value("seconds", [&](std::string_view v) { c.seconds = flags::real("seconds", v, 0.1, 600); });
  p.value("delay-ms", [&](std::string_view v) {
    c.delay_ms = flags::real("delay-ms", v, 0, 10'000);
    c.delay_given = true;
  });
  p.value("profile", [&](std::string_view v) { c.profile = v; });
  p.toggle("no-adaptive-wake", [&] { c.adaptive_wake = false; });
  p.value("size",
          [&](std::string_view v) { c.size = flags::integer<unsigned>("size", v, 16, 1472); });
  p.value("spin-us",
          [&](std::string_view v) { c.spin_us = flags::integer<int>("spin-us", v, 0, 10'000); });
  p.value("rt-priority", [&](std::string_view v) {
    c.rt_priority = flags::integer<int>("rt-priority", v, 0, 99);
  });
  p.toggle("help", [&] { help = true; });
  try {
    p.parse(argc, argv);
  } catch (const flags::Error& e) {
    return flags::fail(argv[0], e);
  }
  if (help) {
    std::cout << fmt::format(
        "Usage: ssebench-link-bench [--rate={}] [--seconds={}] [--delay-ms={}] [--size={}] "
        "[--spin-us={}] [--rt-priority={}] [--profile={}] [--no-adaptive-wake] [--exe=PATH]\n",
        c.rate, c.seconds, c.delay_ms, c.size, c.spin_us, c.rt_priority, c.profile);
    return 0;
  }
  try {
    // With no profile, the delay is the benchmark's; with one, its own unless --delay-ms.
    // No queue limit with no profile (nothing may drop); a profile keeps its own.
    std::vector<std::string> args{"--profile=" + c.profile, "--name=bench",
                                  fmt::format("--spin-us={}", c.spin_us),
                                  fmt::format("--rt-priority={}", c.rt_priority)};
    if (c.profile == "none") args.push_back("--queue-packets=0");
    if (!c.adaptive_wake) args.push_back("--no-adaptive-wake");
    if (c.profile == "none" || c.delay_given)
      args.push_back(fmt::format("--delay-ms={}", c.delay_ms));
    auto emu = sl::Process::start(c.exe, args);
    const sl::Ready& r = emu.ready();
    if (c.profile != "none" && !c.delay_given) c.delay_ms = r.rtt_ms / 2;
    sl::Fd rx = udp_in(r.server_ns), tx = udp_in(r.client_ns);
    const int big = 16 << 20;
    ::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    ::inet_pton(AF_INET, r.server_addr.c_str(), &at.sin_addr);
    if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0)
      throw std::runtime_error("bind");
    socklen_t len = sizeof at;
    ::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&at), &len);
    timeval tv{0, 200'000};
    ::setsockopt(rx.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    const auto total = static_cast<std::uint64_t>(c.rate * c.seconds);
    const std::int64_t delay_ns = std::llround(c.delay_ms * 1e6);
    std::vector<std::int64_t> extra_ns;
    extra_ns.reserve(total);
    std::thread receiver([&] {
      std::vector<char> buf(2048);
      while (extra_ns.size() < total) {
        const ssize_t n = ::recv(rx.get(), buf.data(), buf.size(), 0);
        if (n < static_cast<ssize_t>(sizeof(std::int64_t))) break;  // timeout: the rest is lost
        std::int64_t sent = 0;
        std::memcpy(&sent, buf.data(), sizeof sent);
        extra_ns.push_back(now_ns() - sent - delay_ns);
      }
    });
    sl::control(r.control, "reset");
    std::vector<char> payload(c.size, 'b');
    // The sender paces at SCHED_FIFO below the emulator's priority when it may: a sender
    // descheduled for a while catches up in a burst, and a burst of N packets due at one instant
    // is N writes late at its end, which would measure the sender, not the emulator.
    if (c.rt_priority > 1) {
      sched_param sp{};
      sp.sched_priority = c.rt_priority - 1;
      ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
    }
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < total; ++i) {
      std::this_thread::sleep_until(start + std::chrono::nanoseconds(1'000'000'000LL * i / c.rate));
      const std::int64_t sent = now_ns();
      std::memcpy(payload.data(), &sent, sizeof sent);
      ::sendto(tx.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&at),
               sizeof at);
    }
    const double sent_s = std::chrono::duration<double>(Clock::now() - start).count();
    const std::string stats = sl::control(r.control, "stats");  // the sending window's
    receiver.join();
    const double offered = static_cast<double>(total) / sent_s;
    std::printf(
        "rate %.0f packets/s offered (%llu in %.2f s, %u B payload), delay %.1f ms, spin %d us, "
        "realtime %s\n",
        offered, static_cast<unsigned long long>(total), sent_s, c.size, c.delay_ms, c.spin_us,
        r.realtime ? "on" : "off");
    std::printf(
        "emulator: lateness p50 %.1f us, p99 %.1f us, max %.1f us; CPU %.2f us/packet; "
        "behind %g\n",
        field(stats, "lateness_us_p50"), field(stats, "lateness_us_p99"),
        field(stats, "lateness_us_max"), field(stats, "cpu_us_per_packet"),
        field(stats, "link_behind"));
    std::printf(
        "end to end: %zu of %llu received; one-way delay beyond the configured: p50 %.1f "
        "us, p99 %.1f us, max %.1f us\n",
        extra_ns.size(), static_cast<unsigned long long>(total), quantile(extra_ns, 0.5),
        quantile(extra_ns, 0.99), quantile(extra_ns, 1.0));
    std::printf("delivered by the emulator while sending: %.1f packets/s (%.3f Mbit/s of IP)\n",
                field(stats, "up_delivered") / sent_s,
                field(stats, "up_delivered") * (c.size + 28) * 8 / sent_s / 1e6);
    std::printf("%s\n", stats.c_str());
    return field(stats, "lateness_us_p99") <= 100 ? 0 : 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ssebench-link-bench: %s\n", e.what());
    return 1;
  }
}
