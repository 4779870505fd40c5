#pragma once
/** The transports of METRICS.md, the clients' settings, and what a recording makes them expect. */
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssebench/poll_shape.hpp"
#include "ssebench/recording.hpp"
#include "ssebench/replay_clock.hpp"

namespace ssebench::bench {

enum class Transport { sse, rest, poll, long_poll, ws };
inline constexpr Transport all_transports[] = {Transport::sse, Transport::rest, Transport::poll,
                                               Transport::long_poll, Transport::ws};

/** Which poll shapes a transport runs (PollShape: ssebench/poll_shape.hpp, core). */
enum class Shapes {
  none,    // not polled
  every,   // every shape
  cursor,  // the shapes with a cursor (delta, events): there is something to wait after
};
/** Which driver runs a transport's streams (bench/src/driver.hpp). */
enum class Loop {
  curl,  // libcurl's multi handle: the HTTP transports
  asio,  // an Asio io_context: ws
};
class Stream;          // private to the engine (bench/src/stream.hpp)
struct StreamContext;  // private to the engine (bench/src/stream.hpp)

/** One transport, all that differs between transports: adding one is one row (transport.cpp)
 *  and, for a new protocol, its client. */
struct TransportRow {
  Transport transport;
  std::string_view name;  // "sse", "rest", "poll", "long-poll", "ws": flags, case names, JSON
  bool has_interval;      // runs at a poll interval (ClientConfig::interval)
  Shapes shapes;          // polled (reads a background job) unless none
  Loop loop;
  /** Loop::curl: makes one of its streams; nullptr for the other loops. */
  std::unique_ptr<Stream> (*make_stream)(const StreamContext& ctx);
};
/** Every transport's row, in all_transports order. */
std::span<const TransportRow> transport_table();
const TransportRow& row_of(Transport t);

/** "sse", "rest", "poll", "long-poll", "ws". */
std::string_view to_string(Transport t);
std::optional<Transport> parse_transport(std::string_view name);
/** Its row's has_interval: poll runs at a poll interval; the others have none. */
bool has_interval(Transport t);
/** Its row's shapes are not none: poll and long-poll read a background job in a poll shape. */
bool is_polled(Transport t);

/**
 * The shapes a transport runs out of `listed`, in the listed order, by its row: poll every one,
 * long-poll the cursor shapes, sse, rest and ws none.
 */
std::vector<PollShape> shapes_for(Transport t, std::span<const PollShape> listed);

/**
 * The HTTP version the clients speak. http2 is cleartext HTTP/2 with prior knowledge (h2c, no
 * Upgrade, no TLS): every stream of a round multiplexed over one connection per engine, as a
 * browser tab multiplexes its requests to one origin. http1_0 is what a default nginx upstream
 * speaks: no chunking (a stream ends with the connection), and libcurl sends no keep-alive, so
 * every request has its own connection.
 */
enum class HttpVersion { http1_1, http2, http1_0 };
/** "1.1", "2", "1.0": the --http values, and the `http:2` part of a case name. */
std::string_view to_string(HttpVersion v);
std::optional<HttpVersion> parse_http_version(std::string_view name);

/**
 * Whether the clients speak TLS (the case field `tls`): off = cleartext; on = TLS with session
 * resumption allowed (a connection after the first on a client thread resumes its session);
 * noresume = TLS, every connection a full handshake. Over TLS, HTTP/2 is negotiated by ALPN.
 */
enum class TlsMode { off, on, noresume };
/** "off", "on", "noresume": the --tls values, the `tls:on` part of a case name, the JSON field. */
std::string_view to_string(TlsMode m);
std::optional<TlsMode> parse_tls_mode(std::string_view name);

/**
 * What sends a soak's HTTP requests: libcurl (every other load model's client), or the soak's
 * own HTTP/1.1 client (bench/src/http1_conn.hpp: the same request bytes, a connection a user on
 * epoll, a fraction of libcurl's CPU a request) where it can: cleartext HTTP/1.1 kept alive to
 * an IPv4 address; libcurl otherwise.
 */
enum class HttpClient { libcurl, epoll };

/** When the next poll goes out. */
enum class PollSchedule {
  fixed_rate,      // at t0 + k·interval; a late answer moves to the next slot after now
  after_response,  // interval after the previous answer was read
};

/** Settings shared by every client of a round. */
struct ClientConfig {
  std::string base_url;  // "http://127.0.0.1:PORT" (https:// with TLS), no trailing slash
  /** Replay speed, sent as x-ssebench-speed on every request; 0 = as fast as possible. */
  double speed = 1.0;
  std::chrono::milliseconds interval{250};  // poll period
  PollSchedule schedule = PollSchedule::fixed_rate;
  /** What poll and long-poll answers carry; long-poll needs a cursor shape (delta, events). */
  PollShape shape = PollShape::events;
  std::chrono::milliseconds long_poll_wait{10'000};  // wait_ms of long-poll requests
  bool keep_alive = true;                            // false: a fresh connection for every request
  HttpVersion http = HttpVersion::http1_1;
  /** TLS (base_url is then the server's https:// URL): verified against `ca_file`, never
   *  unverified. */
  TlsMode tls = TlsMode::off;
  std::string ca_file;  // PEM of the CA that signed the server's certificate
  /**
   * At most this many connections to the server at once (CURLMOPT_MAX_HOST_CONNECTIONS), 0 = no
   * limit. 6 is what browsers allow per origin over HTTP/1.1 (the browser profile): the streams
   * beyond it wait in libcurl's queue until a connection is free, as a tab's EventSources do.
   */
  std::size_t max_host_connections = 0;
  /**
   * Stream starts spread evenly over this window (0: all at once). With identical recordings,
   * streams started together send their events in lockstep bursts.
   */
  std::chrono::microseconds stagger{0};
  /** A stream's deadline: recording duration / speed × factor + slack (+ one interval). */
  double deadline_factor = 1.5;
  std::chrono::milliseconds deadline_slack{10'000};
  /**
   * Names resolved without DNS ("HOST:PORT:ADDRESS", CURLOPT_RESOLVE). libcurl keeps one list of
   * connections per host name and walks it for every new request: the soak spreads 10,000
   * connections over many names of the one server so that the walk stays short.
   */
  std::vector<std::string> resolve;
  /**
   * ws: turns per connection, one after the other, each a stream of its own measured from the
   * sending of its message; the first turn also opens the connection.
   */
  std::size_t ws_turns = 1;
  /**
   * The replay's zero as a wall-clock instant (Unix µs), sent as x-ssebench-epoch-us (ws: on the
   * upgrade): every stream anchored at one instant has each event due at the same moment however
   * late it was asked for, and its lag is measured from there (StreamRecord::scheduled), so that
   * across streams and processes the lags are one event's fan-out latency.
   */
  std::optional<std::int64_t> epoch_us;
  /** A local address the connections are bound to (CURLOPT_INTERFACE, ws: bind()); empty: the
   *  kernel's choice. Spread over 127.0.0.0/8, it widens the ephemeral ports past one address's. */
  std::string source;
  /** A soak's HTTP client (the other load models always use libcurl). */
  HttpClient client = HttpClient::libcurl;
  /** Once set (a signal handler may set it), every stream still running ends as interrupted. */
  const std::atomic<bool>* stop = nullptr;
};

/** ClientConfig::epoch_us on the clock that read `now`: where its events' offsets start. */
std::chrono::steady_clock::time_point epoch_on_clock(std::int64_t epoch_us,
                                                     std::chrono::steady_clock::time_point now);

/**
 * What a recording makes every stream of a case expect; computed once per case. Copies share
 * the recording, which `clock` refers into: replace `recording` only together with `clock`.
 */
struct Expectation {
  /** Only the recording and its clock; make_expectation() fills in the rest. */
  explicit Expectation(std::shared_ptr<const Recording> r)
      : recording(std::move(r)), clock(*recording) {}

  std::shared_ptr<const Recording> recording;
  /** Core's one rule for job numbering (0…E−1), content ordinals and offsets. */
  ReplayClock clock;
  Transcript transcript;  // recording->transcript()
  /** What a stream:false body must carry: the streamed text, or for a recording without events
   *  the text of its recorded stream:false body. */
  Transcript rest_transcript;
  /**
   * By content ordinal: the length of its choice's text once that event is added. A shape
   * without numbering (snapshot, openai) tells which content events it has from the text length.
   */
  std::vector<std::size_t> content_text_end;
  std::string sse_body;   // the recorded request body, "model" = recording id, "stream": true
  std::string rest_body;  // the same with "stream": false
  std::string job_body;   // {"model":ID,"background":true}
  /** A ws turn's message: the sse body without "stream", with the API's create "type". */
  std::string ws_message;
  /** Where its background job lives: /v1/chat/completions or /v1/responses, by the api. */
  std::string job_path;
};

/** Builds the expectation; throws std::runtime_error if the request body is not a JSON object. */
Expectation make_expectation(std::shared_ptr<const Recording> recording);

}  // namespace ssebench::bench
