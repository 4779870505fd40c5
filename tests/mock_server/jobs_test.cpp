#include "ssebench/server/jobs.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;

Replay one_event() {
  test::TestRecording r;
  r.events = {{10'000, "content", test::chat_chunk("Hi")}};
  auto loaded = parse_recording(test::recording_text(r), "one.jsonl");
  EXPECT_TRUE(loaded) << loaded.error;
  return Replay(loaded.recording, 1 << 20);
}

TEST(JobStore, ParseName) {
  EXPECT_EQ(JobStore::parse_name("resp_bg_12"), 12u);
  EXPECT_FALSE(JobStore::parse_name("resp_bg_"));
  EXPECT_FALSE(JobStore::parse_name("resp_bg_1x"));
  EXPECT_FALSE(JobStore::parse_name("resp_12"));
  EXPECT_EQ(JobStore::parse_name("chatcmpl_bg_7"), 7u);
  EXPECT_FALSE(JobStore::parse_name("chatcmpl_bg_"));
}

TEST(JobStore, ANameOfTheOtherApiFindsNothing) {
  const Replay replay = one_event();  // a chat recording: its jobs are chatcmpl_bg_N
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  const auto job = store.create(replay, t0, 1.0);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->name(), "chatcmpl_bg_" + std::to_string(job->id));
  EXPECT_FALSE(store.find("resp_bg_" + std::to_string(job->id), t0));
}

TEST(JobStore, EraseForgetsTheJob) {
  const Replay replay = one_event();
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  const auto job = store.create(replay, t0, 1.0);
  EXPECT_TRUE(store.erase(job->name(), t0));
  EXPECT_FALSE(store.find(job->name(), t0));
  EXPECT_FALSE(store.erase(job->name(), t0));
  EXPECT_EQ(store.figures(t0).held, 0u);
}

TEST(JobStore, ACancelledJobExpiresFromItsCancelTime) {
  const Replay replay = one_event();
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  const auto job = store.create(replay, t0, 0.001);  // would end after 10 s
  ASSERT_TRUE(job->cancel(t0 + 1ms));
  EXPECT_TRUE(store.find(job->name(), t0 + 100ms));
  EXPECT_FALSE(store.find(job->name(), t0 + 101ms));
}

TEST(JobStore, CreateFindAndExpireAfterRetention) {
  const Replay replay = one_event();
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  const auto job = store.create(replay, t0, 1.0);  // ends at t0 + 10 ms
  ASSERT_TRUE(job);
  EXPECT_EQ(store.find(job->name(), t0 + 50ms), job);
  EXPECT_EQ(store.find(job->name(), t0 + 109ms), job);
  EXPECT_EQ(store.figures(t0 + 5ms).active, 1u);
  EXPECT_EQ(store.figures(t0 + 50ms).active, 0u);
  EXPECT_EQ(store.figures(t0 + 50ms).held, 1u);
  EXPECT_FALSE(store.find(job->name(), t0 + 110ms));
  EXPECT_FALSE(store.find("resp_bg_999", t0));
  EXPECT_EQ(store.figures(t0 + 110ms).held, 0u);
}

TEST(JobStore, MaxJobsRefusesUntilOneExpires) {
  const Replay replay = one_event();
  JobStore store(2, 0ms);
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(store.create(replay, t0, 1.0));
  ASSERT_TRUE(store.create(replay, t0, 1.0));
  EXPECT_FALSE(store.create(replay, t0 + 1ms, 1.0));
  EXPECT_TRUE(store.create(replay, t0 + 10ms, 1.0));  // the first two ended at t0 + 10 ms
}

TEST(JobStore, IdsAreUnique) {
  const Replay replay = one_event();
  JobStore store(10, 0ms);
  const auto a = store.create(replay, Clock::now(), 1.0);
  const auto b = store.create(replay, Clock::now(), 1.0);
  EXPECT_NE(a->name(), b->name());
}

}  // namespace
}  // namespace ssebench::server
