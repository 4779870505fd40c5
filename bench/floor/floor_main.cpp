// ssebench-floor: the physical floor of an SSE replay server. epoll and one timerfd, no HTTP
// library: accept, read until the request's "\r\n\r\n", write one canned chunked header, then a
// recording's event bytes, each as one chunk at its recorded offset (÷ speed), then the last
// chunk; the connection stays open for the next request. What any server must at least spend to
// write those bytes at that pace. GET /mock/stats answers the mock server's own stats fields
// (lateness, CPU, RSS, events written, connections), POST /mock/stats/reset zeroes them, so the
// same client measures both servers the same way. Prints "listening on URL", runs until SIGTERM.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ssebench/flags.hpp"
#include "ssebench/recording.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string recording;            // the .jsonl file whose events are served
  double speed = 1.0;               // offsets are divided by this
  int port = 0;                     // 0: any free port
  int backlog = 4096;               // listen() queue
  std::size_t max_request = 65536;  // a request head larger than this closes the connection
  std::size_t read_chunk = 16384;   // bytes read per read()
};

// Lateness in 1 µs buckets up to 1 s; later events count in the last bucket, max kept exactly.
class Histogram {
 public:
  void add(std::int64_t ns) {
    const auto us = static_cast<std::size_t>(std::max<std::int64_t>(0, ns / 1000));
    ++buckets_[std::min(us, buckets_.size() - 1)];
    ++count_;
    max_ns_ = std::max(max_ns_, ns);
  }
  double quantile_us(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i)
      if ((seen += buckets_[i]) > rank) return static_cast<double>(i) + 0.5;
    return static_cast<double>(buckets_.size());
  }
  std::uint64_t count() const { return count_; }
  double max_us() const { return static_cast<double>(max_ns_) / 1000; }
  void reset() { *this = Histogram(); }

 private:
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(1'000'000);
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
};

struct Connection {
  int fd = -1;
  std::string in;           // request bytes not yet answered
  std::string out;          // bytes the socket did not take yet
  bool streaming = false;   // between the header and the last chunk
  std::size_t next = 0;     // the next event to write
  Clock::time_point start;  // when the request head was complete
};

struct Due {
  Clock::time_point at;
  int fd;
  std::uint64_t generation;  // a connection reused for another stream drops stale entries
  bool operator>(const Due& o) const { return at > o.at; }
};

class Floor {
 public:
  Floor(Config c, std::shared_ptr<const ssebench::Recording> rec) : config_(std::move(c)) {
    for (const auto& e : rec->events) {
      chunks_.push_back(fmt::format("{:x}\r\n{}\r\n", e.bytes.size(), e.bytes));
      offsets_.push_back(
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::micro>(
              static_cast<double>(e.offset.count()) / config_.speed)));
    }
  }

  int run() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(config_.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, config_.backlog) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return fail("listen");
    epoll_fd_ = epoll_create1(0);
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK);
    for (int fd : {listen_fd_, timer_fd_, signal_fd_}) watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    fmt::print("listening on http://127.0.0.1:{}\n", ntohs(addr.sin_port));
    std::fflush(stdout);

    std::array<epoll_event, 256> events{};
    while (!stop_) {
      const int n = epoll_wait(epoll_fd_, events.data(), events.size(), -1);
      if (n < 0 && errno != EINTR) return fail("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
        if (fd == listen_fd_)
          on_accept();
        else if (fd == timer_fd_)
          on_timer();
        else if (fd == signal_fd_)
          stop_ = true;
        else if (ev & (EPOLLERR | EPOLLHUP))
          close_connection(fd);
        else {
          if (ev & EPOLLOUT) flush(fd);
          if (ev & EPOLLIN) on_read(fd);
        }
      }
    }
    return 0;
  }

 private:
  static int fail(const char* what) {
    fmt::print(stderr, "ssebench-floor: {}: {}\n", what, std::strerror(errno));
    return 1;
  }

  void watch(int fd, std::uint32_t events, int op) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    epoll_ctl(epoll_fd_, op, fd, &e);
  }

  void on_accept() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0) return;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      connections_[fd].fd = fd;
      watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
  }

  void on_read(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    char buf[16384];
    for (;;) {
      const ssize_t got = read(fd, buf, std::min(sizeof buf, config_.read_chunk));
      if (got > 0) {
        c.in.append(buf, static_cast<std::size_t>(got));
        continue;
      }
      if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return close_connection(fd);
      break;
    }
    if (c.in.size() > config_.max_request) return close_connection(fd);
    answer(c);
  }

  // One request at a time: a head is answered when the previous stream has ended.
  void answer(Connection& c) {
    if (c.streaming) return;
    const std::size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    const std::string_view head = std::string_view(c.in).substr(0, end);
    // Any body (the POST's JSON) is skipped by its Content-Length, the one header read.
    std::size_t body = 0;
    if (const auto cl = head.find("ontent-Length: "); cl != std::string_view::npos)
      body = std::strtoul(head.data() + cl + 15, nullptr, 10);
    if (c.in.size() < end + 4 + body) return;
    const bool stats = head.starts_with("GET /mock/stats");
    const bool reset = head.starts_with("POST /mock/stats/reset");
    c.in.erase(0, end + 4 + body);
    if (stats || reset) {
      if (reset) reset_stats();
      const std::string json = reset ? "{}" : stats_json();
      if (send(c, fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: {}\r\n\r\n{}",
                              json.size(), json)))
        answer(c);
      return;
    }
    c.streaming = true;
    c.next = 0;
    c.start = Clock::now();
    ++streams_active_;
    if (send(c,
             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"))
      schedule(c);
  }

  void schedule(Connection& c) {
    if (c.next == chunks_.size()) {
      c.streaming = false;
      --streams_active_;
      if (send(c, "0\r\n\r\n")) answer(c);
      return;
    }
    const Due d{c.start + offsets_[c.next], c.fd, ++generation_[c.fd]};
    const bool earliest = due_.empty() || d.at < due_.top().at;
    due_.push(d);
    if (earliest) arm();
  }

  void arm() {
    itimerspec spec{};
    if (!due_.empty()) {
      const auto ns = std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::nanoseconds>(due_.top().at.time_since_epoch())
                 .count());
      spec.it_value.tv_sec = ns / 1'000'000'000;
      spec.it_value.tv_nsec = ns % 1'000'000'000;
    }
    timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void on_timer() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t r = read(timer_fd_, &expirations, sizeof expirations);
    const auto now = Clock::now();
    while (!due_.empty() && due_.top().at <= now) {
      const Due d = due_.top();
      due_.pop();
      auto it = connections_.find(d.fd);
      if (it == connections_.end() || generation_[d.fd] != d.generation) continue;
      Connection& c = it->second;
      lateness_.add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - d.at).count());
      ++events_written_;
      if (send(c, chunks_[c.next++])) schedule(c);
    }
    arm();
  }

  // False when the connection was closed (and `c` is gone).
  bool send(Connection& c, std::string_view bytes) {
    if (c.out.empty()) {
      const ssize_t n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        close_connection(c.fd);
        return false;
      }
      bytes.remove_prefix(n > 0 ? static_cast<std::size_t>(n) : 0);
      if (bytes.empty()) return true;
      watch(c.fd, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
    }
    c.out.append(bytes);
    return true;
  }

  void flush(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return close_connection(fd);
    c.out.erase(0, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (c.out.empty()) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
  }

  void close_connection(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    if (it->second.streaming) --streams_active_;
    ++generation_[fd];  // its pending timer entries are stale now
    connections_.erase(it);
    close(fd);
  }

  void reset_stats() {
    lateness_.reset();
    events_written_ = 0;
  }

  static std::uint64_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  }

  std::string stats_json() const {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto us = [](const timeval& t) { return t.tv_sec * 1'000'000LL + t.tv_usec; };
    std::size_t fds = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
      ++fds;
    return fmt::format(
        R"({{"cpu":{{"user_us":{},"sys_us":{}}},"rss_bytes":{},"fds_open":{},)"
        R"("connections_open":{},"streams_active":{},"requests_held":0,"jobs_active":0,)"
        R"("jobs_held":0,"events_written":{},)"
        R"("lateness_us":{{"count":{},"p50":{:.1f},"p90":{:.1f},"p99":{:.1f},"max":{:.1f}}}}})",
        us(ru.ru_utime), us(ru.ru_stime), rss_bytes(), fds, connections_.size(), streams_active_,
        events_written_, lateness_.count(), lateness_.quantile_us(0.5), lateness_.quantile_us(0.9),
        lateness_.quantile_us(0.99), lateness_.max_us());
  }

  Config config_;
  std::vector<std::string> chunks_;       // each event as one chunk, framed once
  std::vector<Clock::duration> offsets_;  // each event's due time from the request
  std::unordered_map<int, Connection> connections_;
  std::unordered_map<int, std::uint64_t> generation_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  Histogram lateness_;
  std::uint64_t events_written_ = 0;
  std::int64_t streams_active_ = 0;
  int listen_fd_ = -1, epoll_fd_ = -1, timer_fd_ = -1, signal_fd_ = -1;
  bool stop_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  namespace flags = ssebench::flags;
  Config c;
  bool help = false;
  flags::Parser p;
  p.toggle("help", [&] { help = true; });
  p.value("recording", [&](std::string_view v) { c.recording = v; });
  p.value("speed", [&](std::string_view v) {
    double speed = 0;
    try {
      speed = flags::real("speed", v);
    } catch (const flags::Error&) {
    }
    if (!(speed > 0)) throw flags::bad_value("speed", v, "a number above 0");
    c.speed = speed;
  });
  p.value("port", [&](std::string_view v) {  // unsigned: the message names the range then
    c.port = static_cast<int>(flags::integer<unsigned>("port", v, 0, 65535));
  });
  try {
    p.parse(argc, argv);
    if (!help && c.recording.empty()) throw flags::Error("--recording=FILE is needed");
  } catch (const flags::Error& e) {
    return flags::fail(argv[0], e);
  }
  if (help) {
    fmt::print(
        "usage: ssebench-floor --recording=FILE [--speed=S (default {})] [--port=P (default "
        "{}, any)]\n",
        Config{}.speed, Config{}.port);
    return 0;
  }
  const ssebench::LoadResult loaded = ssebench::load_recording(c.recording);
  if (!loaded) {
    fmt::print(stderr, "ssebench-floor: {}\n", loaded.error);
    return 2;
  }
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  return Floor(c, loaded.recording).run();
}
