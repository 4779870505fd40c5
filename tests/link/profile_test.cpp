#include "ssebench/link/profile.hpp"

#include <gtest/gtest.h>

#include <set>

#include "../temp_dir.hpp"
#include "ssebench/link/emulator.hpp"

namespace ssebench::link {
namespace {

TEST(Profile, TableHasTheIssuesProfilesEachWithASource) {
  std::set<std::string_view> names;
  for (const ProfileRow& r : profile_table()) {
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate " << r.name;
    EXPECT_FALSE(r.source.empty()) << r.name;
    EXPECT_GE(r.rtt_ms, 0);
    EXPECT_GE(r.loss, 0);
    EXPECT_LT(r.loss, 1);
  }
  for (const char* want : {"none", "lan", "cable", "dsl", "lte", "4g", "3g", "3g-slow", "edge",
                           "lossy-1", "lossy-3", "geo-satellite"})
    EXPECT_TRUE(names.count(want)) << want;
}

TEST(Profile, NumbersOfTheReferences) {
  const Link l = make_link("3g");
  EXPECT_EQ(l.down.delay_us, 150'000);  // 300 ms RTT, half each way
  EXPECT_EQ(l.up.delay_us, 150'000);
  EXPECT_DOUBLE_EQ(l.down.rate_bps, 1.6e6);
  EXPECT_DOUBLE_EQ(l.up.rate_bps, 0.768e6);
  EXPECT_DOUBLE_EQ(l.rtt_ms, 300);
  const Link c = make_link("cable");
  EXPECT_EQ(c.down.delay_us, 14'000);
  EXPECT_DOUBLE_EQ(c.down.rate_bps, 5e6);
  EXPECT_DOUBLE_EQ(c.up.rate_bps, 1e6);
  EXPECT_DOUBLE_EQ(make_link("lossy-1").down.loss, 0.01);
  EXPECT_DOUBLE_EQ(make_link("lossy-3").up.loss, 0.03);
  EXPECT_DOUBLE_EQ(make_link("lossy-3").rtt_ms, 40);
  EXPECT_NEAR(make_link("geo-satellite").rtt_ms, 600, 1e-9);
  const Link none = make_link("none");
  EXPECT_FALSE(none.down.has_bottleneck());
  EXPECT_EQ(none.down.delay_us, 0);
}

TEST(Profile, UnknownNameListsTheKnownOnes) {
  try {
    make_link("5g");
    FAIL();
  } catch (const ProfileError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("unknown profile '5g': one of none, lan,", 0), 0u) << what;
    EXPECT_NE(what.find("trace:DOWN,UP[,rtt=MS]"), std::string::npos);
  }
}

TEST(Profile, TraceSpecLoadsBothTracesAndRtt) {
  test::TempDir dir;
  const auto down = dir.write("d", "1\n");
  const auto up = dir.write("u", "2\n");
  const Link l = make_link("trace:" + down.string() + "," + up.string() + ",rtt=80");
  ASSERT_TRUE(l.down.trace && l.up.trace);
  EXPECT_EQ(l.down.trace->ms, std::vector<std::uint64_t>{1});
  EXPECT_EQ(l.up.trace->ms, std::vector<std::uint64_t>{2});
  EXPECT_EQ(l.down.delay_us, 40'000);
  EXPECT_TRUE(l.down.has_bottleneck());
  EXPECT_THROW(make_link("trace:" + down.string()), ProfileError);
  EXPECT_THROW(make_link("trace:" + down.string() + "," + up.string() + ",40"), ProfileError);
  EXPECT_THROW(make_link("trace:" + down.string() + "," + up.string() + ",rtt=x"), ProfileError);
  EXPECT_THROW(make_link("trace:" + down.string() + "," + (dir.path() / "nope").string()),
               TraceError);
}

TEST(Profile, ListNamesEveryProfile) {
  const std::string t = format_profile_table();
  for (const ProfileRow& r : profile_table())
    EXPECT_NE(t.find(std::string(r.name) + " "), std::string::npos) << r.name;
  EXPECT_NE(t.find("WebPageTest"), std::string::npos);
}

TEST(Profile, OverridesApplyOverTheProfile) {
  Config c;
  c.profile = "3g";
  c.delay_ms = 5;
  c.loss = 0.1;
  c.down_mbit = 8;
  c.queue_packets = 50;
  const Link l = configured_link(c);
  EXPECT_EQ(l.down.delay_us, 5000);
  EXPECT_EQ(l.up.delay_us, 5000);
  EXPECT_DOUBLE_EQ(l.rtt_ms, 10);
  EXPECT_DOUBLE_EQ(l.down.rate_bps, 8e6);
  EXPECT_DOUBLE_EQ(l.up.rate_bps, 0.768e6);
  EXPECT_DOUBLE_EQ(l.up.loss, 0.1);
  EXPECT_EQ(l.up.queue_packets, 50u);
}

}  // namespace
}  // namespace ssebench::link
