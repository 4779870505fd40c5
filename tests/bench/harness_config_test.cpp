// The harness's flags: both spellings, every value checked whole, one line per mistake.
#include "ssebench/bench/harness_config.hpp"
#include "ssebench/bench/schedule.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace ssebench::bench {
namespace {

/** Parses `args` (program name added); `help` set by --help. */
HarnessConfig parse(std::initializer_list<const char*> args, bool* help = nullptr) {
  std::vector<std::string> owned{"ssebench-bench"};
  for (const char* a : args) owned.emplace_back(a);
  std::vector<char*> argv;
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  bool h = false;
  HarnessConfig c = parse_harness_flags(static_cast<int>(owned.size()), argv.data(), h);
  if (help) *help = h;
  return c;
}

/** The one line a bad command line gives. */
std::string error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const flags::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HarnessConfig, NoFlagsGiveTheDefaults) {
  const HarnessConfig c = parse({});
  const HarnessConfig d;
  EXPECT_EQ(c.models, d.models);
  // The core suite: two recordings, one interval, ws in one turn.
  EXPECT_EQ(c.suite, Suite::core);
  EXPECT_EQ(c.models, (std::vector<std::string>{"chat-gpt-4o-json", "chat-gpt-4o-mini-text"}));
  EXPECT_EQ(c.concurrency, (std::vector<std::size_t>{1, 100}));
  EXPECT_EQ(c.intervals_ms, (std::vector<long>{250}));
  EXPECT_EQ(c.ws_turns, (std::vector<std::size_t>{1}));
  EXPECT_EQ(c.crossover_intervals_ms, (std::vector<long>{50, 1000}));
  EXPECT_TRUE(c.http_beside_top_only);
  EXPECT_FALSE(parse({"--http=1.1,2"}).http_beside_top_only);
  EXPECT_TRUE(parse({"--http=1.1,2", "--http-beside", "top"}).http_beside_top_only);
  EXPECT_FALSE(parse({"--full"}).http_beside_top_only);
  EXPECT_FALSE(parse({"--quick"}).http_beside_top_only);
  EXPECT_EQ(error_of({"--http-beside=some"}), "bad value 'some' for --http-beside: top or all");
  EXPECT_EQ(c.transports.size(), std::size(all_transports));
  EXPECT_EQ(c.http, (std::vector<HttpVersion>{HttpVersion::http1_1, HttpVersion::http2}));
  EXPECT_EQ(c.host_connections, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(c.rates.empty());
  EXPECT_TRUE(c.warmup);
}

TEST(HarnessConfig, EqualsAndSpaceSpellingsAgree) {
  const HarnessConfig a = parse({"--concurrency=2,10", "--cases=sse,ws", "--speed=4"});
  const HarnessConfig b = parse({"--concurrency", "2,10", "--cases", "sse,ws", "--speed", "4"});
  EXPECT_EQ(a.concurrency, (std::vector<std::size_t>{2, 10}));
  EXPECT_EQ(a.concurrency, b.concurrency);
  EXPECT_EQ(a.transports, (std::vector<Transport>{Transport::sse, Transport::ws}));
  EXPECT_EQ(a.transports, b.transports);
  EXPECT_DOUBLE_EQ(a.speed, 4);
  EXPECT_DOUBLE_EQ(b.speed, 4);
}

TEST(HarnessConfig, EveryKindOfValue) {
  bool help = false;
  const HarnessConfig c = parse({"--poll-shapes=delta,events,delta",
                                 "--http=2",
                                 "--intervals=50",
                                 "--ws-turns=1,3",
                                 "--host-connections=0,6",
                                 "--rate=2.5,30",
                                 "--arrival=gamma",
                                 "--burstiness=0.5",
                                 "--seed=11",
                                 "--max-concurrency=6",
                                 "--users=4",
                                 "--think-ms=200",
                                 "--duration=1.2",
                                 "--warmup-s=0.2",
                                 "--cooldown-s=0.2",
                                 "--shard=1/2",
                                 "--no-warmup",
                                 "--no-keep-alive",
                                 "--poll-schedule=after-response",
                                 "--stagger-ms=0",
                                 "--rounds=3",
                                 "--server=http://127.0.0.1:1",
                                 "--help"},
                                &help);
  EXPECT_EQ(c.poll_shapes, (std::vector<PollShape>{PollShape::delta, PollShape::events}));
  EXPECT_EQ(c.http, (std::vector<HttpVersion>{HttpVersion::http2}));
  EXPECT_EQ(c.ws_turns, (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(c.host_connections, (std::vector<std::size_t>{0, 6}));
  EXPECT_EQ(c.rates, (std::vector<double>{2.5, 30}));
  EXPECT_EQ(c.arrival, ArrivalKind::gamma);
  EXPECT_DOUBLE_EQ(c.burstiness, 0.5);
  EXPECT_EQ(c.seed, 11u);
  EXPECT_EQ(c.max_concurrency, 6u);
  EXPECT_EQ(c.users, (std::vector<std::size_t>{4}));
  EXPECT_EQ(c.think_ms, 200);
  EXPECT_DOUBLE_EQ(c.duration_s, 1.2);
  EXPECT_EQ(c.shard.index, 1u);
  EXPECT_EQ(c.shard.count, 2u);
  EXPECT_FALSE(c.warmup);
  EXPECT_FALSE(c.keep_alive);
  EXPECT_EQ(c.schedule, PollSchedule::after_response);
  EXPECT_EQ(c.stagger_ms, 0);
  EXPECT_EQ(c.rounds, 3);
  EXPECT_EQ(c.server, "http://127.0.0.1:1");
  EXPECT_TRUE(help);
}

TEST(HarnessConfig, FullIsTheFourProfilesAtThreeIntervalsAndWsInOneAndFourTurns) {
  for (const HarnessConfig& f : {parse({"--full"}), parse({"--suite", "full"})}) {
    EXPECT_EQ(f.suite, Suite::full);
    EXPECT_EQ(f.models, (std::vector<std::string>{"chat-gpt-4o-json", "chat-gpt-4o-mini-text",
                                                  "chat-gpt-4.1-nano-text",
                                                  "responses-gpt-5.1-codex-max-4"}));
    EXPECT_EQ(f.concurrency, (std::vector<std::size_t>{1, 100}));
    EXPECT_EQ(f.intervals_ms, (std::vector<long>{50, 250, 1000}));
    EXPECT_EQ(f.ws_turns, (std::vector<std::size_t>{1, 4}));
    EXPECT_EQ(f.http, (std::vector<HttpVersion>{HttpVersion::http1_1, HttpVersion::http2}));
  }
  const HarnessConfig given = parse({"--full", "--models=chat-gpt-4o-json", "--ws-turns=2"});
  EXPECT_EQ(given.models, (std::vector<std::string>{"chat-gpt-4o-json"}));
  EXPECT_EQ(given.ws_turns, (std::vector<std::size_t>{2}));
  EXPECT_EQ(given.intervals_ms, (std::vector<long>{50, 250, 1000}));
}

TEST(HarnessConfig, IntervalsGivenByHandAreTheSweepAskedFor) {
  EXPECT_TRUE(parse({"--intervals=50,100"}).crossover_intervals_ms.empty());
  EXPECT_EQ(parse({"--intervals=50,100", "--crossover-intervals", "2000"}).crossover_intervals_ms,
            (std::vector<long>{2000}));
  EXPECT_TRUE(parse({"--crossover-intervals=none"}).crossover_intervals_ms.empty());
  EXPECT_EQ(error_of({"--crossover-intervals=0"}),
            "bad value '0' for --crossover-intervals: a whole number from 1 to 31536000000");
}

TEST(HarnessConfig, TwoSuitesAreOneLine) {
  EXPECT_EQ(error_of({"--full", "--quick"}), "--quick and the full suite are two suites; pick one");
  EXPECT_EQ(error_of({"--suite=core", "--full"}),
            "--full and the core suite are two suites; pick one");
  EXPECT_EQ(error_of({"--suite=fast"}), "bad value 'fast' for --suite: core, full or quick");
  EXPECT_EQ(parse({"--quick", "--suite=quick"}).suite, Suite::quick);
}

TEST(HarnessConfig, QuickKeepsTheFlagsGiven) {
  // CI gates these cases against a committed run: whatever the default suite, they stay.
  const HarnessConfig q = parse({"--quick"});
  EXPECT_EQ(q.models, (std::vector<std::string>{"chat-gpt-4o-mini-text"}));
  EXPECT_EQ(q.concurrency, (std::vector<std::size_t>{1, 10}));
  EXPECT_EQ(q.intervals_ms, (std::vector<long>{50, 250}));
  EXPECT_EQ(q.ws_turns, (std::vector<std::size_t>{1, 4}));
  EXPECT_TRUE(q.crossover_intervals_ms.empty());
  EXPECT_EQ(q.http, (std::vector<HttpVersion>{HttpVersion::http1_1, HttpVersion::http2}));
  EXPECT_EQ(q.poll_shapes.size(), std::size(all_poll_shapes));
  const HarnessConfig given = parse({"--concurrency", "3", "--quick"});
  EXPECT_EQ(given.concurrency, (std::vector<std::size_t>{3}));
  EXPECT_EQ(given.intervals_ms, (std::vector<long>{50, 250}));
}

TEST(HarnessConfig, ClientThreadsZeroMeansOnePerCore) {
  EXPECT_GE(parse({"--client-threads=0"}).client_threads, 1u);
  EXPECT_EQ(parse({"--client-threads=3"}).client_threads, 3u);
}

TEST(HarnessConfig, ABadValueIsOneLineNamingTheFlag) {
  EXPECT_EQ(error_of({"--concurrency=2,x"}),
            "bad value 'x' for --concurrency: a whole number, at least 1");
  EXPECT_EQ(error_of({"--concurrency=0"}),
            "bad value '0' for --concurrency: a whole number, at least 1");
  EXPECT_EQ(error_of({"--ws-turns=0"}), "bad value '0' for --ws-turns: a whole number, at least 1");
  EXPECT_EQ(error_of({"--cases=sse,poll-full"}),
            "bad value 'poll-full' for --cases: sse, rest, poll, long-poll or ws");
  EXPECT_EQ(error_of({"--poll-shapes=delta,full"}),
            "bad value 'full' for --poll-shapes: openai, snapshot, delta or events");
  EXPECT_EQ(error_of({"--http=3"}), "bad value '3' for --http: 1.1, 2 or 1.0");
  EXPECT_EQ(error_of({"--arrival=uniform"}),
            "bad value 'uniform' for --arrival: constant, poisson or gamma");
  EXPECT_EQ(error_of({"--rate=0"}), "bad value '0' for --rate: a number above 0");
  EXPECT_EQ(error_of({"--shard=2/2"}), "bad value '2/2' for --shard: I/N with 0 <= I < N");
  EXPECT_EQ(error_of({"--shard=2"}), "bad value '2' for --shard: I/N");
  EXPECT_EQ(error_of({"--rounds=0"}), "bad value '0' for --rounds: a whole number, at least 1");
  EXPECT_EQ(error_of({"--speed=fast"}), "bad value 'fast' for --speed: a number, at least 0");
  EXPECT_EQ(error_of({"--intervals=0"}),
            "bad value '0' for --intervals: a whole number from 1 to 31536000000");
  EXPECT_EQ(error_of({"--http="}), "bad value '' for --http: needs at least one value");
  EXPECT_EQ(error_of({"--no-such-flag"}), "unknown flag --no-such-flag");
  EXPECT_EQ(error_of({"--concurency=2"}),
            "unknown flag --concurency (did you mean --concurrency?)");
  EXPECT_EQ(error_of({"--speed"}), "--speed needs a value");
  EXPECT_EQ(error_of({"--no-warmup=1"}), "--no-warmup takes no value (got '1')");
}

TEST(HarnessConfig, ProxiesAreACaseDimensionNoneByDefault) {
  EXPECT_EQ(parse({}).proxies, (std::vector<ProxyKind>{ProxyKind::none}));
  EXPECT_EQ(parse({"--proxy=none,nginx,nginx-stream,haproxy"}).proxies,
            (std::vector<ProxyKind>{ProxyKind::none, ProxyKind::nginx, ProxyKind::nginx_stream,
                                    ProxyKind::haproxy}));
  EXPECT_EQ(error_of({"--proxy=nginx,envoy"}),
            "bad value 'envoy' for --proxy: none, nginx, nginx-stream or haproxy");
  EXPECT_NE(harness_help(HarnessConfig{}).find("--proxy=LIST"), std::string::npos);
}

TEST(HarnessConfig, ClientsAreACaseDimensionHarnessByDefault) {
  EXPECT_EQ(parse({}).clients, (std::vector<ClientKind>{ClientKind::harness}));
  EXPECT_EQ(parse({"--client=harness,browser,browser-eventsource"}).clients,
            (std::vector<ClientKind>{ClientKind::harness, ClientKind::browser,
                                     ClientKind::browser_eventsource}));
  for (ClientKind k : {ClientKind::harness, ClientKind::browser, ClientKind::browser_eventsource})
    EXPECT_EQ(parse_client(to_string(k)), k);
  EXPECT_EQ(error_of({"--client=chrome"}),
            "bad value 'chrome' for --client: harness, browser or browser-eventsource");
  EXPECT_EQ(parse({"--chromium=/opt/chromium"}).chromium, "/opt/chromium");
  EXPECT_NE(harness_help(HarnessConfig{}).find("--client=LIST"), std::string::npos);
}

TEST(HarnessConfig, FlagsThatMustAgree) {
  EXPECT_EQ(error_of({"--duration=1", "--warmup-s=0.5", "--cooldown-s=0.5"}),
            "--duration must exceed --warmup-s + --cooldown-s");
  EXPECT_EQ(error_of({"--shard=0/3", "--users=2"}),
            "--users values must be at least the number of shards (3)");
  EXPECT_EQ(error_of({"--shard=0/3", "--max-concurrency=2"}),
            "--max-concurrency must be at least the number of shards (3)");
  EXPECT_EQ(error_of({"--server-args=--sse-heartbeat-ms=5", "--server=http://127.0.0.1:1"}),
            "--server-args are for the server the harness starts; drop --server");
}

// --start-at: unix seconds or ISO-8601 UTC, both the same instant; anything else one line.
TEST(HarnessConfig, StartAtIsUnixSecondsOrIsoUtc) {
  EXPECT_FALSE(parse({}).start_at);
  EXPECT_DOUBLE_EQ(*parse({"--start-at=1764903600.5"}).start_at, 1764903600.5);
  EXPECT_DOUBLE_EQ(*parse({"--start-at", "1764903600"}).start_at, 1764903600);
  // 2025-12-05T03:00:00Z is 1764903600 (date -u -d @1764903600).
  EXPECT_DOUBLE_EQ(*parse({"--start-at=2025-12-05T03:00:00Z"}).start_at, 1764903600);
  EXPECT_DOUBLE_EQ(*parse({"--start-at=2025-12-05T03:00:00.25Z"}).start_at, 1764903600.25);
  EXPECT_EQ(iso_utc(1764903600), "2025-12-05T03:00:00Z");
  EXPECT_EQ(iso_utc(1764903600.5), "2025-12-05T03:00:00.500Z");
  EXPECT_EQ(parse_start_at(iso_utc(1764903600.125)), 1764903600.125);
  const std::string why = ": unix seconds (1764903600.5) or ISO-8601 UTC (2026-12-05T03:00:00Z)";
  for (const char* bad : {"now", "", "-5", "1e9", "2025-12-05T03:00:00", "2025-12-05 03:00:00Z",
                          "2025-02-30T03:00:00Z", "2025-12-05T24:00:00Z", "2025-13-05T03:00:00Z",
                          "2025-12-05T03:00:00+01:00", "1764903600.5s"})
    EXPECT_EQ(error_of({(std::string("--start-at=") + bad).c_str()}),
              std::string("bad value '") + bad + "' for --start-at" + why)
        << bad;
}

TEST(HarnessConfig, TheSlotsOfTheSchedule) {
  const HarnessConfig d;
  EXPECT_DOUBLE_EQ(d.slot_margin, 1.25);
  EXPECT_DOUBLE_EQ(d.slot_pad_s, 1);
  EXPECT_DOUBLE_EQ(d.late_ms, 200);
  const HarnessConfig c =
      parse({"--start-at=1764903600", "--slot-margin=2", "--slot-pad-ms=500", "--late-ms=50"});
  EXPECT_DOUBLE_EQ(c.slot_margin, 2);
  EXPECT_DOUBLE_EQ(c.slot_pad_s, 0.5);
  EXPECT_DOUBLE_EQ(c.late_ms, 50);
  EXPECT_EQ(error_of({"--slot-margin=2"}),
            "--slot-margin shapes the --start-at schedule: give --start-at");
  EXPECT_EQ(error_of({"--start-at=1764903600", "--slot-margin=0.5"}),
            "bad value '0.5' for --slot-margin: a number from 1 to 100");
  EXPECT_EQ(error_of({"--start-at=1764903600", "--slot-pad-ms=10"}),
            "bad value '10' for --slot-pad-ms: a whole number from 100 to 31536000000");
  // The windows: a warm-up slot (2 pads + 1 ms per closed stream), then rounds of planned ×
  // margin + pad, each case where the last ended.
  Schedule plan(1000, SlotRules{.margin = 1.5, .pad_s = 1, .warmup = true});
  const CaseWindow a = plan.next(2, 3, 100);
  EXPECT_DOUBLE_EQ(a.start, 1000);
  EXPECT_DOUBLE_EQ(a.warmup_s, 2.1);
  EXPECT_DOUBLE_EQ(a.round_s, 4);
  EXPECT_DOUBLE_EQ(a.round_start(1), 1006.1);
  EXPECT_DOUBLE_EQ(a.end(), 1014.1);
  const CaseWindow b = plan.next(10, 1, 0);
  EXPECT_DOUBLE_EQ(b.start, 1014.1);
  EXPECT_DOUBLE_EQ(b.end(), 1014.1 + 2 + 16);
  EXPECT_DOUBLE_EQ(plan.end(), b.end());
  EXPECT_DOUBLE_EQ(
      case_window(0, 2, 1, 5, SlotRules{.margin = 1, .pad_s = 1, .warmup = false}).round_start(0),
      0);
  EXPECT_NE(harness_help(HarnessConfig{}).find("--start-at=T"), std::string::npos);
}

TEST(HarnessConfig, ServerArgsAreSplitAtSpaces) {
  const HarnessConfig c =
      parse({"--server-args= --sse-heartbeat-ms=15000   --x-accel-buffering-no "});
  EXPECT_EQ(c.server_args,
            (std::vector<std::string>{"--sse-heartbeat-ms=15000", "--x-accel-buffering-no"}));
  EXPECT_TRUE(parse({}).server_args.empty());
}

TEST(HarnessConfig, LinksAreCheckedByTheLinkLibraryAndATraceKeepsItsCommas) {
  EXPECT_EQ(parse({}).links, std::vector<std::string>{"none"});
  EXPECT_EQ(parse({"--link=none,3g,lte"}).links, (std::vector<std::string>{"none", "3g", "lte"}));
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("harness_config_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string down = (dir / "down").string(), up = (dir / "up").string(),
                    bad = (dir / "bad").string();
  std::ofstream(down) << "1\n2\n";
  std::ofstream(up) << "1\n";
  std::ofstream(bad) << "2\n1\n";
  const std::string traces = "--link=lan,trace:" + down + "," + up + ",rtt=40,3g";
  const std::string one_trace = "--link=trace:" + down + "," + up;
  const std::string bad_trace = "--link=trace:" + bad + "," + up;
  EXPECT_EQ(parse({traces.c_str()}).links,
            (std::vector<std::string>{"lan", "trace:" + down + "," + up + ",rtt=40", "3g"}));
  EXPECT_EQ(parse({one_trace.c_str()}).links,
            (std::vector<std::string>{"trace:" + down + "," + up}));
  EXPECT_TRUE(error_of({bad_trace.c_str()}).starts_with("--link: " + bad + ":2: "))
      << error_of({bad_trace.c_str()});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(error_of({"--link=3gg"}),
            "--link: unknown profile '3gg'; the closest is '3g' (ssebench-link --list-profiles)");
  EXPECT_EQ(error_of({"--link=none,lossy1"}),
            "--link: unknown profile 'lossy1'; the closest is 'lossy-1' (ssebench-link "
            "--list-profiles)");
  EXPECT_EQ(error_of({"--link=3g,3g"}), "--link: '3g' is listed twice");
  EXPECT_EQ(error_of({"--link=3g", "--server=http://127.0.0.1:1"}),
            "--link starts its own server inside the link's namespace; drop --server");
  EXPECT_NO_THROW(parse({"--link=none", "--server=http://127.0.0.1:1"}));
}

TEST(HarnessConfig, TlsModesAndTheirServer) {
  EXPECT_EQ(parse({}).tls, std::vector<TlsMode>{TlsMode::off});
  EXPECT_EQ(parse({"--tls=off,on,noresume"}).tls,
            (std::vector<TlsMode>{TlsMode::off, TlsMode::on, TlsMode::noresume}));
  EXPECT_EQ(error_of({"--tls=yes"}), "bad value 'yes' for --tls: off, on or noresume");
  EXPECT_EQ(error_of({"--tlss=on"}), "unknown flag --tlss (did you mean --tls?)");
  // The certificate is the run's own: a running server has none the clients could trust.
  EXPECT_EQ(error_of({"--tls=on", "--server=http://127.0.0.1:1"}),
            "--tls starts its own server with a throwaway certificate; drop --server (or give "
            "the running server's --server-tls=https://... and --tls-ca=PEM)");
  EXPECT_NO_THROW(parse({"--tls=off", "--server=http://127.0.0.1:1"}));
  // A running TLS server (scripts/crosscheck --tls): its https URL and its CA, both.
  const HarnessConfig running = parse({"--tls=on", "--server=http://127.0.0.1:1",
                                       "--server-tls=https://127.0.0.1:2", "--tls-ca=/ca.pem"});
  EXPECT_EQ(running.server_tls, "https://127.0.0.1:2");
  EXPECT_EQ(running.tls_ca, "/ca.pem");
  EXPECT_EQ(error_of({"--server=http://127.0.0.1:1", "--server-tls=https://127.0.0.1:2"}),
            "--server-tls and --tls-ca go together, with --server");
  EXPECT_EQ(error_of({"--server-tls=https://127.0.0.1:2", "--tls-ca=/ca.pem"}),
            "--server-tls and --tls-ca go together, with --server");
  EXPECT_EQ(error_of({"--server-tls=http://127.0.0.1:2"}),
            "bad value 'http://127.0.0.1:2' for --server-tls: an https:// URL");
  EXPECT_FALSE(needs_tls({TlsMode::off}));
  EXPECT_TRUE(needs_tls({TlsMode::off, TlsMode::noresume}));
}

TEST(HarnessConfig, HelpPrintsTheDefaultsOfADefaultConfig) {
  HarnessConfig d;
  d.concurrency = {7, 70};
  d.server_binary = "/x/server";
  const std::string help = harness_help(d);
  EXPECT_NE(help.find("--concurrency=LIST       streams per round (default 7,70)"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("start /x/server on port 0"), std::string::npos);
  EXPECT_NE(help.find("(default sse,rest,poll,long-poll,ws)"), std::string::npos);
  EXPECT_NE(help.find("(default 1.1,2)"), std::string::npos);
  EXPECT_NE(help.find("--shard=I/N"), std::string::npos);
}

}  // namespace
}  // namespace ssebench::bench
