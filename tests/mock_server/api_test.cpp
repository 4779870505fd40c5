// The application layer in memory: handle() with no socket, what a session would carry out.
#include "ssebench/server/api.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

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

}  // namespace
}  // namespace ssebench::server
