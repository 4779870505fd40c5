// The WebSocket session against the real server on a real socket: every recording's payloads as
// text frames on both APIs, several turns on one socket, and every bad input with its exact
// error event or close code, the server serving on afterwards.
#include "ssebench/server/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "ssebench/server/stats.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;

/** A blocking WebSocket client; every read gives up after receive_timeout_s. */
class WsClient {
 public:
  /** `speed`: the upgrade's x-ssebench-speed header, when given. */
  WsClient(std::uint16_t port, const std::string& path, std::string speed = {}) : ws_(ioc_) {
    auto& s = ws_.next_layer();
    s.connect({net::ip::make_address("127.0.0.1"), port});
    timeval tv{test::Client::receive_timeout_s, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!speed.empty())
      ws_.set_option(websocket::stream_base::decorator(
          [speed](websocket::request_type& req) { req.set("x-ssebench-speed", speed); }));
    ws_.handshake("127.0.0.1", path);
  }

  void send(std::string_view text) {
    ws_.text(true);
    ws_.write(net::buffer(text.data(), text.size()));
  }
  void send_binary(std::string_view bytes) {
    ws_.binary(true);
    ws_.write(net::buffer(bytes.data(), bytes.size()));
  }
  /** The next message's text; throws when the connection ends. */
  std::string read() {
    beast::flat_buffer b;
    ws_.read(b);
    return beast::buffers_to_string(b.data());
  }
  /** Reads until the server closes; its close code (0 if the connection just ended). */
  int close_code() {
    beast::flat_buffer b;
    beast::error_code ec;
    while (!ec) ws_.read(b, ec);
    return ec == websocket::error::closed ? ws_.reason().code : 0;
  }
  websocket::stream<net::ip::tcp::socket>& ws() { return ws_; }

 private:
  net::io_context ioc_;
  websocket::stream<net::ip::tcp::socket> ws_;
};

/** The real recordings at speed 0, and a server with small limits. */
class WsEnvironment : public ::testing::Environment {
 public:
  static constexpr std::size_t small_body_limit = 1024;
  static constexpr std::uint64_t small_idle_ms = 300;
  static constexpr std::uint64_t short_turn_ms = 300;

  void SetUp() override {
    folder_ = load_folder(SSEBENCH_RECORDINGS_DIR);
    ASSERT_TRUE(folder_.errors.empty()) << folder_.errors.front();
    Config fast;
    fast.speed = 0;
    server_ = std::make_unique<test::RunningServer>(fast, folder_.recordings);
    Config small = fast;
    small.body_limit_bytes = small_body_limit;
    small.idle_timeout_ms = small_idle_ms;
    small.speed = 1;
    small_ = std::make_unique<test::RunningServer>(small, folder_.recordings);
    Config short_turns = small;
    short_turns.stream_lifetime_limit_ms = short_turn_ms;
    short_turns_ = std::make_unique<test::RunningServer>(short_turns, folder_.recordings);
  }
  void TearDown() override {
    server_.reset();
    small_.reset();
    short_turns_.reset();
  }

  static inline FolderLoad folder_;
  static inline std::unique_ptr<test::RunningServer> server_, small_, short_turns_;
};
const auto* const env = ::testing::AddGlobalTestEnvironment(new WsEnvironment);

std::uint16_t port() {
  return WsEnvironment::server_->port();
}
const Stats& stats() {
  return WsEnvironment::server_->server().stats();
}

const Recording& rec(std::string_view id) {
  for (const auto& r : WsEnvironment::folder_.recordings)
    if (r->id == id) return *r;
  throw std::runtime_error("no recording " + std::string(id));
}

/** The recorded request as a turn's message: its type, the recording's id as model. */
std::string create_message(const Recording& r) {
  json::object body = json::parse(r.request.body).as_object();
  body.erase("stream");
  body["model"] = r.id;
  if (r.api == Api::responses) {
    body["type"] = "response.create";
  } else {
    body["type"] = "chat.completions.create";
    body["stream_options"] = {{"include_usage", true}};  // every recorded event, usage included
  }
  return json::serialize(body);
}

/** The payloads a turn sends: every event's data, as the recording has it. */
std::vector<std::string> payloads(const Recording& r) {
  std::vector<std::string> out;
  for (const Event& e : r.events)
    if (!e.bytes.empty()) out.emplace_back(e.data());
  return out;
}

std::vector<std::string> read_turn(WsClient& c, std::size_t frames) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < frames; ++i) out.push_back(c.read());
  return out;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::string error_event(int status, std::string_view message, std::string_view param,
                        std::string_view code) {
  json::object error{{"message", message},
                     {"type", "invalid_request_error"},
                     {"param", param.empty() ? json::value(nullptr) : json::value(param)},
                     {"code", code.empty() ? json::value(nullptr) : json::value(code)}};
  return json::serialize(json::object{{"type", "error"}, {"status", status}, {"error", error}});
}

/** The connection still serves: a short recording's turn, complete. */
void expect_turn_works(WsClient& c) {
  const Recording& r = rec("chat-gpt-4o-mini-text");
  c.send(create_message(r));
  EXPECT_EQ(read_turn(c, payloads(r).size()), payloads(r));
}

void expect_turn_works_on_responses(WsClient& c) {
  const Recording& r = rec("responses-gpt-4o-mini-ok");
  c.send(create_message(r));
  EXPECT_EQ(read_turn(c, payloads(r).size()), payloads(r));
}

TEST(WsSession, UpgradeOnlyOnTheTwoStreamingPaths) {
  test::Client http(port());
  const auto upgrade = [](std::string_view path) {
    return test::Client::request_text("GET", path, {},
                                      {{"Connection", "Upgrade"},
                                       {"Upgrade", "websocket"},
                                       {"Sec-WebSocket-Version", "13"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  };
  http.send(upgrade("/v1/models"));
  EXPECT_EQ(http.read_response()->status, 200);  // not a WebSocket path: the HTTP answer
  http.send(upgrade("/v1/no-such-path"));
  EXPECT_EQ(http.read_response()->status, 404);
  WsClient ws(port(), "/v1/responses");  // the handshake checks the 101 and its accept key
  expect_turn_works_on_responses(ws);
}

TEST(WsSession, TheUpgradesSpeedHoldsForEveryTurn) {
  // The small server replays at speed 1: codex-max-4 would take 6.4 s a turn.
  const Recording& r = rec("responses-gpt-5.1-codex-max-4");
  WsClient c(WsEnvironment::small_->port(), "/v1/responses", "0");
  const auto t0 = std::chrono::steady_clock::now();
  for (int turn = 0; turn < 2; ++turn) {
    c.send(R"({"type":"response.create","model":"responses-gpt-5.1-codex-max-4"})");
    EXPECT_EQ(read_turn(c, payloads(r).size()), payloads(r));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(WsSession, TheSpeedInTheUpgradesQueryStandsForTheHeader) {
  // A browser's WebSocket cannot send headers: ?x-ssebench-speed=0 (an ssebench extension).
  const Recording& r = rec("responses-gpt-5.1-codex-max-4");
  WsClient c(WsEnvironment::small_->port(), "/v1/responses?x-ssebench-speed=0");
  const auto t0 = std::chrono::steady_clock::now();
  c.send(R"({"type":"response.create","model":"responses-gpt-5.1-codex-max-4"})");
  EXPECT_EQ(read_turn(c, payloads(r).size()), payloads(r));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  WsClient bad(WsEnvironment::small_->port(), "/v1/responses?a=1&x-ssebench-speed=fast");
  bad.send(R"({"type":"response.create","model":"responses-gpt-5.1-codex-max-4"})");
  const json::value e = json::parse(bad.read());
  EXPECT_EQ(e.at("type"), "error");
  EXPECT_EQ(e.at("status"), 400);
}

TEST(WsSession, AMessageSentWithTheUpgradeIsNotLost) {
  // Against RFC 6455 (a client waits for the 101), but its bytes are on the socket already.
  const std::string message =
      R"({"type":"chat.completions.create","model":"chat-gpt-4o-mini-text"})";
  std::string frame = {'\x81', static_cast<char>(0x80 | message.size()), 0, 0, 0, 0};
  frame += message;  // masked with the key 0: the payload as it is
  test::Client raw(port());
  raw.send(test::Client::request_text("GET", "/v1/chat/completions", {},
                                      {{"Connection", "Upgrade"},
                                       {"Upgrade", "websocket"},
                                       {"Sec-WebSocket-Version", "13"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}) +
           frame);
  std::string got;
  char buf[16384];
  while (got.find("[DONE]") == std::string::npos) {
    const ssize_t n = ::recv(raw.fd(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << "the turn did not come: " << got.size() << " bytes";
    got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_TRUE(got.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << got.substr(0, 40);
}

TEST(WsSession, EveryRecordingArrivesAsItsPayloadsOnePerFrameTurnAfterTurn) {
  // One socket per API, every recording of it a turn on that socket.
  WsClient responses(port(), "/v1/responses");
  WsClient chat(port(), "/v1/chat/completions");
  std::size_t turns = 0;
  for (const auto& r : WsEnvironment::folder_.recordings) {
    if (r->events.empty()) continue;
    WsClient& c = r->api == Api::responses ? responses : chat;
    c.send(create_message(*r));
    const std::vector<std::string> want = payloads(*r);
    EXPECT_EQ(read_turn(c, want.size()), want) << r->id;
    ++turns;
  }
  EXPECT_GE(turns, 10u);
}

TEST(WsSession, ChatWithoutIncludeUsageSkipsTheUsageChunkAsSseDoes) {
  const Recording& r = rec("chat-gpt-4o-mini-text");
  std::vector<std::string> want;
  for (const Event& e : r.events)
    if (!e.bytes.empty() && e.kind != "usage") want.emplace_back(e.data());
  WsClient c(port(), "/v1/chat/completions");
  c.send(R"({"type":"chat.completions.create","model":"chat-gpt-4o-mini-text"})");
  EXPECT_EQ(read_turn(c, want.size()), want);
}

TEST(WsSession, AMessageDuringATurnWaitsForItsEnd) {
  const Recording& r = rec("responses-gpt-4o-mini-ok");
  const std::vector<std::string> want = payloads(r);
  WsClient c(WsEnvironment::small_->port(), "/v1/responses");  // at speed 1: a turn takes time
  c.send(create_message(r));
  c.send(create_message(r));
  c.send(R"({"type":"response.cancel"})");
  EXPECT_EQ(read_turn(c, want.size()), want);
  EXPECT_EQ(read_turn(c, want.size()), want);
  EXPECT_EQ(c.read(), error_event(400,
                                  "Unknown event type 'response.cancel': expected "
                                  "'response.create'.",
                                  "type", "invalid_value"));
}

TEST(WsSession, BadMessagesGetAnErrorEventAndTheSocketStaysOpen) {
  WsClient c(port(), "/v1/responses");
  c.send("not json");
  EXPECT_EQ(c.read(),
            error_event(400, "The message is not a JSON object: every client event is JSON text.",
                        {}, "invalid_json"));
  c.send("[1,2]");
  EXPECT_EQ(c.read(),
            error_event(400, "The message is not a JSON object: every client event is JSON text.",
                        {}, "invalid_json"));
  c.send(R"({"model":"responses-gpt-4o-mini-ok"})");
  EXPECT_EQ(c.read(), error_event(400, "Missing event 'type': expected 'response.create'.", "type",
                                  "missing_required_parameter"));
  c.send(R"({"type":"chat.completions.create","model":"responses-gpt-4o-mini-ok"})");
  EXPECT_EQ(c.read(), error_event(400,
                                  "Unknown event type 'chat.completions.create': expected "
                                  "'response.create'.",
                                  "type", "invalid_value"));
  c.send(R"({"type":"response.create","model":"responses-gpt-4o-mini-ok","background":true})");
  EXPECT_EQ(c.read(), error_event(400, "'background' is not supported over WebSocket.",
                                  "background", "unsupported_value"));
  // The application layer's own errors, as events: an unknown model, the other API's recording.
  c.send(R"({"type":"response.create","model":"no-such-model"})");
  const json::object unknown = json::parse(c.read()).as_object();
  EXPECT_EQ(unknown.at("type"), "error");
  EXPECT_EQ(unknown.at("status"), 404);
  EXPECT_EQ(unknown.at("error").at("code"), "model_not_found");
  c.send(R"({"type":"response.create","model":"chat-gpt-4o-mini-text"})");
  const json::object wrong = json::parse(c.read()).as_object();
  EXPECT_EQ(wrong.at("status"), 400);
  EXPECT_EQ(wrong.at("error").at("code"), "wrong_api");
  EXPECT_EQ(wrong.at("error").at("param"), "model");
  expect_turn_works_on_responses(c);  // then a good turn on the same socket
}

TEST(WsSession, ABinaryFrameClosesWith1003) {
  WsClient c(port(), "/v1/chat/completions");
  c.send_binary("\x01\x02");
  EXPECT_EQ(c.close_code(), 1003);
  WsClient next(port(), "/v1/chat/completions");
  expect_turn_works(next);
}

TEST(WsSession, AMessageOverTheBodyLimitClosesWith1009) {
  WsClient c(WsEnvironment::small_->port(), "/v1/chat/completions");
  c.send(std::string(WsEnvironment::small_body_limit + 1, ' '));
  EXPECT_EQ(c.close_code(), 1009);
  WsClient next(port(), "/v1/chat/completions");
  expect_turn_works(next);
}

TEST(WsSession, NoMessageForTheIdleTimeoutClosesWith1001) {
  // The server's idle timer starts when it has sent the handshake's answer, before the client
  // has read it: t0 is taken before connecting, so the close is never seen early (under ASan it
  // came 298.3 ms after a t0 taken once the handshake was done).
  const auto t0 = std::chrono::steady_clock::now();
  WsClient c(WsEnvironment::small_->port(), "/v1/responses");
  EXPECT_EQ(c.close_code(), 1001);
  EXPECT_GE(std::chrono::steady_clock::now() - t0,
            std::chrono::milliseconds(WsEnvironment::small_idle_ms));
}

TEST(WsSession, ATurnOverTheStreamLifetimeLimitClosesTheConnection) {
  const Stats& s = WsEnvironment::short_turns_->server().stats();
  WsClient c(WsEnvironment::short_turns_->port(), "/v1/responses");
  c.send(R"({"type":"response.create","model":"responses-gpt-5.1-codex-max-4"})");  // 6.4 s
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.close_code(), 0);  // cut, as an HTTP stream is: no close frame
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(s.timeouts_lifetime.load(), 1u);
  EXPECT_TRUE(eventually([&] { return s.streams_active.load() == 0; }));
}

TEST(WsSession, AClientThatLeavesMidTurnFreesItsTurnAtOnce) {
  const Stats& s = WsEnvironment::small_->server().stats();
  {
    // responses-gpt-5.1-codex-max-4 plays for seconds at speed 1.
    WsClient c(WsEnvironment::small_->port(), "/v1/responses");
    c.send(R"({"type":"response.create","model":"responses-gpt-5.1-codex-max-4"})");
    c.read();
    EXPECT_EQ(s.streams_active.load(), 1);
    beast::error_code ignored;
    c.ws().next_layer().close(ignored);
  }
  EXPECT_TRUE(eventually([&] { return s.streams_active.load() == 0; }));
  EXPECT_TRUE(eventually([&] { return s.connections_open.load() == 0; }));
  WsClient next(port(), "/v1/chat/completions");
  expect_turn_works(next);
}

TEST(WsSession, TurnsAreCountedUnderTheWebsocketEndpoint) {
  const std::uint64_t events0 = stats().events_written.load();
  const auto& ep = const_cast<Stats&>(stats()).at(Endpoint::websocket);
  const std::uint64_t requests0 = ep.requests.load(), out0 = ep.bytes_out.load();
  WsClient c(port(), "/v1/chat/completions");
  expect_turn_works(c);
  expect_turn_works(c);
  EXPECT_EQ(ep.requests.load() - requests0, 2u);
  // The server counts a write once it has completed: maybe just after the client read it.
  const std::size_t want = 2 * payloads(rec("chat-gpt-4o-mini-text")).size();
  EXPECT_TRUE(eventually([&] { return stats().events_written.load() - events0 == want; }));
  EXPECT_GT(ep.bytes_out.load() - out0, 0u);
}

}  // namespace
}  // namespace ssebench::server
