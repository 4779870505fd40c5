#include "ws_session.hpp"

#include <algorithm>
#include <array>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "busy_gauge.hpp"
#include "held_wait.hpp"
#include "session_errors.hpp"
#include "ssebench/server/stream_cursor.hpp"
#include "write_watchdog.hpp"

namespace ssebench::server {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

/** Client messages read ahead while a turn plays; then reading pauses until a turn ends. */
constexpr std::size_t queue_limit = 8;

/** Where a WebSocket path's turns go, and the `type` a turn's message must carry. */
struct WsApi {
  std::string_view path;
  std::string_view create_type;
};
constexpr WsApi ws_apis[] = {{"/v1/responses", "response.create"},
                             {"/v1/chat/completions", "chat.completions.create"}};

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

/** The value of `name` (an ssebench header) in the target's query, if there. */
std::optional<std::string_view> in_query(std::string_view target, std::string_view name) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  for (std::string_view rest = target.substr(q + 1); !rest.empty();) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return std::nullopt;
}

const WsApi* ws_api_of(const Request& req) {
  const std::string_view path = path_of(req.target());
  for (const WsApi& a : ws_apis)
    if (a.path == path) return &a;
  return nullptr;
}

/**
 * An error answer as the error event OpenAI sends over a WebSocket:
 * {"type":"error","status":N,"error":{...the answer's error object...}}.
 */
std::string error_event(const Response& res) {
  json::error_code ec;
  json::value body = json::parse(res.body(), ec);
  json::object event{{"type", "error"}, {"status", res.result_int()}};
  if (!ec && body.is_object() && body.as_object().contains("error"))
    event["error"] = body.as_object()["error"];
  else
    event["error"] = {{"message", res.body()}, {"type", "server_error"}};
  return json::serialize(event);
}

Response invalid(std::string_view message, std::string_view param, std::string_view code) {
  return error_response(http::status::bad_request, message, "invalid_request_error", param, code);
}

/**
 * What every turn's request takes from the upgrade, kept instead of the upgrade (whose header
 * fields are an allocation each): its Host and the replay speed and epoch it set for every turn
 * on the connection. A browser cannot set a header on an upgrade: the URL's ?x-ssebench-speed=S
 * (an ssebench extension) stands for it, and ?x-ssebench-epoch-us=US likewise.
 */
struct TurnFields {
  explicit TurnFields(const Request& upgrade) : host(upgrade[http::field::host]) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (const auto h = upgrade.find(names[i]); h != upgrade.end())
        values[i] = std::string(h->value());
      else if (const auto q = in_query(upgrade.target(), names[i]))
        values[i] = std::string(*q);
    }
  }
  static constexpr std::array<std::string_view, 2> names{"x-ssebench-speed", "x-ssebench-epoch-us"};
  std::string host;
  std::array<std::optional<std::string>, 2> values;  // names[i]'s, when the upgrade set it
};

/** A client message turned into the request handle() answers, or the error it earned. */
std::variant<Request, Response> to_request(std::string_view text, const WsApi& api,
                                           const TurnFields& upgrade) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return invalid("The message is not a JSON object: every client event is JSON text.", {},
                   "invalid_json");
  json::object& msg = v.as_object();
  const json::value* type = msg.if_contains("type");
  if (!type || !type->is_string())
    return invalid(fmt::format("Missing event 'type': expected '{}'.", api.create_type), "type",
                   "missing_required_parameter");
  if (type->get_string() != api.create_type)
    return invalid(fmt::format("Unknown event type '{}': expected '{}'.",
                               std::string_view(type->get_string()), api.create_type),
                   "type", "invalid_value");
  if (const json::value* bg = msg.if_contains("background"); bg && bg->is_bool() && bg->get_bool())
    return invalid("'background' is not supported over WebSocket.", "background",
                   "unsupported_value");
  msg.erase("type");
  msg["stream"] = true;  // implicit over a WebSocket
  Request req{http::verb::post, api.path, 11};
  req.set(http::field::host, upgrade.host);
  req.set(http::field::content_type, "application/json");
  for (std::size_t i = 0; i < upgrade.names.size(); ++i)
    if (upgrade.values[i]) req.set(upgrade.names[i], *upgrade.values[i]);
  req.body() = json::serialize(msg);
  req.prepare_payload();
  return req;
}

/** A client message: its text, or a binary frame (refused with close code 1003). */
struct Message {
  std::string text;
  bool binary = false;
};

/**
 * One WebSocket connection. Turns run one at a time, in the order their messages came
 * (OpenAI's WebSocket mode runs a connection's responses sequentially): a message that comes
 * while a turn plays waits for it. The socket is read throughout, so a client that leaves
 * frees its turn at once.
 *
 * Limits as the HTTP session's: no message between turns (idle_timeout_ms: closed with 1001),
 * a write the client does not take (write_timeout_ms), a turn (stream_lifetime_limit_ms), a
 * message over body_limit_bytes (closed with 1009), and the handshakes (write_timeout_ms).
 *
 * With Config::ws_ping_ms, a connection that has written nothing for that long (in a turn's
 * silence or between turns) gets a ping; the client's pong is read with its messages. Pings do
 * not hold off the idle timeout, which waits for the client's messages.
 */
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Connection&& conn, std::string already_read, Request&& upgrade, const WsApi& api,
            std::shared_ptr<State> state)
      : ws_(std::move(conn)),
        upgrade_(std::make_unique<Request>(std::move(upgrade))),
        turn_fields_(*upgrade_),
        api_(api),
        state_(std::move(state)),
        timer_(ws_.get_executor()),
        idle_(ws_.get_executor()),
        ping_timer_(ws_.get_executor()),
        watchdog_(ws_.get_executor(), write_timeout()),
        playing_(state_->stats) {
    ws_.next_layer().set_already_read(std::move(already_read));
    counted_in_ = ws_.next_layer().bytes_in();  // the HTTP session's bytes, counted by it
    counted_out_ = ws_.next_layer().bytes_out();
    stats().connections_open.fetch_add(1, std::memory_order_relaxed);
  }

  ~WsSession() {
    count_bytes();
    stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void run(std::size_t upgrade_bytes) {
    endpoint().bytes_in.fetch_add(upgrade_bytes, std::memory_order_relaxed);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = write_timeout();  // the upgrade's answer and the close handshake
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.read_message_max(config().body_limit_bytes);
    ws_.auto_fragment(false);  // one event, one frame
    // Called by the read in progress for each control frame: a pong is counted, its bytes too.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::pong) return;
      stats().ws_pongs_received.fetch_add(1, std::memory_order_relaxed);
      count_bytes();
    });
    ws_.async_accept(*upgrade_,
                     beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

 private:
  const Config& config() const { return state_->config; }
  Stats& stats() { return state_->stats; }
  EndpointCounters& endpoint() { return stats().at(Endpoint::websocket); }
  Clock::duration write_timeout() const { return milliseconds(config().write_timeout_ms); }

  /** Adds what crossed the socket since the last call to the endpoint's bytes. */
  void count_bytes() {
    const Connection& s = ws_.next_layer();
    endpoint().bytes_in.fetch_add(s.bytes_in() - counted_in_, std::memory_order_relaxed);
    endpoint().bytes_out.fetch_add(s.bytes_out() - counted_out_, std::memory_order_relaxed);
    counted_in_ = s.bytes_in();
    counted_out_ = s.bytes_out();
  }

  void on_accept(beast::error_code ec) {
    upgrade_.reset();  // its fields are an allocation each: turn_fields_ has what turns need
    count_bytes();
    if (ec) return fail(ec, "websocket accept");
    wrote(Clock::now());  // the 101
    arm_idle();
    do_read();
  }

  // ---- reading client messages, also while a turn plays -------------------------------------

  void do_read() {
    if (reading_ || closing_ || queue_.size() >= queue_limit) return;
    reading_ = true;
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    count_bytes();
    // closed: the client's close frame (Beast has answered it); message_too_big: Beast has
    // closed with 1009; anything else: the client is gone.
    if (ec) {
      fail(ec, "websocket read");
      return abort();
    }
    endpoint().requests.fetch_add(1, std::memory_order_relaxed);
    queue_.push_back({beast::buffers_to_string(buffer_.data()), !ws_.got_text()});
    buffer_.consume(buffer_.size());
    idle_.cancel();
    if (queue_.back().binary) closing_ = true;  // read no further: the connection ends there
    if (!busy_) next_message();
    do_read();
  }

  // ---- one message at a time ---------------------------------------------------------------

  void next_message() {
    if (queue_.empty()) {
      if (!closing_) arm_idle();
      return do_read();
    }
    Message msg = std::move(queue_.front());
    queue_.pop_front();
    if (msg.binary)
      return do_close(websocket::close_code::unknown_data,
                      "binary frames are not supported: send JSON text");
    auto req = to_request(msg.text, api_, turn_fields_);
    if (auto* res = std::get_if<Response>(&req)) return write_error(*res);
    Outcome out = handle(std::get<Request>(req), *state_, Clock::now());
    if (auto* plan = std::get_if<StreamPlan>(&out.plan)) return start_turn(std::move(*plan));
    if (auto* res = std::get_if<Response>(&out.plan)) return write_error(*res);
    // A held answer is a stream:false one, and a turn always streams.
    write_error(error_response(http::status::internal_server_error,
                               "This request has no streamed answer.", "server_error"));
  }

  void write_error(const Response& res) {
    busy_ = true;
    frame_ = error_event(res);
    begin_write(Clock::now());
    ws_.async_write(net::buffer(frame_),
                    beast::bind_front_handler(&WsSession::on_write_error, shared_from_this()));
  }

  void on_write_error(beast::error_code ec, std::size_t) {
    end_write();
    count_bytes();
    if (ec) return fail(ec, "websocket write error event");
    busy_ = false;
    next_message();
  }

  // ---- a turn: the recording's events, one text frame each, at their times -----------------

  void start_turn(StreamPlan&& plan) {
    busy_ = true;
    playing_.set(Busy::stream);
    plan_ = std::move(plan);
    plan_.heartbeat = {};  // SSE comments do not belong in a frame: WebSocket has its pings
    plan_.head = {};       // nor do HTTP header fields: each is an allocation, kept all turn
    cursor_ = StreamCursor(plan_);
    turn_start_ = Clock::now();
    do_next_event();
  }

  // The turn's lifetime limit has no timer of its own (as the HTTP session's): a wait for the
  // next event ends at the limit if that comes first, and events due back to back check it.
  Clock::time_point limit() const {
    return turn_start_ + milliseconds(config().stream_lifetime_limit_ms);
  }

  void do_next_event() {
    if (!cursor_.advance()) return end_turn();
    const Clock::time_point now = Clock::now();
    if (now >= limit()) return on_lifetime_limit();
    if (cursor_.due() <= now) return do_write_event(now);
    const Clock::time_point at = std::min(cursor_.due(), limit());
    limit_due_ = at < cursor_.due();
    timer_.expires_at(at);
    // Held (held_wait.hpp) only when long: a paced token's wait takes asio's recycled block.
    auto handler = beast::bind_front_handler(&WsSession::on_event_timer, shared_from_this());
    if (at - now <= WriteWatchdog::rest_after) return timer_.async_wait(std::move(handler));
    watchdog_.rest();
    timer_.async_wait(held_wait(std::move(handler)));
  }

  void on_event_timer(beast::error_code ec) {
    if (ec) return fail(ec, "websocket timer");
    if (limit_due_) return on_lifetime_limit();
    if (cursor_.cut_before_due()) return end_turn();  // the job was cancelled
    do_write_event(Clock::now());
  }

  // Lateness is recorded once the write succeeds, so that its count equals events_written.
  void do_write_event(Clock::time_point now) {
    const std::string_view data = cursor_.data();
    late_ns_ = cursor_.lateness_ns(now, turn_start_);
    begin_write(now);
    ws_.async_write(net::buffer(data.data(), data.size()),
                    beast::bind_front_handler(&WsSession::on_write_event, shared_from_this()));
  }

  void on_write_event(beast::error_code ec, std::size_t) {
    end_write();
    count_bytes();
    if (ec) return fail(ec, "websocket write event");
    if (late_ns_ >= 0) stats().lateness.record(static_cast<std::uint64_t>(late_ns_));
    cursor_.sent(stats());
    do_next_event();
  }

  void end_turn() {
    playing_.set(Busy::none);
    busy_ = false;
    plan_ = {};
    next_message();
  }

  void on_lifetime_limit() {
    stats().timeouts_lifetime.fetch_add(1, std::memory_order_relaxed);
    abort();
  }

  // ---- writes, and pings in their silences -------------------------------------------------

  /** A frame starts out (the watchdog times it); no ping goes out meanwhile. */
  void begin_write(Clock::time_point now) {
    writing_ = true;
    watchdog_.begin(now, shared_from_this());
  }

  void end_write() {
    writing_ = false;
    watchdog_.end();
    wrote(Clock::now());
  }

  // One timer, armed at most once per interval (no timer per write, as the watchdog): when it
  // fires, the last write is looked at; a write since then moves the ping to an interval after
  // it. It holds the session weakly: a closed connection is not kept for its ping.
  void wrote(Clock::time_point now) {
    last_write_ = now;
    if (config().ws_ping_ms == 0 || ping_armed_ || closing_) return;
    arm_ping(now + ping_interval());
  }

  Clock::duration ping_interval() const { return milliseconds(config().ws_ping_ms); }

  void arm_ping(Clock::time_point at) {
    ping_armed_ = true;
    ping_timer_.expires_at(at);
    ping_timer_.async_wait(held_wait([weak = weak_from_this()](beast::error_code ec) {
      if (const auto self = weak.lock()) self->on_ping_timer(ec);
    }));
  }

  void on_ping_timer(beast::error_code ec) {
    ping_armed_ = false;
    if (ec || closing_ || writing_ || pinging_) return;  // a write's or a ping's end re-arms it
    const Clock::time_point due = last_write_ + ping_interval();
    if (Clock::now() < due) return arm_ping(due);
    pinging_ = true;
    ws_.async_ping({}, beast::bind_front_handler(&WsSession::on_ping, shared_from_this()));
  }

  void on_ping(beast::error_code ec) {
    pinging_ = false;
    count_bytes();
    if (ec) return;  // the connection is ending: its read reports why
    stats().ws_pings_written.fetch_add(1, std::memory_order_relaxed);
    wrote(Clock::now());
  }

  // ---- limits ------------------------------------------------------------------------------

  void arm_idle() {
    idle_.expires_after(milliseconds(config().idle_timeout_ms));
    idle_.async_wait(held_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->busy_ || !self->queue_.empty()) return;
      self->stats().timeouts_idle.fetch_add(1, std::memory_order_relaxed);
      self->do_close(websocket::close_code::going_away, "idle timeout");
    }));
  }

  // Every write must complete within write_timeout (the watchdog checks).
  friend class ssebench::server::WriteWatchdog;
  void on_write_timeout() {
    stats().timeouts_write.fetch_add(1, std::memory_order_relaxed);
    abort();
  }

  // ---- closing -----------------------------------------------------------------------------

  /** A close handshake (bounded by handshake_timeout); no write may be in flight. */
  void do_close(websocket::close_code code, std::string_view reason) {
    closing_ = true;
    busy_ = true;
    ws_.async_close(websocket::close_reason(code, reason),
                    beast::bind_front_handler(&WsSession::on_close, shared_from_this()));
  }

  void on_close(beast::error_code ec) {
    count_bytes();
    fail(ec, "websocket close");
    abort();
  }

  /** Ends the connection now: every pending operation fails and the session is freed. */
  void abort() {
    ws_.next_layer().close();
    timer_.cancel();
    idle_.cancel();
    ping_timer_.cancel();
    watchdog_.cancel();
  }

  websocket::stream<Connection> ws_;
  std::unique_ptr<Request> upgrade_;  // until the handshake is done
  TurnFields turn_fields_;
  const WsApi& api_;
  std::shared_ptr<State> state_;
  Timer timer_;             // pacing: event times, and the turn's lifetime limit
  Timer idle_;              // idle_timeout_ms between turns
  Timer ping_timer_;        // ws_ping_ms after the last write
  WriteWatchdog watchdog_;  // write_timeout_ms of every write
  beast::flat_buffer buffer_;
  // Messages read, waiting for their turn (at most queue_limit): a list allocates nothing while
  // empty, where a deque holds a 512-byte block from the start.
  std::list<Message> queue_;
  std::uint64_t counted_in_ = 0, counted_out_ = 0;

  bool reading_ = false;
  bool busy_ = false;     // a turn plays, an error event or the close is being written
  BusyGauge playing_;     // a turn plays: counted in streams_active
  bool closing_ = false;  // no more messages are read
  bool writing_ = false;  // a message frame is being written
  bool pinging_ = false;  // a ping is being written
  bool ping_armed_ = false;
  Clock::time_point last_write_;  // the last frame written (or the 101)

  // the turn
  bool limit_due_ = false;  // timer_'s wait ends at the lifetime limit, before the event
  StreamPlan plan_;
  StreamCursor cursor_;
  Clock::time_point turn_start_;
  std::int64_t late_ns_ = -1;
  std::string frame_;  // an error event being written
};

}  // namespace

bool is_ws_upgrade(const Request& req) {
  return websocket::is_upgrade(req) && ws_api_of(req) != nullptr;
}

void run_ws_session(Connection&& conn, Request&& req, std::size_t upgrade_bytes,
                    std::string already_read, std::shared_ptr<State> state) {
  const WsApi* api = ws_api_of(req);
  std::make_shared<WsSession>(std::move(conn), std::move(already_read), std::move(req), *api,
                              std::move(state))
      ->run(upgrade_bytes);
}

}  // namespace ssebench::server
