#include "ws_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "socket_tracker.hpp"
#include "ssebench/bench/engine.hpp"
#include "ssebench/counting_socket.hpp"
#include "stream.hpp"

namespace ssebench::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

/** How often a round checks ClientConfig::stop (a signal does not wake Asio's loop). */
constexpr std::chrono::milliseconds stop_check_every{50};

struct HostPort {
  std::string host, port;
};

/** "http://HOST:PORT" (or "http://[V6]:PORT"). */
HostPort parse_base_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) throw std::invalid_argument(fmt::format("ws: not http: {}", url));
  url.remove_prefix(scheme.size());
  url = url.substr(0, url.find('/'));
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos || url.substr(colon).find(']') != std::string_view::npos)
    return {std::string(url), "80"};
  std::string host(url.substr(0, colon));
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  return {host, std::string(url.substr(colon + 1))};
}

/** What a frame means for its turn. */
enum class Frame { more, last, failed };

/** What every connection of a round shares. */
struct Round {
  const Expectation& expect;
  const ClientConfig& config;
  ClockFn clock;
  tcp::resolver::results_type endpoints;
  std::string host;  // the Host header: HOST:PORT
};

/**
 * One WebSocket connection playing its turns one after the other. A failed turn ends the
 * connection; the turns it did not get to are failed too (reported, never dropped).
 */
class WsConnection {
 public:
  WsConnection(net::io_context& ioc, const Round& round)
      : round_(round), ws_(CountingSocket(ioc.get_executor())), timer_(ioc) {
    turns_.resize(std::max<std::size_t>(1, round.config.ws_turns));
    for (StreamRecord& t : turns_) t.content.reserve(expect().clock.content_offsets().size());
  }

  void start_at(TimePoint at) {
    timer_.expires_at(at);
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec && !finished_) start();
    });
  }

  void start() {
    started_ = true;
    begin_turn();
    turn().connections = 1;
    net::async_connect(ws_.next_layer().next_layer(), round_.endpoints,
                       [this](beast::error_code ec, const tcp::endpoint&) { on_connect(ec); });
  }

  void interrupt() {
    if (finished_) return;
    if (!started_) turn().t0 = now();
    fail(ErrorKind::interrupted, fmt::format("interrupted after {} events", turn().events));
  }

  bool finished() const { return finished_; }
  std::vector<StreamRecord>& turns() { return turns_; }
  const TcpCounters& tcp() const { return tcp_; }

 private:
  const Expectation& expect() const { return round_.expect; }
  TimePoint now() const { return round_.clock(); }
  StreamRecord& turn() { return turns_[current_]; }
  CountingSocket& socket() { return ws_.next_layer(); }

  // ---- connection ------------------------------------------------------------------------

  void on_connect(beast::error_code ec) {
    if (finished_) return;
    if (ec) return fail(ErrorKind::curl, "connect: " + ec.message());
    socket().next_layer().set_option(tcp::no_delay(true), ec);
    ws_.set_option(websocket::stream_base::decorator(
        [speed = fmt::format("{}", round_.config.speed)](websocket::request_type& req) {
          req.set("x-ssebench-speed", speed);
        }));
    ws_.async_handshake(upgrade_answer_, round_.host, expect().recording->request.path,
                        [this](beast::error_code e) { on_handshake(e); });
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
    in0_ = socket().bytes_in();
    out0_ = socket().bytes_out();
    ordinal_ = 0;
    timer_.expires_at(stream_deadline(turn().t0, expect(), round_.config));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec && !finished_)
        fail(ErrorKind::timeout, fmt::format("no end after {} events", turn().events));
    });
  }

  void send_turn() {
    ++turn().requests;
    turn().body_bytes_out += expect().ws_message.size();  // the message; the rest is framing
    ws_.text(true);
    ws_.async_write(net::buffer(expect().ws_message),
                    [this](beast::error_code ec, std::size_t) { on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (finished_) return;
    if (ec) return fail(ErrorKind::curl, "write: " + ec.message());
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) { on_read(ec); });
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
    if (!r.ok() || current_ + 1 == turns_.size()) return close();
    ++current_;
    begin_turn();
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
    finished_ = true;
    beast::error_code ignored;
    timer_.cancel();
    tcp::socket& s = socket().next_layer();
    if (!s.is_open()) return;
    if (const auto info = read_tcp_info(s.native_handle())) tcp_ += *info;
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
  }

  const Round& round_;
  websocket::stream<CountingSocket> ws_;
  net::steady_timer timer_;  // the staggered start, then the current turn's deadline
  websocket::response_type upgrade_answer_;
  beast::flat_buffer buffer_;
  std::vector<StreamRecord> turns_;
  std::size_t current_ = 0;
  std::size_t ordinal_ = 0;  // the current turn's next content event
  std::uint64_t in0_ = 0, out0_ = 0;
  bool started_ = false;
  bool finished_ = false;
  TcpCounters tcp_;
};

}  // namespace

RoundResult run_ws_round(const Expectation& expect, const ClientConfig& config,
                         std::size_t concurrency, ClockFn clock) {
  net::io_context ioc(1);
  const HostPort hp = parse_base_url(config.base_url);
  Round round{expect, config, clock, {}, fmt::format("{}:{}", hp.host, hp.port)};
  beast::error_code ec;
  round.endpoints = tcp::resolver(ioc).resolve(hp.host, hp.port, ec);
  std::vector<std::unique_ptr<WsConnection>> conns;
  for (std::size_t i = 0; i < concurrency; ++i)
    conns.push_back(std::make_unique<WsConnection>(ioc, round));

  const double cpu0 = thread_cpu_us();
  if (config.stagger.count() > 0) {
    // Starts spread evenly over the stagger window, as the engine spreads the HTTP streams.
    const TimePoint begin = clock();
    for (std::size_t i = 0; i < conns.size(); ++i)
      conns[i]->start_at(begin +
                         config.stagger * static_cast<long>(i) / static_cast<long>(conns.size()));
  } else {
    for (auto& c : conns) c->start();
  }
  net::steady_timer stop_check(ioc);
  std::function<void()> check = [&] {
    if (config.stop && config.stop->load(std::memory_order_relaxed))
      for (auto& c : conns) c->interrupt();
    if (std::all_of(conns.begin(), conns.end(), [](const auto& c) { return c->finished(); }))
      return;
    stop_check.expires_after(stop_check_every);
    stop_check.async_wait([&](beast::error_code e) {
      if (!e) check();
    });
  };
  if (config.stop) check();
  ioc.run();

  RoundResult out;
  out.client_cpu_us = thread_cpu_us() - cpu0;
  TimePoint first = TimePoint::max(), last = TimePoint::min();
  for (auto& c : conns) {
    out.tcp += c->tcp();
    for (StreamRecord& r : c->turns()) {
      first = std::min(first, r.t0);
      last = std::max(last, r.end.value_or(r.t0));
      out.streams.push_back(std::move(r));
    }
  }
  if (!out.streams.empty()) out.wall_s = std::chrono::duration<double>(last - first).count();
  return out;
}

}  // namespace ssebench::bench
