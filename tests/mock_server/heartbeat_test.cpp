// The server options for streams behind proxies (Config::sse_heartbeat_ms, x_accel_buffering_no):
// comments in the silences of a stream, at exact real-time intervals, counted apart from events;
// the header that turns nginx's buffering off; neither by default.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <string>

#include "ssebench/recording.hpp"
#include "ssebench/server/server.hpp"
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

TEST_F(Heartbeats, GoOutOverHttp2Too) {
  Config config;
  config.sse_heartbeat_ms = heartbeat_ms;
  config.x_accel_buffering_no = true;
  start(config);
  CURL* easy = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port()) + "/v1/chat/completions";
  const std::string post = body();
  std::string got, head;
  curl_slist* headers = curl_slist_append(nullptr, "content-type: application/json");
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &head);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);
  long version = 0;
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  EXPECT_EQ(version, CURL_HTTP_VERSION_2_0);
  EXPECT_NE(head.find("x-accel-buffering: no"), std::string::npos) << head;
  std::string beats;
  for (int i = 0; i < 7; ++i) beats += StreamCursor::heartbeat_bytes;
  const auto& events = rec().events;
  EXPECT_EQ(got, events[0].bytes + beats + events[1].bytes + events[2].bytes);
}

TEST_F(Heartbeats, NoneAndNoHeaderByDefaultAsOpenAI) {
  start(Config{});
  Client c(port());
  const Response r = c.roundtrip("POST", "/v1/chat/completions", body());
  EXPECT_EQ(r.body, recorded_bytes(rec()));
  EXPECT_EQ(r.count_header("x-accel-buffering"), 0u);
  EXPECT_EQ(heartbeats_written(port()), 0);
}

}  // namespace
}  // namespace ssebench::server
