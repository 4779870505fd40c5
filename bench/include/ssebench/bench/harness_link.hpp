#pragma once
/**
 * The link axis of the harness (issue 16): `--link=LIST` runs every case on every link. With
 * any link but `none` the harness starts one ssebench-link emulator for the run (link/README.md),
 * the server in its server namespace, the clients in its client namespace; links are the
 * outermost loop, switched with `profile NAME` on the control socket; each case's window of the
 * emulator's figures (`reset` before its measured rounds, `stats` after) becomes its `link_*`
 * counters.
 */
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ssebench/link/process.hpp"

namespace ssebench::bench {

/** The emulator: the installed one beside this binary, else the one this build made; empty:
 *  none built. */
std::string built_link_binary();

/**
 * The --link list: comma-separated, a `trace:DOWN,UP[,rtt=MS]` keeping its own commas; each name
 * checked with the link library's parser (a trace's files loaded). Throws flags::Error, one
 * line: an unknown name with the closest valid one, a bad trace with its file and line, a repeat.
 */
std::vector<std::string> parse_links(std::string_view text);

/** Whether a run over `links` needs the emulator: any link but `none`. */
bool needs_emulator(const std::vector<std::string>& links);

/**
 * `{"NAME": {rtt_ms, down_mbit, up_mbit, loss, queue_packets, source}, ...}` from the link
 * library's profile table, one object per link; a trace's rates are null and it carries
 * `down_trace` and `up_trace`: {path, sha256, lines}. JSON text, for the run's context.
 */
std::string link_profiles_json(const std::vector<std::string>& links);

/**
 * What a link adds to a stream's deadline (loopback's slack is 10 s): a round's answers at the
 * link's down rate, twice over (a warm-up round at speed 0 sends every stream's whole answer at
 * once; polled shapes resend), 40 round trips of handshakes and requests, and 30 s more when
 * the link loses packets or follows a trace (TCP's retransmission timeout doubles from 200 ms
 * with each loss of the same segment; a cellular trace stops delivering for seconds).
 */
std::chrono::milliseconds link_deadline_slack(const std::string& name, std::size_t round_bytes);

/**
 * The running emulator of a run. Its own process group (a Ctrl-C at the terminal reaches the
 * harness, which ends the case and then stops the emulator) and PR_SET_PDEATHSIG (never
 * outlives the harness). A watcher thread reaps it: once it has exited, `abort_flag()` is set
 * (the streams in flight end as interrupted ones) and `lost()` says how it ended. The flag is
 * also set by a stop signal (stop_requested), so it can stand for ClientConfig::stop.
 */
class LinkEmulator {
 public:
  /** How long the emulator may take to print its ready line. */
  static constexpr std::chrono::seconds start_timeout{10};
  /** How long it may take to exit after SIGTERM before SIGKILL. */
  static constexpr std::chrono::seconds stop_timeout{5};

  /** Starts `exe --name=bench --profile=PROFILE` and reads its ready line; throws
   *  std::runtime_error with the emulator's one line when it does not get ready. */
  LinkEmulator(const std::string& exe, const std::string& profile);
  /** SIGTERM, waited for (SIGKILL after stop_timeout); namespaces it left are removed. */
  ~LinkEmulator();
  LinkEmulator(const LinkEmulator&) = delete;
  LinkEmulator& operator=(const LinkEmulator&) = delete;

  const link::Ready& ready() const { return ready_; }
  const std::string& command() const { return command_; }
  pid_t pid() const { return pid_; }
  /** The profile shaping the link now. */
  const std::string& profile() const { return profile_; }

  /** `profile NAME`; throws std::runtime_error when the emulator refuses it or is gone. */
  void switch_to(const std::string& name);
  /** `reset`: a new window starts. Throws when the emulator is gone. */
  void reset();
  /** `stats`: the window's figures as `link_*` counters (link_down_packets, ...,
   *  link_behind). Throws when the emulator is gone. */
  std::vector<std::pair<std::string, double>> stats();

  /** Set once the emulator exited or a stop signal came: ClientConfig::stop of linked cases. */
  const std::atomic<bool>* abort_flag() const { return &abort_; }
  /** How the emulator ended ("killed by SIGKILL", "exited with status 1"); nullopt while it
   *  runs. */
  std::optional<std::string> lost() const;

 private:
  void watch(std::stop_token stop);

  pid_t pid_ = -1;
  link::Ready ready_;
  std::string command_;
  std::string profile_;
  int stderr_fd_ = -1;
  std::atomic<bool> abort_{false};
  std::atomic<int> exit_status_{-1};  // waitpid's status once reaped
  std::jthread watcher_;
};

/**
 * The run's context lines of the link axis: `links` (the list), and with an emulator
 * `link_emulator` ({path, command, realtime, server_ns, client_ns, server_addr, client_addr})
 * and `link_profiles` (link_profiles_json), each JSON text (Google Benchmark's context holds
 * strings).
 */
void add_link_context(const std::vector<std::string>& links, const LinkEmulator* emulator);

/** The counters of a `stats` answer (one JSON line): every numeric field but window_s, named
 *  link_FIELD (link_behind keeps its name). Throws std::runtime_error on an error answer. */
std::vector<std::pair<std::string, double>> link_counters(std::string_view stats_json);

}  // namespace ssebench::bench
