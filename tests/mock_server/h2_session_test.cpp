#include "../../mock_server/src/h2_session.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "ssebench/server/replay.hpp"
#include "support.hpp"

// The HTTP/2 session against the real server on a real socket: libcurl (prior knowledge) for
// well-formed traffic, a raw socket for the bytes no client library would send.

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
using test::Clock;
namespace json = boost::json;

constexpr std::size_t header_limit = 4 * 1024;
constexpr std::size_t body_limit = 64 * 1024;
constexpr std::uint64_t idle_timeout_ms = 1'500;
constexpr std::uint64_t request_timeout_ms = 500;
constexpr std::uint64_t lifetime_ms = 2'000;  // longer than every other test's streams

// Quick events, and recorded connection-specific headers that HTTP/2 forbids.
test::TestRecording quick() {
  test::TestRecording r;
  r.headers = {{"content-type", "text/event-stream; charset=utf-8"},
               {"connection", "keep-alive"},
               {"transfer-encoding", "chunked"},
               {"keep-alive", "timeout=5"}};
  r.events = {{1'000, "role", test::chat_chunk("")},
              {2'000, "content", test::chat_chunk("Hel")},
              {3'000, "content", test::chat_chunk("lo")},
              {4'000, "finish", test::chat_chunk("", "stop")},
              {5'000, "done", "[DONE]"}};
  return r;
}

// One event, then half a minute of nothing: a stream that stays open while a test acts on it.
test::TestRecording lingering() {
  return test::one_then_gap(30'000'000);
}

class H2Session : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    dir_->write("quick.jsonl", test::recording_text(quick()));
    dir_->write("lingering.jsonl", test::recording_text(lingering()));
    const FolderLoad folder = load_folder(dir_->path());
    ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
    for (const auto& r : folder.recordings) recordings_[r->id] = r;
    Config config;
    config.header_limit_bytes = header_limit;
    config.body_limit_bytes = body_limit;
    config.idle_timeout_ms = idle_timeout_ms;
    config.request_timeout_ms = request_timeout_ms;
    config.stream_lifetime_limit_ms = lifetime_ms;
    server_ = new test::RunningServer(config, folder.recordings);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static std::uint16_t port() { return server_->port(); }
  static const Stats& stats() { return server_->server().stats(); }
  static std::string url(std::string_view path) {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  static std::string all_bytes(const std::string& id) {
    std::string out;
    for (const auto& e : recordings_.at(id)->events) out += e.bytes;
    return out;
  }

  static test::TempDir* dir_;
  static test::RunningServer* server_;
  static std::map<std::string, std::shared_ptr<const Recording>> recordings_;
};
test::TempDir* H2Session::dir_ = nullptr;
test::RunningServer* H2Session::server_ = nullptr;
std::map<std::string, std::shared_ptr<const Recording>> H2Session::recordings_;

using test::eventually;

// ---- libcurl ---------------------------------------------------------------------------------

/** One transfer's answer, and the easy handle that made it (for reuse on its connection). */
struct Transfer {
  Transfer(const std::string& target, bool h2, const std::string* body = nullptr,
           const std::vector<std::string>& extra = {}, std::string_view speed = "0")
      : easy(curl_easy_init()) {
    curl_easy_setopt(easy, CURLOPT_URL, target.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     h2 ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    headers = curl_slist_append(headers, ("x-ssebench-speed: " + std::string(speed)).c_str());
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "content-type: application/json");
    for (const std::string& h : extra) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    if (body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data());
    }
  }
  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  /** libcurl 7.88 fails a prior-knowledge transfer on a reused HTTP/2 connection (error 16;
   *  curl/curl#10643, fixed in 7.89): a transfer meant for an open connection asks for
   *  CURL_HTTP_VERSION_2_0, which multiplexes on it. */
  void reuse_h2() { curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_0); }

  CURLcode perform() {
    body.clear();
    head.clear();
    result = curl_easy_perform(easy);
    finish();
    return result;
  }
  void finish() {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) {
    static_cast<Transfer*>(self)->body.append(data, size * n);
    return size * n;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) {
    static_cast<Transfer*>(self)->head.append(data, size * n);
    return size * n;
  }

  CURL* easy;
  curl_slist* headers = nullptr;
  CURLcode result = CURLE_OK;
  long status = 0;
  long version = 0;
  std::string body;
  std::string head;  // status line and fields, as libcurl hands them over
};

std::string stream_body(const std::string& model) {
  return R"({"model":")" + model + R"(","stream":true})";
}

/** Runs transfers at once, multiplexed over one connection; `step` runs on every wake-up. */
template <class Step>
void run_multiplexed(std::vector<std::unique_ptr<Transfer>>& transfers, Step step) {
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
  for (auto& t : transfers) {
    if (&t != &transfers.front()) t->reuse_h2();  // the first one opens the connection
    curl_easy_setopt(t->easy, CURLOPT_PIPEWAIT, 1L);
    curl_multi_add_handle(multi, t->easy);
  }
  int running = 1;
  const auto until = Clock::now() + 20s;
  while (running > 0 && Clock::now() < until) {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& t : transfers)
        if (t->easy == msg->easy_handle) {
          t->result = msg->data.result;
          t->finish();
        }
    }
    if (!step(multi)) break;
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  for (auto& t : transfers) curl_multi_remove_handle(multi, t->easy);
  curl_multi_cleanup(multi);
}

// ---- a raw socket: the bytes libraries would not send ----------------------------------------

/** An HTTP/2 frame as read off the socket. */
struct Frame {
  std::uint8_t type = 0, flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
};
constexpr std::uint8_t frame_data = 0, frame_headers = 1, frame_rst_stream = 3, frame_settings = 4,
                       frame_goaway = 7;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload) {
  std::string f;
  const auto len = static_cast<std::uint32_t>(payload.size());
  f += static_cast<char>(len >> 16);
  f += static_cast<char>(len >> 8);
  f += static_cast<char>(len);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>((stream >> shift) & 0xff);
  return f + std::string(payload);
}

/** HPACK literal without indexing (RFC 7541 §6.2.2); strings shorter than 127 bytes. */
std::string literal(std::uint8_t name_index, std::string_view name, std::string_view value) {
  std::string out;
  if (name_index < 15) {
    out += static_cast<char>(name_index);
  } else {
    out += static_cast<char>(0x0f);
    out += static_cast<char>(name_index - 15);
  }
  if (name_index == 0) out += static_cast<char>(name.size()) + std::string(name);
  return out + static_cast<char>(value.size()) + std::string(value);
}

/** A streamed chat request's HEADERS on stream 1, HPACK-encoded by hand; END_STREAM comes with
 *  its DATA (request_frames) or never (a request that stays incomplete). */
std::string request_headers(std::uint32_t stream = 1) {
  std::string block = "\x83\x86";  // :method POST, :scheme http (static table 3 and 6)
  block += literal(4, {}, "/v1/chat/completions");
  block += literal(1, {}, "127.0.0.1");
  block += literal(31, {}, "application/json");
  block += literal(0, "x-ssebench-speed", "1");
  return frame(frame_headers, 0x4, stream, block);
}

std::string request_frames(const std::string& model) {
  return request_headers() + frame(frame_data, 0x1, 1, stream_body(model));
}

class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) : client_(port) {}
  void send(std::string_view bytes) { client_.send(bytes); }
  void close() { client_.close(); }
  int fd() const { return client_.fd(); }

  /** The next frame, or nullopt once the server has closed (or 10 s passed). */
  std::optional<Frame> next() {
    while (buf_.size() < 9 || buf_.size() < 9 + length()) {
      char chunk[4096];
      const ssize_t n = ::recv(fd(), chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
    Frame f;
    f.type = static_cast<std::uint8_t>(buf_[3]);
    f.flags = static_cast<std::uint8_t>(buf_[4]);
    f.stream = (byte(5) << 24 | byte(6) << 16 | byte(7) << 8 | byte(8)) & 0x7fffffffu;
    f.payload = buf_.substr(9, length());
    buf_.erase(0, 9 + length());
    return f;
  }

  /** Frames until an RST_STREAM for `stream`: its error code; nullopt if the server closed. */
  std::optional<std::uint32_t> rst_stream(std::uint32_t stream) {
    while (auto f = next())
      if (f->type == frame_rst_stream && f->stream == stream && f->payload.size() == 4)
        return error_code(f->payload, 0);
    return std::nullopt;
  }

  /** Frames until the server closes; the GOAWAY among them (its error code), if any. */
  std::optional<std::uint32_t> goaway_then_close() {
    std::optional<std::uint32_t> code;
    while (auto f = next()) {
      if (f->type == frame_goaway && f->payload.size() >= 8) code = error_code(f->payload, 4);
    }
    return code;
  }

 private:
  static std::uint32_t error_code(const std::string& payload, std::size_t at) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(payload[at + i]); };
    return static_cast<std::uint32_t>(b(0)) << 24 | static_cast<std::uint32_t>(b(1)) << 16 |
           static_cast<std::uint32_t>(b(2)) << 8 | b(3);
  }

  std::uint32_t byte(std::size_t i) const { return static_cast<std::uint8_t>(buf_[i]); }
  std::size_t length() const { return byte(0) << 16 | byte(1) << 8 | byte(2); }
  test::Client client_;
  std::string buf_;
};

constexpr std::uint32_t no_error = 0, protocol_error = 1, refused_stream = 7, cancel = 8;

std::string preface_and_settings() {
  return std::string(h2_preface) + frame(frame_settings, 0, 0, {});
}

// ---- the tests -----------------------------------------------------------------------------

TEST(H2Preface, IsToldFromEveryHttp11RequestByItsFirstThreeBytes) {
  EXPECT_TRUE(starts_h2(h2_preface));
  EXPECT_TRUE(starts_h2("PRI"));
  EXPECT_TRUE(starts_h2(std::string(h2_preface) + "more"));
  EXPECT_FALSE(starts_h2("PR"));  // too short to tell: HTTP/1.1 reads it (PROPFIND...)
  for (const char* h1 : {"POST / HTTP/1.1\r\n", "PUT /", "PATCH /", "PROPFIND /", "GET /"})
    EXPECT_FALSE(starts_h2(h1)) << h1;
  EXPECT_FALSE(starts_h2("PRI * HTTP/1.1\r\n"));
}

TEST_F(H2Session, AnswersAreHttp11sAnswersOverHttp2) {
  for (const char* path : {"/v1/models", "/v1/nothing-here"}) {
    Transfer h1(url(path), false), h2(url(path), true);
    ASSERT_EQ(h1.perform(), CURLE_OK);
    ASSERT_EQ(h2.perform(), CURLE_OK);
    EXPECT_EQ(h2.version, CURL_HTTP_VERSION_2_0) << path;
    EXPECT_EQ(h2.status, h1.status) << path;
    EXPECT_EQ(h2.body, h1.body) << path;
  }
  Transfer missing(url("/v1/nothing-here"), true);
  ASSERT_EQ(missing.perform(), CURLE_OK);
  EXPECT_EQ(missing.status, 404);
}

TEST_F(H2Session, APreflights204CarriesNoContentLength) {
  // RFC 9110 §8.6, as over HTTP/1.1 (tests/mock_server/conformance_test.cpp).
  Transfer t(url("/v1/chat/completions"), true, nullptr,
             {"Origin: http://example.test", "Access-Control-Request-Method: POST"});
  curl_easy_setopt(t.easy, CURLOPT_CUSTOMREQUEST, "OPTIONS");
  ASSERT_EQ(t.perform(), CURLE_OK);
  EXPECT_EQ(t.version, CURL_HTTP_VERSION_2_0);
  EXPECT_EQ(t.status, 204);
  EXPECT_EQ(t.head.find("content-length"), std::string::npos) << t.head;
  EXPECT_NE(t.head.find("access-control-allow-methods"), std::string::npos) << t.head;
}

TEST_F(H2Session, SseBodyIsTheRecordingsBytesWithoutConnectionSpecificHeaders) {
  const std::string body = stream_body("quick");
  Transfer t(url("/v1/chat/completions"), true, &body);
  ASSERT_EQ(t.perform(), CURLE_OK);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.body, all_bytes("quick"));
  EXPECT_NE(t.head.find("content-type: text/event-stream"), std::string::npos) << t.head;
  for (const char* forbidden : {"connection:", "transfer-encoding:", "keep-alive:"})
    EXPECT_EQ(t.head.find(forbidden), std::string::npos) << forbidden << " in " << t.head;
}

TEST_F(H2Session, ManyConcurrentStreamsShareOneConnectionByteExact) {
  constexpr std::size_t streams = 50;
  const auto h2_before = stats().connections_h2.load();
  const auto events_before = stats().events_written.load();
  const std::string body = stream_body("quick");
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (std::size_t i = 0; i < streams; ++i)
    transfers.push_back(std::make_unique<Transfer>(url("/v1/chat/completions"), true, &body));
  run_multiplexed(transfers, [](CURLM*) { return true; });
  long connects = 0;
  for (auto& t : transfers) {
    EXPECT_EQ(t->result, CURLE_OK);
    EXPECT_EQ(t->body, all_bytes("quick"));
    long n = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &n);
    connects += n;
  }
  EXPECT_EQ(connects, 1);
  EXPECT_EQ(stats().connections_h2.load() - h2_before, 1u);
  EXPECT_EQ(stats().events_written.load() - events_before,
            streams * recordings_.at("quick")->events.size());
}

TEST_F(H2Session, ClientResetOfOneStreamStopsItAndTheOthersGoOn) {
  const std::string lingering_body = stream_body("lingering");
  const std::string quick_body = stream_body("quick");
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (int i = 0; i < 2; ++i)
    transfers.push_back(std::make_unique<Transfer>(
        url("/v1/chat/completions"), true, &lingering_body, std::vector<std::string>{}, "1"));
  const auto active_before = stats().streams_active.load();
  bool reset = false;
  Transfer* later = nullptr;  // a third stream, on the same connection
  bool freed = false;         // the reset stream was freed while the other one went on
  run_multiplexed(transfers, [&](CURLM* multi) {
    if (!reset && !transfers[0]->body.empty() && !transfers[1]->body.empty()) {
      // libcurl queues RST_STREAM CANCEL and sends it with the connection's next frames.
      curl_multi_remove_handle(multi, transfers[0]->easy);
      reset = true;
      transfers.push_back(
          std::make_unique<Transfer>(url("/v1/chat/completions"), true, &quick_body));
      later = transfers.back().get();
      later->reuse_h2();
      curl_multi_add_handle(multi, later->easy);
    }
    if (later && later->status != 0)
      freed = freed || stats().streams_active.load() == active_before + 1;
    return !freed;
  });
  EXPECT_TRUE(freed);
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->result, CURLE_OK);
  EXPECT_EQ(later->body, all_bytes("quick"));
  long connects = 0;
  curl_easy_getinfo(later->easy, CURLINFO_NUM_CONNECTS, &connects);
  EXPECT_EQ(connects, 0);  // it went over the open connection
  EXPECT_TRUE(reset);
  EXPECT_EQ(transfers[1]->body, recordings_.at("lingering")->events[0].bytes);
  EXPECT_TRUE(eventually([&] { return stats().streams_active.load() == active_before; }));
}

TEST_F(H2Session, GarbageAfterThePrefaceIsGoawayProtocolErrorThenClose) {
  RawConnection c(port());
  c.send(std::string(h2_preface) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.goaway_then_close(), protocol_error);
  Transfer t(url("/v1/models"), true);
  EXPECT_EQ(t.perform(), CURLE_OK);
  EXPECT_EQ(t.status, 200);
}

// RFC 9113 §3.4: a GOAWAY may be left out, the peer does not speak HTTP/2; nghttp2 leaves it out.
TEST_F(H2Session, ABrokenPrefaceIsClosedAtOnce) {
  RawConnection c(port());
  c.send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame(frame_settings, 0, 0, {}));
  EXPECT_EQ(c.goaway_then_close(), std::nullopt);
  Transfer t(url("/v1/models"), true);
  EXPECT_EQ(t.perform(), CURLE_OK);
}

TEST_F(H2Session, HeadersOverTheLimitAre431OnThatStreamAndTheConnectionServesOn) {
  const auto h2_before = stats().connections_h2.load();
  Transfer big(url("/v1/models"), true, nullptr,
               {"x-big: " + std::string(header_limit, 'a')});  // HPACK can't shrink it below
  ASSERT_EQ(big.perform(), CURLE_OK);
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(json::parse(big.body).at("error").at("code"), "request_header_fields_too_large");
  // The same easy handle reuses its connection: HPACK's state survived the refused block.
  curl_slist_free_all(big.headers);
  big.headers = nullptr;
  curl_easy_setopt(big.easy, CURLOPT_HTTPHEADER, nullptr);
  big.reuse_h2();
  ASSERT_EQ(big.perform(), CURLE_OK);
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(stats().connections_h2.load() - h2_before, 1u);
}

TEST_F(H2Session, BodyOverTheLimitIs413OnThatStream) {
  const std::string body(body_limit + 1, ' ');
  Transfer t(url("/v1/chat/completions"), true, &body);
  ASSERT_EQ(t.perform(), CURLE_OK);
  EXPECT_EQ(t.status, 413);
  EXPECT_EQ(json::parse(t.body).at("error").at("code"), "request_too_large");
  const std::string ok = stream_body("quick");
  Transfer after(url("/v1/chat/completions"), true, &ok);
  ASSERT_EQ(after.perform(), CURLE_OK);
  EXPECT_EQ(after.body, all_bytes("quick"));
}

TEST_F(H2Session, AClientThatVanishesMidStreamFreesItsStreamAndConnection) {
  const auto active_before = stats().streams_active.load();
  const auto open_before = stats().connections_open.load();
  {
    RawConnection c(port());
    c.send(preface_and_settings() + request_frames("lingering"));
    bool got_event = false;
    while (auto f = c.next())
      if (f->type == frame_data && f->stream == 1 && !f->payload.empty()) {
        got_event = true;
        break;
      }
    ASSERT_TRUE(got_event);
    EXPECT_EQ(stats().streams_active.load(), active_before + 1);
  }  // closed without GOAWAY or RST_STREAM
  EXPECT_TRUE(eventually([&] { return stats().streams_active.load() == active_before; }));
  // Earlier tests' connections may still be closing: at most as many as before.
  EXPECT_TRUE(eventually([&] { return stats().connections_open.load() <= open_before; }));
  Transfer t(url("/v1/models"), true);
  EXPECT_EQ(t.perform(), CURLE_OK);
}

TEST_F(H2Session, AConnectionWithNoStreamIsClosedWithGoawayAfterTheIdleTimeout) {
  const auto idle_before = stats().timeouts_idle.load();
  RawConnection c(port());
  const auto start = Clock::now();
  c.send(preface_and_settings());
  EXPECT_EQ(c.goaway_then_close(), no_error);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(idle_timeout_ms - 100));
  EXPECT_EQ(stats().timeouts_idle.load() - idle_before, 1u);
}

TEST_F(H2Session, ARequestNotCompleteInTheRequestTimeoutIsResetOnItsStream) {
  const auto before = stats().timeouts_request.load();
  RawConnection c(port());
  const auto start = Clock::now();
  c.send(preface_and_settings() + request_headers());  // no body, no END_STREAM
  EXPECT_EQ(c.rst_stream(1), cancel);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(request_timeout_ms - 50));
  EXPECT_EQ(stats().timeouts_request.load() - before, 1u);
}

TEST_F(H2Session, StreamsBeyondTheLimitAreRefusedAndTheOthersServed) {
  const std::uint32_t limit = Config{}.h2_max_concurrent_streams;
  RawConnection c(port());
  std::string frames = preface_and_settings();
  for (std::uint32_t i = 0; i < limit; ++i) frames += request_headers(2 * i + 1);  // open
  const std::uint32_t beyond = 2 * limit + 1;
  frames += request_headers(beyond);
  c.send(frames);
  EXPECT_EQ(c.rst_stream(beyond), refused_stream);
  // An open one is still served: its body comes, its stream plays to END_STREAM.
  c.send(frame(frame_data, 0x1, 1, stream_body("quick")));
  bool ended = false;
  while (auto f = c.next())
    if (f->stream == 1 && f->type == frame_data && (f->flags & 0x1)) {
      ended = true;
      break;
    }
  EXPECT_TRUE(ended);
}

TEST_F(H2Session, AStreamPastItsLifetimeIsResetAndFreed) {
  const auto before = stats().timeouts_lifetime.load();
  const auto active_before = stats().streams_active.load();
  RawConnection c(port());
  const auto start = Clock::now();
  c.send(preface_and_settings() + request_frames("lingering"));  // 30 s of stream
  EXPECT_EQ(c.rst_stream(1), cancel);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(lifetime_ms - 50));
  EXPECT_EQ(stats().timeouts_lifetime.load() - before, 1u);
  EXPECT_TRUE(eventually([&] { return stats().streams_active.load() == active_before; }));
}

TEST_F(H2Session, RepeatedRequestsCarryFewerHeaderBytesThanOverHttp11) {
  // The same ten requests over one keep-alive connection each way: HPACK sends the repeated
  // fields as table indexes after the first request.
  constexpr std::uint64_t requests = 10;
  const auto& models = stats().endpoints[static_cast<std::size_t>(Endpoint::models)];
  std::array<std::uint64_t, 2> header_in{}, header_out{};
  for (const bool h2 : {false, true}) {
    const auto in0 = models.header_bytes_in.load(), out0 = models.header_bytes_out.load();
    const auto bytes0 = models.bytes_out.load();
    Transfer t(url("/v1/models"), h2);
    for (std::uint64_t i = 0; i < requests; ++i) {
      ASSERT_EQ(t.perform(), CURLE_OK);
      ASSERT_EQ(t.status, 200);
      if (h2) t.reuse_h2();
    }
    // The server counts a write once it has completed, which may be after the client has read
    // it: wait until every body is counted. They are the same bytes; HTTP/2 adds the 9-byte
    // header of their one DATA frame each.
    const std::uint64_t body = requests * (t.body.size() + (h2 ? 9 : 0));
    EXPECT_TRUE(eventually([&] {
      return models.bytes_out.load() - bytes0 - (models.header_bytes_out.load() - out0) == body;
    })) << (h2 ? "h2" : "h1");
    header_in[h2] = models.header_bytes_in.load() - in0;
    header_out[h2] = models.header_bytes_out.load() - out0;
  }
  EXPECT_LT(header_in[1], header_in[0]);
  EXPECT_LT(header_out[1], header_out[0]);
}

}  // namespace
}  // namespace ssebench::server
