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
  return test::one_then_gap(60'000'000);
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

// A usage chunk after the text: sent only when stream_options.include_usage asks for it.
test::TestRecording with_usage() {
  test::TestRecording r;
  r.events = {{1'000, "content", test::chat_chunk("Hi")},
              {2'000, "finish", test::chat_chunk("", "stop")},
              {2'000, "usage",
               R"({"id":"chatcmpl-test","object":"chat.completion.chunk","created":1,)"
               R"("model":"gpt-test","choices":[],"usage":{"completion_tokens":1}})"},
              {3'000, "done", "[DONE]"}};
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
    dir_->write("usage.jsonl", test::recording_text(with_usage()));
    const FolderLoad folder = load_folder(dir_->path());
    ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
    ASSERT_EQ(folder.recordings.size(), 6u);
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

using test::eventually;

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
  // The recordings, then the real model name they were recorded from, as an alias.
  EXPECT_EQ(ids, (std::vector<std::string>{"nostream", "paced", "resp", "slow", "tiny", "usage",
                                           "gpt-test"}));
  const auto& alias = v.at("data").as_array().back().at("recordings");
  EXPECT_EQ(alias.at("chat.completions"), "nostream");  // the first chat recording by id
  EXPECT_EQ(alias.at("responses"), "resp");
}

TEST(Server, ARealModelNamePicksARecordingOfThatModelForTheEndpointsApi) {
  Client c(port());
  const Response chat = c.roundtrip("POST", "/v1/chat/completions", body_for("gpt-test"));
  EXPECT_EQ(chat.status, 200);  // nostream: the first chat recording of gpt-test
  EXPECT_EQ(chat.body, rec("nostream").nonstream->body);
  // nostream has no events: a stream takes the next recording of the model that has some.
  const Response streamed =
      c.roundtrip("POST", "/v1/chat/completions", body_for("gpt-test", R"(,"stream":true)"));
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(streamed.body, all_bytes(rec("paced")));
  const Response responses =
      c.roundtrip("POST", "/v1/responses", body_for("gpt-test", R"(,"stream":true)"));
  EXPECT_EQ(responses.body, all_bytes(rec("resp")));
  EXPECT_EQ(c.roundtrip("GET", "/v1/models/gpt-test").status, 200);
}

TEST(Server, TheUsageChunkIsSentOnlyWhenAskedFor) {
  Client c(port());
  const Response without =
      c.roundtrip("POST", "/v1/chat/completions", body_for("usage", R"(,"stream":true)"));
  const Response with =
      c.roundtrip("POST", "/v1/chat/completions",
                  body_for("usage", R"(,"stream":true,"stream_options":{"include_usage":true})"));
  EXPECT_EQ(with.body, all_bytes(rec("usage")));
  std::string want;
  for (const Event& e : rec("usage").events)
    if (e.kind != "usage") want += e.bytes;
  EXPECT_EQ(without.body, want);
  EXPECT_NE(without.body, with.body);
}

TEST(Server, CorsPreflightAndHeadersForAllowedOrigins) {
  Client c(port());
  const Response pre =
      c.roundtrip("OPTIONS", "/v1/chat/completions", "",
                  {{"origin", "http://localhost:3000"},
                   {"access-control-request-method", "POST"},
                   {"access-control-request-headers", "authorization, content-type"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "*");  // the loopback default
  EXPECT_NE(pre.header("access-control-allow-methods")->find("POST"), std::string::npos);
  EXPECT_EQ(pre.header("access-control-allow-headers"), "authorization, content-type");
  const Response stream =
      c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)"),
                  {{"origin", "http://localhost:3000"}});
  EXPECT_EQ(stream.header("access-control-allow-origin"), "*");
  EXPECT_EQ(stream.header("timing-allow-origin"), "*");  // Resource Timing for browser clients
  EXPECT_EQ(stream.body, all_bytes(rec("tiny")));
  EXPECT_FALSE(c.roundtrip("GET", "/v1/models").header("access-control-allow-origin"));
  EXPECT_EQ(c.roundtrip("OPTIONS", "/v2/nothing").status, 404);
}

TEST(Server, CorsNamedOriginsOnly) {
  Config config;
  config.cors_origins = "https://app.example";
  test::TempDir dir;
  dir.write("tiny.jsonl", test::recording_text(tiny()));
  test::RunningServer server(config, load_folder(dir.path()).recordings);
  Client c(server.port());
  const Response ok = c.roundtrip("GET", "/v1/models", "", {{"origin", "https://app.example"}});
  EXPECT_EQ(ok.header("access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(ok.header("vary"), "Origin");
  EXPECT_EQ(ok.header("timing-allow-origin"), "https://app.example");
  const Response other = c.roundtrip("GET", "/v1/models", "", {{"origin", "https://evil.example"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_FALSE(other.header("access-control-allow-origin"));
  const Response pre =
      c.roundtrip("OPTIONS", "/v1/models", "",
                  {{"origin", "https://evil.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(pre.status, 403);
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
      {"chat recording on /v1/responses",
       "POST",
       "/v1/responses",
       body_for("tiny", R"(,"stream":true)"),
       {},
       400,
       "model",
       "wrong_api"},
      {"responses recording on /v1/chat/completions",
       "POST",
       "/v1/chat/completions",
       body_for("resp", R"(,"stream":true)"),
       {},
       400,
       "model",
       "wrong_api"},
      {"n other than the recording's choices",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"stream":true,"n":2)"),
       {},
       400,
       "n",
       "invalid_value"},
      {"n not an integer",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"n":"1")"),
       {},
       400,
       "n",
       "invalid_type"},
      {"messages not an array",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"messages":"hi")"),
       {},
       400,
       "messages",
       "invalid_type"},
      {"a message without a role",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"messages":[{"content":"hi"}])"),
       {},
       400,
       "messages[0]",
       "invalid_type"},
      {"stream_options without stream",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"stream_options":{"include_usage":true})"),
       {},
       400,
       "stream_options",
       "invalid_value"},
      {"include_usage not a bool",
       "POST",
       "/v1/chat/completions",
       body_for("tiny", R"(,"stream":true,"stream_options":{"include_usage":1})"),
       {},
       400,
       "stream_options.include_usage",
       "invalid_type"},
      {"input neither text nor items",
       "POST",
       "/v1/responses",
       body_for("resp", R"(,"input":3)"),
       {},
       400,
       "input",
       "invalid_type"},
      {"unknown shape",
       "GET",
       "/v1/responses/resp_bg_1?shape=full",
       "",
       {},
       400,
       "shape",
       "invalid_value"},
      {"cancel an unknown job",
       "POST",
       "/v1/responses/resp_bg_99999999/cancel",
       "",
       {},
       404,
       "",
       ""},
      {"delete an unknown job", "DELETE", "/v1/chat/completions/x", "", {}, 404, "", ""},
      {"input items of an unknown job",
       "GET",
       "/v1/responses/resp_bg_99999999/input_items",
       "",
       {},
       404,
       "",
       ""},
      {"wrong method chat", "GET", "/v1/chat/completions", "", {}, 405, "", "method_not_allowed"},
      {"wrong method models", "POST", "/v1/models", "{}", {}, 405, "", "method_not_allowed"},
      {"wrong method job", "PUT", "/v1/responses/resp_bg_1", "", {}, 405, "", "method_not_allowed"},
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
  const auto e = r.json().at("error").as_object();
  // OpenAI's message, then where models come from here.
  EXPECT_TRUE(e.at("message").as_string().starts_with(
      "The model `gpt-9` does not exist or you do not have access to it. "));
  EXPECT_NE(std::string_view(e.at("message").as_string()).find("GET /v1/models"),
            std::string_view::npos);
  EXPECT_EQ(e.at("type"), "invalid_request_error");
  EXPECT_TRUE(e.at("param").is_null());
  EXPECT_EQ(e.at("code"), "model_not_found");
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
  const auto job =
      c.roundtrip("POST", "/v1/chat/completions", body_for("slow", R"(,"background":true)"))
          .json()
          .at("id")
          .as_string();
  std::this_thread::sleep_for(20ms);  // event 0 is out; event 1 is a minute away
  {
    Client held(port());
    held.send(Client::request_text("GET", "/v1/chat/completions/" + std::string(job) +
                                              "?shape=delta&starting_after=0&wait_ms=250"));
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
// tiny, paced and slow are chat recordings: their jobs live under /v1/chat/completions/.

const std::string chat_jobs = "/v1/chat/completions/";

std::string create_job(Client& c, const std::string& model, const std::string& speed = "1") {
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for(model, R"(,"background":true)"),
                  {{"x-ssebench-speed", speed}});
  EXPECT_EQ(r.status, 200);
  const auto v = r.json().as_object();
  EXPECT_EQ(v.at("object"), "chat.completion");
  EXPECT_EQ(v.at("model"), "gpt-test");
  if (speed != "0") {  // at speed 0 the job is done at once
    EXPECT_TRUE(v.at("choices").as_array().empty());
  }
  return std::string(v.at("id").as_string());
}

json::object get_json(Client& c, const std::string& target) {
  const Response r = c.roundtrip("GET", target);
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  return r.json().as_object();
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

TEST(Server, JobEventsShapeReturnsEverythingOrOnlyWhatFollowsTheCursor) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  std::this_thread::sleep_for(30ms);  // tiny ends at 10 ms
  const auto full = get_json(c, chat_jobs + id + "?shape=events");
  EXPECT_EQ(full.at("status"), "completed");
  EXPECT_EQ(full.at("cursor").to_number<int>(), 3);  // job events 0..3
  EXPECT_EQ(full.at("events_total").to_number<int>(), 4);
  EXPECT_EQ(payloads(full), recorded_payloads(rec("tiny")));

  const auto tail = get_json(c, chat_jobs + id + "?shape=events&starting_after=1");
  EXPECT_EQ(tail.at("cursor").to_number<int>(), 3);
  EXPECT_EQ(payloads(tail), recorded_payloads(rec("tiny"), 2));

  const auto none = get_json(c, chat_jobs + id + "?shape=events&starting_after=3");
  EXPECT_EQ(none.at("cursor").to_number<int>(), 3);
  EXPECT_TRUE(none.at("events").as_array().empty());
}

TEST(Server, EveryShapeOfAFinishedJobCarriesTheWholeText) {
  Client c(port());
  const std::string id = create_job(c, "tiny", "0");
  const auto openai = get_json(c, chat_jobs + id);  // the default shape
  EXPECT_EQ(openai.at("status"), "completed");
  EXPECT_EQ(openai.at("object"), "chat.completion");
  EXPECT_EQ(openai.at("choices").at(0).at("message").at("content"), "Hello");
  const auto snapshot = get_json(c, chat_jobs + id + "?shape=snapshot");
  EXPECT_EQ(snapshot.at("choices").at(0).at("message").at("content"), "Hello");
  const auto delta = get_json(c, chat_jobs + id + "?shape=delta");
  EXPECT_EQ(delta.at("delta"), "Hello");
  EXPECT_EQ(delta.at("cursor").to_number<int>(), 3);
  EXPECT_EQ(get_json(c, chat_jobs + id + "?shape=delta&starting_after=1").at("delta"), "lo");
}

TEST(Server, OpenAIShapeShowsNoOutputWhileInProgressAndSnapshotShowsTheTextSoFar) {
  Client c(port());
  const std::string id = create_job(c, "slow");  // "a" at 1 ms, "b" a minute later
  std::this_thread::sleep_for(20ms);
  const auto openai = get_json(c, chat_jobs + id);
  EXPECT_EQ(openai.at("status"), "in_progress");
  EXPECT_TRUE(openai.at("choices").as_array().empty());
  const auto snapshot = get_json(c, chat_jobs + id + "?shape=snapshot");
  EXPECT_EQ(snapshot.at("status"), "in_progress");
  EXPECT_EQ(snapshot.at("choices").at(0).at("message").at("content"), "a");
}

TEST(Server, PollingWithTheCursorSeesEveryEventOnce) {
  Client c(port());
  const std::string id = create_job(c, "paced", "4");  // events every 25 ms
  std::vector<std::string> seen;
  std::string query = "?shape=events";
  std::string status = "queued";
  int polls = 0;
  while ((status == "queued" || status == "in_progress") && polls < 500) {
    const auto v = get_json(c, chat_jobs + id + query);
    for (auto& p : payloads(v)) seen.push_back(p);
    if (!v.at("cursor").is_null())
      query = "?shape=events&starting_after=" + json::serialize(v.at("cursor"));
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
  const auto v = get_json(c, chat_jobs + id + "?shape=events&wait_ms=5000");
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(v.at("cursor").to_number<int>(), 0);
  EXPECT_EQ(payloads(v), std::vector<std::string>{recorded_payloads(rec("paced"))[0]});
  EXPECT_GE(waited, 99ms);    // held until the event...
  EXPECT_LT(waited, 2000ms);  // ...not until the wait limit
}

TEST(Server, LongPollReturnsEmptyAfterTheWait) {
  Client c(port());
  const std::string id = create_job(c, "slow");  // event 0 at 1 ms, event 1 a minute later
  std::this_thread::sleep_for(10ms);
  const auto t0 = Clock::now();
  const auto v = get_json(c, chat_jobs + id + "?shape=delta&starting_after=0&wait_ms=100");
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(v.at("cursor").to_number<int>(), 0);
  EXPECT_EQ(v.at("delta"), "");
  EXPECT_EQ(v.at("status"), "in_progress");
  EXPECT_GE(waited, 99ms);
  EXPECT_LT(waited, 2000ms);
}

TEST(Server, LongPollWaitIsCappedByTheServer) {
  Client c(port());
  const std::string id = create_job(c, "slow");
  std::this_thread::sleep_for(10ms);
  const auto t0 = Clock::now();
  const auto r =
      c.roundtrip("GET", chat_jobs + id + "?shape=events&starting_after=0&wait_ms=100000");
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
  const auto v = get_json(c, chat_jobs + id + "?shape=events&starting_after=3&wait_ms=5000");
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(v.at("status"), "completed");
}

TEST(Server, LongPollNeedsAShapeWithACursor) {
  Client c(port());
  const std::string id = create_job(c, "slow");
  const Response r = c.roundtrip("GET", chat_jobs + id + "?wait_ms=100");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().at("error").at("param"), "wait_ms");
}

TEST(Server, JobResumesAsSseAfterTheGivenEvent) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  const Response r = c.roundtrip("GET", chat_jobs + id + "?stream=true&starting_after=1");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.chunked);
  // job events 2 and 3, each after its SSE id (its job event number), then [DONE] (no id: it is
  // no job event); the recorded chunk id is replaced by the job's
  const Recording& tiny = rec("tiny");
  std::string want =
      "id: 2\n" + tiny.events[2].bytes + "id: 3\n" + tiny.events[3].bytes + tiny.events[4].bytes;
  for (std::size_t at; (at = want.find("chatcmpl-test")) != std::string::npos;)
    want.replace(at, std::string_view("chatcmpl-test").size(), id);
  EXPECT_EQ(r.body, want);
  const Response all = c.roundtrip("GET", chat_jobs + id + "?stream=true");
  EXPECT_EQ(all.body.find("chatcmpl-test"), std::string::npos);
  EXPECT_NE(all.body.find(id), std::string::npos);
  EXPECT_EQ(all.body.size(), all_bytes(tiny).size() + 4 * std::string_view("id: N\n").size() +
                                 4 * (id.size() - std::string_view("chatcmpl-test").size()));
}

// EventSource on the resume stream (ssebench extensions for browsers): Last-Event-ID resumes,
// retry_ms sends `retry:` first, drop_after ends the stream after K events.
TEST(Server, JobResumeStreamServesEventSource) {
  Client c(port());
  const std::string id = create_job(c, "tiny", "0");  // done at once: every event is due
  const auto ids_of = [](const std::string& body) {
    std::vector<std::string> ids;
    for (std::size_t at = 0; (at = body.find("id: ", at)) != std::string::npos; at += 4)
      ids.push_back(body.substr(at + 4, body.find('\n', at) - at - 4));
    return ids;
  };
  // Last-Event-ID wins over the URL's starting_after, which a reconnecting browser repeats.
  const Response resumed = c.roundtrip("GET", chat_jobs + id + "?stream=true&starting_after=0", "",
                                       {{"last-event-id", "2"}});
  ASSERT_EQ(resumed.status, 200);
  EXPECT_EQ(ids_of(resumed.body), (std::vector<std::string>{"3"}));
  EXPECT_TRUE(resumed.body.ends_with("data: [DONE]\n\n"));
  // retry: once, before the first event's id; drop_after=2: two events, then the stream ends.
  const Response dropped =
      c.roundtrip("GET", chat_jobs + id + "?stream=true&retry_ms=250&drop_after=2");
  ASSERT_EQ(dropped.status, 200);
  EXPECT_TRUE(dropped.body.starts_with("retry: 250\nid: 0\n"));
  EXPECT_EQ(dropped.body.find("retry:", 1), std::string::npos);
  EXPECT_EQ(ids_of(dropped.body), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(dropped.body.find("[DONE]"), std::string::npos);
  // The next connection picks up after the last id, as EventSource does.
  const Response rest =
      c.roundtrip("GET", chat_jobs + id + "?stream=true&retry_ms=250&drop_after=2", "",
                  {{"last-event-id", "1"}});
  EXPECT_TRUE(rest.body.starts_with("retry: 250\nid: 2\n"));
  EXPECT_EQ(ids_of(rest.body), (std::vector<std::string>{"2", "3"}));
  // Bad values are OpenAI-shaped 400s naming the parameter.
  for (const auto& [query, param] :
       std::vector<std::pair<std::string, std::string>>{{"&retry_ms=-1", "retry_ms"},
                                                        {"&drop_after=0", "drop_after"},
                                                        {"&drop_after=x", "drop_after"}}) {
    const Response bad = c.roundtrip("GET", chat_jobs + id + "?stream=true" + query);
    EXPECT_EQ(bad.status, 400) << query;
    EXPECT_EQ(bad.json().at("error").at("param"), param.c_str()) << query;
  }
  const Response bad_id =
      c.roundtrip("GET", chat_jobs + id + "?stream=true", "", {{"last-event-id", "abc"}});
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(bad_id.json().at("error").at("param"), "Last-Event-ID");
  // A POST stream is the recording's bytes: no id, no retry.
  const Response post =
      c.roundtrip("POST", "/v1/chat/completions", body_for("tiny", R"(,"stream":true)"),
                  {{"x-ssebench-speed", "0"}});
  EXPECT_EQ(post.body, all_bytes(rec("tiny")));
}

TEST(Server, BackgroundAndStreamStreamTheJobFromItsStart) {
  Client c(port());
  const Response r = c.roundtrip("POST", "/v1/chat/completions",
                                 body_for("tiny", R"(,"background":true,"stream":true)"));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.chunked);
  EXPECT_EQ(r.body.find("chatcmpl-test"), std::string::npos);
  EXPECT_NE(r.body.find("chatcmpl_bg_"), std::string::npos);
  EXPECT_TRUE(r.body.ends_with("data: [DONE]\n\n"));
}

TEST(Server, CancelStopsTheJobAndItsStream) {
  Client c(port());
  const std::string id = create_job(c, "slow");  // "a" at 1 ms, then a minute of nothing
  std::this_thread::sleep_for(20ms);
  Client streaming(port());
  streaming.send(Client::request_text("GET", chat_jobs + id + "?stream=true&starting_after=0"));
  EXPECT_TRUE(eventually([] { return stat_int(stats(), "streams_active") >= 1; }));
  const Response cancel = c.roundtrip("POST", chat_jobs + id + "/cancel");
  ASSERT_EQ(cancel.status, 200);
  EXPECT_EQ(cancel.json().at("status"), "cancelled");
  EXPECT_EQ(cancel.json().at("choices").at(0).at("message").at("content"), "a");  // so far
  // Cancelling again is the same answer; polls say cancelled and nothing more comes.
  EXPECT_EQ(c.roundtrip("POST", chat_jobs + id + "/cancel").json().at("status"), "cancelled");
  const auto later = get_json(c, chat_jobs + id + "?shape=delta");
  EXPECT_EQ(later.at("status"), "cancelled");
  EXPECT_EQ(later.at("delta"), "a");
  // The resumed stream was waiting for "b", due a minute after the cancel: it ends at that
  // event's timer, which a cancel does not wake; the server still serves meanwhile.
  EXPECT_EQ(c.roundtrip("GET", "/v1/models").status, 200);
}

TEST(Server, CancelAFinishedJobIs400) {
  Client c(port());
  const std::string id = create_job(c, "tiny", "0");
  const Response r = c.roundtrip("POST", chat_jobs + id + "/cancel");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(get_json(c, chat_jobs + id).at("status"), "completed");
}

TEST(Server, DeleteForgetsTheJob) {
  Client c(port());
  const std::string id = create_job(c, "slow");
  const Response r = c.roundtrip("DELETE", chat_jobs + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().at("object"), "chat.completion.deleted");
  EXPECT_EQ(r.json().at("deleted"), true);
  EXPECT_EQ(c.roundtrip("GET", chat_jobs + id).status, 404);
  EXPECT_EQ(c.roundtrip("DELETE", chat_jobs + id).status, 404);
}

TEST(Server, AJobIsOnlyFoundUnderItsOwnApi) {
  Client c(port());
  const std::string id = create_job(c, "tiny");
  const std::string other = "resp_bg_" + id.substr(std::string_view("chatcmpl_bg_").size());
  EXPECT_EQ(c.roundtrip("GET", "/v1/responses/" + other).status, 404);
  EXPECT_EQ(c.roundtrip("GET", "/v1/responses/" + id).status, 404);
}

TEST(Server, ResponsesJobsAreResponseObjectsWithInputItems) {
  Client c(port());
  const Response created =
      c.roundtrip("POST", "/v1/responses", body_for("resp", R"(,"background":true)"),
                  {{"x-ssebench-speed", "0"}});
  ASSERT_EQ(created.status, 200);
  const auto v = created.json().as_object();
  EXPECT_EQ(v.at("object"), "response");
  EXPECT_EQ(v.at("background"), true);
  const std::string id(v.at("id").as_string());
  EXPECT_TRUE(id.starts_with("resp_bg_"));
  const auto done = get_json(c, "/v1/responses/" + id);
  EXPECT_EQ(done.at("status"), "completed");
  const auto items = get_json(c, "/v1/responses/" + id + "/input_items");
  EXPECT_EQ(items.at("object"), "list");
  EXPECT_EQ(c.roundtrip("DELETE", "/v1/responses/" + id).json().at("object"), "response.deleted");
}

TEST(Server, FinishedJobsExpireAfterTheRetentionTime) {
  Client c(port());
  const std::string id = create_job(c, "tiny");  // ends at 10 ms
  EXPECT_EQ(c.roundtrip("GET", chat_jobs + id).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(ServerEnvironment::job_retention_ms + 100));
  const Response r = c.roundtrip("GET", chat_jobs + id);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json().at("error").at("message"),
            ("Chat completion with id '" + id + "' not found.").c_str());
}

TEST(Server, TooManyJobsIs429) {
  Config config;
  config.max_jobs = 1;
  test::TempDir dir;
  dir.write("slow.jsonl", test::recording_text(slow()));
  test::RunningServer server(config, load_folder(dir.path()).recordings);
  Client c(server.port());
  EXPECT_EQ(
      c.roundtrip("POST", "/v1/chat/completions", body_for("slow", R"(,"background":true)")).status,
      200);
  const Response r =
      c.roundtrip("POST", "/v1/chat/completions", body_for("slow", R"(,"background":true)"));
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
  const Response poll = c.roundtrip("GET", chat_jobs + id);
  EXPECT_EQ(poll.status, 200);
  const auto s = stats();
  EXPECT_GE(stat_int(s, "jobs_active"), 1);
  EXPECT_GE(stat_int(s, "jobs_held"), 1);
  const auto& eps = s.at("endpoints").as_object();
  EXPECT_EQ(eps.at("chat_completions").at("requests").to_number<int>(), 1);
  EXPECT_EQ(eps.at("chat_completions_get").at("requests").to_number<int>(), 1);
  EXPECT_EQ(eps.at("chat_completions").at("bytes_in").to_number<std::uint64_t>() +
                eps.at("chat_completions_get").at("bytes_in").to_number<std::uint64_t>(),
            c.bytes_sent());
  EXPECT_EQ(eps.at("chat_completions").at("bytes_out").to_number<std::uint64_t>() +
                eps.at("chat_completions_get").at("bytes_out").to_number<std::uint64_t>(),
            c.bytes_read());
}

// GET /mock/time: the server's wall clock, between the client's before and after; a /mock
// request, never counted among the API's endpoints.
TEST(Server, TimeIsTheServersWallClockAndCountsAsMock) {
  {
    Client c(port());
    c.roundtrip("POST", "/mock/stats/reset");
  }
  const auto unix_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  Client c(port());
  const std::int64_t before = unix_us();
  const Response r = c.roundtrip("GET", "/mock/time");
  const std::int64_t after = unix_us();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  const std::int64_t server_us = r.json().at("unix_us").to_number<std::int64_t>();
  EXPECT_GE(server_us, before);
  EXPECT_LE(server_us, after);
  const auto s = stats();
  const auto& eps = s.at("endpoints").as_object();
  EXPECT_GE(eps.at("mock").at("requests").to_number<int>(), 1);
  EXPECT_EQ(eps.at("chat_completions").at("requests").to_number<int>(), 0);
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
      // The recorded request: it asks for the usage chunk where the stream has one.
      json::object body = json::parse(r->request.body).as_object();
      body["model"] = r->id;
      const Response s =
          c.roundtrip("POST", path, json::serialize(body), {{"x-ssebench-speed", "0"}});
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
    if (!r->events.empty()) {
      const Response j = c.roundtrip("POST", path, body_for(r->id, R"(,"background":true)"),
                                     {{"x-ssebench-speed", "0"}});
      const std::string id(j.json().at("id").as_string());
      const auto v = c.roundtrip("GET", path + "/" + id + "?shape=events").json().as_object();
      EXPECT_EQ(payloads(v), recorded_payloads(*r));
      EXPECT_EQ(v.at("status"), r->ends_in_error ? "failed" : "completed");
    }
  }
}

}  // namespace
}  // namespace ssebench::server
