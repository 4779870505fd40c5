#include "ssebench/server/jobs.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

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

// The 100 ms sweep alone (a find() of another name) must drop each job when its own expiry comes,
// though speeds put the expiries out of creation order. The store's shared_ptr is the only one
// left, so a weak_ptr tells whether the store still holds a job.
TEST(JobStore, TheSweepDropsExactlyTheExpiredJobsWhateverTheirOrder) {
  const Replay replay = one_event();  // one event at 10 ms at speed 1
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  const auto held = [&](double speed) { return std::weak_ptr(store.create(replay, t0, speed)); };
  const auto a = held(0.1);   // ends at 100 ms: expires at 200 ms
  const auto b = held(1.0);   // 10 ms: 110 ms
  const auto c = held(0.2);   // 50 ms: 150 ms
  const auto d = held(0.05);  // 200 ms: 300 ms
  const auto e = store.create(replay, t0, 0.05);
  ASSERT_TRUE(store.erase(e->name(), t0 + 1ms));  // erased early: its index entry is stale
  const std::string e_name = e->name();
  const auto f = store.create(replay, t0, 0.01);  // would end at 1 s
  ASSERT_TRUE(store.cancel(*f, t0 + 20ms));       // ends at 20 ms: expires at 120 ms
  EXPECT_FALSE(store.cancel(*f, t0 + 30ms));
  const std::string f_name = f->name();
  EXPECT_EQ(f->status(t0 + 30ms), JobStatus::cancelled);
  EXPECT_EQ(f.use_count(), 2);

  const auto sweep = [&](Clock::duration t) { EXPECT_FALSE(store.find("resp_bg_999", t0 + t)); };
  sweep(99ms);  // within the first sweep's interval: nothing swept
  EXPECT_FALSE(b.expired());
  sweep(125ms);
  EXPECT_TRUE(b.expired());
  EXPECT_EQ(f.use_count(), 1);  // the store let go of the cancelled job: only this test holds it
  EXPECT_FALSE(c.expired());
  EXPECT_FALSE(a.expired());
  EXPECT_FALSE(d.expired());
  EXPECT_FALSE(store.find(f_name, t0 + 125ms));
  EXPECT_FALSE(store.find(e_name, t0 + 125ms));
  sweep(225ms);
  EXPECT_TRUE(c.expired());
  EXPECT_TRUE(a.expired());
  EXPECT_FALSE(d.expired());
  EXPECT_EQ(store.figures(t0 + 225ms).held, 1u);
  ASSERT_FALSE(d.expired());
  EXPECT_TRUE(store.find(d.lock()->name(), t0 + 299ms));
  sweep(330ms);  // the forced sweep of figures() at 225 ms put the next one at 325 ms
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(store.figures(t0 + 330ms).held, 0u);
}

TEST(JobStore, TheSweepDropsACancelledJobFromItsCancelTime) {
  const Replay replay = one_event();
  JobStore store(10, 100ms);
  const Clock::time_point t0 = Clock::now();
  std::weak_ptr<const Job> weak;
  {
    const auto job = store.create(replay, t0, 0.001);  // would end after 10 s
    weak = job;
    ASSERT_TRUE(store.cancel(*job, t0 + 1ms));
  }
  EXPECT_FALSE(store.find("resp_bg_999", t0 + 100ms));
  EXPECT_FALSE(weak.expired());
  EXPECT_FALSE(store.find("resp_bg_999", t0 + 200ms));
  EXPECT_TRUE(weak.expired());
}

// Jobs created and deleted leave stale entries, which make the index rebuild itself: the jobs
// still held must expire on time afterwards all the same.
TEST(JobStore, ManyErasedJobsLeaveTheSweepExact) {
  const Replay replay = one_event();
  JobStore store(1000, 100ms);
  const Clock::time_point t0 = Clock::now();
  std::vector<std::weak_ptr<const Job>> soon, late;
  for (int i = 0; i < 500; ++i) {
    const double speed = i % 2 == 0 ? 1.0 : 0.01;  // expires at 110 ms or 1.1 s
    const auto job = store.create(replay, t0, speed);
    ASSERT_TRUE(job);
    if (i % 10 < 8) {
      ASSERT_TRUE(store.erase(job->name(), t0));
    } else {
      (speed == 1.0 ? soon : late).push_back(job);
    }
  }
  EXPECT_EQ(store.figures(t0).held, 100u);
  EXPECT_FALSE(store.find("resp_bg_999", t0 + 150ms));
  for (const auto& w : soon) EXPECT_TRUE(w.expired());
  for (const auto& w : late) EXPECT_FALSE(w.expired());
  EXPECT_FALSE(store.find("resp_bg_999", t0 + 1100ms));
  for (const auto& w : late) EXPECT_TRUE(w.expired());
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
