#pragma once
/**
 * The server's own figures for /mock/stats: lock-free counters any thread may bump, and a
 * log-linear histogram of how late events were written against their schedule.
 */
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ssebench::server {

/**
 * Log-linear histogram of non-negative nanosecond values (HdrHistogram's layout): values below
 * 2^sub_bits are exact; above, each power of two is split into 2^(sub_bits-1) equal buckets, so a
 * bucket is at most 1/64 of its value wide and a reported quantile (bucket midpoint) is within
 * 1% of a value in that bucket. Values of 2^max_exponent ns (about 18 minutes) and above land in
 * the last bucket. Thread-safe; record() is wait-free.
 */
class Histogram {
 public:
  static constexpr int sub_bits = 7;
  static constexpr int max_exponent = 40;
  static constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
  static constexpr std::size_t bucket_count =
      sub_count + (max_exponent - sub_bits) * (sub_count / 2);

  void record(std::uint64_t value_ns);
  void reset();

  /** Values recorded: the buckets' sum (a separate counter would cost record() an atomic). */
  std::uint64_t count() const;
  std::uint64_t max() const { return max_.load(std::memory_order_relaxed); }
  /** The value at quantile q in [0, 1] (bucket midpoint, clamped to max); 0 when empty. */
  std::uint64_t quantile(double q) const;

  static std::size_t bucket_of(std::uint64_t value_ns);
  static std::uint64_t bucket_low(std::size_t bucket);   // smallest value in the bucket
  static std::uint64_t bucket_high(std::size_t bucket);  // largest value in the bucket

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> max_{0};
};

/** Where a request went, for per-endpoint counters. */
enum class Endpoint : std::size_t {
  chat_completions,      // POST /v1/chat/completions
  chat_completions_get,  // /v1/chat/completions/{id}...: a chat job's polls, resumes, delete
  responses,             // POST /v1/responses
  responses_get,         // /v1/responses/{id}...: a job's polls, resumes, cancel, delete, items
  models,                // GET /v1/models
  mock,                  // /mock/...
  other,                 // everything else, and requests that failed to parse
  websocket,             // WebSocket connections: the upgrade, then every frame both ways
};
inline constexpr std::size_t endpoint_count = 8;
std::string_view to_string(Endpoint e);

struct EndpointCounters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes_in{0};   // bytes the request parser consumed
  std::atomic<std::uint64_t> bytes_out{0};  // bytes written: headers, chunk framing, bodies
  /** Of those, the request's and the answer's headers: HTTP/1.1 request line (status line) and
   *  header fields as parsed (written); HTTP/2 HEADERS and CONTINUATION frames, 9-byte frame
   *  headers included (HPACK-compressed, so small after a connection's first request). */
  std::atomic<std::uint64_t> header_bytes_in{0};
  std::atomic<std::uint64_t> header_bytes_out{0};
};

/** Counters are reset by POST /mock/stats/reset; gauges (open, active) are not. */
struct Stats {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::int64_t> streams_active{0};  // SSE streams and WebSocket turns being served
  std::atomic<std::int64_t> requests_held{0};   // long polls and stream:false answers waiting
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  std::atomic<std::uint64_t> connections_h2{0};       // accepted ones that spoke HTTP/2 (h2c)
  /** HTTP/2 bytes of no request: the preface, SETTINGS, PING, GOAWAY, connection WINDOW_UPDATEs. */
  std::atomic<std::uint64_t> h2_connection_bytes_in{0};
  std::atomic<std::uint64_t> h2_connection_bytes_out{0};
  std::atomic<std::uint64_t> events_written{0};
  std::atomic<std::uint64_t> heartbeats_written{0};  // SSE comments (Config::sse_heartbeat_ms)
  std::atomic<std::uint64_t> ws_pings_written{0};    // WebSocket pings (Config::ws_ping_ms)
  std::atomic<std::uint64_t> ws_pongs_received{0};   // the clients' pongs (to them or not)
  /** The TLS port: handshakes completed, of those resumed (a session ticket or id), and the
   *  protocol ALPN chose (none: the client offered no ALPN and gets HTTP/1.1). */
  std::atomic<std::uint64_t> tls_handshakes{0};
  std::atomic<std::uint64_t> tls_resumed{0};
  std::atomic<std::uint64_t> tls_alpn_h2{0};
  std::atomic<std::uint64_t> tls_alpn_http1_1{0};
  std::atomic<std::uint64_t> tls_alpn_none{0};
  /** Handshakes that failed, by kind (each closed, the server serves on). */
  std::atomic<std::uint64_t> tls_fail_plain_http{0};  // an HTTP request sent to the TLS port
  std::atomic<std::uint64_t> tls_fail_protocol{0};    // not TLS, a version or record we refuse
  std::atomic<std::uint64_t> tls_fail_truncated{0};   // EOF (or reset) before the handshake ended
  std::atomic<std::uint64_t> tls_fail_timeout{0};     // tls_handshake_timeout_ms passed first
  std::atomic<std::uint64_t> tls_fail_no_alpn{0};     // ALPN offered, none of ours (h2, http/1.1)
  /** Bytes on the TLS connections' TCP sockets (records, handshakes, alerts): with the
   *  endpoints' plaintext bytes, the TLS overhead. */
  std::atomic<std::uint64_t> tls_wire_bytes_in{0};
  std::atomic<std::uint64_t> tls_wire_bytes_out{0};
  /** Connections closed by a limit (Config): which one tells what the client did wrong. */
  std::atomic<std::uint64_t> timeouts_idle{0};      // idle_timeout_ms: no request came
  std::atomic<std::uint64_t> timeouts_request{0};   // request_timeout_ms: a request trickled in
  std::atomic<std::uint64_t> timeouts_write{0};     // write_timeout_ms: the client stopped reading
  std::atomic<std::uint64_t> timeouts_lifetime{0};  // stream_lifetime_limit_ms
  std::array<EndpointCounters, endpoint_count> endpoints{};
  Histogram lateness;  // per event: write start - scheduled time, ns

  EndpointCounters& at(Endpoint e) { return endpoints[static_cast<std::size_t>(e)]; }
  void reset();
};

/** Jobs figures the job store reports into /mock/stats. */
struct JobFigures {
  std::size_t held = 0;    // in the store (running or finished but retained)
  std::size_t active = 0;  // not finished yet
};

/**
 * The /mock/stats JSON (shape in mock_server/README.md). `count_fds` adds fds_open, a listing of
 * /proc/self/fd: about 5 µs per descriptor here (50 ms at 10,000), on the event loop's thread,
 * so it is asked for (`?fds=true`), not given by default.
 */
std::string stats_json(const Stats& stats, const JobFigures& jobs, bool count_fds = false);

}  // namespace ssebench::server
