#pragma once
// One libcurl stream: the Session the libcurl driver runs (curl_driver.cpp), and the three
// clients (sse_client.cpp, rest_client.cpp, job_client.cpp). Private to the engine. The ws
// transport has its own driver (ws_client.cpp): it is not a libcurl transfer.
#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "driver.hpp"
#include "http1_conn.hpp"
#include "ssebench/bench/chunked.hpp"
#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

class SocketTracker;

/** What a stream needs from the loop that drives it. */
struct StreamContext {
  CURLM* multi = nullptr;
  SocketTracker* sockets = nullptr;
  ClockFn clock = nullptr;
  const Expectation* expect = nullptr;
  const ClientConfig* config = nullptr;
  Transport transport = Transport::sse;
  /** HTTP/2: transfers in flight that open the connection (prior knowledge), shared by the
   *  streams of one multi handle (see Stream::http_version). */
  std::size_t* h2_openers = nullptr;
  /** TLS with resumption (TlsMode::on): the driver's share handle, whose SSL session cache the
   *  streams of its thread share, so that a new connection resumes the session of an earlier
   *  one. */
  CURLSH* share = nullptr;
  /** A soak user's share handle (SessionSpec::pool): the user's own connection cache, and its
   *  TLS sessions in place of `share`'s. nullptr: the multi handle's cache. */
  CURLSH* pool = nullptr;
  /** The soak's own HTTP/1.1 client (http1_conn.hpp), when the config asks for it and it can
   *  send the config's requests: the user's connection, which the stream's requests go over
   *  instead of libcurl (whose handle is then never made). */
  Http1Conn* http1 = nullptr;
};

class Stream : public Session, public Http1Sink {
 public:
  explicit Stream(const StreamContext& ctx);
  ~Stream() override;

  /** Takes t0 and sends the first request. */
  void start() override;
  /** Starts at `at` instead (a timer in the loop): staggered starts. */
  void start_at(TimePoint at) override { wake_at_ = at; }
  /** The transfer in flight ended (the loop has removed it from the multi handle). */
  void on_done(CURLcode result);
  /** A scheduled request (or the staggered start) is due. */
  void on_timer();
  /** The deadline passed: abandon the transfer in flight, count a timeout. */
  void on_deadline();
  /** The run is being interrupted: abandon the transfer in flight, count an interruption. */
  void on_interrupt() override;
  /** The deadline, then a scheduled request (or the staggered start), then a kick. */
  bool on_tick(TimePoint now, TimePoint& next) override;

  bool finished() const override { return finished_; }
  TimePoint deadline() const { return deadline_; }
  const std::optional<TimePoint>& wake_at() const { return wake_at_; }
  /** HTTP/2: when the answer in flight, begun and quiet since, is to be kicked (kick()). */
  std::optional<TimePoint> kick_at() const;
  /** Makes libcurl look again at what it holds for the transfer in flight (a libcurl 7.88
   *  HTTP/2 stall: the answer's last bytes read off the socket, never handed over). */
  void kick();
  StreamRecord& record() { return record_; }
  std::span<StreamRecord> records() override { return {&record_, 1}; }

 protected:
  /** Sends a request: a POST when `body` is given, else a GET. */
  void send(const std::string& path, const std::string* body);
  /** Sends the next request at `at` (a timer in the loop). */
  void schedule(TimePoint at) { wake_at_ = at; }
  /** Ends the stream; failures recorded before stay. */
  void finish();
  /** Ends the stream with a failure. */
  void fail(ErrorKind kind, std::string detail);
  /** Abandons the transfer in flight, if any (deadline, interrupt). */
  void abandon();
  /** The CURLOPT_HTTP_VERSION of the next request; counts it among h2_openers if it opens. */
  long http_version();
  void leave_openers();
  /** TLS: the connection of the transfer in flight resumed a session (libcurl's OpenSSL SSL). */
  bool session_reused() const;

  /** Compares the rebuilt text (with `want`) and the content-event count with the recording's. */
  void check_transcript(const Transcript& want);
  void check_transcript() { check_transcript(expect().transcript); }

  virtual void first_request() = 0;
  virtual void next_request() {}
  /** Body bytes (already de-chunked) read at `now`. */
  virtual void on_body(std::string_view bytes, TimePoint now) = 0;
  /** A 2xx response has been read completely; its last bytes were read at `last_read`. */
  virtual void on_response(TimePoint last_read) = 0;

  const Expectation& expect() const { return *ctx_.expect; }
  const ClientConfig& config() const { return *ctx_.config; }
  TimePoint now() const { return ctx_.clock(); }

  StreamRecord record_;

 private:
  static std::size_t header_cb(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* self);
  static int prereq_cb(void* self, char* conn_primary_ip, char* conn_local_ip,
                       int conn_primary_port, int conn_local_port);
  /** A head line and raw body bytes, from libcurl's callbacks or the stream's own connection. */
  void take_head_line(std::string_view line);
  bool take_body(std::string_view bytes);
  /** The answer in flight ended; `transfer_error` is why it was not read whole, if it was not. */
  void answered(std::string_view transfer_error, bool wrong_version);
  /** The request as libcurl would write it (the same bytes), for the stream's own connection. */
  std::string http1_request(const std::string& path, const std::string* body) const;
  // Http1Sink: the stream's own connection (StreamContext::http1).
  void on_head_line(std::string_view line) override { take_head_line(line); }
  bool on_body_bytes(std::string_view bytes) override { return take_body(bytes); }
  void on_answered(std::string_view error) override;

  StreamContext ctx_;
  CURL* easy_ = nullptr;                // libcurl's transfers; or
  Http1Conn* conn_ = nullptr;           // the user's own connection (StreamContext::http1)
  curl_slist* headers_ = nullptr;       // GET requests
  curl_slist* post_headers_ = nullptr;  // POST requests
  curl_slist* resolve_ = nullptr;       // ClientConfig::resolve
  std::string interface_;               // CURLOPT_INTERFACE: "host!" + ClientConfig::source
  bool in_flight_ = false;
  bool h2_opener_ = false;  // the transfer in flight opens the HTTP/2 connection
  bool started_ = false;
  bool finished_ = false;
  TimePoint deadline_ = TimePoint::max();  // set at start
  std::optional<TimePoint> wake_at_;
  // The response in flight.
  long status_ = 0;
  bool chunked_ = false;
  ChunkedDecoder decoder_;
  std::string decoded_;
  std::string error_body_;  // start of a non-2xx body, for the error message
  std::optional<TimePoint> last_read_;
  TimePoint quiet_since_;     // the answer in flight: its last header or body bytes, or a kick
  bool tls_resumed_ = false;  // the answer in flight came over a connection that resumed a session
};

/** Compares a stream's rebuilt text with `want`, and its content events with the recording's
 *  number; the first difference is the stream's failure. */
void check_transcript(StreamRecord& record, const Transcript& want, std::size_t content_events);

/** A stream's deadline from its t0: recording duration / speed × factor + slack + one interval. */
TimePoint stream_deadline(TimePoint t0, const Expectation& expect, const ClientConfig& config);

std::unique_ptr<Stream> make_sse_stream(const StreamContext& ctx);
std::unique_ptr<Stream> make_rest_stream(const StreamContext& ctx);
/** poll and long-poll, by ctx.transport. */
std::unique_ptr<Stream> make_job_stream(const StreamContext& ctx);

}  // namespace ssebench::bench
