#include "ssebench/server/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "ssebench/server/replay.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::Clock;
using test::Response;
namespace json = boost::json;

// ---- the recordings every test here replays: short, a few ms between events ------------------

test::TestRecording tiny() {
  test::TestRecording r;
  r.headers_offset_us = 1'000;
  r.headers = {{"content-type", "text/event-stream; charset=utf-8"},
               {"content-length", "999"},
               {"connection", "close"},
               {"transfer-encoding", "identity"},
               {"keep-alive", "timeout=5"},
               {"x-dup", "a"},
               {"x-dup", "b"}};
  r.events = {{2'000, "role", test::chat_chunk("")},
              {4'000, "content", test::chat_chunk("Hel")},
              {6'000, "content", test::chat_chunk("lo")},
              {8'000, "finish", test::chat_chunk("", "stop")},
              {10'000, "done", "[DONE]"}};
  r.nonstream_offset_us = 12'000;
  r.nonstream_body =
      R"({"id":"chatcmpl-test","object":"chat.completion","created":1,"model":"gpt-test",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]})";
  return r;
}

// Events 100 ms apart: for pacing and long polls.
test::TestRecording paced() {
  test::TestRecording r;
  r.events = {{100'000, "content", test::chat_chunk("a")},
              {200'000, "content", test::chat_chunk("b")},
              {300'000, "content", test::chat_chunk("c")},
              {400'000, "content", test::chat_chunk("d")},
              {400'000, "done", "[DONE]"}};
  return r;
}

// One event, then a minute of nothing: only an EOF watch frees a stream that is left early.
test::TestRecording slow() {
  test::TestRecording r;
  r.events = {{1'000, "content", test::chat_chunk("a")},
              {60'000'000, "content", test::chat_chunk("b")},
              {60'000'000, "done", "[DONE]"}};
  return r;
}

test::TestRecording nostream() {
  test::TestRecording r;
  r.nonstream_offset_us = 1'000;
  r.nonstream_body = R"({"object":"chat.completion","choices":[]})";
  return r;
}

test::TestRecording responses() {
  test::TestRecording r;
  r.api = "responses";
  r.events = {{1'000, "response.created", R"({"type":"response.created","sequence_number":0})",
               "response.created"},
              {2'000, "response.output_text.delta",
               R"({"type":"response.output_text.delta","sequence_number":1,"delta":"OK"})",
               "response.output_text.delta"},
              {3'000, "response.completed", R"({"type":"response.completed","sequence_number":2})",
               "response.completed"}};
  return r;
}

/** The in-process server every test here talks to: started once, on port 0. */
class ServerEnvironment : public ::testing::Environment {
 public:
  static constexpr std::uint64_t job_retention_ms = 300;
  static constexpr std::uint64_t long_poll_max_wait_ms = 300;

  void SetUp() override {
    dir_ = std::make_unique<test::TempDir>();
    dir_->write("tiny.jsonl", test::recording_text(tiny()));
    dir_->write("paced.jsonl", test::recording_text(paced()));
    dir_->write("slow.jsonl", test::recording_text(slow()));
    dir_->write("nostream.jsonl", test::recording_text(nostream()));
    dir_->write("resp.jsonl", test::recording_text(responses()));
    const FolderLoad folder = load_folder(dir_->path());
    ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
    ASSERT_EQ(folder.recordings.size(), 5u);
    for (const auto& r : folder.recordings) recordings_[r->id] = r;
    Config config;
    config.job_retention_ms = job_retention_ms;
    config.long_poll_max_wait_ms = long_poll_max_wait_ms;
    config.close_linger_ms = 200;
    server_ = std::make_unique<test::RunningServer>(config, folder.recordings);
  }
  void TearDown() override {
    server_.reset();
    dir_.reset();
  }

  static std::uint16_t port() { return instance->server_->port(); }
  static const Recording& recording(const std::string& id) { return *instance->recordings_.at(id); }

  static ServerEnvironment* instance;

 private:
  std::unique_ptr<test::TempDir> dir_;
  std::map<std::string, std::shared_ptr<const Recording>> recordings_;
  std::unique_ptr<test::RunningServer> server_;
};
ServerEnvironment* ServerEnvironment::instance =
    static_cast<ServerEnvironment*>(::testing::AddGlobalTestEnvironment(new ServerEnvironment));

std::uint16_t port() {
  return ServerEnvironment::port();
}
const Recording& rec(const std::string& id) {
  return ServerEnvironment::recording(id);
}

std::string all_bytes(const Recording& r, std::size_t first = 0) {
  std::string out;
  for (std::size_t i = first; i < r.events.size(); ++i) out += r.events[i].bytes;
  return out;
}

std::string body_for(std::string_view model, std::string_view extra = {}) {
  return R"({"model":")" + std::string(model) + "\"" + std::string(extra) + "}";
}

json::object stats() {
  Client c(port());
  const Response r = c.roundtrip("GET", "/mock/stats");
  EXPECT_EQ(r.status, 200);
  return r.json().as_object();
}

std::int64_t stat_int(const json::object& s, const char* name) {
  return s.at(name).to_number<std::int64_t>();
}

/** Waits (bounded) until `pred` holds; returns whether it did. */
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// ---- endpoints -----------------------------------------------------------------------------

TEST(Server, ModelsListsEveryRecording) {
  Client c(port());
  const Response r = c.roundtrip("GET", "/v1/models");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  const auto v = r.json().as_object();
  EXPECT_EQ(v.at("object"), "list");
  std::vector<std::string> ids;
  for (const auto& m : v.at("data").as_array()) {
    EXPECT_EQ(m.at("object"), "model");
    ids.emplace_back(m.at("id").as_string());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"nostream", "paced", "resp", "slow", "tiny"}));
}

TEST(Server, ModelRetrieveAnswersOneRecordingOr404) {
  Client c(port());
  const Response r = c.roundtrip("GET", "/v1/models/tiny");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id":"tiny","object":"model","created":0,"owned_by":"ssebench"})");
  const Response missing = c.roundtrip("GET", "/v1/models/gpt-nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json().at("error").at("code"), "model_not_found");
}

TEST(Server, SseBytesOnTheSocketAreTheRecordingsBytes) {
  Client c(port());
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.chunked);
  EXPECT_EQ(r.body, all_bytes(rec("tiny")));
  // One event, one chunk.
  ASSERT_EQ(r.chunks.size(), rec("tiny").events.size());
  for (std::size_t i = 0; i < r.chunks.size(); ++i)
    EXPECT_EQ(r.chunks[i].data, rec("tiny").events[i].bytes);
  // Recorded headers in order with duplicates; the hop-by-hop ones are the server's own.
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.count_header("x-dup"), 2u);
  EXPECT_EQ(r.count_header("transfer-encoding"), 1u);
  EXPECT_EQ(r.count_header("content-length"), 0u);
  EXPECT_EQ(r.count_header("connection"), 0u);
  EXPECT_EQ(r.count_header("keep-alive"), 0u);
}

TEST(Server, ResponsesApiStreams) {
  Client c(port());
  const Response r = c.roundtrip("POST", "/v1/responses", body_for("resp", R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, all_bytes(rec("resp")));
}

TEST(Server, NonStreamingAnswerIsTheRecordedBody) {
  Client c(port());
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":false)"));
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.body, rec("tiny").nonstream->body);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("content-length"), std::to_string(rec("tiny").nonstream->body.size()));
  // stream absent means false; a recording without events still answers stream:false.
  EXPECT_EQ(c.roundtrip("POST", "/v1/chat/completions", body_for("nostream")).body,
            rec("nostream").nonstream->body);
}

TEST(Server, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(port());
  const std::string stream = body_for("tiny", R"(,"stream":true)");
  EXPECT_EQ(c.roundtrip("POST", "/v1/chat/completions", stream).body, all_bytes(rec("tiny")));
  EXPECT_EQ(c.roundtrip("POST", "/v1/chat/completions", body_for("tiny")).status, 200);
  EXPECT_EQ(c.roundtrip("GET", "/nope").status, 404);  // an error keeps the connection
  EXPECT_EQ(c.roundtrip("POST", "/v1/chat/completions", stream).body, all_bytes(rec("tiny")));
  EXPECT_EQ(c.roundtrip("GET", "/v1/models").status, 200);
}

TEST(Server, ExpectContinueIsAnsweredAtOnce) {
  Client c(port());
  const std::string body =
      body_for("tiny", R"(,"stream":true,"pad":")" + std::string(3000, 'x') + "\"");
  const auto t0 = Clock::now();
  // libcurl's way for bodies over 1 KiB: headers, wait for 100 Continue, then the body.
  c.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  std::this_thread::sleep_for(20ms);
  c.send(body);
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, all_bytes(rec("tiny")));
  EXPECT_LT(Clock::now() - t0, 900ms);
}

// ---- errors --------------------------------------------------------------------------------

struct ErrorCase {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
  std::string param;  // "" = null
  std::string code;   // "" = null
};

TEST(Server, EveryBadRequestGetsAnOpenAIErrorAndTheServerKeepsServing) {
  const std::vector<ErrorCase> cases = {
      {"malformed json", "POST", "/v1/chat/completions", R"({"model":)", {}, 400, "", ""},
      {"not an object", "POST", "/v1/chat/completions", "[1]", {}, 400, "", ""},
      {"missing model",
       "POST",
       "/v1/chat/completions",
       R"({"stream":true})",
       {},
       400,
       "model",
       "missing_required_parameter"},
      {"model not a string",
       "POST",
       "/v1/chat/completions",
       R"({"model":3})",
       {},
       400,
       "model",
       "invalid_type"},
      {"unknown model",
       "POST",
       "/v1/chat/completions",
       body_for("gpt-nope"),
       {},
       404,
       "",
       "model_not_found"},
      {"stream not a bool",
       "POST",
       "/v1/responses",
       body_for("tiny", R"(,"stream":"yes")"),
       {},
       400,
       "stream",
       "invalid_type"},
      {"bad speed header",
       "POST",
       "/v1/chat/completions",
       body_for("tiny"),
       {{"x-ssebench-speed", "fast"}},
       400,
       "",
       "invalid_value"},
      {"negative speed",
       "POST",
       "/v1/chat/completions",
       body_for("tiny"),
       {{"x-ssebench-speed", "-1"}},
       400,
       "",
       "invalid_value"},
      {"stream without events",
       "POST",
       "/v1/chat/completions",
       body_for("nostream", R"(,"stream":true)"),
       {},
       400,
       "stream",
       "unsupported_value"},
      {"no nonstream body",
       "POST",
       "/v1/chat/completions",
       body_for("paced"),
       {},
       400,
       "stream",
       "unsupported_value"},
      {"background on chat",
       "POST",
       "/v1/chat/completions",
       body_for("paced", R"(,"background":true)"),
       {},
       400,
       "background",
       "unsupported_parameter"},
      {"wrong method chat", "GET", "/v1/chat/completions", "", {}, 405, "", "method_not_allowed"},
      {"wrong method models", "POST", "/v1/models", "{}", {}, 405, "", "method_not_allowed"},
      {"wrong method job",
       "DELETE",
       "/v1/responses/resp_bg_1",
       "",
       {},
       405,
       "",
       "method_not_allowed"},
      {"unknown path", "GET", "/v2/everything", "", {}, 404, "", ""},
      {"unknown job", "GET", "/v1/responses/resp_bg_99999999", "", {}, 404, "", ""},
      {"job id garbage", "GET", "/v1/responses/xyz", "", {}, 404, "", ""},
      {"starting_after not an integer",
       "GET",
       "/v1/responses/resp_bg_1?starting_after=x",
       "",
       {},
       400,
       "starting_after",
       "invalid_value"},
      {"negative starting_after",
       "GET",
       "/v1/responses/resp_bg_1?starting_after=-1",
       "",
       {},
       400,
       "starting_after",
       "invalid_value"},
      {"wait_ms not an integer",
       "GET",
       "/v1/responses/resp_bg_1?starting_after=0&wait_ms=1.5",
       "",
       {},
       400,
       "wait_ms",
       "invalid_value"},
      {"stream not true/false",
       "GET",
       "/v1/responses/resp_bg_1?stream=maybe",
       "",
       {},
       400,
       "stream",
       "invalid_value"},
  };
  Client c(port());  // one connection for all: none of these closes it
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    const Response r = c.roundtrip(tc.method, tc.target, tc.body, tc.headers);
    EXPECT_EQ(r.status, tc.status);
    EXPECT_EQ(r.header("content-type"), "application/json");
    const auto v = r.json();
    const auto& e = v.at("error").as_object();
    EXPECT_TRUE(e.at("message").is_string());
    EXPECT_FALSE(e.at("message").as_string().empty());
    EXPECT_EQ(e.at("type"), "invalid_request_error");
    if (tc.param.empty()) {
      EXPECT_TRUE(e.at("param").is_null());
    } else {
      EXPECT_EQ(e.at("param"), tc.param.c_str());
    }
    if (tc.code.empty()) {
      EXPECT_TRUE(e.at("code").is_null());
    } else {
      EXPECT_EQ(e.at("code"), tc.code.c_str());
    }
    if (tc.status == 405) {
      EXPECT_TRUE(r.header("allow"));
    }
  }
  EXPECT_EQ(c.roundtrip("GET", "/v1/models").status, 200);
}

TEST(Server, UnknownModelBodyIsExactlyOpenAIs) {
  Client c(port());
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("gpt-9", R"(,"stream":true)"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(
      r.body,
      R"({"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}})");
}

void expect_error_then_close(const std::string& request, int status, const std::string& code) {
  Client c(port());
  c.send(request);
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status);
  const auto v = r->json();
  EXPECT_EQ(v.at("error").at("type"), "invalid_request_error");
  EXPECT_EQ(v.at("error").at("code"), code.c_str());
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());
  // and the server still serves
  Client next(port());
  EXPECT_EQ(next.roundtrip("GET", "/v1/models").status, 200);
}

TEST(Server, OversizedHeadersAre431ThenClose) {
  const std::string big(10 * 1024, 'a');
  expect_error_then_close("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 431,
                          "request_header_fields_too_large");
}

TEST(Server, OversizedBodyIs413ThenClose) {
  // Declares 2 MiB: refused from the headers alone, while the client is still sending.
  expect_error_then_close(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n" +
          std::string(64 * 1024, ' '),
      413, "request_too_large");
}

TEST(Server, MalformedHttpIs400ThenClose) {
  expect_error_then_close("THIS IS NOT HTTP\r\n\r\n", 400, "bad_request");
}

// ---- pacing and disconnects -----------------------------------------------------------------

TEST(Server, EventsAreWrittenAtTheirScheduleInOrder) {
  Client c(port());
  const auto t0 = Clock::now();
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("paced", R"(,"stream":true)"),
                  {{"x-ssebench-speed", "2"}});
  ASSERT_EQ(r.body, all_bytes(rec("paced")));
  const auto& events = rec("paced").events;
  for (std::size_t i = 0; i < r.chunks.size(); ++i) {
    // Never before its time (offset / 2); late by at most a generous margin.
    const auto at = r.chunks[i].received - t0;
    EXPECT_GE(at, scaled(events[i].offset, 2)) << i;
    EXPECT_LT(at, scaled(events[i].offset, 2) + 1s) << i;
    if (i > 0) {
      EXPECT_GE(r.chunks[i].received, r.chunks[i - 1].received);
    }
  }
  EXPECT_EQ(r.chunks.size(), events.size());
}

TEST(Server, SpeedZeroIsAsFastAsPossible) {
  Client c(port());
  const auto t0 = Clock::now();
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("slow", R"(,"stream":true)"),
                  {{"x-ssebench-speed", "0"}});
  EXPECT_EQ(r.body, all_bytes(rec("slow")));  // a minute of recording
  EXPECT_LT(Clock::now() - t0, 5s);
}

TEST(Server, ClientLeavingMidStreamFreesTheStream) {
  {
    Client c(port());
    c.send(Client::request_text("POST", "/v1/chat/completions",
                                body_for("slow", R"(,"stream":true)")));
    // Wait for the first event (1 ms in), then leave while the next is a minute away.
    std::string got;
    EXPECT_TRUE(eventually([&] { return stat_int(stats(), "streams_active") == 1; }));
  }
  EXPECT_TRUE(eventually([] { return stat_int(stats(), "streams_active") == 0; }));
  EXPECT_TRUE(eventually([] { return stat_int(stats(), "connections_open") == 1; }));  // ours
  Client next(port());
  EXPECT_EQ(
      next.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)")).body,
      all_bytes(rec("tiny")));
}

TEST(Server, ClientLeavingDuringAHeldAnswerFreesIt) {
  Client c(port());
  const auto job = c.roundtrip("POST", "/v1/responses", body_for("slow", R"(,"background":true)"))
                       .json()
                       .at("id")
                       .as_string();
  std::this_thread::sleep_for(20ms);  // event 1 is out; event 2 is a minute away
  {
    Client held(port());
    held.send(Client::request_text(
        "GET", "/v1/responses/" + std::string(job) + "?starting_after=1&wait_ms=250"));
    EXPECT_TRUE(eventually([] { return stat_int(stats(), "requests_held") == 1; }));
  }
  EXPECT_TRUE(eventually([] { return stat_int(stats(), "requests_held") == 0; }, 200ms));
}

TEST(Server, ConcurrentStreamsOnSeveralThreadsAreByteExact) {
  Config config;
  config.threads = 2;
  test::TempDir dir;
  dir.write("tiny.jsonl", test::recording_text(tiny()));
  const FolderLoad folder = load_folder(dir.path());
  test::RunningServer server(config, folder.recordings);
  std::vector<std::future<std::string>> streams;
  for (int i = 0; i < 20; ++i) {
    streams.push_back(std::async(std::launch::async, [&] {
      Client c(server.port());
      return c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)"))
          .body;
    }));
  }
  for (auto& s : streams) EXPECT_EQ(s.get(), all_bytes(rec("tiny")));
}

// ---- limits, each on its own server -----------------------------------------------------------

struct LimitedServer {
  explicit LimitedServer(const Config& config) : server(config, load(dir)) {}
  static std::vector<std::shared_ptr<const Recording>> load(const test::TempDir& dir) {
    dir.write("slow.jsonl", test::recording_text(slow()));
    dir.write("tiny.jsonl", test::recording_text(tiny()));
    return load_folder(dir.path()).recordings;
  }
  test::TempDir dir;
  test::RunningServer server;
};

TEST(ServerLimits, StreamLongerThanItsLifetimeIsClosed) {
  Config config;
  config.stream_lifetime_limit_ms = 150;
  LimitedServer s(config);
  Client c(s.server.port());
  const auto t0 = Clock::now();
  EXPECT_THROW(c.roundtrip("POST", "/v1/chat/completions", body_for("slow", R"(,"stream":true)")),
               std::runtime_error);  // EOF inside the chunked body
  EXPECT_GE(Clock::now() - t0, 150ms);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_TRUE(eventually([&] { return s.server.server().stats().streams_active == 0; }));
  Client next(s.server.port());
  EXPECT_EQ(
      next.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)")).body,
      all_bytes(rec("tiny")));
}

TEST(ServerLimits, IdleKeepAliveConnectionIsClosed) {
  Config config;
  config.idle_timeout_ms = 100;
  LimitedServer s(config);
  Client c(s.server.port());
  const auto t0 = Clock::now();  // before the server's idle timer starts
  EXPECT_EQ(c.roundtrip("GET", "/v1/models").status, 200);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_GE(Clock::now() - t0, 100ms);
  EXPECT_LT(Clock::now() - t0, 5s);
}

TEST(ServerLimits, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  Config config;
  config.max_connections = 1;
  LimitedServer s(config);
  Client first(s.server.port());
  EXPECT_EQ(first.roundtrip("GET", "/v1/models").status, 200);
  Client second(s.server.port());
  try {
    second.send(Client::request_text("GET", "/v1/models"));
  } catch (const std::runtime_error&) {
    // the server may have closed it before the request went out
  }
  EXPECT_FALSE(second.read_response());
  EXPECT_EQ(s.server.server().stats().connections_refused, 1u);
  EXPECT_EQ(first.roundtrip("GET", "/v1/models").status, 200);
}

TEST(ServerLimits, OpenFileLimitIsRaisedToTheHardLimit) {
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(raise_fd_limit(), lim.rlim_max);
}

// ---- background jobs -------------------------------------------------------------------------

std::string create_job(Client& c, const std::string& model, const std::string& speed = "1") {
  const Response r = c.roundtrip("POST", "/v1/responses", body_for(model, R"(,"background":true)"),
                                 {{"x-ssebench-speed", speed}});
  EXPECT_EQ(r.status, 200);
  const auto v = r.json().as_object();
  EXPECT_EQ(v.at("object"), "response");
  EXPECT_EQ(v.at("background"), true);
  EXPECT_EQ(v.at("recording"), model.c_str());
  EXPECT_EQ(v.at("model"), "gpt-test");
  EXPECT_EQ(v.at("cursor").to_number<int>(), 0);
  return std::string(v.at("id").as_string());
}

std::vector<std::string> payloads(const json::object& job) {
  std::vector<std::string> out;
  for (const auto& e : job.at("events").as_array()) out.push_back(json::serialize(e));
  return out;
}

std::vector<std::string> recorded_payloads(const Recording& r, std::size_t first = 0) {
  std::vector<std::string> out;
  for (const auto& e : r.events) {
    if (!e.is_done()) out.push_back(json::serialize(json::parse(e.data())));
  }
  return {out.begin() + static_cast<std::ptrdiff_t>(first), out.end()};
}

TEST(Server, JobPollFullReturnsEverythingAndPollOnlyWhatIsNew) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  std::this_thread::sleep_for(30ms);  // tiny ends at 10 ms
  const auto full = c.roundtrip("GET", "/v1/responses/" + id).json().as_object();
  EXPECT_EQ(full.at("status"), "completed");
  EXPECT_EQ(full.at("cursor").to_number<int>(), 4);
  EXPECT_EQ(full.at("events_total").to_number<int>(), 4);
  EXPECT_EQ(payloads(full), recorded_payloads(rec("tiny")));

  const auto tail =
      c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=2").json().as_object();
  EXPECT_EQ(tail.at("cursor").to_number<int>(), 4);
  EXPECT_EQ(payloads(tail), recorded_payloads(rec("tiny"), 2));

  const auto none =
      c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=4").json().as_object();
  EXPECT_EQ(none.at("cursor").to_number<int>(), 4);
  EXPECT_TRUE(none.at("events").as_array().empty());
}

TEST(Server, PollingWithTheCursorSeesEveryEventOnce) {
  Client c(port());
  const std::string id = create_job(c, "paced", "4");  // events every 25 ms
  std::vector<std::string> seen;
  std::int64_t cursor = 0;
  std::string status = "in_progress";
  int polls = 0;
  while (status == "in_progress" && polls < 500) {
    const auto v =
        c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=" + std::to_string(cursor))
            .json()
            .as_object();
    for (auto& p : payloads(v)) seen.push_back(p);
    const auto next = v.at("cursor").to_number<std::int64_t>();
    EXPECT_GE(next, cursor);
    cursor = next;
    status = std::string(v.at("status").as_string());
    ++polls;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(status, "completed");
  EXPECT_EQ(seen, recorded_payloads(rec("paced")));
  EXPECT_GT(polls, 1);  // it really was incremental
}

TEST(Server, LongPollReturnsWhenAnEventArrives) {
  Client c(port());
  const auto t0 = Clock::now();                   // before the job's clock starts
  const std::string id = create_job(c, "paced");  // first event at 100 ms
  const auto v = c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=0&wait_ms=5000")
                     .json()
                     .as_object();
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(v.at("cursor").to_number<int>(), 1);
  EXPECT_EQ(payloads(v), std::vector<std::string>{recorded_payloads(rec("paced"))[0]});
  EXPECT_GE(waited, 99ms);    // held until the event...
  EXPECT_LT(waited, 2000ms);  // ...not until the wait limit
}

TEST(Server, LongPollReturnsEmptyAfterTheWait) {
  Client c(port());
  const std::string id = create_job(c, "slow");  // event 1 at 1 ms, event 2 a minute later
  std::this_thread::sleep_for(10ms);
  const auto t0 = Clock::now();
  const auto v = c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=1&wait_ms=100")
                     .json()
                     .as_object();
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(v.at("cursor").to_number<int>(), 1);
  EXPECT_TRUE(v.at("events").as_array().empty());
  EXPECT_EQ(v.at("status"), "in_progress");
  EXPECT_GE(waited, 99ms);
  EXPECT_LT(waited, 2000ms);
}

TEST(Server, LongPollWaitIsCappedByTheServer) {
  Client c(port());
  const std::string id = create_job(c, "slow");
  std::this_thread::sleep_for(10ms);
  const auto t0 = Clock::now();
  const auto r = c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=1&wait_ms=100000");
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(waited, std::chrono::milliseconds(ServerEnvironment::long_poll_max_wait_ms - 5));
  EXPECT_LT(waited, 5s);
}

TEST(Server, LongPollAnswersAtOnceWhenSomethingIsNewOrTheJobIsDone) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  std::this_thread::sleep_for(30ms);
  const auto t0 = Clock::now();
  const auto v = c.roundtrip("GET", "/v1/responses/" + id + "?starting_after=4&wait_ms=5000")
                     .json()
                     .as_object();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(v.at("status"), "completed");
}

TEST(Server, JobResumesAsSse) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  const Response r = c.roundtrip("GET", "/v1/responses/" + id + "?stream=true&starting_after=2");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.chunked);
  EXPECT_EQ(r.body, all_bytes(rec("tiny"), 2));  // job events 3, 4, then [DONE]
  const Response all = c.roundtrip("GET", "/v1/responses/" + id + "?stream=true");
  EXPECT_EQ(all.body, all_bytes(rec("tiny")));
}

TEST(Server, FinishedJobsExpireAfterTheRetentionTime) {
  Client c(port());
  const std::string id = create_job(c, "tiny");  // ends at 10 ms
  EXPECT_EQ(c.roundtrip("GET", "/v1/responses/" + id).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(ServerEnvironment::job_retention_ms + 100));
  const Response r = c.roundtrip("GET", "/v1/responses/" + id);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json().at("error").at("message"),
            ("Response with id '" + id + "' not found.").c_str());
}

TEST(Server, TooManyJobsIs429) {
  Config config;
  config.max_jobs = 1;
  test::TempDir dir;
  dir.write("slow.jsonl", test::recording_text(slow()));
  test::RunningServer server(config, load_folder(dir.path()).recordings);
  Client c(server.port());
  EXPECT_EQ(c.roundtrip("POST", "/v1/responses", body_for("slow", R"(,"background":true)")).status,
            200);
  const Response r =
      c.roundtrip("POST", "/v1/responses", body_for("slow", R"(,"background":true)"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.json().at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(c.roundtrip("GET", "/v1/models").status, 200);
}

// ---- /mock/stats -----------------------------------------------------------------------------

TEST(Server, StatsCountTheBytesTheClientSawAndEveryEvent) {
  {
    Client c(port());
    EXPECT_EQ(c.roundtrip("POST", "/mock/stats/reset").status, 200);
  }
  Client c(port());
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)"));
  ASSERT_EQ(r.body, all_bytes(rec("tiny")));
  const auto s = stats();
  const auto& chat = s.at("endpoints").at("chat_completions").as_object();
  EXPECT_EQ(chat.at("requests").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(chat.at("bytes_in").to_number<std::uint64_t>(), c.bytes_sent());
  EXPECT_EQ(chat.at("bytes_out").to_number<std::uint64_t>(), c.bytes_read());
  EXPECT_EQ(stat_int(s, "events_written"), 5);
  const auto& late = s.at("lateness_us").as_object();
  EXPECT_EQ(late.at("count").to_number<int>(), 5);
  EXPECT_GE(late.at("max").to_number<double>(), late.at("p99").to_number<double>() - 0.001);
  EXPECT_GE(late.at("p99").to_number<double>(), late.at("p50").to_number<double>());
  EXPECT_GE(stat_int(s, "connections_open"), 1);
  EXPECT_GE(s.at("cpu").at("user_us").to_number<std::int64_t>() +
                s.at("cpu").at("sys_us").to_number<std::int64_t>(),
            0);
  EXPECT_GT(stat_int(s, "rss_bytes"), 0);
}

TEST(Server, StatsCountJobsAndPerEndpointRequests) {
  {
    Client c(port());
    c.roundtrip("POST", "/mock/stats/reset");
  }
  Client c(port());
  const std::string id = create_job(c, "slow");
  const Response poll = c.roundtrip("GET", "/v1/responses/" + id);
  EXPECT_EQ(poll.status, 200);
  const auto s = stats();
  EXPECT_GE(stat_int(s, "jobs_active"), 1);
  EXPECT_GE(stat_int(s, "jobs_held"), 1);
  const auto& eps = s.at("endpoints").as_object();
  EXPECT_EQ(eps.at("responses").at("requests").to_number<int>(), 1);
  EXPECT_EQ(eps.at("responses_get").at("requests").to_number<int>(), 1);
  EXPECT_EQ(eps.at("responses").at("bytes_in").to_number<std::uint64_t>() +
                eps.at("responses_get").at("bytes_in").to_number<std::uint64_t>(),
            c.bytes_sent());
  EXPECT_EQ(eps.at("responses").at("bytes_out").to_number<std::uint64_t>() +
                eps.at("responses_get").at("bytes_out").to_number<std::uint64_t>(),
            c.bytes_read());
}

// ---- the real recordings, replayed as fast as possible ---------------------------------------

TEST(Server, EveryRealRecordingReplaysByteExact) {
  const FolderLoad folder = load_folder(SSEBENCH_RECORDINGS_DIR);
  if (folder.recordings.empty()) GTEST_SKIP() << "no recordings in " << SSEBENCH_RECORDINGS_DIR;
  EXPECT_TRUE(folder.errors.empty()) << folder.errors.front();
  test::RunningServer server(Config{}, folder.recordings);
  Client c(server.port());
  for (const auto& r : folder.recordings) {
    SCOPED_TRACE(r->id);
    const std::string path = r->api == Api::responses ? "/v1/responses" : "/v1/chat/completions";
    if (!r->events.empty()) {
      const Response s = c.roundtrip("POST", path, body_for(r->id, R"(,"stream":true)"),
                                     {{"x-ssebench-speed", "0"}});
      EXPECT_EQ(s.status, r->response.status);
      EXPECT_EQ(s.body, all_bytes(*r));
      EXPECT_EQ(s.chunks.size(), r->events.size());
    }
    if (r->nonstream) {
      const Response n = c.roundtrip("POST", path, body_for(r->id, R"(,"stream":false)"),
                                     {{"x-ssebench-speed", "0"}});
      EXPECT_EQ(n.status, r->nonstream->status);
      EXPECT_EQ(n.body, r->nonstream->body);
    }
    if (!r->events.empty() && r->api == Api::chat_completions) {
      const Response j =
          c.roundtrip("POST", "/v1/responses", body_for(r->id, R"(,"background":true)"),
                      {{"x-ssebench-speed", "0"}});
      const std::string id(j.json().at("id").as_string());
      const auto v = c.roundtrip("GET", "/v1/responses/" + id).json().as_object();
      EXPECT_EQ(payloads(v), recorded_payloads(*r));
      EXPECT_EQ(v.at("status"), r->ends_in_error ? "failed" : "completed");
    }
  }
}

}  // namespace
}  // namespace ssebench::server
