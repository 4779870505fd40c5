// The server options for held connections and streams behind proxies (Config::sse_heartbeat_ms,
// ws_ping_ms, x_accel_buffering_no): comments in the silences of a stream, at exact real-time
// intervals, counted apart from events and in the bytes; WebSocket pings in a connection's
// silences and the client's pongs; the header that turns nginx's buffering off; none by default.
// A client that leaves while a heartbeat or a ping is pending leaves the server serving.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "ssebench/recording.hpp"
#include "ssebench/server/server.hpp"
#include "ssebench/server/stats.hpp"
#include "ssebench/server/stream_cursor.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using test::Client;
using test::Response;

constexpr std::uint64_t heartbeat_ms = 40;

/** "a" at 1 ms, then 299 ms of silence before "b" and [DONE] (at speed 1). */
test::TestRecording gap() {
  return test::one_then_gap(300'000);
}

std::string body() {
  return R"({"model":"gap","stream":true})";
}

std::string recorded_bytes(const Recording& r) {
  std::string out;
  for (const Event& e : r.events) out += e.bytes;
  return out;
}

std::int64_t heartbeats_written(std::uint16_t port) {
  Client c(port);
  return c.roundtrip("GET", "/mock/stats")
      .json()
      .as_object()
      .at("heartbeats_written")
      .to_number<std::int64_t>();
}

class Heartbeats : public ::testing::Test {
 protected:
  void start(Config config) {
    dir_.write("gap.jsonl", test::recording_text(gap()));
    folder_ = load_folder(dir_.path());
    ASSERT_TRUE(folder_.errors.empty()) << folder_.errors.front();
    server_ = std::make_unique<test::RunningServer>(config, folder_.recordings);
  }
  const Recording& rec() const { return *folder_.recordings.front(); }
  std::uint16_t port() const { return server_->port(); }

  test::TempDir dir_;
  FolderLoad folder_;
  std::unique_ptr<test::RunningServer> server_;
};

TEST_F(Heartbeats, FillEverySilenceLongerThanTheIntervalAndAreCountedApart) {
  Config config;
  config.sse_heartbeat_ms = heartbeat_ms;
  config.x_accel_buffering_no = true;
  start(config);
  Client c(port());
  const Response r = c.roundtrip("POST", "/v1/chat/completions", body());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-accel-buffering"), "no");
  // Heartbeats fall 40 ms after the last thing sent was due: after "a" (1 ms) at 41, 81, ...,
  // 281 ms; "b" at 300 ms follows 19 ms after the last. Seven, one chunk each.
  std::string events;
  std::size_t beats = 0;
  for (const auto& chunk : r.chunks) {
    if (chunk.data == StreamCursor::heartbeat_bytes)
      ++beats;
    else
      events += chunk.data;
  }
  EXPECT_EQ(beats, 7u);
  EXPECT_EQ(events, recorded_bytes(rec()));  // the events themselves untouched
  EXPECT_EQ(r.chunks.front().data, rec().events.front().bytes);
  EXPECT_EQ(heartbeats_written(port()), 7);
}

TEST_F(Heartbeats, AreRealTimeWhateverTheReplaySpeed) {
  Config config;
  config.sse_heartbeat_ms = heartbeat_ms;
  start(config);
  // At speed 2 the silence is 149.5 ms: heartbeats at 40.5, 80.5, 120.5 ms.
  Client c(port());
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body(), {{"x-ssebench-speed", "2"}});
  std::size_t beats = 0;
  for (const auto& chunk : r.chunks) beats += chunk.data == StreamCursor::heartbeat_bytes;
  EXPECT_EQ(beats, 3u);
}

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/** What a POST over cleartext HTTP/2 (prior knowledge, libcurl) answered. */
struct H2Answer {
  std::string body, head;
  long version = 0;
};

H2Answer h2_post(std::uint16_t port, const std::string& path, const std::string& post,
                 const std::string& speed = "1") {
  H2Answer a;
  CURL* easy = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_slist* headers = curl_slist_append(nullptr, "content-type: application/json");
  headers = curl_slist_append(headers, ("x-ssebench-speed: " + speed).c_str());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &a.head);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  const CURLcode rc = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &a.version);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
  return a;
}

TEST_F(Heartbeats, GoOutOverHttp2Too) {
  Config config;
  config.sse_heartbeat_ms = heartbeat_ms;
  config.x_accel_buffering_no = true;
  start(config);
  const H2Answer a = h2_post(port(), "/v1/chat/completions", body());
  EXPECT_EQ(a.version, CURL_HTTP_VERSION_2_0);
  EXPECT_NE(a.head.find("x-accel-buffering: no"), std::string::npos) << a.head;
  std::string beats;
  for (int i = 0; i < 7; ++i) beats += StreamCursor::heartbeat_bytes;
  const auto& events = rec().events;
  EXPECT_EQ(a.body, events[0].bytes + beats + events[1].bytes + events[2].bytes);
}

TEST_F(Heartbeats, NoneAndNoHeaderByDefaultAsOpenAI) {
  start(Config{});
  Client c(port());
  const Response r = c.roundtrip("POST", "/v1/chat/completions", body());
  EXPECT_EQ(r.body, recorded_bytes(rec()));
  EXPECT_EQ(r.count_header("x-accel-buffering"), 0u);
  EXPECT_EQ(heartbeats_written(port()), 0);
}

// ---- a long pause: a recording with a 70 s reasoning pause, at speed 100 ---------------------

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view pause_id = "responses-gpt-5.1-codex-max-pause70";
constexpr int pause_speed = 100;                 // its 70 s pause lasts 0.7 s
constexpr std::uint64_t pause_interval_ms = 50;  // --sse-heartbeat=0.05, --ws-ping=0.05

/** How many heartbeats the recording's silences hold at pause_speed: between generous bounds
 *  (the count does not depend on timing, but the test should not depend on its arithmetic). */
struct Expected {
  std::size_t at_least, at_most;
};
Expected expected_beats(const Recording& r) {
  double longest_ms = 0, total_ms = 0;
  auto last = r.response.headers_offset;
  for (const Event& e : r.events) {
    const double gap = std::chrono::duration<double, std::milli>(e.offset - last).count();
    longest_ms = std::max(longest_ms, gap / pause_speed);
    total_ms += gap / pause_speed;
    last = e.offset;
  }
  const auto lo = static_cast<std::size_t>(longest_ms / pause_interval_ms / 2);
  const auto hi = static_cast<std::size_t>(2 * total_ms / pause_interval_ms) + 2;
  return {std::max<std::size_t>(lo, 1), hi};
}

std::string pause_body(const Recording& r) {
  json::object b = json::parse(r.request.body).as_object();
  b["model"] = r.id;
  b["stream"] = true;
  return json::serialize(b);
}

std::string remove_heartbeats(std::string body, std::size_t& beats) {
  beats = 0;
  for (std::size_t at; (at = body.find(StreamCursor::heartbeat_bytes)) != std::string::npos;) {
    body.erase(at, StreamCursor::heartbeat_bytes.size());
    ++beats;
  }
  return body;
}

json::object stats_of(std::uint16_t port) {
  Client c(port);
  return c.roundtrip("GET", "/mock/stats").json().as_object();
}
std::int64_t counter(const json::object& stats, std::string_view name) {
  return stats.at(name).to_number<std::int64_t>();
}
std::int64_t endpoint(const json::object& stats, std::string_view ep, std::string_view name) {
  return stats.at("endpoints").as_object().at(ep).as_object().at(name).to_number<std::int64_t>();
}

class HeldConnections : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy_file(
        std::filesystem::path(SSEBENCH_RECORDINGS_DIR) / (std::string(pause_id) + ".jsonl"),
        dir_.path() / (std::string(pause_id) + ".jsonl"));
    folder_ = load_folder(dir_.path());
    ASSERT_TRUE(folder_.errors.empty()) << folder_.errors.front();
    ASSERT_EQ(folder_.recordings.size(), 1u);
  }
  const Recording& rec() const { return *folder_.recordings.front(); }
  std::string recorded() const { return recorded_bytes(rec()); }
  std::unique_ptr<test::RunningServer> serve(std::uint64_t heartbeat_ms, std::uint64_t ping_ms) {
    Config c;
    c.sse_heartbeat_ms = heartbeat_ms;
    c.ws_ping_ms = ping_ms;
    return std::make_unique<test::RunningServer>(c, folder_.recordings);
  }
  Response post(Client& c) {
    return c.roundtrip("POST", "/v1/responses", pause_body(rec()),
                       {{"x-ssebench-speed", std::to_string(pause_speed)}});
  }

  test::TempDir dir_;
  FolderLoad folder_;
};

TEST_F(HeldConnections, SseOverHttp11GetsHeartbeatsInThePauseCountedInTheServersBytes) {
  const auto server = serve(pause_interval_ms, 0);
  Client c(server->port());
  const Response r = post(c);
  ASSERT_EQ(r.status, 200);
  std::size_t beats = 0;
  EXPECT_EQ(remove_heartbeats(r.body, beats), recorded());  // the text exact, the events whole
  const Expected want = expected_beats(rec());
  EXPECT_GE(beats, want.at_least);
  EXPECT_LE(beats, want.at_most);
  std::size_t beat_chunks = 0;  // each its own chunk
  for (const auto& chunk : r.chunks) beat_chunks += chunk.data == StreamCursor::heartbeat_bytes;
  EXPECT_EQ(beat_chunks, beats);
  json::object stats;
  // Every byte the client read, the heartbeats' chunks (8 bytes each) with them, is counted.
  ASSERT_TRUE(test::eventually([&] {
    stats = stats_of(server->port());
    return endpoint(stats, "responses", "bytes_out") == static_cast<std::int64_t>(c.bytes_read());
  })) << endpoint(stats, "responses", "bytes_out")
      << " against " << c.bytes_read();
  EXPECT_EQ(counter(stats, "heartbeats_written"), static_cast<std::int64_t>(beats));
  const auto events = std::count_if(rec().events.begin(), rec().events.end(),
                                    [](const Event& e) { return !e.bytes.empty(); });
  EXPECT_EQ(counter(stats, "events_written"), events);
}

TEST_F(HeldConnections, SseOverHttp2GetsThemTooOneDataFrameEach) {
  const auto with = serve(pause_interval_ms, 0);
  const auto without = serve(0, 0);
  const std::string speed = std::to_string(pause_speed);
  const H2Answer a = h2_post(with->port(), "/v1/responses", pause_body(rec()), speed);
  const H2Answer b = h2_post(without->port(), "/v1/responses", pause_body(rec()), speed);
  EXPECT_EQ(a.version, CURL_HTTP_VERSION_2_0);
  std::size_t beats = 0;
  EXPECT_EQ(remove_heartbeats(a.body, beats), recorded());
  EXPECT_EQ(b.body, recorded());  // off: none
  const Expected want = expected_beats(rec());
  EXPECT_GE(beats, want.at_least);
  EXPECT_LE(beats, want.at_most);
  const json::object sa = stats_of(with->port()), sb = stats_of(without->port());
  EXPECT_EQ(counter(sa, "heartbeats_written"), static_cast<std::int64_t>(beats));
  EXPECT_EQ(counter(sb, "heartbeats_written"), 0);
  // The same answer but for the heartbeats: a DATA frame each, its 9-byte head and 3 bytes
  // (give or take the empty DATA frame that may carry END_STREAM on its own).
  auto body_bytes = [](const json::object& st) {
    return endpoint(st, "responses", "bytes_out") - endpoint(st, "responses", "header_bytes_out");
  };
  const auto frames = static_cast<std::int64_t>(beats * (9 + StreamCursor::heartbeat_bytes.size()));
  EXPECT_NEAR(static_cast<double>(body_bytes(sa) - body_bytes(sb)), static_cast<double>(frames), 9);
}

TEST_F(HeldConnections, ByDefaultNoHeartbeatsAndNoPings) {
  const auto server = serve(0, 0);
  Client c(server->port());
  EXPECT_EQ(post(c).body, recorded());
  const json::object stats = stats_of(server->port());
  EXPECT_EQ(counter(stats, "heartbeats_written"), 0);
  EXPECT_EQ(counter(stats, "ws_pings_written"), 0);
}

/** A blocking WebSocket client that counts the pings it gets (Beast answers each with a pong
 *  while it reads). */
class PingedClient {
 public:
  explicit PingedClient(std::uint16_t port) : ws_(ioc_) {
    ws_.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
    timeval tv{Client::receive_timeout_s, 0};
    ::setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set("x-ssebench-speed", std::to_string(pause_speed));
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::ping) {
        ++pings_;
        EXPECT_TRUE(payload.empty());
      }
    });
    ws_.handshake("127.0.0.1", "/v1/responses");
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
  }
  std::string read() {
    beast::flat_buffer b;
    ws_.read(b);
    return beast::buffers_to_string(b.data());
  }
  /** A turn's frames, to the last. */
  std::vector<std::string> turn(const std::string& message, std::size_t frames) {
    send(message);
    std::vector<std::string> out;
    while (out.size() < frames) out.push_back(read());
    return out;
  }
  void vanish() { ws_.next_layer().close(); }  // no close handshake: the client is just gone
  std::size_t pings() const { return pings_; }

 private:
  net::io_context ioc_;
  websocket::stream<net::ip::tcp::socket> ws_;
  std::size_t pings_ = 0;
};

std::string create_message(const Recording& r) {
  json::object b = json::parse(r.request.body).as_object();
  b.erase("stream");
  b["model"] = r.id;
  b["type"] = "response.create";
  return json::serialize(b);
}

std::vector<std::string> payloads(const Recording& r) {
  std::vector<std::string> out;
  for (const Event& e : r.events)
    if (!e.bytes.empty()) out.emplace_back(e.data());
  return out;
}

TEST_F(HeldConnections, WebSocketGetsPingsInThePauseAndThePongsAreCounted) {
  const auto with = serve(0, pause_interval_ms);  // SSE heartbeats off: a turn gets no comments
  const auto without = serve(0, 0);
  const std::vector<std::string> want = payloads(rec());
  std::size_t pings = 0;
  {
    PingedClient c(with->port());
    EXPECT_EQ(c.turn(create_message(rec()), want.size()), want);  // the text exact
    pings = c.pings();
  }
  {
    PingedClient c(without->port());
    EXPECT_EQ(c.turn(create_message(rec()), want.size()), want);
    EXPECT_EQ(c.pings(), 0u);
  }
  const Expected bounds = expected_beats(rec());
  EXPECT_GE(pings, bounds.at_least);
  EXPECT_LE(pings, bounds.at_most);
  // Both clients have closed: their sessions have counted every byte. A ping is 2 bytes out (no
  // payload, unmasked), its pong 6 in (masked).
  json::object sa, sb;
  ASSERT_TRUE(test::eventually([&] {
    sa = stats_of(with->port());
    sb = stats_of(without->port());
    return counter(sa, "connections_open") == 1 && counter(sb, "connections_open") == 1 &&
           counter(sa, "ws_pongs_received") == static_cast<std::int64_t>(pings);
  })) << counter(sa, "ws_pongs_received")
      << " pongs for " << pings << " pings";
  EXPECT_EQ(counter(sa, "ws_pings_written"), static_cast<std::int64_t>(pings));
  EXPECT_EQ(counter(sb, "ws_pings_written"), 0);
  EXPECT_EQ(counter(sb, "ws_pongs_received"), 0);
  EXPECT_EQ(counter(sa, "heartbeats_written"), 0);
  const auto n = static_cast<std::int64_t>(pings);
  EXPECT_EQ(endpoint(sa, "websocket", "bytes_out") - endpoint(sb, "websocket", "bytes_out"), 2 * n);
  EXPECT_EQ(endpoint(sa, "websocket", "bytes_in") - endpoint(sb, "websocket", "bytes_in"), 6 * n);
}

TEST_F(HeldConnections, AnIdleWebSocketIsPingedBetweenTurns) {
  const auto server = serve(0, pause_interval_ms);
  PingedClient c(server->port());
  // No turn: the pings wait in the socket until the client reads again.
  ASSERT_TRUE(
      test::eventually([&] { return counter(stats_of(server->port()), "ws_pings_written") >= 3; }));
  const std::vector<std::string> want = payloads(rec());
  EXPECT_EQ(c.turn(create_message(rec()), want.size()), want);
  EXPECT_GE(c.pings(), 3u);
}

// A client gone while its heartbeat (or ping) timer is pending: its stream is freed at once,
// the timer's end touches nothing freed (ASan), and the server serves the next client whole.
TEST_F(HeldConnections, AClientLeavingWhileAHeartbeatIsPendingLeavesTheServerServing) {
  const auto server = serve(pause_interval_ms, pause_interval_ms);
  const std::uint16_t port = server->port();
  for (int round = 0; round < 3; ++round) {
    Client c(port);
    c.send(Client::request_text("POST", "/v1/responses", pause_body(rec()),
                                {{"x-ssebench-speed", std::to_string(pause_speed)}}));
    // Read until the first heartbeat: the pause has begun, the next heartbeat's timer waits.
    std::string got;
    char buf[4096];
    while (got.find("\r\n3\r\n:\n\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
      ASSERT_GT(n, 0) << "the stream ended before a heartbeat";
      got.append(buf, static_cast<std::size_t>(n));
    }
    c.close();
  }
  for (int round = 0; round < 3; ++round) {
    PingedClient ws(port);
    ws.send(create_message(rec()));
    ws.read();  // the turn has begun; the pause's first ping is due
    ws.vanish();
  }
  EXPECT_TRUE(test::eventually([&] {
    const json::object s = stats_of(port);
    return counter(s, "streams_active") == 0 && counter(s, "connections_open") == 1;
  }));
  Client next(port);
  std::size_t beats = 0;
  EXPECT_EQ(remove_heartbeats(post(next).body, beats), recorded());
  EXPECT_GE(beats, 1u);
  PingedClient ws(port);
  const std::vector<std::string> want = payloads(rec());
  EXPECT_EQ(ws.turn(create_message(rec()), want.size()), want);
}

}  // namespace
}  // namespace ssebench::server
