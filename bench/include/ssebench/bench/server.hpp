#pragma once
/**
 * The mock server as the harness and the integration tests see it: a child process started on
 * port 0, and its /mock/stats figures.
 */
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ssebench::bench {

/** `ssebench-mock-server` as a child process; stopped (SIGTERM, then SIGKILL) when destroyed. */
class ServerProcess {
 public:
  /** How long the server may take to print its "listening on" line. */
  static constexpr std::chrono::seconds start_timeout{20};
  /** How long it may take to exit after SIGTERM before SIGKILL. */
  static constexpr std::chrono::seconds stop_timeout{5};

  /**
   * Runs `binary args… --port 0` and reads the first stdout line, `listening on URL`; with a
   * `netns`, inside that named network namespace (/run/netns/NAME, entered in the child before
   * exec). With a `--tls-port` among `args`, the second line, `listening on https://…`, too.
   * Throws std::runtime_error with the reason if it does not come.
   */
  ServerProcess(const std::string& binary, std::vector<std::string> args,
                const std::string& netns = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }
  /** "https://ADDR:PORT" of its TLS port; empty when it was started without one. */
  const std::string& tls_url() const { return tls_url_; }
  pid_t pid() const { return pid_; }
  /** The command line, for the run's context. */
  const std::string& command() const { return command_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string url_;
  std::string tls_url_;
  std::string command_;
};

struct EndpointStats {
  std::uint64_t requests = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t header_bytes_in = 0, header_bytes_out = 0;  // of those, headers
};

/** GET /mock/stats, the fields the harness reads. */
struct ServerStats {
  double cpu_user_us = 0;
  double cpu_sys_us = 0;
  double lateness_us_p50 = 0, lateness_us_p99 = 0, lateness_us_max = 0;
  std::uint64_t lateness_count = 0;
  std::map<std::string, EndpointStats> endpoints;  // "chat_completions", "responses", …
  // Gauges: what the server holds now.
  std::int64_t rss_bytes = 0, fds_open = 0, connections_open = 0, streams_active = 0;
  std::int64_t requests_held = 0, jobs_active = 0, jobs_held = 0;
  std::map<std::string, std::uint64_t> timeouts;  // connections closed per limit: "idle", …
  /** HTTP/2 bytes of no request (preface, SETTINGS, PING, GOAWAY, connection WINDOW_UPDATEs). */
  std::uint64_t h2_connection_bytes_in = 0, h2_connection_bytes_out = 0;
  /** TLS records as they crossed its TLS port's sockets (ciphertext, handshakes). */
  std::uint64_t tls_wire_bytes_in = 0, tls_wire_bytes_out = 0;
  std::uint64_t connections_accepted = 0;  // counter since start (or the last reset)

  double cpu_us() const { return cpu_user_us + cpu_sys_us; }
};

/** GET base_url/mock/stats (with `count_fds`, ?fds=true: fds_open, a costly listing on the
 *  server's loop); nullopt with `error` set on failure. */
std::optional<ServerStats> fetch_stats(const std::string& base_url, std::string* error = nullptr,
                                       bool count_fds = false);
/** POST base_url/mock/stats/reset; false on failure. */
bool reset_stats(const std::string& base_url);

/** The wall clock (CLOCK_REALTIME) in unix seconds. */
double unix_now();

/** The server's clock against ours (unix seconds): offset = server − local. */
struct ClockOffset {
  double offset_s = 0;
  double uncertainty_s = 0;  // half the round trip of the probe it came from
};

/**
 * `probes` GET base_url/mock/time over one connection, each timed by our wall clock; of the
 * one with the smallest round trip, offset = server − (send + receive) / 2 and uncertainty =
 * half its round trip (NTP's estimate). nullopt, with `error`, when the server does not answer
 * (or has no /mock/time).
 */
std::optional<ClockOffset> measure_clock(const std::string& base_url, int probes = 8,
                                         std::string* error = nullptr);

}  // namespace ssebench::bench
