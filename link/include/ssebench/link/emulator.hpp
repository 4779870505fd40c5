#pragma once
/**
 * ssebench-link: two network namespaces of its own (server side, client side), each with a TUN
 * device, joined by this process, which reads every packet from each TUN, holds it in the pipe of
 * its direction (pipe.hpp) and writes it to the other TUN when it is due. One thread: epoll over
 * the two TUN fds, an absolute-time timerfd (the next release), a signalfd and the control
 * socket. Releases are scheduled on steady_clock (CLOCK_MONOTONIC), never as relative sleeps.
 */
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ssebench/link/figures.hpp"
#include "ssebench/link/netns.hpp"
#include "ssebench/link/pipe.hpp"
#include "ssebench/link/profile.hpp"

namespace ssebench::link {

/** Settings of one emulator. The link itself comes from the profile, then the overrides. */
struct Config {
  std::string profile = "none";             // --profile: a table name or trace:DOWN,UP[,rtt=MS]
  std::string name = "link";                // --name: namespaces ssebench-NAME-PID-srv|cli
  std::uint64_t seed = 1;                   // --seed: loss and jitter draws (same seed, same drops)
  std::string tun_device = "/dev/net/tun";  // --tun-device: the TUN clone device
  std::string control;                      // --control: socket path; default below
  std::string control_dir = "/run/ssebench-link";  // default sockets: DIR/NAME-PID.sock
  std::string server_addr = "10.213.8.1";          // the server namespace's end of the /30
  std::string client_addr = "10.213.8.2";          // the client namespace's end
  int mtu = 1500;  // both TUN devices (the opportunity size is 1,500 B)
  // Release lateness p99 above this flags a window as behind (link_behind=1): past it, the
  // emulator's own error exceeds the 0.5 ms the ping calibration allows.
  std::int64_t behind_us = 500;
  // Wake at least this long before a release and spin to it: trades CPU for lateness.
  std::int64_t spin_us = 0;
  // Learn the timer's wake-up latency and wake that much early, spinning the rest (an idle CPU
  // here wakes ~120 µs late, a busy one ~20 µs); off: sleep to the release itself.
  bool adaptive_wake = true;
  // SCHED_FIFO priority of the loop (0 = normal scheduling). The emulator is the network, not
  // the system measured: on a busy machine a build or the server must not delay its releases.
  // It sleeps between packets, so it takes no more CPU for it; refused (no CAP_SYS_NICE): kept
  // normal, and the ready line says realtime=0.
  int rt_priority = 10;

  // Overrides of the profile, both directions unless named (unset: the profile's value).
  std::optional<double> delay_ms, jitter_ms, loss, rate_mbit, down_mbit, up_mbit;
  std::optional<GilbertElliott> ge;
  std::optional<std::uint64_t> queue_packets, queue_bytes;
  bool reorder = false;
};

/** The link of a Config: its profile, then its overrides. Throws ProfileError, TraceError. */
Link configured_link(const Config& c);

/** Per-wake budget: packets read from one TUN before releases are looked at again. */
inline constexpr int read_budget = 256;
/** Bytes of one packet buffer (a packet is at most the MTU). */
inline constexpr std::size_t packet_buffer_bytes = 2048;
/** Most the adaptive wake-up may advance a timer (a longer latency is a stall, not a habit). */
inline constexpr std::int64_t max_wake_advance_ns = 300'000;
/** Weight of one wake-up in the latency estimate: 1/8 (an EWMA over ~8 wake-ups). */
inline constexpr int wake_ewma_shift = 3;
/** The estimate before any wake-up is seen: between this VM's busy (~20 µs) and idle (~120 µs)
 *  latencies, so a short exchange (a few pings) is not late while the estimate learns. */
inline constexpr std::int64_t initial_wake_late_ns = 50'000;
/** Control connections served at once; more are closed on accept. */
inline constexpr std::size_t max_control_connections = 16;

class Emulator {
 public:
  /** Sets everything up (namespaces, TUNs, control socket); throws std::exception on failure,
   *  leaving nothing behind. SIGINT and SIGTERM must already be blocked in the caller. */
  Emulator(Config c, Link link);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  /** `ready server_ns=… client_ns=… server_addr=… client_addr=… control=… profile=…`. */
  std::string ready_line() const;
  /** Forwards packets until SIGINT or SIGTERM. */
  void run();
  /** The current window's figures as one JSON line. */
  std::string stats_json();
  /** Starts a new window. */
  void reset();
  /** Shapes with another link from now on (the namespaces stay): packets still held are
   *  released at once, the pipes start afresh, a new window starts. */
  void set_link(Link link);

 private:
  std::uint32_t take_buffer();
  void do_read(int fd, Pipe& pipe, Samples& queue_delay);
  void do_release();
  void arm_timer();
  void on_control_accept();
  void on_control_read(int fd);
  void close_control(int fd);

  /** Unlinks a bound socket's path at destruction, however setup or the run ended. */
  struct Unlink {
    std::string path;
    ~Unlink();
  };

  Config c_;
  Link link_;
  std::string server_ns_, client_ns_, control_path_;
  std::optional<Netns> srv_ns_, cli_ns_;
  Fd srv_tun_, cli_tun_, epoll_, timer_, signals_, control_;
  Unlink control_file_;
  std::unordered_map<int, std::string> control_conns_;  // fd → bytes read, not yet a line
  Pipe down_, up_;
  std::vector<std::uint8_t> arena_;  // packet buffers, packet_buffer_bytes each
  std::vector<std::uint32_t> free_;  // free buffer indices
  Figures figures_;
  std::int64_t window_start_ns_ = 0;
  double cpu_start_s_ = 0;
  bool stop_ = false;
  bool realtime_ = false;
  Nanos timer_armed_for_{};  // when the armed timer should fire (0: disarmed or already due)
  std::int64_t wake_late_ns_ = initial_wake_late_ns;  // EWMA of how late the timer fires
  /** How early to wake before a release: spin_us or the learned latency, the larger. */
  Nanos wake_advance() const;
};

/** The whole program: parses flags, sets up, runs; returns the exit status. */
int run_cli(int argc, char** argv);

}  // namespace ssebench::link
