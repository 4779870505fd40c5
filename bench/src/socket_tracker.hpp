#pragma once
// Tracks libcurl's sockets to read TCP_INFO before each closes (private to the engine).
#include <curl/curl.h>

#include <optional>
#include <unordered_map>

#include "ssebench/bench/metrics.hpp"

namespace ssebench::bench {

/** The kernel's counters of one TCP socket; nullopt if it is not one. */
std::optional<TcpCounters> read_tcp_info(int fd);

class SocketTracker {
 public:
  /** Installs the open/close callbacks on an easy handle. */
  void attach(CURL* easy);

  /** Reads every open socket, and returns the counters accumulated since the last call. */
  TcpCounters take_round();
  std::size_t open_sockets() const { return last_.size(); }

 private:
  static curl_socket_t on_open(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int on_close(void* self, curl_socket_t fd);
  void add_delta(curl_socket_t fd);

  std::unordered_map<curl_socket_t, TcpCounters> last_;  // last reading per open socket
  TcpCounters round_;                                    // deltas since take_round()
};

}  // namespace ssebench::bench
