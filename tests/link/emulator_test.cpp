// The real emulator between its two namespaces, calibrated: ping's RTT per profile, a TCP
// transfer's goodput against the rate, the loss rate against its binomial bounds, a generated
// trace's opportunities per second; its lifecycle (SIGTERM, SIGKILL and the next run) and its
// bad-input answers. Needs root: skipped without it.
#include "ssebench/link/emulator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "../temp_dir.hpp"
#include "ssebench/link/netns.hpp"
#include "ssebench/link/process.hpp"

namespace ssebench::link {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string exe = SSEBENCH_LINK_BIN;

// How far ping's minimum RTT may be above the profile's: 0.5 ms (issue 16). Instrumented by ASan
// the emulator alone wakes ~150 µs late each way (its lateness p50 there), the build's cost, not
// the link's: 1 ms then.
#if defined(__SANITIZE_ADDRESS__)
constexpr double rtt_tolerance_ms = 1.0;
#else
constexpr double rtt_tolerance_ms = 0.5;
#endif

#define NEED_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, TUN devices)"

/** A number of a flat JSON object, by key; NaN when absent. */
double field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return std::nan("");
  return std::stod(json.substr(at + key.size() + 3));
}

bool netns_exists(const std::string& name) {
  return std::filesystem::exists(std::string(netns_dir) + "/" + name);
}

/** Every namespace name holding "-PID-". */
std::vector<std::string> netns_of(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(netns_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.find("-" + std::to_string(pid) + "-") != std::string::npos) out.push_back(n);
  }
  return out;
}

/** A socket made inside a namespace (it stays bound to it wherever it is used). */
Fd socket_in(const std::string& ns, int type) {
  EnterNetns inside(ns);
  return Fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
}

sockaddr_in address(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

/** A UDP receiver bound in one namespace (big buffer: no drop of its own) and a sender in the
 *  other, with the receiver's address. */
struct UdpPath {
  Fd rx, tx;
  sockaddr_in to{};
};

UdpPath udp_path(const std::string& rx_ns, const std::string& rx_addr, const std::string& tx_ns) {
  UdpPath u{socket_in(rx_ns, SOCK_DGRAM), socket_in(tx_ns, SOCK_DGRAM)};
  const int big = 8 << 20;
  ::setsockopt(u.rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  auto at = address(rx_addr, 0);
  EXPECT_EQ(::bind(u.rx.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  u.to = address(rx_addr, bound_port(u.rx.get()));
  return u;
}

void set_timeout(int fd, std::chrono::milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000),
             static_cast<suseconds_t>(t.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/** Runs a shell command; its stdout. */
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

/** Runs the emulator to its exit (as `uid` when not 0): {status, stderr}. */
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args, uid_t uid = 0,
                                        pid_t* child = nullptr, const std::string& program = exe) {
  int err[2];
  if (::pipe(err) != 0) return {-1, "pipe"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err[1], 2);
    ::close(err[0]);
    if (uid != 0 && ::setuid(uid) != 0) ::_exit(126);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(err[1]);
  std::string text;
  char buf[1024];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (child) *child = pid;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// --- Calibration -------------------------------------------------------------------------------

/** ping's summary: {min, avg} in ms (its per-reply lines drop to whole ms from 100 ms on; the
 *  summary keeps µs). */
std::pair<double, double> ping_ms(const Ready& r, int count) {
  const std::string out = shell("ip netns exec " + r.client_ns + " ping -n -q -c " +
                                std::to_string(count) + " -i 0.05 -W 5 " + r.server_addr);
  static const std::regex summary_re("= ([0-9.]+)/([0-9.]+)/");
  std::smatch m;
  if (!std::regex_search(out, m, summary_re)) return {std::nan(""), std::nan("")};
  return {std::stod(m[1]), std::stod(m[2])};
}

TEST(Emulator, PingThroughEveryProfileGivesItsRtt) {
  NEED_ROOT();
  ASSERT_FALSE(shell("command -v ping").empty()) << "install iputils-ping";
  for (const ProfileRow& row : profile_table()) {
    // An ICMP echo of 84 IP bytes serializes once each way at the profile's rates.
    const auto serialize_ms = [](double mbit) { return mbit == 0 ? 0 : 84 * 8 / (mbit * 1e3); };
    const double want = row.rtt_ms + serialize_ms(row.down_mbit) + serialize_ms(row.up_mbit);
    // The statistic is ping's minimum over 11 echoes, the link's base RTT (as TCP's min_rtt):
    // the configured delay plus what two network stacks and the emulator's read add. Above it,
    // this 2-core VM's other work and its wake-ups from idle (60-120 µs each) spread the
    // average by up to a few tenths of a ms, which says nothing of the profile.
    auto link = Process::start(exe, {"--profile=" + std::string(row.name), "--name=ping"});
    const auto [min, avg] = ping_ms(link.ready(), 11);
    const std::string stats = control(link.ready().control, "stats");
    std::printf("%-17s RTT %7.3f ms: ping min %7.3f avg %7.3f ms, lateness p50 %.1f max %.1f us\n",
                std::string(row.name).c_str(), want, min, avg, field(stats, "lateness_us_p50"),
                field(stats, "lateness_us_max"));
    EXPECT_GE(min, want) << row.name << ": faster than the profile";
    EXPECT_LE(min, want + rtt_tolerance_ms) << row.name;
    EXPECT_LE(avg, want + 4 * rtt_tolerance_ms) << row.name << ": far above the profile";
  }
}

TEST(Emulator, TcpGoodputIsTheConfiguredRate) {
  NEED_ROOT();
  constexpr double rate_mbit = 8;
  auto link =
      Process::start(exe, {"--profile=none", "--rate-mbit=8", "--delay-ms=10", "--name=tcp"});
  const Ready& r = link.ready();
  Fd listener = socket_in(r.server_ns, SOCK_STREAM);
  auto any = address(r.server_addr, 0);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  const std::uint16_t port = bound_port(listener.get());
  Fd client = socket_in(r.client_ns, SOCK_STREAM);
  auto to = address(r.server_addr, port);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  Fd conn(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(conn);
  // The server sends (down, as a stream would) for 3.5 s; goodput counted from 1 s to 3.5 s.
  std::thread sender([&] {
    std::vector<char> chunk(64 * 1024, 'x');
    const auto end = Clock::now() + 3500ms;
    while (Clock::now() < end)
      if (::send(conn.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    ::shutdown(conn.get(), SHUT_WR);
  });
  std::vector<char> buf(256 * 1024);
  set_timeout(client.get(), 2000ms);
  const auto start = Clock::now();
  std::uint64_t window_bytes = 0;
  Clock::time_point first{}, last{};
  for (;;) {
    const ssize_t n = ::recv(client.get(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    const auto now = Clock::now();
    if (now - start >= 1000ms && now - start <= 3500ms) {
      if (first == Clock::time_point{})
        first = now;
      else
        window_bytes += static_cast<std::uint64_t>(n);
      last = now;
    }
    if (now - start > 3500ms) break;
  }
  ::close(client.release());  // unblocks the sender
  sender.join();
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double goodput_mbit = window_bytes * 8 / seconds / 1e6;
  std::printf("goodput %.3f Mbit/s over %.2f s at a %.0f Mbit/s link (%.1f %%)\n", goodput_mbit,
              seconds, rate_mbit, 100 * goodput_mbit / rate_mbit);
  EXPECT_NEAR(goodput_mbit, rate_mbit, 0.05 * rate_mbit);
  EXPECT_LE(goodput_mbit, rate_mbit * 1.005) << "faster than the link";
}

TEST(Emulator, MeasuredLossIsInsideTheBinomialBounds) {
  NEED_ROOT();
  constexpr double p = 0.05;
  constexpr int n = 5000;
  auto link = Process::start(exe, {"--profile=none", "--loss=0.05", "--seed=11", "--name=loss"});
  const Ready& r = link.ready();
  auto [rx, tx, to] = udp_path(r.server_ns, r.server_addr, r.client_ns);
  control(r.control, "reset");
  // Paced at 10,000 packets/s so no queue but the emulator's own sees a burst.
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(100 * i));
    ::sendto(tx.get(), &i, sizeof i, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  set_timeout(rx.get(), 300ms);
  int received = 0, v = 0;
  while (::recv(rx.get(), &v, sizeof v, 0) > 0) ++received;
  const std::string stats = control(r.control, "stats");
  const double sd = std::sqrt(n * p * (1 - p));
  const int lost = n - received;
  std::printf("lost %d of %d (%.2f %%, configured %.0f %%): %s\n", lost, n, 100.0 * lost / n,
              p * 100, stats.c_str());
  EXPECT_GE(lost, n * p - 3.29 * sd);
  EXPECT_LE(lost, n * p + 3.29 * sd);
  EXPECT_EQ(field(stats, "up_packets"), n) << "only the test's packets cross the link";
  EXPECT_EQ(field(stats, "up_drops_loss"), lost) << "every loss is the emulator's";
}

TEST(Emulator, GeneratedTraceDeliversItsOpportunitiesPerSecond) {
  NEED_ROOT();
  test::TempDir dir;
  // 3 opportunities every 4 ms: 750 per second (9 Mbit/s of 1,500-byte packets).
  std::string text;
  for (int t = 4; t <= 100; t += 4) text += fmt::format("{0}\n{0}\n{0}\n", t);
  const auto down = dir.write("gen.down", text);
  const auto up = dir.write("gen.up", "1\n");
  auto link =
      Process::start(exe, {"--profile=trace:" + down.string() + "," + up.string() + ",rtt=20",
                           "--name=trace", "--queue-packets=100"});
  const Ready& r = link.ready();
  auto [rx, tx, to] = udp_path(r.client_ns, r.client_addr, r.server_ns);
  // Offered: `per_s` IP packets of `ip_bytes` for 2.5 s; counted at the receiver from 0.5 s on.
  const auto delivered_per_s = [&](int ip_bytes, int per_s) {
    std::vector<char> payload(static_cast<std::size_t>(ip_bytes - 28), 'p');
    std::thread sender([&] {
      const auto start = Clock::now();
      for (int i = 0; Clock::now() - start < 2500ms; ++i) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(1'000'000LL * i / per_s));
        ::sendto(tx.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to);
      }
    });
    std::vector<char> buf(2048);
    set_timeout(rx.get(), 100ms);
    const auto start = Clock::now();
    int counted = 0;
    while (Clock::now() - start < 2500ms)
      if (::recv(rx.get(), buf.data(), buf.size(), 0) > 0 && Clock::now() - start >= 500ms)
        ++counted;
    sender.join();
    while (::recv(rx.get(), buf.data(), buf.size(), 0) > 0) {  // drain what is queued
    }
    return counted / 2.0;
  };
  // Full packets: one per opportunity. 500-byte packets: three share each one.
  const double full = delivered_per_s(1500, 1000);
  control(r.control, "reset");
  std::this_thread::sleep_for(300ms);  // the first run's queue drains (100 packets at 750/s)
  const double small = delivered_per_s(500, 3000);
  std::printf("trace of 750 opportunities/s: %.1f packets/s of 1,500 B, %.1f of 500 B\n", full,
              small);
  EXPECT_NEAR(full, 750, 750 * 0.02);
  EXPECT_NEAR(small, 2250, 2250 * 0.02);
}

// --- Lifecycle ---------------------------------------------------------------------------------

TEST(Emulator, StatsAndResetOnTheControlSocket) {
  NEED_ROOT();
  auto link = Process::start(exe, {"--profile=lan", "--name=ctl"});
  const Ready& r = link.ready();
  EXPECT_EQ(r.server_addr, "10.213.8.1");
  EXPECT_EQ(r.client_addr, "10.213.8.2");
  EXPECT_EQ(r.profile, "lan");
  EXPECT_DOUBLE_EQ(r.rtt_ms, 1);
  shell("ip netns exec " + r.client_ns + " ping -n -c 3 -i 0.01 -q " + r.server_addr);
  const std::string before = control(r.control, "reset");
  EXPECT_EQ(field(before, "up_packets"), 3) << before;
  EXPECT_EQ(field(before, "down_packets"), 3) << before;
  EXPECT_EQ(field(before, "down_bytes"), 3 * 84) << before;
  EXPECT_EQ(field(control(r.control, "stats"), "up_packets"), 0);
  EXPECT_EQ(control(r.control, "bogus"),
            R"({"error":"unknown command, want stats, reset or profile NAME"})");
}

TEST(Emulator, ProfileCommandSwitchesTheLinkInPlace) {
  NEED_ROOT();
  auto link = Process::start(exe, {"--profile=none", "--name=switch"});
  const Ready& r = link.ready();
  EXPECT_EQ(control(r.control, "profile cable"), R"({"profile":"cable","rtt_ms":28})");
  const auto [min, avg] = ping_ms(r, 5);
  const double want = 28 + 84 * 8 / 5e3 + 84 * 8 / 1e3;
  EXPECT_GE(min, want);
  EXPECT_LE(min, want + rtt_tolerance_ms);
  EXPECT_LE(avg, want + 4 * rtt_tolerance_ms);
  const std::string stats = control(r.control, "stats");
  EXPECT_NE(stats.find(R"("profile":"cable")"), std::string::npos) << stats;
  EXPECT_EQ(field(stats, "up_packets"), 5);
  EXPECT_EQ(control(r.control, "profile 9g").rfind(R"({"error":"unknown profile '9g')", 0), 0u);
  EXPECT_NE(control(r.control, "stats").find(R"("profile":"cable")"), std::string::npos)
      << "a refused profile changes nothing";
}

TEST(Emulator, SigtermRemovesEverything) {
  NEED_ROOT();
  auto link = Process::start(exe, {"--profile=none", "--name=term"});
  const Ready r = link.ready();
  ASSERT_TRUE(netns_exists(r.server_ns));
  ASSERT_TRUE(netns_exists(r.client_ns));
  ASSERT_TRUE(std::filesystem::exists(r.control));
  // Nothing routes to the host: the client namespace has only its link and loopback.
  const std::string routes = shell("ip -n " + r.client_ns + " -4 route show");
  EXPECT_EQ(routes.find("default"), std::string::npos) << routes;
  EXPECT_EQ(link.stop(SIGINT), 0);
  EXPECT_FALSE(netns_exists(r.server_ns));
  EXPECT_FALSE(netns_exists(r.client_ns));
  EXPECT_FALSE(std::filesystem::exists(r.control));
}

TEST(Emulator, SigkillLeavesNamespacesThatTheNextRunRemoves) {
  NEED_ROOT();
  auto killed = Process::start(exe, {"--profile=none", "--name=kill"});
  const Ready gone = killed.ready();
  EXPECT_EQ(killed.stop(SIGKILL), 128 + SIGKILL);
  EXPECT_TRUE(netns_exists(gone.server_ns)) << "SIGKILL cannot clean up";
  EXPECT_TRUE(netns_exists(gone.client_ns));
  auto next = Process::start(exe, {"--profile=none", "--name=next"});
  EXPECT_FALSE(netns_exists(gone.server_ns));
  EXPECT_FALSE(netns_exists(gone.client_ns));
  EXPECT_FALSE(std::filesystem::exists(gone.control));
  EXPECT_TRUE(netns_exists(next.ready().server_ns));
}

// --- Bad input ---------------------------------------------------------------------------------

TEST(Emulator, UnknownProfileIsOneLineAndExit2) {
  const auto [status, err] = run_to_exit({"--profile=5g"});
  EXPECT_EQ(status, 2);
  EXPECT_EQ(err.rfind("ssebench-link: unknown profile '5g': one of none,", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(Emulator, MalformedTracesNameFileAndLine) {
  test::TempDir dir;
  const auto good = dir.write("good", "1\n");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"1\n2\nfast\n", ":3: 'fast' is not a whole number of milliseconds\n"},
      {"5\n3\n", ":2: timestamp goes backwards (3 after 5)\n"},
      {"", ": empty trace (no timestamps)\n"}};
  for (const auto& [text, want] : cases) {
    const auto bad = dir.write("bad", text);
    pid_t pid = 0;
    const auto [status, err] =
        run_to_exit({"--profile=trace:" + good.string() + "," + bad.string()}, 0, &pid);
    EXPECT_EQ(status, 2);
    EXPECT_EQ(err, "ssebench-link: " + bad.string() + want);
    EXPECT_TRUE(netns_of(pid).empty());
  }
}

TEST(Emulator, MissingTunDeviceIsExit1AndLeavesNothing) {
  NEED_ROOT();
  pid_t pid = 0;
  const auto [status, err] = run_to_exit({"--tun-device=/nonexistent/tun"}, 0, &pid);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err,
            "ssebench-link: /nonexistent/tun: no TUN device (modprobe tun, or a container "
            "without /dev/net/tun)\n");
  EXPECT_TRUE(netns_of(pid).empty());
}

TEST(Emulator, NonRootIsExit1) {
  NEED_ROOT();  // to become someone else
  // The build may sit below a folder only root can enter (a checkout in `mktemp -d`, mode
  // 0700): the other user runs a copy from a folder everyone can read.
  namespace fs = std::filesystem;
  test::TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const fs::path copy = dir.path() / "ssebench-link";
  fs::copy_file(exe, copy);
  pid_t pid = 0;
  const auto [status, err] = run_to_exit({"--profile=3g"}, 65534, &pid, copy.string());
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err,
            "ssebench-link: needs root (network namespaces and TUN devices): run it with sudo\n");
  EXPECT_TRUE(netns_of(pid).empty());
}

TEST(Emulator, BadFlagIsExit2) {
  const auto [status, err] = run_to_exit({"--loss=1.5"});
  EXPECT_EQ(status, 2);
  EXPECT_EQ(err, "ssebench-link: bad value '1.5' for --loss: a number from 0 to 1 (see --help)\n");
}

}  // namespace
}  // namespace ssebench::link
