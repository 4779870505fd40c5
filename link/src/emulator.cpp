#include "ssebench/link/emulator.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <system_error>

namespace ssebench::link {

namespace {

using Clock = std::chrono::steady_clock;

Nanos now_ns() {
  return std::chrono::duration_cast<Nanos>(Clock::now().time_since_epoch());
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void fail(std::string_view what) {
  throw std::system_error(errno, std::generic_category(), std::string(what));
}

// epoll tags: the fixed fds by role, control connections by their fd above them.
enum Tag : std::uint64_t { tag_srv, tag_cli, tag_timer, tag_signal, tag_control, tag_conn_base };

void watch(int ep, int fd, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl");
}

std::uint64_t seed_of(std::uint64_t seed, std::uint64_t direction) {
  return seed * 0x9e3779b97f4a7c15ULL + direction;
}

}  // namespace

Link configured_link(const Config& c) {
  Link l = make_link(c.profile);
  for (Direction* d : {&l.down, &l.up}) {
    if (c.delay_ms) d->delay_us = std::llround(*c.delay_ms * 1000);
    if (c.jitter_ms) d->jitter_us = std::llround(*c.jitter_ms * 1000);
    if (c.loss) d->loss = *c.loss;
    if (c.ge) d->ge = *c.ge;
    if (c.rate_mbit) d->rate_bps = *c.rate_mbit * 1e6;
    if (c.queue_packets) d->queue_packets = *c.queue_packets;
    if (c.queue_bytes) d->queue_bytes = *c.queue_bytes;
    d->reorder = d->reorder || c.reorder;
  }
  if (c.down_mbit) l.down.rate_bps = *c.down_mbit * 1e6;
  if (c.up_mbit) l.up.rate_bps = *c.up_mbit * 1e6;
  if (c.delay_ms) l.rtt_ms = *c.delay_ms * 2;
  return l;
}

Emulator::Emulator(Config c, Link link)
    : c_(std::move(c)),
      link_(std::move(link)),
      down_(link_.down, seed_of(c_.seed, 1), now_ns()),
      up_(link_.up, seed_of(c_.seed, 2), now_ns()) {
  const long pid = ::getpid();
  server_ns_ = netns_name(c_.name, pid, "srv");
  client_ns_ = netns_name(c_.name, pid, "cli");
  control_path_ =
      c_.control.empty() ? fmt::format("{}/{}-{}.sock", c_.control_dir, c_.name, pid) : c_.control;
  // Timer slack (50 µs by default) would be added to every wake-up: ask for none.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (c_.rt_priority > 0) {
    sched_param sp{};
    sp.sched_priority = c_.rt_priority;
    realtime_ = ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0;
  }
  remove_stale(c_.control_dir);
  // Names with our own PID can only be left by a killed emulator whose PID this one reuses.
  remove_netns(server_ns_);
  remove_netns(client_ns_);

  srv_ns_.emplace(server_ns_);
  cli_ns_.emplace(client_ns_);
  srv_tun_ = open_tun(server_ns_, "sblink-srv", {c_.server_addr, c_.client_addr, 30, c_.mtu},
                      c_.tun_device);
  cli_tun_ = open_tun(client_ns_, "sblink-cli", {c_.client_addr, c_.server_addr, 30, c_.mtu},
                      c_.tun_device);

  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) fail("epoll_create1");
  timer_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_) fail("timerfd_create");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  signals_ = Fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_) fail("signalfd");

  if (c_.control.empty() && ::mkdir(c_.control_dir.c_str(), 0755) != 0 && errno != EEXIST)
    fail(fmt::format("mkdir {}", c_.control_dir));
  control_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!control_) fail("socket");
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (control_path_.size() >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    fail(fmt::format("control socket {}", control_path_));
  }
  std::memcpy(sun.sun_path, control_path_.c_str(), control_path_.size() + 1);
  ::unlink(control_path_.c_str());
  if (::bind(control_.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0)
    fail(fmt::format("bind {}", control_path_));
  control_file_.path = control_path_;
  if (::listen(control_.get(), 8) != 0) fail(fmt::format("listen {}", control_path_));

  watch(epoll_.get(), srv_tun_.get(), tag_srv);
  watch(epoll_.get(), cli_tun_.get(), tag_cli);
  watch(epoll_.get(), timer_.get(), tag_timer);
  watch(epoll_.get(), signals_.get(), tag_signal);
  watch(epoll_.get(), control_.get(), tag_control);
  figures_.profile = link_.name;
  figures_.behind_us = c_.behind_us;
  reset();
}

Emulator::Unlink::~Unlink() {
  if (!path.empty()) ::unlink(path.c_str());
}

Emulator::~Emulator() {
  for (const auto& [fd, pending] : control_conns_) ::close(fd);
  // The members go in reverse order: the socket file, the fds (the TUN devices vanish with
  // theirs), then the namespaces.
}

std::string Emulator::ready_line() const {
  return fmt::format(
      "ready server_ns={} client_ns={} server_addr={} client_addr={} control={} profile={} "
      "rtt_ms={:g} realtime={}",
      server_ns_, client_ns_, c_.server_addr, c_.client_addr, control_path_, link_.name,
      link_.rtt_ms, realtime_ ? 1 : 0);
}

std::uint32_t Emulator::take_buffer() {
  if (free_.empty()) {
    const auto n = static_cast<std::uint32_t>(arena_.size() / packet_buffer_bytes);
    const std::uint32_t grow = std::max<std::uint32_t>(64, n);  // doubles, amortized
    arena_.resize((n + grow) * packet_buffer_bytes);
    for (std::uint32_t i = n + grow; i > n; --i) free_.push_back(i - 1);
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void Emulator::do_read(int fd, Pipe& pipe, Samples& queue_delay) {
  for (int i = 0; i < read_budget; ++i) {
    const std::uint32_t slot = take_buffer();
    const ssize_t n =
        ::read(fd, arena_.data() + std::size_t{slot} * packet_buffer_bytes, packet_buffer_bytes);
    if (n <= 0) {
      free_.push_back(slot);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fail("read from TUN");
      return;
    }
    Nanos delay{};
    const Verdict v = pipe.offer(Packet{static_cast<std::uint32_t>(n), slot}, now_ns(), &delay);
    if (v == Verdict::queued)
      queue_delay.add_ns(delay.count());
    else
      free_.push_back(slot);
  }
}

void Emulator::do_release() {
  for (;;) {
    const Nanos now = now_ns();
    bool any = false;
    for (auto [pipe, out] : {std::pair{&down_, cli_tun_.get()}, std::pair{&up_, srv_tun_.get()}}) {
      while (const auto due = pipe->pop(now)) {
        any = true;
        figures_.lateness.add_ns((now_ns() - due->release_at).count());
        // A TUN write only fails when the namespace's stack refuses the packet: it is then lost
        // there, as on a real link, and not retried.
        (void)!::write(out, arena_.data() + std::size_t{due->packet.slot} * packet_buffer_bytes,
                       due->packet.size);
        free_.push_back(due->packet.slot);
      }
    }
    if (!any) return;
  }
}

Nanos Emulator::wake_advance() const {
  const std::int64_t learned = c_.adaptive_wake ? wake_late_ns_ : 0;
  return std::max(Nanos(std::chrono::microseconds(c_.spin_us)), Nanos(learned));
}

void Emulator::arm_timer() {
  std::optional<Nanos> next = down_.next_release();
  if (const auto u = up_.next_release(); u && (!next || *u < *next)) next = u;
  itimerspec its{};
  if (next) {
    const Nanos at = *next - wake_advance();
    // it_value 0 would disarm: an instant already past is written as 1 ns.
    const std::int64_t ns = std::max<std::int64_t>(1, at.count());
    // Only a timer set for the future measures a wake-up; one already due fires at once.
    timer_armed_for_ = at > now_ns() ? Nanos(ns) : Nanos{0};
    its.it_value.tv_sec = ns / 1'000'000'000;
    its.it_value.tv_nsec = ns % 1'000'000'000;
  }
  if (!next) timer_armed_for_ = Nanos{0};
  if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    fail("timerfd_settime");
}

void Emulator::run() {
  std::array<epoll_event, 16> events{};
  while (!stop_) {
    // Within the wake advance of the next release: poll instead of sleeping, then release on time.
    int timeout = -1;
    std::optional<Nanos> next = down_.next_release();
    if (const auto u = up_.next_release(); u && (!next || *u < *next)) next = u;
    if (next && *next - now_ns() <= wake_advance()) timeout = 0;
    const int n =
        ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag == tag_srv) {
        do_read(srv_tun_.get(), down_, figures_.down_queue_delay);
      } else if (tag == tag_cli) {
        do_read(cli_tun_.get(), up_, figures_.up_queue_delay);
      } else if (tag == tag_timer) {
        std::uint64_t expirations = 0;
        (void)!::read(timer_.get(), &expirations, sizeof expirations);
        // A wake-up that came late teaches the next ones to come early (an EWMA of lateness).
        if (timer_armed_for_.count() > 0) {
          const std::int64_t late = std::clamp<std::int64_t>((now_ns() - timer_armed_for_).count(),
                                                             0, max_wake_advance_ns);
          wake_late_ns_ += (late - wake_late_ns_) >> wake_ewma_shift;
        }
      } else if (tag == tag_signal) {
        signalfd_siginfo si{};
        (void)!::read(signals_.get(), &si, sizeof si);
        stop_ = true;
      } else if (tag == tag_control) {
        on_control_accept();
      } else {
        on_control_read(static_cast<int>(tag - tag_conn_base));
      }
    }
    do_release();
    arm_timer();
  }
}

std::string Emulator::stats_json() {
  figures_.window_s = static_cast<double>(now_ns().count() - window_start_ns_) / 1e9;
  figures_.cpu_s = cpu_seconds() - cpu_start_s_;
  figures_.down = down_.counts();
  figures_.up = up_.counts();
  return figures_.json();
}

void Emulator::reset() {
  down_.reset_counts();
  up_.reset_counts();
  figures_.down_queue_delay.clear();
  figures_.up_queue_delay.clear();
  figures_.lateness.clear();
  window_start_ns_ = now_ns().count();
  cpu_start_s_ = cpu_seconds();
}

void Emulator::set_link(Link link) {
  for (auto [pipe, out] : {std::pair{&down_, cli_tun_.get()}, std::pair{&up_, srv_tun_.get()}}) {
    while (const auto next = pipe->next_release()) {
      const auto due = pipe->pop(*next);
      (void)!::write(out, arena_.data() + std::size_t{due->packet.slot} * packet_buffer_bytes,
                     due->packet.size);
      free_.push_back(due->packet.slot);
    }
  }
  link_ = std::move(link);
  const Nanos now = now_ns();
  down_ = Pipe(link_.down, seed_of(c_.seed, 1), now);
  up_ = Pipe(link_.up, seed_of(c_.seed, 2), now);
  figures_.profile = link_.name;
  reset();
}

void Emulator::on_control_accept() {
  for (;;) {
    Fd conn(::accept4(control_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!conn) return;
    if (control_conns_.size() >= max_control_connections) continue;  // closed: too many
    watch(epoll_.get(), conn.get(), tag_conn_base + static_cast<std::uint64_t>(conn.get()));
    control_conns_.emplace(conn.release(), std::string());
  }
}

void Emulator::close_control(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  control_conns_.erase(fd);
}

void Emulator::on_control_read(int fd) {
  const auto it = control_conns_.find(fd);
  if (it == control_conns_.end()) return;
  std::array<char, 512> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_control(fd);
  if (n < 0) return;
  std::string& pending = it->second;
  pending.append(buf.data(), static_cast<std::size_t>(n));
  if (pending.size() > 4096) return close_control(fd);  // not a command
  for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
    std::string cmd = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    if (!cmd.empty() && cmd.back() == '\r') cmd.pop_back();
    std::string answer;
    if (cmd == "stats") {
      answer = stats_json();
    } else if (cmd == "reset") {
      answer = stats_json();  // the window it closes
      reset();
    } else if (cmd.starts_with("profile ")) {
      // The command line's overrides still apply over the new profile.
      Config c = c_;
      c.profile = cmd.substr(8);
      try {
        set_link(configured_link(c));
        answer = fmt::format(R"({{"profile":"{}","rtt_ms":{:g}}})", json_escape(link_.name),
                             link_.rtt_ms);
      } catch (const std::exception& e) {
        answer = fmt::format(R"({{"error":"{}"}})", json_escape(e.what()));
      }
    } else {
      answer = R"({"error":"unknown command, want stats, reset or profile NAME"})";
    }
    answer += '\n';
    // One short line into an empty socket buffer: a partial write means the peer is gone.
    if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(answer.size()))
      return close_control(fd);
  }
}

}  // namespace ssebench::link
