#include "socket_tracker.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ssebench::bench {

namespace {
// tcpi_state values (the kernel's net/tcp_states.h; <netinet/tcp.h> clashes with <linux/tcp.h>).
constexpr int tcp_fin_wait2 = 5;
constexpr int tcp_time_wait = 6;
constexpr int tcp_close_wait = 8;
constexpr int tcp_last_ack = 9;
constexpr int tcp_closing = 11;
}  // namespace

std::optional<TcpCounters> read_tcp_info(int fd) {
  // The kernel reads tcpi_state before it locks the socket for the counters, so a FIN that
  // arrives in between is counted in bytes_received under a state that does not show it yet.
  // States only move forward as a connection closes: a second read with the same state proves
  // the first read's counters belong to it.
  tcp_info info{};
  for (int attempt = 0;; ++attempt) {
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
    tcp_info again{};
    len = sizeof(again);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &again, &len) != 0) return std::nullopt;
    if (again.tcpi_state == info.tcpi_state || attempt == 8) break;
  }
  // The kernel counts sequence numbers: our SYN (and FIN, once acked) in bytes_acked, the
  // peer's FIN in bytes_received. Payload is what remains.
  const int state = info.tcpi_state;
  const bool our_fin_acked = state == tcp_fin_wait2 || state == tcp_time_wait;
  const bool peer_fin = state == tcp_close_wait || state == tcp_last_ack || state == tcp_closing ||
                        state == tcp_time_wait;
  std::uint64_t acked = info.tcpi_bytes_acked;
  if (acked > 0) --acked;  // SYN
  if (our_fin_acked && acked > 0) --acked;
  std::uint64_t received = info.tcpi_bytes_received;
  if (peer_fin && received > 0) --received;
  TcpCounters c;
  c.bytes_out = acked;
  c.bytes_in = received;
  c.segs_out = info.tcpi_segs_out;
  c.segs_in = info.tcpi_segs_in;
  c.retransmits = info.tcpi_total_retrans;
  return c;
}

void SocketTracker::attach(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &SocketTracker::on_open);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &SocketTracker::on_close);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

curl_socket_t SocketTracker::on_open(void* self, curlsocktype, curl_sockaddr* address) {
  const curl_socket_t fd = socket(address->family, address->socktype, address->protocol);
  if (fd != CURL_SOCKET_BAD) static_cast<SocketTracker*>(self)->last_[fd] = TcpCounters{};
  return fd;
}

int SocketTracker::on_close(void* self, curl_socket_t fd) {
  auto* tracker = static_cast<SocketTracker*>(self);
  tracker->add_delta(fd);
  tracker->last_.erase(fd);
  return close(fd);
}

void SocketTracker::add_delta(curl_socket_t fd) {
  const auto it = last_.find(fd);
  if (it == last_.end()) return;
  const std::optional<TcpCounters> now = read_tcp_info(fd);
  if (!now) return;
  round_.bytes_out += now->bytes_out - it->second.bytes_out;
  round_.bytes_in += now->bytes_in - it->second.bytes_in;
  round_.segs_out += now->segs_out - it->second.segs_out;
  round_.segs_in += now->segs_in - it->second.segs_in;
  round_.retransmits += now->retransmits - it->second.retransmits;
  it->second = *now;
}

TcpCounters SocketTracker::take_round() {
  for (auto& [fd, last] : last_) add_delta(fd);
  const TcpCounters out = round_;
  round_ = {};
  return out;
}

}  // namespace ssebench::bench
