#pragma once
/**
 * Running ssebench-link from another program (the harness, the tests, the benchmark): start it,
 * wait for its `ready` line, ask its control socket for figures, stop it.
 *
 *   auto link = link::Process::start(exe, {"--profile=3g"});
 *   // server in link.ready().server_ns at server_addr, clients in client_ns ...
 *   link::control(link.ready().control, "reset");   // a case starts
 *   std::string json = link::control(link.ready().control, "stats");  // it ends
 */
#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/link/netns.hpp"

namespace ssebench::link {

/** The fields of the `ready ...` line. */
struct Ready {
  std::string server_ns, client_ns, server_addr, client_addr, control, profile;
  double rtt_ms = 0;
  bool realtime = false;  // its loop got SCHED_FIFO
};

/** Parses a `ready k=v ...` line; throws std::runtime_error when it is not one. */
Ready parse_ready(std::string_view line);

/** One command on the control socket (`stats` or `reset`): its one-line answer, no newline.
 *  Throws std::system_error when the socket does not answer. */
std::string control(const std::string& path, std::string_view command);

/** A running emulator, stopped (SIGTERM, then waited for) at destruction. */
class Process {
 public:
  /** Starts `exe args...` and waits up to `timeout` for its ready line; throws
   *  std::runtime_error with the emulator's stderr when it exits or stays silent instead. */
  static Process start(const std::string& exe, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Process(Process&& o) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();

  const Ready& ready() const { return ready_; }
  pid_t pid() const { return pid_; }
  /** Sends `sig` and waits: the exit status (128 + signal when killed by it). */
  int stop(int sig);

 private:
  Process() = default;
  pid_t pid_ = -1;
  Ready ready_;
  Fd stderr_;  // kept open (unread) so a late error line never meets a closed pipe
};

}  // namespace ssebench::link
