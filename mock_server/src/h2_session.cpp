#include "h2_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>

#include "busy_gauge.hpp"
#include "session_errors.hpp"
#include "ssebench/server/stream_cursor.hpp"

namespace ssebench::server {

bool starts_h2(std::string_view first_bytes) {
  const std::size_t n = std::min(first_bytes.size(), h2_preface.size());
  return n >= 3 && first_bytes.substr(0, n) == h2_preface.substr(0, n);
}

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::milliseconds;

/** Bytes asked of the socket per read. */
constexpr std::size_t read_buffer_bytes = 16 * 1024;
/** nghttp2's output gathered into one write, at most about this much (one write in flight). */
constexpr std::size_t write_batch_bytes = 64 * 1024;
/** Every frame starts with a 9-byte header (RFC 9113 §4.1). */
constexpr std::size_t frame_header_bytes = 9;
/** Per header field in the header list size (RFC 9113 §6.5.2), on top of name and value. */
constexpr std::size_t header_field_overhead = 32;

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2): HTTP/1.1's connection-specific headers. */
bool is_connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "te";
}

/** A response's header block for nghttp2: :status, then its fields lower-cased, HTTP/1.1's
 *  connection-specific ones dropped. The nv entries point into `text`. */
class HeaderBlock {
 public:
  template <class Fields>
  HeaderBlock(unsigned status, const Fields& fields) {
    text_.emplace_back(":status", std::to_string(status));
    for (const auto& f : fields) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (is_connection_specific(name)) continue;
      // RFC 9110 §8.6: no Content-Length in a 1xx or 204 answer (the preflight's 204).
      if ((status < 200 || status == 204) && name == "content-length") continue;
      text_.emplace_back(std::move(name), std::string(f.value()));
    }
    for (auto& [name, value] : text_)
      nv_.push_back({bytes(name), bytes(value), name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  const nghttp2_nv* data() const { return nv_.data(); }
  std::size_t size() const { return nv_.size(); }

 private:
  static std::uint8_t* bytes(std::string& s) { return reinterpret_cast<std::uint8_t*>(s.data()); }
  std::vector<std::pair<std::string, std::string>> text_;
  std::vector<nghttp2_nv> nv_;
};

/** One request stream and what goes out on it. */
struct H2Stream {
  H2Stream(std::int32_t stream_id, Stats& s, const Executor& ex)
      : id(stream_id), busy(s), pace(ex), deadline(ex) {}
  H2Stream(const H2Stream&) = delete;
  H2Stream& operator=(const H2Stream&) = delete;

  std::int32_t id;
  BusyGauge busy;  // streams_active or requests_held, while it plays or holds
  Request req;
  std::size_t header_list_bytes = 0;  // RFC 9113 §6.5.2: name + value + 32 per field
  bool answered = false;              // handled, or refused: request bytes that follow are dropped
  bool counted = false;               // counted under `ep`; until then its bytes wait here
  std::size_t bytes_in = 0, header_bytes_in = 0, bytes_out = 0, header_bytes_out = 0;
  Endpoint ep = Endpoint::other;
  Clock::time_point start;  // the request was read completely
  Timer pace;               // the stream's headers and events, a held answer
  Timer deadline;           // request_timeout_ms, then stream_lifetime_limit_ms
  std::uint64_t deadline_generation = 0;

  std::string body;  // a Response's body
  std::size_t body_pos = 0;
  HoldPlan hold;
  StreamPlan plan;
  StreamCursor cursor;
  std::string_view event;  // the event going out (StreamCursor::bytes())
  std::size_t event_pos = 0;
  bool waiting = false;  // for the pace timer: the data provider is deferred
  bool ended = false;    // every event out, or the job's cut: END_STREAM next
};

/**
 * One HTTP/2 connection: nghttp2's server session fed by Asio reads (mem_recv) and drained into
 * Asio writes (mem_send), one write in flight. Each request stream goes to the same handle() as
 * HTTP/1.1's and its plan is carried out per stream: many at once on the connection.
 *
 * Limits as in HTTP/1.1, per stream where HTTP/2 has streams: no stream open for
 * idle_timeout_ms closes the connection (GOAWAY NO_ERROR); a request not complete within
 * request_timeout_ms and a stream or held answer past stream_lifetime_limit_ms get
 * RST_STREAM CANCEL; a write not done after write_timeout_ms closes the connection.
 */
class H2Session : public std::enable_shared_from_this<H2Session> {
 public:
  H2Session(Connection&& conn, std::shared_ptr<State> state)
      : conn_(std::move(conn)),
        state_(std::move(state)),
        idle_(conn_.get_executor()),
        watchdog_(conn_.get_executor()) {
    stats().connections_open.fetch_add(1, std::memory_order_relaxed);
    stats().connections_h2.fetch_add(1, std::memory_order_relaxed);
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, &H2Session::on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Session::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Session::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Session::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Session::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &H2Session::on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Session::on_stream_close);
    nghttp2_session_server_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    const std::array<nghttp2_settings_entry, 1> settings{
        {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, config().h2_max_concurrent_streams}}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  }

  ~H2Session() {
    streams_.clear();
    nghttp2_session_del(session_);
    stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void run(std::string already_read) {
    arm_idle();
    feed(already_read.data(), already_read.size());
    do_write();
    do_read();
  }

 private:
  const Config& config() const { return state_->config; }
  Stats& stats() { return state_->stats; }
  static H2Session& self(void* user) { return *static_cast<H2Session*>(user); }

  H2Stream* find(std::int32_t id) {
    const auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  // ---- reading ------------------------------------------------------------------------------

  void do_read() {
    if (closed_ || !nghttp2_session_want_read(session_)) return;
    conn_.async_read_some(
        net::buffer(read_buf_),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  // The client's EOF or a reset ends the connection cleanly: its streams' timers stop.
  void on_read(error_code ec, std::size_t n) {
    if (ec) {
      fail(ec, "h2 read");
      return close();
    }
    feed(read_buf_.data(), n);
    do_write();
    do_read();
  }

  // Bytes nghttp2 refuses outright (a bad preface, a flood) end the session with GOAWAY
  // PROTOCOL_ERROR; frames it finds wrong it answers itself (GOAWAY or RST_STREAM).
  void feed(const char* data, std::size_t n) {
    if (closed_ || n == 0) return;
    const std::size_t preface_left = h2_preface.size() - std::min(fed_, h2_preface.size());
    stats().h2_connection_bytes_in.fetch_add(std::min(n, preface_left), std::memory_order_relaxed);
    fed_ += n;
    const auto rv =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), n);
    if (rv < 0) nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  }

  // ---- writing ------------------------------------------------------------------------------

  void do_write() {
    if (writing_ || closed_) return;
    out_.clear();
    while (out_.size() < write_batch_bytes) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return close();
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (out_.empty()) {
      // GOAWAY sent, or the client's: nothing more will be read or written.
      if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) close();
      return;
    }
    writing_ = true;
    write_started_ = Clock::now();
    if (!watchdog_armed_) arm_watchdog(write_started_ + write_timeout());
    net::async_write(
        conn_, net::buffer(out_),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (ec) {
      fail(ec, "h2 write");
      return close();
    }
    do_write();
  }

  Clock::duration write_timeout() const { return milliseconds(config().write_timeout_ms); }

  // One watchdog, armed at most once per write_timeout, as in the HTTP/1.1 session.
  void arm_watchdog(Clock::time_point at) {
    watchdog_armed_ = true;
    watchdog_.expires_at(at);
    watchdog_.async_wait([weak = weak_from_this()](error_code ec) {
      if (auto self = weak.lock()) self->on_watchdog(ec);
    });
  }

  void on_watchdog(error_code ec) {
    watchdog_armed_ = false;
    if (ec || !writing_ || closed_) return;
    if (Clock::now() - write_started_ < write_timeout())
      return arm_watchdog(write_started_ + write_timeout());
    stats().timeouts_write.fetch_add(1, std::memory_order_relaxed);
    close();
  }

  // ---- the connection without streams -------------------------------------------------------

  void arm_idle() {
    idle_.expires_after(milliseconds(config().idle_timeout_ms));
    idle_.async_wait([weak = weak_from_this()](error_code ec) {
      if (auto self = weak.lock()) self->on_idle(ec);
    });
  }

  void on_idle(error_code ec) {
    if (ec || closed_ || !streams_.empty()) return;
    stats().timeouts_idle.fetch_add(1, std::memory_order_relaxed);
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    do_write();
  }

  /** Ends the connection now; pending handlers fail and the session is freed. */
  void close() {
    if (closed_) return;
    closed_ = true;
    conn_.close();
    idle_.cancel();
    watchdog_.cancel();
    streams_.clear();  // their timers stop
  }

  // ---- nghttp2's callbacks: counting bytes --------------------------------------------------

  static bool is_header_frame(std::uint8_t type) {
    return type == NGHTTP2_HEADERS || type == NGHTTP2_CONTINUATION;
  }

  static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user) {
    H2Session& s = self(user);
    // A HEADERS frame whose stream never opened (refused beyond the stream limit): the
    // connection's bytes.
    s.stats().h2_connection_bytes_in.fetch_add(std::exchange(s.pending_header_bytes_, 0),
                                               std::memory_order_relaxed);
    const std::size_t bytes = hd->length + frame_header_bytes;
    const bool header = is_header_frame(hd->type);
    if (H2Stream* st = hd->stream_id ? s.find(hd->stream_id) : nullptr) {
      if (!st->counted) {
        st->bytes_in += bytes;
        if (header) st->header_bytes_in += bytes;
        return 0;
      }
      auto& e = s.stats().at(st->ep);
      e.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
      if (header) e.header_bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    } else if (hd->type == NGHTTP2_HEADERS && hd->stream_id) {
      s.pending_header_bytes_ = bytes;  // a new stream's: on_begin_headers opens it
    } else {
      s.stats().h2_connection_bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    }
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Session& s = self(user);
    const std::size_t bytes = frame->hd.length + frame_header_bytes;
    const bool header = is_header_frame(frame->hd.type);
    H2Stream* st = frame->hd.stream_id ? s.find(frame->hd.stream_id) : nullptr;
    if (!st) {
      s.stats().h2_connection_bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    } else if (!st->counted) {
      st->bytes_out += bytes;
      if (header) st->header_bytes_out += bytes;
    } else {
      auto& e = s.stats().at(st->ep);
      e.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
      if (header) e.header_bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    }
    return 0;
  }

  // ---- nghttp2's callbacks: reading a request -----------------------------------------------

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Session& s = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto st = std::make_unique<H2Stream>(frame->hd.stream_id, s.stats(), s.conn_.get_executor());
    st->bytes_in = st->header_bytes_in = std::exchange(s.pending_header_bytes_, 0);
    st->req.version(11);  // what handle() reads as keep-alive, and echoes in its answers
    s.arm_deadline(*st, Clock::now() + milliseconds(s.config().request_timeout_ms));
    s.streams_[frame->hd.stream_id] = std::move(st);
    s.idle_.cancel();
    return 0;
  }

  // Over header_limit_bytes, fields are no longer kept: the stream gets 431 once its header
  // block has ended (nghttp2 has decoded it; HPACK's state stays right for the next streams).
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    H2Session& s = self(user);
    H2Stream* st = s.find(frame->hd.stream_id);
    if (!st || st->answered || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    st->header_list_bytes += namelen + valuelen + header_field_overhead;
    if (st->header_list_bytes > s.config().header_limit_bytes) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method")
      st->req.method_string(v);
    else if (n == ":path")
      st->req.target(v);
    else if (n == ":authority")
      st->req.set(http::field::host, v);
    else if (!n.starts_with(':'))
      st->req.insert(n, v);
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user) {
    H2Session& s = self(user);
    H2Stream* st = s.find(stream_id);
    if (!st || st->answered) return 0;
    if (st->req.body().size() + len > s.config().body_limit_bytes) {
      s.refuse(*st, body_too_large_response(s.config()));
      return 0;
    }
    st->req.body().append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Session& s = self(user);
    H2Stream* st = s.find(frame->hd.stream_id);
    if (!st || st->answered) return 0;
    const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && st->header_list_bytes > s.config().header_limit_bytes)
      s.refuse(*st, header_too_large_response(s.config()));
    else if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end)
      s.dispatch(*st);
    return 0;
  }

  // A client's RST_STREAM, the end of an answer, or a stream nghttp2 closed itself.
  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t, void* user) {
    H2Session& s = self(user);
    if (s.streams_.erase(stream_id) && s.streams_.empty() && !s.closed_) s.arm_idle();
    return 0;
  }

  // ---- carrying out what the application layer answered -------------------------------------

  void count_request(H2Stream& st) {
    auto& e = stats().at(st.ep);
    e.requests.fetch_add(1, std::memory_order_relaxed);
    e.bytes_in.fetch_add(st.bytes_in, std::memory_order_relaxed);
    e.header_bytes_in.fetch_add(st.header_bytes_in, std::memory_order_relaxed);
    e.bytes_out.fetch_add(st.bytes_out, std::memory_order_relaxed);
    e.header_bytes_out.fetch_add(st.header_bytes_out, std::memory_order_relaxed);
    st.counted = true;
  }

  /** A request over a limit: its answer at once; what it still sends is dropped. */
  void refuse(H2Stream& st, Response&& res) {
    st.answered = true;
    st.ep = Endpoint::other;
    count_request(st);
    disarm_deadline(st);
    submit_answer(st, std::move(res));
  }

  void dispatch(H2Stream& st) {
    st.answered = true;
    st.start = Clock::now();
    if (!st.req.body().empty() || st.req.method() == http::verb::post)
      st.req.content_length(st.req.body().size());
    Outcome out = handle(st.req, *state_, st.start);
    st.ep = out.endpoint;
    count_request(st);
    if (auto* res = std::get_if<Response>(&out.plan)) {
      disarm_deadline(st);
      return submit_answer(st, std::move(*res));
    }
    arm_deadline(st, st.start + milliseconds(config().stream_lifetime_limit_ms));
    if (auto* hold = std::get_if<HoldPlan>(&out.plan)) {
      st.hold = std::move(*hold);
      st.busy.set(Busy::held);
      return wait_pace(st, st.hold.until, &H2Session::on_hold);
    }
    st.plan = std::move(std::get<StreamPlan>(out.plan));
    st.cursor = StreamCursor(st.plan);
    st.busy.set(Busy::stream);
    if (st.plan.headers_at <= st.start) return submit_stream_head(st);
    wait_pace(st, st.plan.headers_at, &H2Session::on_stream_head);
  }

  void submit_answer(H2Stream& st, Response&& res) {
    st.body = std::move(res.body());
    st.body_pos = 0;
    const HeaderBlock head(res.result_int(), res);
    nghttp2_data_provider provider{};
    provider.source.ptr = &st;
    provider.read_callback = &H2Session::read_body;
    const bool body = !st.body.empty() && st.req.method() != http::verb::head;
    nghttp2_submit_response(session_, st.id, head.data(), head.size(), body ? &provider : nullptr);
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& st = *static_cast<H2Stream*>(source->ptr);
    const std::size_t n = std::min(length, st.body.size() - st.body_pos);
    std::memcpy(buf, st.body.data() + st.body_pos, n);
    st.body_pos += n;
    if (st.body_pos == st.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  // ---- per-stream timers --------------------------------------------------------------------

  using PaceHandler = void (H2Session::*)(H2Stream&);

  /** Calls `then` for the stream at `at`, unless the stream has closed by then. */
  void wait_pace(H2Stream& st, Clock::time_point at, PaceHandler then) {
    st.pace.expires_at(at);
    st.pace.async_wait([self = shared_from_this(), id = st.id, then](error_code ec) {
      if (ec || self->closed_) return;
      if (H2Stream* s = self->find(id)) (self.get()->*then)(*s);
      self->do_write();
    });
  }

  void arm_deadline(H2Stream& st, Clock::time_point at) {
    const std::uint64_t generation = ++st.deadline_generation;
    st.deadline.expires_at(at);
    st.deadline.async_wait([self = shared_from_this(), id = st.id, generation](error_code ec) {
      if (ec || self->closed_) return;
      H2Stream* s = self->find(id);
      if (!s || s->deadline_generation != generation) return;
      self->on_deadline(*s);
      self->do_write();
    });
  }

  void disarm_deadline(H2Stream& st) {
    ++st.deadline_generation;
    st.deadline.cancel();
  }

  void on_deadline(H2Stream& st) {
    auto& counter = st.answered ? stats().timeouts_lifetime : stats().timeouts_request;
    counter.fetch_add(1, std::memory_order_relaxed);
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_CANCEL);
  }

  void on_hold(H2Stream& st) {
    st.busy.set(Busy::none);
    Response res = st.hold.answer(Clock::now());
    st.hold = {};
    disarm_deadline(st);
    submit_answer(st, std::move(res));
  }

  // ---- SSE: one event per DATA frame, at its due time ---------------------------------------

  void on_stream_head(H2Stream& st) { submit_stream_head(st); }

  void submit_stream_head(H2Stream& st) {
    const HeaderBlock head(st.plan.head.result_int(), st.plan.head);
    nghttp2_data_provider provider{};
    provider.source.ptr = &st;
    provider.read_callback = &H2Session::read_event;
    nghttp2_submit_response(session_, st.id, head.data(), head.size(), &provider);
  }

  // nghttp2 asks for a DATA frame's payload: the rest of the event going out, or the next event
  // if it is due; else the stream waits (DEFERRED) until its pace timer resumes it. A frame
  // never carries bytes of two events, so that each event leaves in its own DATA frame(s).
  static ssize_t read_event(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                            std::uint32_t* flags, nghttp2_data_source* source, void* user) {
    H2Session& s = self(user);
    auto& st = *static_cast<H2Stream*>(source->ptr);
    if (st.event_pos == st.event.size() && !st.ended && !st.waiting) s.next_event(st);
    if (st.event_pos == st.event.size()) {
      if (!st.ended) return NGHTTP2_ERR_DEFERRED;
      *flags |= NGHTTP2_DATA_FLAG_EOF;  // the last event or the job's cut: END_STREAM
      st.busy.set(Busy::none);
      return 0;
    }
    const std::size_t n = std::min(length, st.event.size() - st.event_pos);
    std::memcpy(buf, st.event.data() + st.event_pos, n);
    st.event_pos += n;
    return static_cast<ssize_t>(n);
  }

  void next_event(H2Stream& st) {
    if (!st.cursor.advance()) {
      st.ended = true;
      return;
    }
    const Clock::time_point now = Clock::now();
    if (st.cursor.due() <= now) return load_event(st, now);
    st.waiting = true;
    wait_pace(st, st.cursor.due(), &H2Session::on_event_timer);
  }

  void on_event_timer(H2Stream& st) {
    st.waiting = false;
    if (st.cursor.cut_before_due())
      st.ended = true;  // the job was cancelled
    else
      load_event(st, Clock::now());
    nghttp2_session_resume_data(session_, st.id);
  }

  // The event is handed to nghttp2 now and written in the write that follows at once: it
  // counts as written (and its lateness is taken) here, where its write starts.
  void load_event(H2Stream& st, Clock::time_point now) {
    st.event = st.cursor.bytes();
    st.event_pos = 0;
    if (const std::int64_t late = st.cursor.lateness_ns(now, st.start); late >= 0)
      stats().lateness.record(static_cast<std::uint64_t>(late));
    st.cursor.sent(stats());
  }

  Connection conn_;
  std::shared_ptr<State> state_;
  nghttp2_session* session_ = nullptr;
  Timer idle_;      // idle_timeout_ms with no stream open
  Timer watchdog_;  // write_timeout_ms of the write in flight
  std::map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
  std::array<char, read_buffer_bytes> read_buf_{};
  std::string out_;      // the write in flight
  std::size_t fed_ = 0;  // bytes given to nghttp2 so far (the first 24 are the preface)
  std::size_t pending_header_bytes_ = 0;  // a new stream's HEADERS frame, before it opens
  bool writing_ = false;
  bool watchdog_armed_ = false;
  bool closed_ = false;
  Clock::time_point write_started_;
};

}  // namespace

void serve_h2(Connection&& conn, std::shared_ptr<State> state, std::string already_read) {
  auto session = std::make_shared<H2Session>(std::move(conn), std::move(state));
  session->run(std::move(already_read));
}

}  // namespace ssebench::server
