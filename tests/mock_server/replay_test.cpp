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

Replay replay_of(std::shared_ptr<const Recording> r) {
  return Replay(std::move(r), 1 << 20);
}

TEST(Replay, KnowsItsRecording) {
  const Replay replay = replay_of(three_events());
  EXPECT_EQ(replay.clock.job_events(), 3u);
  EXPECT_EQ(replay.id_json, "\"three\"");
  EXPECT_EQ(replay.model_json, "\"gpt-test\"");
  EXPECT_EQ(replay.choices, 1);
  EXPECT_EQ(replay.representation.tails.size(), 4u);
}

TEST(Replay, JobStateIsAFunctionOfTime) {
  const Replay replay = replay_of(three_events());
  const Clock::time_point t0{};
  const Job job{7, &replay, t0, 2.0};  // twice as fast: events at 5, 10, 15 ms; end at 20 ms
  EXPECT_EQ(job.name(), "chatcmpl_bg_7");
  EXPECT_EQ(job.event_time(0), t0 + 5ms);
  EXPECT_EQ(job.end_time(), t0 + 20ms);
  EXPECT_EQ(job.due(t0), 0u);
  EXPECT_EQ(job.status(t0), JobStatus::queued);
  EXPECT_EQ(job.due(t0 + 5ms), 1u);
  EXPECT_EQ(job.status(t0 + 5ms), JobStatus::in_progress);
  EXPECT_EQ(job.due(t0 + 14ms), 2u);
  EXPECT_EQ(job.due(t0 + 1h), 3u);
  EXPECT_EQ(job.status(t0 + 19ms), JobStatus::in_progress);
  EXPECT_EQ(job.status(t0 + 20ms), JobStatus::completed);
  EXPECT_EQ(job.next_change(std::nullopt), t0 + 5ms);
  EXPECT_EQ(job.next_change(1), t0 + 15ms);
  EXPECT_EQ(job.next_change(2), t0 + 20ms);
  const Job fast{8, &replay, t0, 0.0};
  EXPECT_EQ(fast.due(t0), 3u);
  EXPECT_EQ(fast.status(t0), JobStatus::completed);
}

TEST(Replay, CancelStopsTheJobsClock) {
  const Replay replay = replay_of(three_events());
  const Clock::time_point t0{};
  const Job job{1, &replay, t0, 1.0};  // events at 10, 20, 30 ms; end at 40 ms
  EXPECT_TRUE(job.cancel(t0 + 15ms));
  EXPECT_FALSE(job.cancel(t0 + 16ms));  // once
  EXPECT_EQ(job.status(t0 + 15ms), JobStatus::cancelled);
  EXPECT_EQ(job.due(t0 + 1h), 1u);  // nothing after the cancel
  EXPECT_EQ(job.end_time(), t0 + 15ms);
  const Job done{2, &replay, t0, 1.0};
  EXPECT_FALSE(done.cancel(t0 + 40ms));  // it had ended
  EXPECT_EQ(done.status(t0 + 40ms), JobStatus::completed);
}

json::object parsed(const std::string& body) {
  return json::parse(body).as_object();
}

TEST(Replay, EventsShapeNumbersFromZeroAndStartsAfterTheCursor) {
  const Replay replay = replay_of(three_events());
  const Clock::time_point t0{};
  const Job job{1, &replay, t0, 1.0};
  const auto full = parsed(job_body(job, PollShape::events, t0 + 25ms, std::nullopt));
  EXPECT_EQ(full.at("id"), "chatcmpl_bg_1");
  EXPECT_EQ(full.at("object"), "chat.completion");
  EXPECT_EQ(full.at("status"), "in_progress");
  EXPECT_EQ(full.at("model"), "gpt-test");
  EXPECT_EQ(full.at("recording"), "three");
  EXPECT_EQ(full.at("cursor").to_number<int>(), 1);
  EXPECT_EQ(full.at("events_total").to_number<int>(), 3);
  ASSERT_EQ(full.at("events").as_array().size(), 2u);
  // Payloads are inserted verbatim: the same bytes as the recording's data.
  EXPECT_NE(
      job_body(job, PollShape::events, t0 + 25ms, std::nullopt).find(replay.clock.job_event(1).data()),
      std::string::npos);

  const auto inc = parsed(job_body(job, PollShape::events, t0 + 25ms, 0));
  EXPECT_EQ(inc.at("cursor").to_number<int>(), 1);
  EXPECT_EQ(inc.at("events").as_array().size(), 1u);
  const auto none = parsed(job_body(job, PollShape::events, t0 + 25ms, 1));
  EXPECT_EQ(none.at("cursor").to_number<int>(), 1);
  EXPECT_TRUE(none.at("events").as_array().empty());
  const auto early = parsed(job_body(job, PollShape::events, t0, std::nullopt));
  EXPECT_TRUE(early.at("cursor").is_null());
  EXPECT_EQ(early.at("status"), "queued");
  const auto done = parsed(job_body(job, PollShape::events, t0 + 40ms, 1));
  EXPECT_EQ(done.at("status"), "completed");
  EXPECT_EQ(done.at("cursor").to_number<int>(), 2);
}

TEST(Replay, DeltaShapeCarriesTheNewTextAndTheCursor) {
  const Replay replay = replay_of(three_events());
  const Clock::time_point t0{};
  const Job job{1, &replay, t0, 1.0};
  const auto d = parsed(job_body(job, PollShape::delta, t0 + 25ms, std::nullopt));
  EXPECT_EQ(d.at("object"), "chat.completion.delta");
  EXPECT_EQ(d.at("delta"), "Hi");
  EXPECT_EQ(d.at("cursor").to_number<int>(), 1);
  const auto none = parsed(job_body(job, PollShape::delta, t0 + 25ms, 1));
  EXPECT_EQ(none.at("delta"), "");
  EXPECT_EQ(none.at("cursor").to_number<int>(), 1);
}

TEST(Replay, OpenAIShapeHasNoOutputUntilTheEndAndSnapshotHasItAll) {
  const Replay replay = replay_of(three_events());
  const Clock::time_point t0{};
  const Job job{1, &replay, t0, 1.0};
  const auto pending = parsed(job_body(job, PollShape::openai, t0 + 25ms, std::nullopt));
  EXPECT_EQ(pending.at("status"), "in_progress");
  EXPECT_TRUE(pending.at("choices").as_array().empty());
  const auto snap = parsed(job_body(job, PollShape::snapshot, t0 + 25ms, std::nullopt));
  EXPECT_EQ(snap.at("choices").at(0).at("message").at("content"), "Hi");
  const auto done = parsed(job_body(job, PollShape::openai, t0 + 40ms, std::nullopt));
  EXPECT_EQ(done.at("status"), "completed");
  EXPECT_EQ(done.at("choices").at(0).at("message").at("content"), "Hi");
  EXPECT_EQ(done.at("choices").at(0).at("finish_reason"), "stop");
}

TEST(Replay, ShapesParseByName) {
  for (PollShape s : {PollShape::openai, PollShape::snapshot, PollShape::delta, PollShape::events})
    EXPECT_EQ(parse_poll_shape(to_string(s)), s);
  EXPECT_FALSE(parse_poll_shape("full"));
}

}  // namespace
}  // namespace ssebench::server
