// ws: the recorded request as a WebSocket turn (OpenAI's Responses API WebSocket mode, or the
// mock server's chat variant), read as one text frame per event; its driver runs the
// connections on a Boost.Asio loop (driver.hpp). Private to the engine.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <type_traits>

#include "driver.hpp"
#include "socket_tracker.hpp"
#include "ssebench/counting_socket.hpp"
#include "stream.hpp"

namespace ssebench::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct HostPort {
  std::string host, port;
};

/** "http://HOST:PORT" (or "http://[V6]:PORT"; https:// over TLS). */
HostPort parse_base_url(std::string_view url) {
  const bool https = url.starts_with("https://");
  const std::string_view scheme = https ? "https://" : "http://";
  if (!url.starts_with(scheme)) throw std::invalid_argument(fmt::format("ws: not http: {}", url));
  url.remove_prefix(scheme.size());
  url = url.substr(0, url.find('/'));
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos || url.substr(colon).find(']') != std::string_view::npos)
    return {std::string(url), https ? "443" : "80"};
  std::string host(url.substr(0, colon));
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  return {host, std::string(url.substr(colon + 1))};
}

/** What a frame means for its turn. */
enum class Frame { more, last, failed };

/** Where a base URL's connections go: resolved once per driver. */
struct Target {
  tcp::resolver::results_type endpoints;
  std::string host;  // the Host header: HOST:PORT
  std::string name;  // HOST alone: TLS's server name (SNI) and what the certificate must name
};

/**
 * A stream that counts the bytes crossing it, over any async stream: over TLS it sits on the SSL
 * stream, so the ws client's HTTP bytes are the plaintext, as libcurl's are (TCP_INFO counts the
 * wire, TLS records included). Cleartext ws keeps core's CountingSocket.
 */
template <class Next>
class Counting {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  template <class... Args>
  explicit Counting(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t bytes_out() const { return bytes_out_; }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    next_.async_read_some(buffers, [this, h = std::forward<Handler>(handler)](
                                       boost::system::error_code ec, std::size_t n) mutable {
      bytes_in_ += n;
      std::move(h)(ec, n);
    });
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    next_.async_write_some(buffers, [this, h = std::forward<Handler>(handler)](
                                        boost::system::error_code ec, std::size_t n) mutable {
      bytes_out_ += n;
      std::move(h)(ec, n);
    });
  }

 private:
  Next next_;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

// The close handshake's teardown, found by ADL: that of the SSL stream underneath (its
// close_notify, then TCP's), which Beast declares in its own namespace (websocket/ssl.hpp).
template <class Next>
void teardown(beast::role_type role, Counting<Next>& s, boost::system::error_code& ec) {
  beast::teardown(role, s.next_layer(), ec);
}
template <class Next, class Handler>
void async_teardown(beast::role_type role, Counting<Next>& s, Handler&& handler) {
  beast::async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

using PlainWs = websocket::stream<CountingSocket>;
using TlsWs = websocket::stream<Counting<ssl::stream<tcp::socket>>>;

/**
 * A driver's TLS client side: the context (the run's CA, peer verification) and, for
 * TlsMode::on, the last session the server gave (its tickets arrive after the handshake, through
 * OpenSSL's new-session callback), offered by the next connection.
 */
class TlsClient {
 public:
  explicit TlsClient(const std::string& ca_file)
      : ca_file_(ca_file), ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    SSL_CTX* c = ctx_.native_handle();
    SSL_CTX_set_ex_data(c, ex_index(), this);  // not app_data: Asio keeps its own there
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c, &TlsClient::on_new_session);
  }
  ~TlsClient() {
    if (session_) SSL_SESSION_free(session_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  const std::string& ca_file() const { return ca_file_; }
  ssl::context& context() { return ctx_; }
  /** The session to offer, or null (none yet). */
  SSL_SESSION* session() const { return session_; }

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* self = static_cast<TlsClient*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
    if (self->session_) SSL_SESSION_free(self->session_);
    self->session_ = session;
    return 1;  // kept: ours to free
  }

  static int ex_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
  }

  std::string ca_file_;
  ssl::context ctx_;
  SSL_SESSION* session_ = nullptr;
};

/** What a connection needs of its driver. */
struct Shared {
  ClockFn clock;
  TlsClient* tls = nullptr;  // the driver's, when a TLS connection was made
  TcpCounters tcp;           // of the connections closed since the round's last take_round()
  /** Called when a connection ends (its Session, if it still has one). */
  std::function<void(Session*)> ended;
  /** A connection ended or a turn did: what the engine's loop waits for. */
  bool changed = false;
};

/**
 * One WebSocket connection playing its turns one after the other: up to config.ws_turns, each
 * sent when the one before ends (Pace::back_to_back) or when next_turn() says (on_demand). A
 * failed turn ends the connection; in back_to_back, the turns it did not get to are failed too
 * (reported, never dropped). Its handlers hold it (shared_from_this): a connection abandoned
 * by its Session stays alive until its cancelled operations have come back.
 */
template <class Ws>
class WsConnection : public std::enable_shared_from_this<WsConnection<Ws>> {
  static constexpr bool tls = std::is_same_v<Ws, TlsWs>;
  using std::enable_shared_from_this<WsConnection<Ws>>::shared_from_this;

 public:
  WsConnection(net::io_context& ioc, Shared& shared, const Target& target, const SessionSpec& spec)
      : shared_(shared),
        target_(target),
        expect_(*spec.expect),
        config_(*spec.config),
        pace_(spec.pace),
        planned_(std::max<std::size_t>(1, config_.ws_turns)),
        ws_(make_stream(ioc, shared)),
        timer_(ioc) {
    turns_.resize(pace_ == Pace::back_to_back ? planned_ : 1);
    for (StreamRecord& t : turns_) t.content.reserve(expect().clock.content_offsets().size());
  }

  void start_at(TimePoint at) {
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->finished_) self->start();
    });
  }

  void start() {
    started_ = true;
    begin_turn();
    turn().connections = 1;
    if (!config_.source.empty()) return connect_from(config_.source);
    net::async_connect(tcp_socket(), target_.endpoints,
                       [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                         self->on_connect(ec);
                       });
  }

  /** ClientConfig::source: the socket bound to that address first, then connected to the first
   *  endpoint (a range connect would close the bound socket between its tries). */
  void connect_from(const std::string& source) {
    beast::error_code ec;
    const auto address = net::ip::make_address(source, ec);
    if (ec) return fail(ErrorKind::curl, "source address '" + source + "': " + ec.message());
    if (target_.endpoints.empty()) return fail(ErrorKind::curl, "connect: no address");
    const tcp::endpoint to = target_.endpoints.begin()->endpoint();
    tcp_socket().open(to.protocol(), ec);
    if (!ec) tcp_socket().bind({address, 0}, ec);
    if (ec) return fail(ErrorKind::curl, "bind to " + source + ": " + ec.message());
    tcp_socket().async_connect(
        to, [self = shared_from_this()](beast::error_code e) { self->on_connect(e); });
  }

  void interrupt() {
    if (finished_) return;
    if (idle_) return close();
    if (!started_) turn().t0 = now();
    fail(ErrorKind::interrupted, fmt::format("interrupted after {} events", turn().events));
  }

  void next_turn(TimePoint scheduled) {
    if (!idle_ || finished_) return;
    idle_ = false;
    ++current_;
    turns_.emplace_back().content.reserve(expect().clock.content_offsets().size());
    turn().scheduled = scheduled;
    begin_turn();
    send_turn();
  }

  /** Ends the connection: the Session is done with it (or it is idle and no turn comes). */
  void abandon() {
    owner_ = nullptr;
    if (!finished_) close();
  }

  void set_owner(Session* s) { owner_ = s; }
  bool finished() const { return finished_; }
  bool idle() const { return idle_ && !finished_; }
  std::vector<StreamRecord>& turns() { return turns_; }

 private:
  const Expectation& expect() const { return expect_; }
  TimePoint now() const { return shared_.clock(); }
  StreamRecord& turn() { return turns_[current_]; }
  /** Counts the HTTP and WebSocket bytes (over TLS, the plaintext). */
  auto& socket() { return ws_.next_layer(); }
  tcp::socket& tcp_socket() {
    if constexpr (tls)
      return ws_.next_layer().next_layer().next_layer();
    else
      return ws_.next_layer().next_layer();
  }

  static Ws make_stream(net::io_context& ioc, Shared& shared) {
    if constexpr (tls)
      return Ws(ioc.get_executor(), shared.tls->context());
    else
      return Ws(CountingSocket(ioc.get_executor()));
  }

  // ---- connection ------------------------------------------------------------------------

  void on_connect(beast::error_code ec) {
    if (finished_) return;
    if (ec) return fail(ErrorKind::curl, "connect: " + ec.message());
    tcp_socket().set_option(tcp::no_delay(true), ec);
    if constexpr (tls)
      tls_handshake();
    else
      ws_handshake();
  }

  /** TLS first: SNI (a name, never an address: RFC 6066), the certificate checked against the
   *  run's CA and the host, ALPN offering http/1.1 (the Upgrade is HTTP/1.1's), and under
   *  TlsMode::on the last session the server gave this driver. */
  void tls_handshake() {
    auto& stream = ws_.next_layer().next_layer();
    SSL* ssl = stream.native_handle();
    beast::error_code ec;
    net::ip::make_address(target_.name, ec);
    if (ec) SSL_set_tlsext_host_name(ssl, target_.name.c_str());
    stream.set_verify_callback(ssl::host_name_verification(target_.name));
    static constexpr unsigned char alpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
    if (config_.tls == TlsMode::on && shared_.tls->session())
      SSL_set_session(ssl, shared_.tls->session());
    handshake_t0_ = now();
    stream.async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this()](beast::error_code e) { self->on_tls_handshake(e); });
  }

  void on_tls_handshake(beast::error_code ec) {
    if (finished_) return;
    if (ec) return fail(ErrorKind::curl, "TLS handshake: " + ec.message());
    if constexpr (tls) {
      SSL* ssl = ws_.next_layer().next_layer().native_handle();
      turn().tls_handshakes.push_back(
          {std::chrono::duration<double, std::milli>(now() - handshake_t0_).count(),
           SSL_session_reused(ssl) == 1});
    }
    ws_handshake();
  }

  void ws_handshake() {
    ws_.set_option(websocket::stream_base::decorator(
        [speed = fmt::format("{}", config_.speed),
         epoch = config_.epoch_us ? fmt::format("{}", *config_.epoch_us)
                                  : std::string()](websocket::request_type& req) {
          req.set("x-ssebench-speed", speed);
          if (!epoch.empty()) req.set("x-ssebench-epoch-us", epoch);
        }));
    ws_.async_handshake(
        upgrade_answer_, target_.host, expect().recording->request.path,
        [self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
  }

  void on_handshake(beast::error_code ec) {
    if (finished_) return;
    if (ec) {
      const unsigned status = upgrade_answer_.result_int();
      if (status > 0 && status != 101)
        return fail(ErrorKind::http_status,
                    fmt::format("HTTP {}: {:.200}", status, upgrade_answer_.body()));
      return fail(ErrorKind::curl, "handshake: " + ec.message());
    }
    turn().http_header_bytes_in = socket().bytes_in();  // the 101 answer
    send_turn();
  }

  // ---- turns -----------------------------------------------------------------------------

  /** t0, the deadline and the byte counts of the current turn start now. */
  void begin_turn() {
    turn().t0 = now();
    if (config_.epoch_us) turn().scheduled = epoch_on_clock(*config_.epoch_us, turn().t0);
    in0_ = socket().bytes_in();
    out0_ = socket().bytes_out();
    ordinal_ = 0;
    timer_.expires_at(stream_deadline(turn().t0, expect(), config_));
    timer_.async_wait([self = shared_from_this(), turn = current_](beast::error_code ec) {
      if (!ec && !self->finished_ && self->current_ == turn && !self->idle_)
        self->fail(ErrorKind::timeout, fmt::format("no end after {} events", self->turn().events));
    });
  }

  void send_turn() {
    ++turn().requests;
    turn().body_bytes_out += expect().ws_message.size();  // the message; the rest is framing
    ws_.text(true);
    ws_.async_write(
        net::buffer(expect().ws_message),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (finished_) return;
    if (ec) return fail(ErrorKind::curl, "write: " + ec.message());
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (finished_) return;
    // One clock reading per frame, before parsing: the frame was received now.
    const TimePoint t = now();
    if (ec) {
      if (turn().events == 0) return fail(ErrorKind::curl, "read: " + ec.message());
      return fail(ErrorKind::truncated, "the connection ended mid-turn: " + ec.message());
    }
    if (!turn().first_byte) turn().first_byte = t;
    turn().body_bytes_in += buffer_.size();  // the frame's payload; its header is framing
    // A flat buffer is contiguous: the frame is parsed where it was read, not copied.
    const std::string_view frame(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    const Frame f = ws_.got_text() ? on_frame(frame, t) : bad("a binary frame");
    buffer_.consume(buffer_.size());
    if (f == Frame::failed) return close();
    if (f == Frame::last) return end_turn(t);
    do_read();
  }

  Frame bad(std::string detail) {
    fail_turn(ErrorKind::bad_response, std::move(detail));
    return Frame::failed;
  }

  // A turn ends with its API's last event: chat's [DONE] (or an error chunk, which has no
  // [DONE] after it), the Responses API's response.completed, .failed or .incomplete.
  Frame on_frame(std::string_view data, TimePoint t) {
    StreamRecord& r = turn();
    ++r.events;
    if (data == "[DONE]") return Frame::last;
    json::error_code ec;
    const json::value v = json::parse(data, ec);
    if (ec || !v.is_object())
      return bad(fmt::format("frame {} is not a JSON object: {:.60}", r.events, data));
    const json::object& o = v.get_object();
    const json::value* type = o.if_contains("type");
    const std::string_view type_name =
        type && type->is_string() ? std::string_view(type->get_string()) : std::string_view{};
    // The server's error event for the turn's request, in place of its events (a recorded
    // error event has a sequence number and no status).
    if (r.events == 1 && type_name == "error" && o.contains("status")) {
      const json::value* message =
          o.at("error").is_object() ? o.at("error").get_object().if_contains("message") : nullptr;
      fail_turn(ErrorKind::http_status,
                fmt::format("error event, status {}: {}", json::serialize(o.at("status")),
                            message ? json::serialize(*message) : json::serialize(o.at("error"))));
      return Frame::failed;
    }
    if (const std::optional<DeltaText> d = delta_text_of(expect().recording->api, v);
        d && !d->text.empty()) {
      r.content.push_back({t, ordinal_++});
      r.transcript[d->choice] += d->text;
    }
    if (expect().recording->api == Api::responses)
      return type_name == "response.completed" || type_name == "response.failed" ||
                     type_name == "response.incomplete"
                 ? Frame::last
                 : Frame::more;
    return o.contains("error") ? Frame::last : Frame::more;
  }

  void end_turn(TimePoint t) {
    StreamRecord& r = turn();
    r.end = t;
    take_bytes();
    check_transcript(r, expect().transcript, expect().clock.content_offsets().size());
    if (r.ok() && r.events != expect().recording->events.size())
      r.fail(ErrorKind::missing_events, fmt::format("{} events, the recording has {}", r.events,
                                                    expect().recording->events.size()));
    if (!r.ok() || current_ + 1 == planned_) return close();
    if (pace_ == Pace::on_demand) {  // next_turn() sends the next one, or abandon() closes
      idle_ = true;
      timer_.cancel();
      shared_.changed = true;
      return;
    }
    ++current_;
    begin_turn();
    // Open-loop: a turn that follows its connection's first is due when the one before ends.
    if (turns_.front().scheduled) turn().scheduled = turns_[current_ - 1].end;
    send_turn();
  }

  // ---- ending ----------------------------------------------------------------------------

  void take_bytes() {
    turn().http_bytes_in = socket().bytes_in() - in0_;
    turn().http_bytes_out = socket().bytes_out() - out0_;
  }

  /** The current turn fails; the turns after it fail as not run. */
  void fail_turn(ErrorKind kind, std::string detail) {
    StreamRecord& r = turn();
    r.fail(kind, std::move(detail));
    if (!r.end) r.end = now();
    take_bytes();
    for (std::size_t i = current_ + 1; i < turns_.size(); ++i) {
      turns_[i].t0 = *r.end;
      turns_[i].end = *r.end;
      turns_[i].fail(kind, fmt::format("not run: turn {} of {} on its connection failed ({})",
                                       current_ + 1, turns_.size(), r.error_detail));
    }
  }

  void fail(ErrorKind kind, std::string detail) {
    fail_turn(kind, std::move(detail));
    close();
  }

  /** Reads TCP_INFO, then closes the socket without a close handshake (as the HTTP clients
   *  leave their connections): the bytes counted are the turns' own. */
  void close() {
    if (finished_) return;
    finished_ = true;
    beast::error_code ignored;
    timer_.cancel();
    tcp::socket& s = tcp_socket();
    if (s.is_open()) {
      if (const auto info = read_tcp_info(s.native_handle())) shared_.tcp += *info;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      s.close(ignored);
    }
    shared_.changed = true;
    if (owner_ && shared_.ended) shared_.ended(owner_);
  }

  Shared& shared_;
  const Target& target_;
  const Expectation& expect_;
  const ClientConfig& config_;
  Pace pace_;
  std::size_t planned_;  // turns at most
  Ws ws_;
  net::steady_timer timer_;  // the staggered start, then the current turn's deadline
  websocket::response_type upgrade_answer_;
  beast::flat_buffer buffer_;
  std::vector<StreamRecord> turns_;
  std::size_t current_ = 0;
  std::size_t ordinal_ = 0;  // the current turn's next content event
  std::uint64_t in0_ = 0, out0_ = 0;
  Session* owner_ = nullptr;
  TimePoint handshake_t0_{};  // TLS: the handshake's start
  bool started_ = false;
  bool idle_ = false;  // on_demand: a turn ended, the next not sent yet
  bool finished_ = false;
};

/** A connection as the engine sees it. */
template <class Ws>
class WsSession final : public Session {
 public:
  explicit WsSession(std::shared_ptr<WsConnection<Ws>> c) : c_(std::move(c)) {
    c_->set_owner(this);
  }
  ~WsSession() override { c_->abandon(); }

  void start() override { c_->start(); }
  void start_at(TimePoint at) override { c_->start_at(at); }
  bool finished() const override { return c_->finished(); }
  void on_interrupt() override { c_->interrupt(); }
  bool on_tick(TimePoint, TimePoint&) override { return false; }  // Asio keeps its timers
  std::span<StreamRecord> records() override { return c_->turns(); }
  bool idle() const override { return c_->idle(); }
  void next_turn(TimePoint scheduled) override { c_->next_turn(scheduled); }
  void close() override { c_->abandon(); }

 private:
  std::shared_ptr<WsConnection<Ws>> c_;
};

/** ws connections on an io_context run by the calling thread; a work guard keeps it waiting
 *  while every connection is between turns. */
class WsDriver final : public Driver {
 public:
  explicit WsDriver(ClockFn clock) : ioc_(1), work_(net::make_work_guard(ioc_)) {
    shared_.clock = clock;
    shared_.ended = [this](Session* s) { touched(s); };
  }

  void prepare(const ClientConfig&, std::size_t) override {}
  void begin_soak(std::size_t) override { collect_touched_ = true; }
  void end_soak() override {
    collect_touched_ = false;
    take_touched();
  }

  std::unique_ptr<Session> make(const SessionSpec& spec) override {
    const Target& t = target(spec.config->base_url);
    if (spec.config->tls == TlsMode::off)
      return std::make_unique<WsSession<PlainWs>>(
          std::make_shared<WsConnection<PlainWs>>(ioc_, shared_, t, spec));
    if (!tls_ || tls_->ca_file() != spec.config->ca_file) {
      tls_ = std::make_unique<TlsClient>(spec.config->ca_file);
      shared_.tls = tls_.get();
    }
    return std::make_unique<WsSession<TlsWs>>(
        std::make_shared<WsConnection<TlsWs>>(ioc_, shared_, t, spec));
  }

  void step() override { ioc_.poll(); }
  // Handlers run as they come, as ioc.run() would, until a connection or a turn ends (what the
  // engine's loop acts on) or `until`: its scan of the sessions is not paid per frame.
  void wait(TimePoint until) override {
    shared_.changed = false;
    while (!shared_.changed) {
      const auto left = until - shared_.clock();
      if (left <= Clock::duration::zero()) break;
      ioc_.run_one_for(std::min<Clock::duration>(left, max_wait));
    }
  }

  TcpCounters take_round() override { return std::exchange(shared_.tcp, {}); }

 private:
  const Target& target(const std::string& base_url) {
    const auto it = targets_.find(base_url);
    if (it != targets_.end()) return it->second;
    const HostPort hp = parse_base_url(base_url);
    Target t{{}, fmt::format("{}:{}", hp.host, hp.port), hp.host};
    beast::error_code ec;  // a name that does not resolve fails each connection's connect
    t.endpoints = tcp::resolver(ioc_).resolve(hp.host, hp.port, ec);
    return targets_.emplace(base_url, std::move(t)).first->second;
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  /** TLS: made by the first TLS connection, replaced only for another CA (never within a run:
   *  its new-session callback reaches it from the connections' SSL objects). */
  std::unique_ptr<TlsClient> tls_;
  Shared shared_;
  std::map<std::string, Target> targets_;  // by base URL; nodes stay where they are
};

}  // namespace

std::unique_ptr<Driver> make_ws_driver(ClockFn clock) {
  return std::make_unique<WsDriver>(clock);
}

}  // namespace ssebench::bench
