// The application layer in memory: handle() with no socket, what a session would carry out.
#include "ssebench/server/api.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <map>
#include <thread>

#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    test::TestRecording chat;
    chat.events = {{1'000, "content", test::chat_chunk("Hi")},
                   {2'000, "usage",
                    R"({"id":"chatcmpl-test","object":"chat.completion.chunk","choices":[],)"
                    R"("usage":{"completion_tokens":1}})"},
                   {3'000, "done", "[DONE]"}};
    chat.nonstream_offset_us = 5'000;
    chat.nonstream_body = R"({"object":"chat.completion","choices":[]})";
    const auto loaded = parse_recording(test::recording_text(chat), "chat.jsonl");
    ASSERT_TRUE(loaded) << loaded.error;
    state_ = std::make_unique<State>(Config{}, std::vector{loaded.recording});
  }

  Outcome call(http::verb method, std::string target, std::string body = {},
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req{method, target, 11};
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    return handle(req, *state_, now_);
  }

  std::unique_ptr<State> state_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(Api, AStreamIsAPlanFromTheFirstEventAtTheRequestsSpeed) {
  const Outcome o = call(http::verb::post, "/v1/chat/completions",
                         R"({"model":"chat","stream":true})", {{"x-ssebench-speed", "2"}});
  EXPECT_EQ(o.endpoint, Endpoint::chat_completions);
  const auto& plan = std::get<StreamPlan>(o.plan);
  EXPECT_EQ(plan.first, 0u);
  EXPECT_EQ(plan.speed, 2.0);
  EXPECT_EQ(plan.start, now_);
  EXPECT_TRUE(plan.skip_usage);  // not asked for
  EXPECT_FALSE(plan.job);
  const Outcome asked =
      call(http::verb::post, "/v1/chat/completions",
           R"({"model":"chat","stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_FALSE(std::get<StreamPlan>(asked.plan).skip_usage);
}

TEST_F(Api, StreamFalseIsHeldUntilTheRecordedOffset) {
  const Outcome o = call(http::verb::post, "/v1/chat/completions", R"({"model":"chat"})");
  const auto& hold = std::get<HoldPlan>(o.plan);
  EXPECT_EQ(hold.until, now_ + 5ms);
  const Response res = hold.answer(hold.until);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"object":"chat.completion","choices":[]})");
}

TEST_F(Api, AJobIsAnAnswerThenPollsAndAResumePlan) {
  const Outcome created =
      call(http::verb::post, "/v1/chat/completions", R"({"model":"chat","background":true})");
  const auto v = json::parse(std::get<Response>(created.plan).body()).as_object();
  const std::string id(v.at("id").as_string());
  EXPECT_EQ(v.at("status"), "queued");
  const Outcome resume =
      call(http::verb::get, "/v1/chat/completions/" + id + "?stream=true&starting_after=0");
  EXPECT_EQ(resume.endpoint, Endpoint::chat_completions_get);
  const auto& plan = std::get<StreamPlan>(resume.plan);
  EXPECT_EQ(plan.first, 1u);  // after job event 0
  ASSERT_TRUE(plan.job);
  EXPECT_EQ(plan.job->name(), id);
  const Outcome held =
      call(http::verb::get, "/v1/chat/completions/" + id + "?shape=delta&wait_ms=50");
  EXPECT_EQ(std::get<HoldPlan>(held.plan).until, now_ + 1ms);  // the first event's time
}

TEST_F(Api, ErrorsAreOpenAIShapedAndValidJsonWhateverTheClientSent) {
  EXPECT_EQ(
      error_response(http::status::not_found,
                     "The model `x` does not exist or you do not have access to it.",
                     "invalid_request_error", {}, "model_not_found")
          .body(),
      R"({"error":{"message":"The model `x` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}})");
  EXPECT_EQ(error_response(http::status::bad_request, "a \"q\"", "t", "model").body(),
            R"({"error":{"message":"a \"q\"","type":"t","param":"model","code":null}})");
  json::error_code ec;
  (void)json::parse(error_response(http::status::bad_request, "bad '\xff\xfe'", "t").body(), ec);
  EXPECT_FALSE(ec);
  // A path's bytes echoed in the 404's message: the invalid one becomes U+FFFD.
  const Response unknown = std::get<Response>(call(http::verb::get, "/v1/caf\xc3\xa9\xa0").plan);
  EXPECT_EQ(unknown.result_int(), 404);
  EXPECT_NE(unknown.body().find("/v1/caf\xc3\xa9\xef\xbf\xbd)"), std::string::npos)
      << unknown.body();
}

TEST_F(Api, ModelsAreTheRecordingsThenTheirRealNames) {
  EXPECT_EQ(
      std::get<Response>(call(http::verb::get, "/v1/models").plan).body(),
      R"({"object":"list","data":[{"id":"chat","object":"model","created":0,"owned_by":"ssebench"},)"
      R"({"id":"gpt-test","object":"model","created":0,"owned_by":"ssebench","recordings":{"chat.completions":"chat"}}]})");
  EXPECT_EQ(std::get<Response>(call(http::verb::get, "/v1/models/chat").plan).body(),
            R"({"id":"chat","object":"model","created":0,"owned_by":"ssebench"})");
  EXPECT_EQ(std::get<Response>(call(http::verb::get, "/v1/models/gpt-test").plan).body(),
            R"({"id":"gpt-test","object":"model","created":0,"owned_by":"ssebench"})");
}

TEST_F(Api, UnknownPathsWrongMethodsAndPreflights) {
  EXPECT_EQ(std::get<Response>(call(http::verb::get, "/nope").plan).result_int(), 404);
  const Response wrong = std::get<Response>(call(http::verb::put, "/v1/models").plan);
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[http::field::allow], "GET");
  const Response pre = std::get<Response>(
      call(http::verb::options, "/v1/models/x", {}, {{"origin", "http://localhost"}}).plan);
  EXPECT_EQ(pre.result_int(), 204);
  EXPECT_EQ(pre[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(pre[http::field::access_control_allow_methods], "GET, OPTIONS");
}

// ---- recorded sets --------------------------------------------------------------------------

/** Member `index` of `of` of set `set_id`, as ssebench-record writes it: `SET.K.jsonl`. */
std::shared_ptr<const Recording> member(std::string_view set_id, int index, int of,
                                        std::string api = "chat.completions") {
  test::TestRecording r;
  r.api = api;
  r.events = {{1'000 * index, "content", test::chat_chunk("Hi")}, {5'000, "done", "[DONE]"}};
  if (api == "responses")
    r.events = {{1'000 * index, "response.completed",
                 R"({"type":"response.completed","response":{"output":[]}})",
                 "response.completed"}};
  std::string text = test::recording_text(r);
  const auto eol = text.find('\n');
  auto header = json::parse(text.substr(0, eol)).as_object();
  header["set"] = {{"id", set_id}, {"index", index}, {"of", of}};
  text = json::serialize(header) + text.substr(eol);
  const auto loaded = parse_recording(
      text, std::string(set_id) + "." + std::to_string(index) + ".jsonl");  // id: SET.K
  EXPECT_TRUE(loaded) << loaded.error;
  return loaded.recording;
}

std::string replayed_id(const Outcome& o) {
  return std::get<StreamPlan>(o.plan).replay->recording->id;
}

class Sets : public ::testing::Test {
 protected:
  void make(std::vector<std::shared_ptr<const Recording>> recordings) {
    state_ = std::make_unique<State>(Config{}, recordings);
  }
  Outcome stream(std::string_view model, std::string_view path = "/v1/chat/completions") {
    Request req{http::verb::post, path, 11};
    req.body() = R"({"model":")" + std::string(model) + R"(","stream":true})";
    req.prepare_payload();
    return handle(req, *state_, Clock::now());
  }
  std::unique_ptr<State> state_;
};

TEST_F(Sets, TheSetsIdReplaysItsMembersInTurn) {
  make({member("s", 1, 3), member("s", 2, 3), member("s", 3, 3)});
  EXPECT_TRUE(state_->set_errors.empty());
  std::vector<std::string> got;
  for (int i = 0; i < 7; ++i) got.push_back(replayed_id(stream("s")));
  EXPECT_EQ(got, (std::vector<std::string>{"s.1", "s.2", "s.3", "s.1", "s.2", "s.3", "s.1"}));
}

TEST_F(Sets, AMembersIdReplaysThatMemberOnly) {
  make({member("s", 1, 2), member("s", 2, 2)});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(replayed_id(stream("s.2")), "s.2");
  EXPECT_EQ(replayed_id(stream("s")), "s.1");  // the set's turn is its own
}

TEST_F(Sets, EveryMemberTakesItsShareUnderConcurrentRequests) {
  make({member("s", 1, 3), member("s", 2, 3), member("s", 3, 3)});
  constexpr int threads = 4;
  constexpr int per_thread = 300;
  std::vector<std::map<std::string, int>> counts(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) ++counts[t][replayed_id(stream("s"))];
    });
  for (auto& th : pool) th.join();
  std::map<std::string, int> total;
  for (const auto& c : counts)
    for (const auto& [id, n] : c) total[id] += n;
  EXPECT_EQ(total, (std::map<std::string, int>{{"s.1", 400}, {"s.2", 400}, {"s.3", 400}}));
}

TEST_F(Sets, AResponsesSetOnItsEndpoint) {
  make({member("r", 1, 2, "responses"), member("r", 2, 2, "responses")});
  EXPECT_EQ(replayed_id(stream("r", "/v1/responses")), "r.1");
  EXPECT_EQ(replayed_id(stream("r", "/v1/responses")), "r.2");
}

TEST_F(Sets, ListedAndRetrievedAsModels) {
  make({member("s", 1, 2), member("s", 2, 2)});
  const auto list = json::parse(state_->models_body).at("data").as_array();
  bool listed = false;
  for (const auto& m : list)
    if (m.at("id") == "s") {
      listed = true;
      EXPECT_EQ(m.at("set"), json::value(json::array{"s.1", "s.2"}));
    }
  EXPECT_TRUE(listed);
  Request req{http::verb::get, "/v1/models/s", 11};
  const Response res = std::get<Response>(handle(req, *state_, Clock::now()).plan);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(),
            R"({"id":"s","object":"model","created":0,"owned_by":"ssebench","set":["s.1","s.2"]})");
}

TEST_F(Sets, AnIncompleteOrInconsistentSetIsReportedAndItsMembersStillServed) {
  make({member("gap", 1, 3), member("gap", 3, 3), member("size", 1, 2), member("size", 2, 3),
        member("mixed", 1, 2), member("mixed", 2, 2, "responses")});
  EXPECT_EQ(state_->set_errors,
            (std::vector<std::string>{
                "set gap: not served: member 2 of 3 is missing",
                "set mixed: not served: mixed.1 and mixed.2 are of different APIs",
                "set size: not served: size.1 says 2 members, size.2 says 3",
            }));
  EXPECT_EQ(std::get<Response>(stream("gap").plan).result_int(), 404);
  EXPECT_EQ(replayed_id(stream("gap.3")), "gap.3");
}

TEST_F(Sets, ARecordingWithTheSetsIdWins) {
  test::TestRecording r;
  r.events = {{1'000, "done", "[DONE]"}};
  const auto plain = parse_recording(test::recording_text(r), "s.jsonl");
  ASSERT_TRUE(plain) << plain.error;
  make({plain.recording, member("s", 1, 1)});
  EXPECT_EQ(state_->set_errors,
            (std::vector<std::string>{"set s: not served: a recording has that id"}));
  EXPECT_EQ(replayed_id(stream("s")), "s");
}

}  // namespace
}  // namespace ssebench::server
