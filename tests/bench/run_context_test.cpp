// The host probe of the run context: the route to the server, the CPU, a command's output.
#include "ssebench/bench/run_context.hpp"

#include <gtest/gtest.h>

namespace ssebench::bench {
namespace {

TEST(RunContext, AServerOnLoopbackIsReachedOverLo) {
  const Link link = link_to("http://127.0.0.1:8080/v1");
  EXPECT_EQ(link.interface, "lo");
  EXPECT_EQ(link.server_address, "127.0.0.1");
  EXPECT_EQ(link.local_address, "127.0.0.1");
  EXPECT_GT(link.mtu_bytes, 0);
}

TEST(RunContext, AnUnresolvableHostLeavesTheLinkUnknown) {
  const Link link = link_to("http://no-such-host.invalid:80");
  EXPECT_TRUE(link.interface.empty());
  EXPECT_EQ(link.mtu_bytes, 0);
}

TEST(RunContext, CommandOutputWithoutTrailingNewlines) {
  EXPECT_EQ(command_output("printf 'a b\\n\\n'"), "a b");
  EXPECT_EQ(command_output("true"), "");
}

TEST(RunContext, ACpuModelOrUnknown) {
  EXPECT_FALSE(cpu_model().empty());
}

}  // namespace
}  // namespace ssebench::bench
