#include "ssebench/server/replay.hpp"

#include <chrono>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::shared_ptr<const Recording> three_events() {
  test::TestRecording r;
  r.events = {{10'000, "role", test::chat_chunk("")},
              {20'000, "content", test::chat_chunk("Hi")},
              {30'000, "finish", test::chat_chunk("", "stop")},
              {40'000, "done", "[DONE]"}};
  auto loaded = parse_recording(test::recording_text(r), "three.jsonl");
  EXPECT_TRUE(loaded) << loaded.error;
  return loaded.recording;
}

TEST(Replay, JobEventsExcludeDone) {
  const Replay replay(three_events());
  EXPECT_EQ(replay.events_total(), 3u);
  EXPECT_EQ(replay.id_json, "\"three\"");
  EXPECT_EQ(replay.model_json, "\"gpt-test\"");
  EXPECT_FALSE(replay.job_event(3).is_done());
}

TEST(Replay, JobStateIsAFunctionOfTime) {
  const Replay replay(three_events());
  const Clock::time_point t0{};
  const Job job{7, &replay, t0, 2.0};  // twice as fast: events at 5, 10, 15 ms; end at 20 ms
  EXPECT_EQ(job.name(), "resp_bg_7");
  EXPECT_EQ(job.event_time(1), t0 + 5ms);
  EXPECT_EQ(job.end_time(), t0 + 20ms);
  EXPECT_EQ(job.due(t0), 0u);
  EXPECT_EQ(job.due(t0 + 5ms), 1u);
  EXPECT_EQ(job.due(t0 + 14ms), 2u);
  EXPECT_EQ(job.due(t0 + 1h), 3u);
  EXPECT_EQ(job.status(t0 + 19ms), JobStatus::in_progress);
  EXPECT_EQ(job.status(t0 + 20ms), JobStatus::completed);
  EXPECT_EQ(job.next_change(0), t0 + 5ms);
  EXPECT_EQ(job.next_change(2), t0 + 15ms);
  EXPECT_EQ(job.next_change(3), t0 + 20ms);
  const Job fast{8, &replay, t0, 0.0};
  EXPECT_EQ(fast.due(t0), 3u);
  EXPECT_EQ(fast.status(t0), JobStatus::completed);
}

TEST(Replay, JobJsonFullAndIncremental) {
  const Replay replay(three_events());
  const Clock::time_point t0{};
  const Job job{1, &replay, t0, 1.0};
  const auto full = json::parse(job_json(job, t0 + 25ms, std::nullopt)).as_object();
  EXPECT_EQ(full.at("id"), "resp_bg_1");
  EXPECT_EQ(full.at("object"), "response");
  EXPECT_EQ(full.at("status"), "in_progress");
  EXPECT_EQ(full.at("model"), "gpt-test");
  EXPECT_EQ(full.at("recording"), "three");
  EXPECT_EQ(full.at("cursor").to_number<int>(), 2);
  EXPECT_EQ(full.at("events_total").to_number<int>(), 3);
  ASSERT_EQ(full.at("events").as_array().size(), 2u);
  // Payloads are inserted verbatim: the same bytes as the recording's data.
  EXPECT_NE(job_json(job, t0 + 25ms, std::nullopt).find(replay.job_event(2).data()),
            std::string::npos);

  const auto inc = json::parse(job_json(job, t0 + 25ms, 1)).as_object();
  EXPECT_EQ(inc.at("cursor").to_number<int>(), 2);
  EXPECT_EQ(inc.at("events").as_array().size(), 1u);
  const auto none = json::parse(job_json(job, t0 + 25ms, 2)).as_object();
  EXPECT_EQ(none.at("cursor").to_number<int>(), 2);
  EXPECT_TRUE(none.at("events").as_array().empty());
  const auto done = json::parse(job_json(job, t0 + 40ms, 2)).as_object();
  EXPECT_EQ(done.at("status"), "completed");
  EXPECT_EQ(done.at("cursor").to_number<int>(), 3);

  const auto created = json::parse(job_created_json(job, t0)).as_object();
  EXPECT_EQ(created.at("background"), true);
  EXPECT_EQ(created.at("cursor").to_number<int>(), 0);
  EXPECT_EQ(created.at("status"), "in_progress");
}

TEST(Replay, ErrorJsonIsOpenAIShaped) {
  EXPECT_EQ(
      error_json("The model `x` does not exist or you do not have access to it.",
                 "invalid_request_error", {}, "model_not_found"),
      R"({"error":{"message":"The model `x` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}})");
  EXPECT_EQ(error_json("a \"q\"", "t", "model"),
            R"({"error":{"message":"a \"q\"","type":"t","param":"model","code":null}})");
}

TEST(Replay, ModelsJsonListsEveryRecording) {
  ReplayMap map;
  auto rec = three_events();
  map.emplace(rec->id, Replay(rec));
  EXPECT_EQ(
      models_json(map),
      R"({"object":"list","data":[{"id":"three","object":"model","created":0,"owned_by":"ssebench"}]})");
}

}  // namespace
}  // namespace ssebench::server
