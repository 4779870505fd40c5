#include "ssebench/server/config.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ssebench/flags.hpp"

namespace ssebench::server {
namespace {

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ssebench-mock-server");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_args(static_cast<int>(args.size()), argv.data());
}

TEST(Config, DefaultsWithoutArguments) {
  const ParsedArgs p = parse({});
  ASSERT_TRUE(p.config);
  EXPECT_EQ(p.config->bind_address, "127.0.0.1");
  EXPECT_EQ(p.config->port, 0);
  EXPECT_EQ(p.config->threads, 1u);
  EXPECT_EQ(p.config->recordings, "recordings");
  EXPECT_EQ(p.config->speed, 1.0);
  EXPECT_EQ(p.config->header_limit_bytes, 8u * 1024);
  EXPECT_EQ(p.config->body_limit_bytes, 1024u * 1024);
}

TEST(Config, EveryOptionIsParsed) {
  const ParsedArgs p = parse({"--bind",
                              "127.0.0.2",
                              "--port",
                              "8080",
                              "--threads",
                              "2",
                              "--recordings",
                              "/tmp/r",
                              "--speed",
                              "2.5",
                              "--header-limit-bytes",
                              "4096",
                              "--body-limit-bytes",
                              "100",
                              "--idle-timeout-ms",
                              "7",
                              "--stream-lifetime-limit-ms",
                              "8",
                              "--close-linger-ms",
                              "9",
                              "--max-connections",
                              "10",
                              "--max-jobs",
                              "11",
                              "--job-retention-ms",
                              "12",
                              "--long-poll-max-wait-ms",
                              "13"});
  ASSERT_TRUE(p.config) << p.message;
  const Config& c = *p.config;
  EXPECT_EQ(c.bind_address, "127.0.0.2");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.recordings, "/tmp/r");
  EXPECT_EQ(c.speed, 2.5);
  EXPECT_EQ(c.header_limit_bytes, 4096u);
  EXPECT_EQ(c.body_limit_bytes, 100u);
  EXPECT_EQ(c.idle_timeout_ms, 7u);
  EXPECT_EQ(c.stream_lifetime_limit_ms, 8u);
  EXPECT_EQ(c.close_linger_ms, 9u);
  EXPECT_EQ(c.max_connections, 10u);
  EXPECT_EQ(c.max_jobs, 11u);
  EXPECT_EQ(c.job_retention_ms, 12u);
  EXPECT_EQ(c.long_poll_max_wait_ms, 13u);
}

TEST(Config, BadValuesAreOneLineErrors) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--port", "70000"},
                                             {"--port", "x"},
                                             {"--threads", "0"},
                                             {"--speed", "-1"},
                                             {"--speed", "fast"},
                                             {"--speed", "inf"},
                                             {"--max-jobs", ""},
                                             // beyond a year: time points would overflow
                                             {"--stream-lifetime-limit-ms", "99999999999999999"},
                                             {"--long-poll-max-wait-ms", "31536000001"},
                                             {"--nope"},
                                             {"--port"},
                                             {"extra"}}) {
    const ParsedArgs p = parse(args);
    EXPECT_FALSE(p.config) << args[0];
    EXPECT_EQ(p.exit_code, 2) << args[0];
    EXPECT_EQ(p.message.find('\n'), std::string::npos) << p.message;
  }
  EXPECT_EQ(parse({"--port", "x"}).message,
            "ssebench-mock-server: bad value 'x' for --port: a whole number from 0 to 65535 "
            "(see --help)");
  EXPECT_EQ(parse({"--speed=-1"}).message,
            "ssebench-mock-server: bad value '-1' for --speed: a number, at least 0 (see --help)");
  EXPECT_EQ(parse({"--bind="}).message,
            "ssebench-mock-server: bad value '' for --bind: must not be empty (see --help)");
  EXPECT_TRUE(parse({"--job-retention-ms", std::to_string(flags::max_duration_ms)}).config);
  EXPECT_EQ(parse({"--nope"}).message, "ssebench-mock-server: unknown flag --nope (see --help)");
  EXPECT_EQ(parse({"--max-job=1"}).message,
            "ssebench-mock-server: unknown flag --max-job (did you mean --max-jobs?) (see --help)");
  EXPECT_EQ(parse({"--port"}).message, "ssebench-mock-server: --port needs a value (see --help)");
}

TEST(Config, EqualsAndSpaceFormsAlike) {
  const ParsedArgs p = parse({"--port=8081", "--speed", "0", "--cors-origins=none"});
  ASSERT_TRUE(p.config) << p.message;
  EXPECT_EQ(p.config->port, 8081);
  EXPECT_EQ(p.config->speed, 0.0);
  EXPECT_EQ(p.config->cors_origins, "none");
  EXPECT_EQ(parse({"-h"}).message, usage("ssebench-mock-server"));
}

// Heartbeats and pings (issue 19): seconds with fractions, or milliseconds; 0 = off = default.
TEST(Config, HeartbeatAndPingTakeSecondsOrMilliseconds) {
  const ParsedArgs off = parse({});
  ASSERT_TRUE(off.config);
  EXPECT_EQ(off.config->sse_heartbeat_ms, 0u);
  EXPECT_EQ(off.config->ws_ping_ms, 0u);
  const ParsedArgs s = parse({"--sse-heartbeat=0.05", "--ws-ping", "15"});
  ASSERT_TRUE(s.config) << s.message;
  EXPECT_EQ(s.config->sse_heartbeat_ms, 50u);
  EXPECT_EQ(s.config->ws_ping_ms, 15'000u);
  const ParsedArgs ms = parse({"--sse-heartbeat-ms=40", "--ws-ping-ms=7", "--sse-heartbeat=0"});
  ASSERT_TRUE(ms.config) << ms.message;
  EXPECT_EQ(ms.config->sse_heartbeat_ms, 0u);  // the last one given wins
  EXPECT_EQ(ms.config->ws_ping_ms, 7u);
  EXPECT_EQ(parse({"--ws-ping=0.001"}).config->ws_ping_ms, 1u);
  for (const char* bad : {"-1", "x", "", "1e99", "inf", "nan", "0.0004", "31536001", "1s"}) {
    for (const std::string flag : {"--sse-heartbeat=", "--ws-ping="}) {
      const ParsedArgs p = parse({flag + bad});
      EXPECT_FALSE(p.config) << flag << bad;
      EXPECT_EQ(p.exit_code, 2) << flag << bad;
      EXPECT_EQ(p.message.find('\n'), std::string::npos) << p.message;
    }
  }
  EXPECT_EQ(parse({"--ws-ping=-1"}).message,
            "ssebench-mock-server: bad value '-1' for --ws-ping: a number from 0 to 31536000 "
            "(see --help)");
  EXPECT_EQ(parse({"--sse-heartbeat=0.0004"}).message,
            "ssebench-mock-server: bad value '0.0004' for --sse-heartbeat: 0 (off) or at least "
            "0.001 (a millisecond) (see --help)");
  EXPECT_NE(parse({"--help"}).message.find("--ws-ping SECONDS"), std::string::npos);
}

TEST(Config, HelpPrintsEveryDefault) {
  const ParsedArgs p = parse({"--help"});
  EXPECT_FALSE(p.config);
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_EQ(p.message, usage("ssebench-mock-server"));
  for (const char* needle :
       {"--bind ADDR", "(default 127.0.0.1)", "--port N", "(default 0)", "(default 8192)",
        "(default 1048576)", "(default 60000)", "(default 600000)", "(default 30000)", "--max-jobs",
        "--job-retention-ms", "--long-poll-max-wait-ms", "--recordings DIR", "(default recordings)",
        "--speed S"}) {
    EXPECT_NE(p.message.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
}  // namespace ssebench::server

namespace ssebench::server {
namespace {

TEST(Config, CorsAliasAndSnapshotOptions) {
  const ParsedArgs p = parse({"--cors-origins", "https://a.example, https://b.example",
                              "--no-model-aliases", "--snapshot-limit-bytes", "1000"});
  ASSERT_TRUE(p.config) << p.message;
  EXPECT_FALSE(p.config->model_aliases);
  EXPECT_EQ(p.config->snapshot_limit_bytes, 1000u);
  EXPECT_EQ(allowed_origins(*p.config),
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_FALSE(parse({"--snapshot-limit-bytes", "0"}).config);
  EXPECT_FALSE(parse({"--cors-origins", ""}).config);
}

TEST(Config, CorsDefaultIsAnyOriginOnLoopbackOnly) {
  Config c;
  EXPECT_EQ(allowed_origins(c), std::vector<std::string>{"*"});
  c.bind_address = "::1";
  EXPECT_EQ(allowed_origins(c), std::vector<std::string>{"*"});
  c.bind_address = "10.1.2.3";
  EXPECT_TRUE(allowed_origins(c).empty());
  c.cors_origins = "*";
  EXPECT_EQ(allowed_origins(c), std::vector<std::string>{"*"});
  c.cors_origins = "none";
  EXPECT_TRUE(allowed_origins(c).empty());
}

}  // namespace
}  // namespace ssebench::server

namespace ssebench::server {
namespace {

TEST(Config, RequestAndWriteTimeouts) {
  const ParsedArgs p = parse({"--request-timeout-ms", "14", "--write-timeout-ms", "15"});
  ASSERT_TRUE(p.config) << p.message;
  EXPECT_EQ(p.config->request_timeout_ms, 14u);
  EXPECT_EQ(p.config->write_timeout_ms, 15u);
  EXPECT_FALSE(parse({"--request-timeout-ms", "0"}).config);
  EXPECT_FALSE(parse({"--write-timeout-ms", "0"}).config);
  EXPECT_FALSE(parse({"--write-timeout-ms", "31536000001"}).config);
  const Config d;
  const std::string help = usage("ssebench-mock-server");
  for (const std::string& needle :
       {std::string("--request-timeout-ms N"), std::string("--write-timeout-ms N"),
        "(default " + std::to_string(d.request_timeout_ms) + ")",
        "(default " + std::to_string(d.write_timeout_ms) + ")"})
    EXPECT_NE(help.find(needle), std::string::npos) << needle;
}

}  // namespace
}  // namespace ssebench::server
