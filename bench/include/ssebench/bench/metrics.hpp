#pragma once
/**
 * Per-stream records and figures, and their aggregation per case (../shared/METRICS.md).
 *
 * A client fills one StreamRecord per stream with raw time points; the figures (ttfb, ttft,
 * lag, …) are computed afterwards from the record and the recording's content-event offsets,
 * so that the clock is read on the hot path only, and so that the arithmetic can be tested
 * against a fake clock.
 */
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssebench/bench/histogram.hpp"
#include "ssebench/recording.hpp"

namespace ssebench::bench {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
/** The clock the clients read; tests inject a fake one. */
using ClockFn = TimePoint (*)();

/**
 * Why a stream failed; a stream counts once, under its first error.
 * http_status    — a non-2xx answer
 * curl           — no answer: connection refused or reset before the status line, DNS, …
 * text_mismatch  — the rebuilt text differs from the recording
 * timeout        — the stream's deadline passed (a stalled stream, a server that stopped)
 * missing_events — the text is right but events are missing or extra
 * bad_response   — an answer that is not what the protocol says: bad chunk framing, an SSE
 *                  event or poll answer that is not the JSON it should be
 * truncated      — the answer began (status line read) and the connection ended before its end
 * interrupted    — the run was interrupted (SIGINT, SIGTERM) while the stream was running
 */
enum class ErrorKind {
  http_status,
  curl,
  text_mismatch,
  timeout,
  missing_events,
  bad_response,
  truncated,
  interrupted
};
inline constexpr std::size_t error_kind_count = 8;
std::string_view to_string(ErrorKind kind);

/** A content event as received: when, and which recorded content event it is (0-based). */
struct ContentReceipt {
  TimePoint recv;
  std::size_t ordinal = 0;
};

/** A TLS handshake of a connection a stream opened. */
struct TlsHandshake {
  /** Its TCP connection's establishment to the end of the TLS handshake (libcurl's APPCONNECT
   *  minus CONNECT; ws: around the SSL stream's handshake). */
  double ms = 0;
  bool resumed = false;  // the server took the session offered (SSL_session_reused)
};

/** Everything a client records about one stream. */
struct StreamRecord {
  TimePoint t0{};  // just before the first request was added
  /** Open-loop cases: when the arrival schedule wanted the stream to start (t0 is then later:
   *  the harness's dispatch lag, or a wait behind --max-concurrency). ttft, ttlt and lag are
   *  from here, so a client that falls behind cannot hide the queueing (coordinated omission). */
  std::optional<TimePoint> scheduled;
  /** Open-loop: it was due while --max-concurrency streams ran, and waited for one to end. */
  bool waited = false;
  /** False for a stream scheduled in a warm-up or cool-down window: run, not counted. */
  bool counted = true;
  std::optional<TimePoint> first_byte;  // first response byte of the first request
  /** The first request left the client's queue and went out on a connection
   *  (CURLOPT_PREREQFUNCTION): t0 to here is queueing behind the connection limit + connecting. */
  std::optional<TimePoint> dispatched;
  std::optional<TimePoint> end;  // when the stream's last response had been read
  std::vector<ContentReceipt> content;
  std::size_t events = 0;  // events received (SSE events, or job events)
  std::size_t requests = 0;
  std::size_t connections = 0;             // new connections opened (CURLINFO_NUM_CONNECTS)
  std::size_t empty_polls = 0;             // poll answers with no new event
  std::size_t h2_kicks = 0;                // HTTP/2 answers kicked out of libcurl (Stream::kick)
  std::uint64_t http_bytes_out = 0;        // request line, headers, body
  std::uint64_t http_bytes_in = 0;         // status line, headers, raw (chunked) body
  std::uint64_t http_header_bytes_in = 0;  // of those, status lines and headers
  /** Message bodies as the application sees them: request bodies sent, and response bodies
   *  after de-chunking (the bytes libcurl hands the write callback, less HTTP/1.1's chunk
   *  framing). The same bytes over HTTP/1.1 and HTTP/2; the rest of the TCP payload is
   *  headers and framing (CaseAggregate's header_bytes_*). */
  std::uint64_t body_bytes_out = 0;
  std::uint64_t body_bytes_in = 0;
  /** TLS: one per connection this stream opened (none when it reused one). */
  std::vector<TlsHandshake> tls_handshakes;
  std::optional<ErrorKind> error;
  std::string error_detail;
  Transcript transcript;  // the text the client rebuilt, by choice

  /** Records a failure; the first one wins. */
  void fail(ErrorKind kind, std::string detail);
  bool ok() const { return !error; }
};

/** The figures of one stream, in milliseconds. */
struct StreamFigures {
  std::optional<double> ttfb_ms;
  std::optional<double> queue_ms;  // t0 to the first request's dispatch
  std::optional<double> ttft_ms;   // from the scheduled start when there is one, else from t0
  std::optional<double> ttlt_ms;
  std::optional<double> dispatch_lag_ms;  // t0 - scheduled start (open-loop only)
  /** The dispatch lag of a stream that did not wait for the cap: the harness's own lateness. */
  std::optional<double> harness_lag_ms;
  std::vector<double> lag_ms;  // one per content event received, from the scheduled start too
  std::vector<double> itl_ms;  // gaps between consecutive content events
};

/**
 * Computes a stream's figures. `content_offsets` are the recording's content-event offsets in
 * order (ReplayClock::content_offsets()); `speed` is the replay speed (offsets scale as the
 * server paces them, ssebench::scaled(); 0 makes them all 0).
 */
StreamFigures stream_figures(const StreamRecord& record,
                             std::span<const std::chrono::microseconds> content_offsets,
                             double speed);

/** Exact order statistics of a sample set. */
struct Summary {
  std::size_t count = 0;
  double min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
  double p10 = 0, p25 = 0, p75 = 0, p95 = 0;  // with the others, points of the CDF
};
/** Percentile `q` in [0,1] of sorted samples, linear between order statistics (numpy's default). */
double percentile(std::span<const double> sorted, double q);
Summary summarize(std::vector<double> samples);

/** Kernel TCP counters (TCP_INFO) summed over sockets. */
struct TcpCounters {
  std::uint64_t bytes_out = 0;    // tcpi_bytes_acked
  std::uint64_t bytes_in = 0;     // tcpi_bytes_received
  std::uint64_t segs_out = 0;     // tcpi_segs_out
  std::uint64_t segs_in = 0;      // tcpi_segs_in
  std::uint64_t retransmits = 0;  // tcpi_total_retrans: segments sent again
  TcpCounters& operator+=(const TcpCounters& o);
};

/** IPv4 20 + TCP 20 + timestamp option 12 bytes of header per segment. */
inline constexpr std::uint64_t wire_header_bytes_per_segment = 52;
inline constexpr std::string_view wire_bytes_formula =
    "wire_bytes = tcp_payload_bytes + 52 * segments (IPv4 20 + TCP 20 + timestamps 12)";

/** The server's figures for one round, from GET /mock/stats. */
struct ServerRound {
  double cpu_us = 0;  // user + sys, difference over the round
  /** HTTP and WebSocket bytes the server wrote and read over the round, as its sessions count
   *  them: the plaintext under any TLS (its endpoints' bytes and HTTP/2's connection frames). */
  std::uint64_t plaintext_bytes_out = 0, plaintext_bytes_in = 0;
  double lateness_us_p50 = 0, lateness_us_p99 = 0, lateness_us_max = 0;
};

/** What only a browser client reports about a round (browser_client.hpp): CPU time (user + sys,
 *  /proc) of its processes over the round, and its page's main thread. */
struct BrowserRound {
  double renderer_cpu_us = 0;       // the renderer process(es): the page's JavaScript, parsing
  double network_cpu_us = 0;        // the network service: sockets, HTTP, TLS
  double browser_cpu_us = 0;        // the browser process: IPC, scheduling
  double main_thread_busy_ms = 0;   // the page's main thread (CDP Performance TaskDuration)
  std::size_t long_tasks = 0;       // tasks over 50 ms (PerformanceObserver 'longtask')
  std::size_t preflights = 0;       // CORS preflights (OPTIONS) the streams needed
  bool preflights_counted = false;  // the driver counted them (costly: only on request)
};

/** What one round of C concurrent streams produced. */
struct RoundResult {
  std::vector<StreamRecord> streams;
  double wall_s = 0;  // first t0 to the last stream's end
  /** The harness thread's CPU over the round; a browser's: its renderer, network service and
   *  browser process together. */
  double client_cpu_us = 0;
  /** Over the round, every socket the round used. A browser round's are the server's counts of
   *  the same connections' payload (it cannot read the browser's sockets): no segments. */
  TcpCounters tcp;
  std::optional<ServerRound> server;
  std::optional<BrowserRound> browser;  // a browser played the round
};

/** Accumulates the measured rounds of one case and turns them into named counters. */
class CaseAggregate {
 public:
  /** `tokens` per stream from the recording (usage, else content events). */
  CaseAggregate(std::vector<std::chrono::microseconds> content_offsets, std::uint64_t tokens,
                double speed);

  void add(const RoundResult& round);
  /** The case speaks TLS: counters() adds the tls_* figures (handshakes, their share of TTFT,
   *  the record overhead), zeros included. */
  void set_tls(bool tls) { tls_ = tls; }

  std::size_t streams() const { return streams_; }
  std::size_t failed() const { return failed_; }
  const std::array<std::size_t, error_kind_count>& errors() const { return errors_; }
  /** The first failure's detail, for SkipWithError. */
  const std::string& first_error() const { return first_error_; }

  /** Every figure, its unit in its name (ttft_ms_p50, wire_bytes_in_per_token, …). */
  std::vector<std::pair<std::string, double>> counters() const;

  /** The latency figures as mergeable histograms, by figure name (ttft_ms, lag_ms, …): what
   *  histograms.json carries so that shards and threads merge to the percentiles of the whole. */
  std::vector<std::pair<std::string, Histogram>> histograms() const;

 private:
  std::vector<std::chrono::microseconds> offsets_;
  std::uint64_t tokens_;
  double speed_;
  std::vector<double> ttfb_, queue_, ttft_, ttlt_, lag_, itl_, dispatch_lag_, harness_lag_;
  std::size_t run_ = 0;  // streams run, counted or not: what the round's CPU and TCP are over
  std::size_t streams_ = 0, failed_ = 0, rounds_ = 0, server_rounds_ = 0;
  std::array<std::size_t, error_kind_count> errors_{};
  std::string first_error_;
  std::size_t events_ = 0, content_events_ = 0, requests_ = 0, connections_ = 0, empty_polls_ = 0,
              h2_kicks_ = 0;
  std::uint64_t http_out_ = 0, http_in_ = 0, http_header_in_ = 0, body_out_ = 0, body_in_ = 0;
  TcpCounters tcp_;
  bool tls_ = false;
  std::vector<double> handshake_;  // ms, one per connection opened
  std::size_t resumed_ = 0;
  std::uint64_t server_plain_out_ = 0, server_plain_in_ = 0;
  double client_cpu_us_ = 0, server_cpu_us_ = 0, wall_s_ = 0;
  double lateness_p50_sum_ = 0, lateness_p99_max_ = 0, lateness_max_ = 0;
  std::size_t browser_rounds_ = 0, preflight_rounds_ = 0;
  BrowserRound browser_;  // summed over the browser's rounds
};

}  // namespace ssebench::bench
