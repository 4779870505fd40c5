#include "http_session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "busy_gauge.hpp"
#include "h2_session.hpp"
#include "held_wait.hpp"
#include "request_rules.hpp"
#include "session_errors.hpp"
#include "ssebench/server/stream_cursor.hpp"
#include "write_watchdog.hpp"
#include "ws_session.hpp"

namespace ssebench::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
/** Bytes asked of the socket while waiting for a request's first byte. */
constexpr std::size_t first_read_bytes = 4096;

/**
 * One connection. Requests are served one at a time (keep-alive, no pipelining in parallel).
 * An SSE stream or a held answer is "busy": meanwhile the socket is watched for the client's
 * EOF so that a client that leaves frees its stream at once, not at the next write.
 *
 * Every wait is bounded by a Config limit: no request (idle_timeout_ms), a request trickling in
 * (request_timeout_ms from its first byte), a client that stops reading (write_timeout_ms per
 * write), a stream or held answer (stream_lifetime_limit_ms).
 */
class Session : public std::enable_shared_from_this<Session> {
  /** Under TLS, what starts once the watch's read (cancelled) has completed. */
  enum class AfterWatch { nothing, read, shutdown };

 public:
  Session(Connection&& conn, std::shared_ptr<State> state)
      : stream_(std::move(conn)),
        state_(std::move(state)),
        timer_(stream_.get_executor()),
        watchdog_(stream_.get_executor(), milliseconds(state_->config.write_timeout_ms)),
        busy_(state_->stats) {
    state_->stats.connections_open.fetch_add(1, std::memory_order_relaxed);
  }

  ~Session() { state_->stats.connections_open.fetch_sub(1, std::memory_order_relaxed); }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  const Config& config() const { return state_->config; }
  Stats& stats() { return state_->stats; }
  Clock::duration lifetime() const { return milliseconds(config().stream_lifetime_limit_ms); }
  Clock::duration write_timeout() const { return milliseconds(config().write_timeout_ms); }

  // ---- reading a request -------------------------------------------------------------------

  // Waiting for a request is bounded by the idle timeout; its first byte starts the request
  // timeout, which bounds the rest (line, headers, body) however slowly it trickles in.
  void do_read() {
    if (!awake_ && served_ && buffer_.size() == 0 && !stream_.is_tls() && !watch_pending_)
      return do_idle();
    awake_ = false;
    parser_ = std::make_unique<http::request_parser<http::string_body>>();
    parser_->header_limit(static_cast<std::uint32_t>(config().header_limit_bytes));
    parser_->body_limit(config().body_limit_bytes);
    bytes_in_ = 0;
    header_bytes_in_ = 0;
    bytes_out_early_ = 0;
    http10_ = false;
    head_ = false;
    if (buffer_.size() > 0) return do_read_request();  // pipelined: it has begun
    if (watch_pending_ && stream_.is_tls()) return end_watch(AfterWatch::read);
    stream_.expires_after(milliseconds(config().idle_timeout_ms));
    stream_.async_read_some(
        buffer_.prepare(first_read_bytes),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  // A kept-alive connection between requests (a poll user's, minutes at a time) holds no read
  // buffer: it waits for the socket to be readable, bounded by the idle timeout on timer_ (free
  // between requests), and only then reads into a buffer of first_read_bytes. A 4 KiB buffer
  // waiting with every idle poll user cost 4 KiB a user (issue 19's hold at 30,000 users: 6.9
  // KiB of server RSS a poll user, against 1.9 for a held SSE user). Not under TLS, whose
  // records the watch reads (release_read_buffer).
  void do_idle() {
    buffer_.shrink_to_fit();
    idle_ = true;
    timer_.expires_after(milliseconds(config().idle_timeout_ms));
    timer_.async_wait(
        held_wait(beast::bind_front_handler(&Session::on_idle_timeout, shared_from_this())));
    stream_.socket().async_wait(
        tcp::socket::wait_read,
        held_wait(beast::bind_front_handler(&Session::on_idle_ready, shared_from_this())));
  }

  void on_idle_timeout(beast::error_code ec) {
    if (ec || !idle_) return;  // cancelled, or the request came first
    idle_ = false;
    stats().timeouts_idle.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    stream_.socket().close(ignored);  // as the stream's own idle timeout does
  }

  void on_idle_ready(beast::error_code ec) {
    if (!idle_) return;  // the idle timeout closed the socket
    idle_ = false;
    timer_.cancel();
    if (ec) return fail(ec, "wait");
    awake_ = true;
    do_read();
  }

  void on_first_bytes(beast::error_code ec, std::size_t bytes) {
    if (ec == beast::error::timeout) {
      stats().timeouts_idle.fetch_add(1, std::memory_order_relaxed);
      return;  // the stream has closed the socket
    }
    if (ec == net::error::eof) return do_shutdown();
    if (ec) return fail(ec, "read");
    buffer_.commit(bytes);
    // HTTP/2 with prior knowledge (h2c): the client's first bytes are the connection preface.
    const std::string_view first(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
    if (starts_h2(first)) {
      stream_.expires_never();
      return serve_h2(std::move(stream_), state_, std::string(first));
    }
    do_read_request();
  }

  void do_read_request() {
    stream_.expires_after(milliseconds(config().request_timeout_ms));
    do_scan_head();
  }

  // The head is read whole and checked as bytes (request_rules.hpp: what Beast's parser would
  // let through) before Beast parses it from the buffer without another read.
  void do_scan_head() {
    const std::string_view bytes(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
    const h1::HeadScan scan = h1::scan_head(bytes, config().header_limit_bytes);
    buffer_.consume(scan.skip);
    bytes_in_ += scan.skip;
    if (scan.kind == h1::HeadScan::Kind::refused) return refuse(scan.refusal);
    if (scan.kind == h1::HeadScan::Kind::complete) {
      if (scan.minor_at != std::string_view::npos)
        static_cast<char*>(buffer_.data().data())[scan.minor_at] = '1';
      return http::async_read_header(
          stream_, buffer_, *parser_,
          beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
    }
    stream_.async_read_some(buffer_.prepare(first_read_bytes),
                            beast::bind_front_handler(&Session::on_head_bytes, shared_from_this()));
  }

  void on_head_bytes(beast::error_code ec, std::size_t bytes) {
    if (ec == beast::error::timeout) {
      stats().timeouts_request.fetch_add(1, std::memory_order_relaxed);
      return;  // the stream has closed the socket
    }
    if (ec == net::error::eof) return do_shutdown();
    if (ec) return fail(ec, "read");
    buffer_.commit(bytes);
    do_scan_head();
  }

  // libcurl sends `Expect: 100-continue` before a body over 1 KiB and waits a second for the
  // interim answer: give it at once.
  void on_read_header(beast::error_code ec, std::size_t bytes) {
    bytes_in_ += bytes;
    header_bytes_in_ = bytes;
    if (ec) return on_read(ec, 0);
    if (auto refusal = h1::check_header(parser_->get())) return refuse(*refusal);
    if (parser_->is_done()) return on_read(ec, 0);
    if (h1::expects_continue(parser_->get())) {
      return net::async_write(
          stream_, net::buffer(continue_100.data(), continue_100.size()),
          beast::bind_front_handler(&Session::on_write_continue, shared_from_this()));
    }
    do_read_body();
  }

  void on_write_continue(beast::error_code ec, std::size_t bytes) {
    bytes_out_early_ += bytes;  // counted with the request, once its endpoint is known
    if (ec) return fail(ec, "write 100-continue");
    do_read_body();
  }

  void do_read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    bytes_in_ += bytes;
    if (ec == http::error::end_of_stream) return do_shutdown();
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      ep_ = Endpoint::other;
      count_request(bytes_in_);
      keep_alive_ = false;
      return send_response(ec == http::error::header_limit ? header_too_large_response(config())
                                                           : body_too_large_response(config()));
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      ep_ = Endpoint::other;
      count_request(bytes_in_);
      keep_alive_ = false;
      return send_error(http::status::bad_request,
                        fmt::format("Malformed HTTP request: {}.", ec.message()), "bad_request");
    }
    if (ec == beast::error::timeout) {
      stats().timeouts_request.fetch_add(1, std::memory_order_relaxed);
      return;  // the stream has closed the socket
    }
    if (ec) return fail(ec, "read");
    stream_.expires_never();
    start_ = Clock::now();
    handle_request(bytes_in_);
  }

  /** A request refused before its body was read: answered, then the connection closes. */
  void refuse(const h1::Refusal& r) {
    ep_ = Endpoint::other;
    count_request(bytes_in_);
    keep_alive_ = false;
    send_error(r.status, r.message, r.code);
  }

  void count_request(std::size_t bytes_in) {
    served_ = true;
    auto& e = stats().at(ep_);
    e.requests.fetch_add(1, std::memory_order_relaxed);
    e.bytes_in.fetch_add(bytes_in, std::memory_order_relaxed);
    e.header_bytes_in.fetch_add(header_bytes_in_, std::memory_order_relaxed);
    if (bytes_out_early_) e.bytes_out.fetch_add(bytes_out_early_, std::memory_order_relaxed);
  }

  // ---- carrying out what the application layer answered -----------------------------------

  void handle_request(std::size_t bytes_in) {
    // A WebSocket upgrade on a WebSocket path: the connection is the WebSocket session's now.
    if (is_ws_upgrade(parser_->get()))
      return run_ws_session(std::move(stream_), parser_->release(), bytes_in,
                            beast::buffers_to_string(buffer_.data()), state_);
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    http10_ = req.version() < 11;
    head_ = req.method() == http::verb::head;
    if (head_) req.method(http::verb::get);  // GET's answer without its body (RFC 9110 §9.3.2)
    if (req.target() == "*") return answer_asterisk(bytes_in);
    Outcome out = handle(req, *state_, start_);
    parser_.reset();  // the request's fields and body: a held stream keeps none of them
    ep_ = out.endpoint;
    count_request(bytes_in);
    if (auto* res = std::get_if<Response>(&out.plan)) {
      // HEAD is served wherever GET is (RFC 9110 §9.1): Allow says so (a 405's, a preflight's).
      if (res->count(http::field::allow) != 0)
        res->set(http::field::allow, h1::allow_with_head((*res)[http::field::allow]));
      return do_write_response(std::move(*res));
    }
    if (auto* hold = std::get_if<HoldPlan>(&out.plan)) {
      if (head_) {  // what the GET would answer now, without waiting
        return do_write_response(hold->answer(Clock::now()));
      }
      hold_ = std::move(*hold);
      return do_hold(hold_.until);
    }
    start_stream(std::move(std::get<StreamPlan>(out.plan)));
  }

  /** `OPTIONS *` (RFC 9112 §3.2.4): the server's methods. */
  void answer_asterisk(std::size_t bytes_in) {
    ep_ = Endpoint::other;
    count_request(bytes_in);
    Response res{http::status::no_content, 11};
    res.set(http::field::allow, h1::server_methods);
    res.prepare_payload();
    do_write_response(std::move(res));
  }

  // What an answer's head says beyond what the application layer wrote: the status line is
  // always HTTP/1.1 (RFC 9110 §2.5: HTTP/1.2 is answered as 1.1, and 1.0 too); an HTTP/1.0 client
  // is told whether the connection stays (RFC 9112 §9.3: keep-alive only when it asked). An
  // HTTP/1.1 client's answer is unchanged.
  template <class Head>
  void finish_head(Head& head) const {
    head.version(11);
    // RFC 9110 §8.6: no Content-Length on a 204 (Beast's prepare_payload writes a 0).
    if (head.result() == http::status::no_content) head.erase(http::field::content_length);
    if (!http10_) return;
    head.keep_alive(keep_alive_);
    if (keep_alive_) head.set(http::field::connection, "keep-alive");
  }

  /** Answers that end the connection: requests the parser refused. */
  void send_error(http::status status, std::string_view message, std::string_view code) {
    send_response(error_response(status, message, "invalid_request_error", {}, code));
  }

  void send_response(Response&& res) {
    res.keep_alive(false);
    do_write_response(std::move(res));
  }

  // The answer lives on the heap only while it is written: a held user keeps none.
  void do_write_response(Response&& res) {
    res_ = std::make_unique<Response>(std::move(res));
    finish_head(*res_);
    if (head_) res_->body().clear();  // Content-Length stays the GET's (RFC 9110 §8.6)
    stream_.expires_after(write_timeout());
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::on_write_response, shared_from_this()));
  }

  void on_write_response(beast::error_code ec, std::size_t bytes) {
    auto& e = stats().at(ep_);
    e.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    e.header_bytes_out.fetch_add(bytes - std::min(bytes, res_->body().size()),
                                 std::memory_order_relaxed);
    res_.reset();
    if (ec == beast::error::timeout) stats().timeouts_write.fetch_add(1, std::memory_order_relaxed);
    if (ec) return fail(ec, "write");
    if (!keep_alive_) return do_close();
    do_read();
  }

  // ---- held answers: stream:false and long polls -------------------------------------------

  void do_hold(Clock::time_point until) {
    release_read_buffer();
    busy_.set(Busy::held);
    do_watch();
    wait_until(Clock::now(), until, &Session::on_hold);
  }

  void on_hold(beast::error_code ec) {
    if (ec) return fail(ec, "hold");
    if (limit_due_) return on_lifetime_limit();
    busy_.set(Busy::none);
    Response res = hold_.answer(Clock::now());
    hold_ = {};
    do_write_response(std::move(res));
  }

  // ---- SSE ---------------------------------------------------------------------------------

  void start_stream(StreamPlan&& plan) {
    plan_ = std::move(plan);
    cursor_ = StreamCursor(plan_);
    // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): the stream is close-delimited, its end
    // is the connection's close (§6.3 item 8).
    if (http10_) keep_alive_ = false;
    plan_.head.keep_alive(keep_alive_);
    plan_.head.chunked(!http10_);
    finish_head(plan_.head);
    sse_sr_ = std::make_unique<http::response_serializer<http::empty_body>>(plan_.head);
    if (head_) return do_write_header();  // HEAD: the head a GET gets, at once, and no body
    release_read_buffer();
    busy_.set(Busy::stream);
    do_watch();
    const Clock::time_point now = Clock::now();
    if (plan_.headers_at <= now) return do_write_header();
    wait_until(now, plan_.headers_at, &Session::on_header_timer);
  }

  void on_header_timer(beast::error_code ec) {
    if (ec) return fail(ec, "timer");
    if (limit_due_) return on_lifetime_limit();
    do_write_header();
  }

  void do_write_header() {
    watchdog_.begin(Clock::now(), shared_from_this());
    http::async_write_header(
        stream_, *sse_sr_,
        beast::bind_front_handler(&Session::on_write_header, shared_from_this()));
  }

  void on_write_header(beast::error_code ec, std::size_t bytes) {
    watchdog_.end();
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    stats().at(ep_).header_bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return fail(ec, "write header");
    if (head_) return end_stream();
    // The head is out: its fields are not needed again (the events are framed here).
    sse_sr_.reset();
    plan_.head = {};
    do_next_event();
  }

  void do_next_event() {
    if (!cursor_.advance()) return do_write_last_chunk();
    const Clock::time_point now = Clock::now();
    if (now >= limit()) return on_lifetime_limit();  // events due back to back: no wait checks
    if (cursor_.due() <= now) return do_write_event(now);
    wait_until(now, cursor_.due(), &Session::on_event_timer);
  }

  void on_event_timer(beast::error_code ec) {
    if (ec) return fail(ec, "timer");
    if (limit_due_) return on_lifetime_limit();
    if (cursor_.cut_before_due()) return do_write_last_chunk();  // the job was cancelled
    do_write_event(Clock::now());
  }

  // One event = one HTTP chunk, framed here rather than with http::make_chunk, whose chunk-size
  // header is a heap-allocated shared_ptr: the hot path allocates and copies nothing. Lateness
  // is recorded once the write succeeds, so that its count equals events_written.
  void do_write_event(Clock::time_point now) {
    const std::string_view bytes = cursor_.bytes();
    late_ns_ = cursor_.lateness_ns(now, start_);
    if (http10_) {  // close-delimited: the event's bytes alone
      watchdog_.begin(now, shared_from_this());
      return net::async_write(
          stream_, net::buffer(bytes.data(), bytes.size()),
          beast::bind_front_handler(&Session::on_write_event, shared_from_this()));
    }
    auto [end, ec] = std::to_chars(chunk_head_.data(), chunk_head_.data() + chunk_head_.size() - 2,
                                   bytes.size(), 16);
    end[0] = '\r';
    end[1] = '\n';
    const std::array<net::const_buffer, 3> buffers{
        net::buffer(chunk_head_.data(), static_cast<std::size_t>(end + 2 - chunk_head_.data())),
        net::buffer(bytes.data(), bytes.size()), net::buffer(crlf.data(), crlf.size())};
    watchdog_.begin(now, shared_from_this());
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::on_write_event, shared_from_this()));
  }

  void on_write_event(beast::error_code ec, std::size_t bytes) {
    watchdog_.end();
    if (ec) return fail(ec, "write event");
    if (late_ns_ >= 0) stats().lateness.record(static_cast<std::uint64_t>(late_ns_));
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    cursor_.sent(stats());
    do_next_event();
  }

  void do_write_last_chunk() {
    if (http10_) return end_stream();  // close-delimited: the close ends it
    watchdog_.begin(Clock::now(), shared_from_this());
    net::async_write(stream_, net::buffer(last_chunk.data(), last_chunk.size()),
                     beast::bind_front_handler(&Session::on_write_last_chunk, shared_from_this()));
  }

  void on_write_last_chunk(beast::error_code ec, std::size_t bytes) {
    watchdog_.end();
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return fail(ec, "write last chunk");
    end_stream();
  }

  void end_stream() {
    busy_.set(Busy::none);
    sse_sr_.reset();
    plan_ = {};
    if (!keep_alive_) return do_shutdown();
    do_read();
  }

  // ---- while busy: the client's EOF and the lifetime limit ---------------------------------

  /** A held answer or a stream may last minutes: the read buffer (first_read_bytes, kept from
   *  the request's read) is given back when it holds nothing, and taken again for the next
   *  request. Under TLS the watch reads into it, so it stays. */
  void release_read_buffer() {
    if (buffer_.size() == 0 && !stream_.is_tls()) buffer_.shrink_to_fit();
  }

  // The lifetime limit has no timer of its own: each wait of a stream or a held answer on timer_
  // ends at the limit if that comes first (one pending wait a held user, not two), and a stream
  // whose events are due back to back checks it before each event. A write in flight is bounded
  // by the watchdog's write timeout, so the limit is overrun by at most that.
  Clock::time_point limit() const { return start_ + lifetime(); }

  // A wait longer than the watchdog's rest_after is a held user's: the watchdog rests, and the
  // wait's operation is allocated at its own size (held_wait.hpp). A paced token's short wait
  // takes asio's recycled block, as every write does: no malloc per event.
  void wait_until(Clock::time_point now, Clock::time_point at,
                  void (Session::*then)(beast::error_code)) {
    limit_due_ = limit() < at;
    timer_.expires_at(limit_due_ ? limit() : at);
    auto handler = beast::bind_front_handler(then, shared_from_this());
    if (at - now <= WriteWatchdog::rest_after) return timer_.async_wait(std::move(handler));
    watchdog_.rest();
    timer_.async_wait(held_wait(std::move(handler)));
  }

  void on_lifetime_limit() {
    stats().timeouts_lifetime.fetch_add(1, std::memory_order_relaxed);
    abort();
  }

  // ---- a stream's writes: the client must keep taking them ---------------------------------

  // A stream's writes go to the socket itself (no per-write timer on the hot path): the
  // watchdog checks that the write in flight completes within write_timeout.
  friend class ssebench::server::WriteWatchdog;
  void on_write_timeout() {
    stats().timeouts_write.fetch_add(1, std::memory_order_relaxed);
    abort();
  }

  // Readable while busy means the client sent EOF, a reset, or a pipelined request. Under TLS
  // the socket's bytes are records (TLS 1.3 encrypts even the close_notify alert): the watch is
  // a read through TLS, whose bytes stay in the buffer as the next request's.
  void do_watch() {
    if (watch_pending_) return;
    watch_pending_ = true;
    if (stream_.is_tls()) {
      return stream_.async_read_some(
          buffer_.prepare(first_read_bytes),
          beast::bind_front_handler(&Session::on_watch_tls, shared_from_this()));
    }
    stream_.socket().async_wait(
        tcp::socket::wait_read,
        held_wait(beast::bind_front_handler(&Session::on_watch, shared_from_this())));
  }

  void on_watch(beast::error_code ec) {
    watch_pending_ = false;
    if (busy_.get() == Busy::none) return;
    if (!ec) {
      char c = 0;
      const ssize_t n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request: read once this answer is out
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return do_watch();
    }
    abort();
  }

  void on_watch_tls(beast::error_code ec, std::size_t bytes) {
    watch_pending_ = false;
    buffer_.commit(bytes);
    if (busy_.get() != Busy::none) {
      if (ec) return abort();  // the client left (close_notify, EOF, reset)
      return;                  // a pipelined request: read once this answer is out
    }
    // The stream has ended: a read or the close waits for this read (cancelled, or with bytes).
    switch (std::exchange(after_watch_, AfterWatch::nothing)) {
      case AfterWatch::nothing:
        return;
      case AfterWatch::shutdown:
        return do_shutdown();
      case AfterWatch::read:
        if (ec == net::error::operation_aborted) ec = {};
        if (ec && bytes == 0) return on_first_bytes(ec, 0);
        return do_read();
    }
  }

  // TLS allows one read at a time: the watch's read (which has no timeout) is cancelled, and
  // what came after the stream (`then`) starts from its handler. TLS keeps a record read in part
  // for the next read.
  void end_watch(AfterWatch then) {
    after_watch_ = then;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  /** Ends the connection now: every pending operation fails and the session is freed. */
  void abort() {
    beast::error_code ignored;
    // A close-delimited stream ends with the close: one cut short is reset instead, the
    // connection error by which an HTTP/1.0 client tells it from a complete one (RFC 9112 §8).
    if (http10_ && busy_.get() == Busy::stream) {
      stream_.socket().set_option(net::socket_base::linger(true, 0), ignored);
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    stream_.socket().close(ignored);
    timer_.cancel();
    watchdog_.cancel();
  }

  // ---- closing -----------------------------------------------------------------------------

  // TLS: close_notify first (a close-delimited HTTP/1.0 stream is complete only with it).
  void do_shutdown() {
    if (watch_pending_ && stream_.is_tls()) return end_watch(AfterWatch::shutdown);
    stream_.async_shutdown(milliseconds(config().close_linger_ms), [self = shared_from_this()] {});
  }

  // After an answer that closes the connection, read what the client still sends (for at most
  // close_linger_ms) so that closing with unread data does not reset the connection before the
  // client has read the answer.
  void do_close() {
    do_shutdown();
    if (stream_.is_tls()) return;  // the wait for the client's close_notify drains it
    buffer_.clear();
    stream_.expires_after(milliseconds(config().close_linger_ms));
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&Session::on_drain, shared_from_this()));
  }

  void on_drain(beast::error_code ec, std::size_t) {
    if (ec) return;
    do_drain();
  }

  Connection stream_;
  std::shared_ptr<State> state_;
  Timer timer_;             // pacing (event times, held answers) and the lifetime limit
  WriteWatchdog watchdog_;  // write_timeout_ms of a stream's writes
  beast::flat_buffer buffer_;
  // On the heap, and only while needed: a held stream keeps neither (288 and 400 bytes inline).
  std::unique_ptr<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> res_;  // the answer being written
  Endpoint ep_ = Endpoint::other;
  bool keep_alive_ = true;
  bool served_ = false;              // a request has been answered: the next may be long idle
  bool idle_ = false;                // do_idle's wait is pending
  bool awake_ = false;               // the socket is readable: do_read reads, not waits
  bool http10_ = false;              // the current request is HTTP/1.0
  bool head_ = false;                // the current request is HEAD (read as GET)
  Clock::time_point start_;          // the current request was fully read
  std::size_t bytes_in_ = 0;         // bytes the parser consumed for the current request
  std::size_t header_bytes_in_ = 0;  // of those, the request line and header fields
  std::size_t bytes_out_early_ = 0;  // a 100 Continue written before the endpoint was known

  BusyGauge busy_;  // streams_active or requests_held, while a stream plays or an answer waits
  bool limit_due_ = false;  // timer_'s wait ends at the lifetime limit, before what it waits for
  bool watch_pending_ = false;
  AfterWatch after_watch_ = AfterWatch::nothing;  // TLS: what waits for the watch's read

  HoldPlan hold_;  // the held answer

  // the SSE stream
  StreamPlan plan_;
  std::unique_ptr<http::response_serializer<http::empty_body>> sse_sr_;
  StreamCursor cursor_;        // which event, when, with which id
  std::int64_t late_ns_ = -1;  // the event being written: its lateness, -1 when not recorded
  std::array<char, 2 * sizeof(std::size_t) + 2> chunk_head_{};  // hex size + CRLF
};

}  // namespace

void serve_http(Connection&& conn, std::shared_ptr<State> state) {
  std::make_shared<Session>(std::move(conn), std::move(state))->run();
}

}  // namespace ssebench::server
