#include "ssebench/server/stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace ssebench::server {

std::size_t Histogram::bucket_of(std::uint64_t v) {
  if (v < sub_count) return static_cast<std::size_t>(v);
  const int e = std::bit_width(v) - 1;  // v in [2^e, 2^(e+1))
  if (e >= max_exponent) return bucket_count - 1;
  const int shift = e - (sub_bits - 1);
  const std::uint64_t m = v >> shift;  // in [sub_count/2, sub_count)
  return sub_count + static_cast<std::size_t>(e - sub_bits) * (sub_count / 2) +
         static_cast<std::size_t>(m - sub_count / 2);
}

std::uint64_t Histogram::bucket_low(std::size_t b) {
  if (b < sub_count) return b;
  const std::size_t k = b - sub_count;
  const int e = sub_bits + static_cast<int>(k / (sub_count / 2));
  const std::uint64_t m = sub_count / 2 + k % (sub_count / 2);
  return m << (e - (sub_bits - 1));
}

std::uint64_t Histogram::bucket_high(std::size_t b) {
  if (b < sub_count) return b;
  if (b == bucket_count - 1) return std::numeric_limits<std::uint64_t>::max();
  return bucket_low(b + 1) - 1;
}

void Histogram::record(std::uint64_t v) {
  buckets_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  std::uint64_t seen = max_.load(std::memory_order_relaxed);
  while (v > seen && !max_.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
  }
}

void Histogram::reset() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t Histogram::quantile(double q) const {
  std::array<std::uint64_t, bucket_count> snap;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    snap[i] = buckets_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return 0;
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += snap[i];
    if (seen >= rank) {
      const std::uint64_t lo = bucket_low(i);
      const std::uint64_t mid = i == bucket_count - 1 ? lo : lo + (bucket_high(i) - lo) / 2;
      return std::min(mid, max());
    }
  }
  return max();
}

std::string_view to_string(Endpoint e) {
  switch (e) {
    case Endpoint::chat_completions:
      return "chat_completions";
    case Endpoint::chat_completions_get:
      return "chat_completions_get";
    case Endpoint::responses:
      return "responses";
    case Endpoint::responses_get:
      return "responses_get";
    case Endpoint::models:
      return "models";
    case Endpoint::mock:
      return "mock";
    case Endpoint::other:
      return "other";
    case Endpoint::websocket:
      return "websocket";
  }
  return "other";
}

void Stats::reset() {
  connections_accepted.store(0, std::memory_order_relaxed);
  connections_refused.store(0, std::memory_order_relaxed);
  connections_h2.store(0, std::memory_order_relaxed);
  h2_connection_bytes_in.store(0, std::memory_order_relaxed);
  h2_connection_bytes_out.store(0, std::memory_order_relaxed);
  events_written.store(0, std::memory_order_relaxed);
  heartbeats_written.store(0, std::memory_order_relaxed);
  ws_pings_written.store(0, std::memory_order_relaxed);
  ws_pongs_received.store(0, std::memory_order_relaxed);
  for (auto* c : {&tls_handshakes, &tls_resumed, &tls_alpn_h2, &tls_alpn_http1_1, &tls_alpn_none,
                  &tls_fail_plain_http, &tls_fail_protocol, &tls_fail_truncated, &tls_fail_timeout,
                  &tls_fail_no_alpn, &tls_wire_bytes_in, &tls_wire_bytes_out})
    c->store(0, std::memory_order_relaxed);
  timeouts_idle.store(0, std::memory_order_relaxed);
  timeouts_request.store(0, std::memory_order_relaxed);
  timeouts_write.store(0, std::memory_order_relaxed);
  timeouts_lifetime.store(0, std::memory_order_relaxed);
  for (auto& e : endpoints) {
    e.requests.store(0, std::memory_order_relaxed);
    e.bytes_in.store(0, std::memory_order_relaxed);
    e.bytes_out.store(0, std::memory_order_relaxed);
    e.header_bytes_in.store(0, std::memory_order_relaxed);
    e.header_bytes_out.store(0, std::memory_order_relaxed);
  }
  lateness.reset();
}

namespace {

std::uint64_t rss_bytes() {
  // statm: size resident shared text lib data dt, in pages.
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

/** Open descriptors: the entries of /proc/self/fd, less the one listing them. */
std::int64_t fds_open() {
  std::error_code ec;
  std::int64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? -1 : n - 1;
}

std::uint64_t to_us(const timeval& tv) {
  return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(tv.tv_usec);
}

}  // namespace

std::string stats_json(const Stats& s, const JobFigures& jobs, bool count_fds) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double uptime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  auto ns_to_us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::string out = fmt::format(
      R"({{"pid":{},"uptime_s":{:.3f},"cpu":{{"user_us":{},"sys_us":{}}},"rss_bytes":{},{})"
      R"("connections_open":{},"connections_accepted":{},"connections_refused":{},)"
      R"("connections_h2":{},"h2_connection_bytes":{{"in":{},"out":{}}},)"
      R"("streams_active":{},"requests_held":{},"jobs_active":{},"jobs_held":{},"events_written":{},)"
      R"("heartbeats_written":{},"ws_pings_written":{},"ws_pongs_received":{},)"
      R"("timeouts":{{"idle":{},"request":{},"write":{},"lifetime":{}}},)"
      R"("tls":{{"handshakes":{},"resumed":{},"alpn":{{"h2":{},"http1_1":{},"none":{}}},)"
      R"("failures":{{"plain_http":{},"protocol":{},"truncated":{},"timeout":{},"no_alpn":{}}},)"
      R"("wire_bytes":{{"in":{},"out":{}}}}},)"
      R"("lateness_us":{{"count":{},"p50":{:.1f},"p90":{:.1f},"p99":{:.1f},"max":{:.1f}}},)"
      R"("endpoints":{{)",
      getpid(), uptime_s, to_us(ru.ru_utime), to_us(ru.ru_stime), rss_bytes(),
      count_fds ? fmt::format(R"("fds_open":{},)", fds_open()) : std::string(),
      s.connections_open.load(), s.connections_accepted.load(), s.connections_refused.load(),
      s.connections_h2.load(), s.h2_connection_bytes_in.load(), s.h2_connection_bytes_out.load(),
      s.streams_active.load(), s.requests_held.load(), jobs.active, jobs.held,
      s.events_written.load(), s.heartbeats_written.load(), s.ws_pings_written.load(),
      s.ws_pongs_received.load(), s.timeouts_idle.load(), s.timeouts_request.load(),
      s.timeouts_write.load(), s.timeouts_lifetime.load(), s.tls_handshakes.load(),
      s.tls_resumed.load(), s.tls_alpn_h2.load(), s.tls_alpn_http1_1.load(), s.tls_alpn_none.load(),
      s.tls_fail_plain_http.load(), s.tls_fail_protocol.load(), s.tls_fail_truncated.load(),
      s.tls_fail_timeout.load(), s.tls_fail_no_alpn.load(), s.tls_wire_bytes_in.load(),
      s.tls_wire_bytes_out.load(), s.lateness.count(), ns_to_us(s.lateness.quantile(0.5)),
      ns_to_us(s.lateness.quantile(0.9)), ns_to_us(s.lateness.quantile(0.99)),
      ns_to_us(s.lateness.max()));
  for (std::size_t i = 0; i < endpoint_count; ++i) {
    const auto& e = s.endpoints[i];
    fmt::format_to(std::back_inserter(out),
                   R"({}"{}":{{"requests":{},"bytes_in":{},"bytes_out":{},)"
                   R"("header_bytes_in":{},"header_bytes_out":{}}})",
                   i == 0 ? "" : ",", to_string(static_cast<Endpoint>(i)), e.requests.load(),
                   e.bytes_in.load(), e.bytes_out.load(), e.header_bytes_in.load(),
                   e.header_bytes_out.load());
  }
  out += "}}";
  return out;
}

}  // namespace ssebench::server
