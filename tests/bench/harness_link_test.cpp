// The link axis's pure parts: a `stats` answer as link_* counters, the context's profile table.
#include "ssebench/bench/harness_link.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <stdexcept>

namespace ssebench::bench {
namespace {

// What link::Figures::json() writes (link/src/figures.cpp), one line.
constexpr std::string_view stats_line =
    R"({"profile":"3g","window_s":1.250,"down_packets":26,"down_bytes":9928,"down_delivered":26,)"
    R"("down_drops_loss":0,"down_drops_queue":0,"down_queue_delay_ms_p50":5.109,)"
    R"("down_queue_delay_ms_p99":7.808,"up_packets":14,"up_bytes":2400,"up_delivered":4,)"
    R"("up_drops_loss":0,"up_drops_queue":0,"up_queue_delay_ms_p50":0.542,)"
    R"("up_queue_delay_ms_p99":9.250,"cpu_us_per_packet":123.891,"lateness_us_p50":12.9,)"
    R"("lateness_us_p99":3492.7,"lateness_us_max":3492.7,"link_behind":1})";

TEST(HarnessLink, StatsBecomeLinkCountersEveryNumberButTheWindow) {
  std::map<std::string, double> got;
  for (const auto& [name, value] : link_counters(stats_line)) got[name] = value;
  EXPECT_EQ(got.size(), 19u);
  EXPECT_EQ(got.at("link_down_packets"), 26);
  EXPECT_EQ(got.at("link_up_delivered"), 4);
  EXPECT_EQ(got.at("link_down_queue_delay_ms_p99"), 7.808);
  EXPECT_EQ(got.at("link_cpu_us_per_packet"), 123.891);
  EXPECT_EQ(got.at("link_lateness_us_max"), 3492.7);
  EXPECT_EQ(got.at("link_behind"), 1);  // its own name, not link_link_behind
  EXPECT_FALSE(got.contains("link_window_s"));
  EXPECT_FALSE(got.contains("link_profile"));
}

TEST(HarnessLink, AnErrorAnswerOrNoJsonThrows) {
  EXPECT_THROW(link_counters(R"({"error":"unknown command"})"), std::runtime_error);
  EXPECT_THROW(link_counters("stats"), std::runtime_error);
}

TEST(HarnessLink, ProfilesComeFromTheLinkLibrarysTable) {
  const boost::json::value v = boost::json::parse(link_profiles_json({"none", "3g", "lossy-1"}));
  const boost::json::object& g3 = v.at("3g").as_object();
  EXPECT_EQ(g3.at("rtt_ms").to_number<double>(), 300);
  EXPECT_EQ(g3.at("down_mbit").to_number<double>(), 1.6);
  EXPECT_EQ(g3.at("up_mbit").to_number<double>(), 0.768);
  EXPECT_EQ(g3.at("queue_packets").to_number<double>(), 1000);
  EXPECT_EQ(g3.at("source").as_string(), "WebPageTest connectivity.ini.sample");
  EXPECT_EQ(v.at("lossy-1").at("loss").to_number<double>(), 0.01);
  // none has no bottleneck, so no queue.
  EXPECT_EQ(v.at("none").at("queue_packets").to_number<double>(), 0);
}

TEST(HarnessLink, OnlyNoneNeedsNoEmulator) {
  EXPECT_FALSE(needs_emulator({"none"}));
  EXPECT_TRUE(needs_emulator({"none", "lan"}));
}

TEST(HarnessLink, DeadlineSlackGrowsWithRoundTripsBytesAndLoss) {
  using std::chrono::milliseconds;
  // lan: 1 ms RTT, 100 Mbit/s: 40 round trips, 1 MB twice at 100 Mbit/s = 160 ms.
  EXPECT_EQ(link_deadline_slack("lan", 1'000'000), milliseconds(40 + 160));
  // 3g: 300 ms RTT, 1.6 Mbit/s down: 12 s of round trips, 100 kB twice = 1 s.
  EXPECT_EQ(link_deadline_slack("3g", 100'000), milliseconds(12'000 + 1'000));
  // lossy-1 (40 ms, 10 Mbit/s, 1 %): the retransmission allowance on top.
  EXPECT_EQ(link_deadline_slack("lossy-1", 0), milliseconds(1'600 + 30'000));
  EXPECT_EQ(link_deadline_slack("none", 10'000'000), milliseconds(0));
}

}  // namespace
}  // namespace ssebench::bench
