#include "ssebench/replay_clock.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ssebench {
namespace {

using namespace std::chrono_literals;

// role, two content deltas, a finish chunk, [DONE].
const char* const recording_text =
    R"({"format":"ssebench-recording","version":1,"api":"chat.completions","model":"m","provenance":{"source":"synthesized","timing":{"kind":"recorded"}},"request":{"method":"POST","path":"/v1/chat/completions","body":"{}"},"response":{"status":200,"headers":[],"headers_offset_us":0},"events":5}
{"t_us":1000,"kind":"role","bytes":"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"}
{"t_us":2000,"kind":"content","bytes":"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"He\"}}]}\n\n"}
{"t_us":4000,"kind":"content","bytes":"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"llo\"}}]}\n\n"}
{"t_us":5000,"kind":"finish","bytes":"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"}
{"t_us":6000,"kind":"done","bytes":"data: [DONE]\n\n"}
)";

class ReplayClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const LoadResult r = parse_recording(recording_text, "clock.jsonl");
    ASSERT_TRUE(r) << r.error;
    recording_ = r.recording;
  }
  std::shared_ptr<const Recording> recording_;
};

TEST(Scaled, DividesByTheSpeedAndZeroMeansAtOnce) {
  EXPECT_EQ(scaled(1000us, 1), 1ms);
  EXPECT_EQ(scaled(1000us, 2), 500us);
  EXPECT_EQ(scaled(1000us, 0.5), 2ms);
  EXPECT_EQ(scaled(1000us, 0), 0ns);
  EXPECT_EQ(scaled(1000us, 1e-30), std::chrono::nanoseconds(1'000'000'000'000'000'000));
}

TEST(ParseSpeed, AcceptsFiniteNonNegativeNumbersOnly) {
  EXPECT_EQ(parse_speed("2.5"), 2.5);
  EXPECT_EQ(parse_speed("0"), 0.0);
  EXPECT_EQ(parse_speed("20"), 20.0);
  for (const char* bad : {"", "-1", "x", "1x", "nan", "inf", " 1"})
    EXPECT_FALSE(parse_speed(bad)) << bad;
}

TEST_F(ReplayClockTest, NumbersEveryEventButDoneFromZero) {
  const ReplayClock c(*recording_);
  ASSERT_EQ(c.job_events(), 4u);
  EXPECT_EQ(c.event_index(0), 0u);
  EXPECT_EQ(c.event_index(3), 3u);
  EXPECT_EQ(c.content_ordinal(0), -1);
  EXPECT_EQ(c.content_ordinal(1), 0);
  EXPECT_EQ(c.content_ordinal(2), 1);
  EXPECT_EQ(c.content_ordinal(3), -1);
  EXPECT_EQ(c.content_offsets(), (std::vector<std::chrono::microseconds>{2000us, 4000us}));
}

TEST_F(ReplayClockTest, ResumeStartsAfterTheGivenNumber) {
  const ReplayClock c(*recording_);
  EXPECT_EQ(c.resume_index(std::nullopt), 0u);
  EXPECT_EQ(c.resume_index(0), 1u);
  EXPECT_EQ(c.resume_index(2), 3u);
  EXPECT_EQ(c.resume_index(3), 4u);   // only [DONE] is left
  EXPECT_EQ(c.resume_index(99), 4u);  // past the end: [DONE] too
}

TEST_F(ReplayClockTest, DueCountsThePrefixDueAtTheScaledTime) {
  const ReplayClock c(*recording_);
  EXPECT_EQ(c.due(999us, 1), 0u);
  EXPECT_EQ(c.due(1000us, 1), 1u);
  EXPECT_EQ(c.due(3999us, 1), 2u);
  EXPECT_EQ(c.due(2000us, 2), 3u);  // at speed 2, 4000 µs is due at 2000 µs
  EXPECT_EQ(c.due(0ns, 0), 4u);     // speed 0: everything at once
  EXPECT_EQ(c.due_at(2, 2), 2ms);
  EXPECT_EQ(c.end(1), 6ms);
  EXPECT_EQ(c.end(0), 0ns);
}

}  // namespace
}  // namespace ssebench
