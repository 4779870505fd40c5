#include "ssebench/link/process.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "ssebench/link/netns.hpp"

namespace ssebench::link {
namespace {

TEST(Process, ParsesTheReadyLine) {
  const Ready r = parse_ready(
      "ready server_ns=ssebench-link-42-srv client_ns=ssebench-link-42-cli server_addr=10.213.8.1 "
      "client_addr=10.213.8.2 control=/run/ssebench-link/link-42.sock profile=3g rtt_ms=300 "
      "realtime=1");
  EXPECT_EQ(r.server_ns, "ssebench-link-42-srv");
  EXPECT_EQ(r.client_ns, "ssebench-link-42-cli");
  EXPECT_EQ(r.server_addr, "10.213.8.1");
  EXPECT_EQ(r.client_addr, "10.213.8.2");
  EXPECT_EQ(r.control, "/run/ssebench-link/link-42.sock");
  EXPECT_EQ(r.profile, "3g");
  EXPECT_DOUBLE_EQ(r.rtt_ms, 300);
  EXPECT_TRUE(r.realtime);
}

TEST(Process, RejectsWhatIsNotAReadyLine) {
  EXPECT_THROW(parse_ready("listening on http://x"), std::runtime_error);
  EXPECT_THROW(parse_ready("ready profile=3g"), std::runtime_error);
}

TEST(Process, NamespaceNamesCarryNameAndPid) {
  EXPECT_EQ(netns_name("bench", 4242, "srv"), "ssebench-bench-4242-srv");
  EXPECT_EQ(netns_name("link", 7, "cli"), "ssebench-link-7-cli");
}

}  // namespace
}  // namespace ssebench::link
