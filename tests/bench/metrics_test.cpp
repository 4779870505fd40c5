#include "ssebench/bench/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace ssebench::bench {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

/** A clock the test moves by hand (ClockFn is a plain function pointer). */
struct FakeClock {
  static inline TimePoint now_{};
  static TimePoint now() { return now_; }
  static void advance(microseconds d) { now_ += d; }
};

double counter(const CaseAggregate& a, const std::string& name) {
  for (const auto& [n, v] : a.counters())
    if (n == name) return v;
  ADD_FAILURE() << "no counter " << name;
  return -1;
}

TEST(StreamFigures, FromAFakeClock) {
  ClockFn clock = &FakeClock::now;
  const std::vector<microseconds> offsets{microseconds(400'000), microseconds(420'000),
                                          microseconds(450'000)};
  StreamRecord r;
  r.t0 = clock();
  FakeClock::advance(microseconds(2'000));
  r.first_byte = clock();  // 2 ms
  FakeClock::advance(microseconds(399'000));
  r.content.push_back({clock(), 0});  // 401 ms: lag 1
  FakeClock::advance(microseconds(20'500));
  r.content.push_back({clock(), 1});  // 421.5 ms: lag 1.5
  FakeClock::advance(microseconds(30'000));
  r.content.push_back({clock(), 2});  // 451.5 ms: lag 1.5

  const StreamFigures f = stream_figures(r, offsets, 1.0);
  EXPECT_DOUBLE_EQ(*f.ttfb_ms, 2.0);
  EXPECT_DOUBLE_EQ(*f.ttft_ms, 401.0);
  EXPECT_DOUBLE_EQ(*f.ttlt_ms, 451.5);
  ASSERT_EQ(f.lag_ms.size(), 3u);
  EXPECT_DOUBLE_EQ(f.lag_ms[0], 1.0);
  EXPECT_DOUBLE_EQ(f.lag_ms[1], 1.5);
  EXPECT_DOUBLE_EQ(f.lag_ms[2], 1.5);
  ASSERT_EQ(f.itl_ms.size(), 2u);
  EXPECT_DOUBLE_EQ(f.itl_ms[0], 20.5);
  EXPECT_DOUBLE_EQ(f.itl_ms[1], 30.0);
  // The first event's lag is ttft minus the recorded first-token offset.
  EXPECT_DOUBLE_EQ(f.lag_ms[0], *f.ttft_ms - 400.0);
}

TEST(StreamFigures, SpeedScalesOffsetsAndZeroRemovesThem) {
  StreamRecord r;
  r.t0 = TimePoint{};
  r.content.push_back({TimePoint{} + milliseconds(110), 0});
  const std::vector<microseconds> offsets{microseconds(200'000)};
  EXPECT_DOUBLE_EQ(stream_figures(r, offsets, 2.0).lag_ms[0], 10.0);
  EXPECT_DOUBLE_EQ(stream_figures(r, offsets, 0.0).lag_ms[0], 110.0);
}

TEST(StreamFigures, PollingMapsReceiptsByOrdinalNotByArrival) {
  // A poll answer carries events 1 and 2 at once: both received at the same time.
  StreamRecord r;
  r.t0 = TimePoint{};
  const TimePoint got = TimePoint{} + milliseconds(250);
  r.content.push_back({got, 0});
  r.content.push_back({got, 1});
  const std::vector<microseconds> offsets{microseconds(100'000), microseconds(200'000)};
  const StreamFigures f = stream_figures(r, offsets, 1.0);
  EXPECT_DOUBLE_EQ(f.lag_ms[0], 150.0);
  EXPECT_DOUBLE_EQ(f.lag_ms[1], 50.0);
  EXPECT_DOUBLE_EQ(f.itl_ms[0], 0.0);
}

TEST(StreamFigures, NoContentNoLatencies) {
  StreamRecord r;
  const StreamFigures f = stream_figures(r, {}, 1.0);
  EXPECT_FALSE(f.ttfb_ms);
  EXPECT_FALSE(f.ttft_ms);
  EXPECT_TRUE(f.lag_ms.empty());
}

TEST(Percentile, LinearBetweenOrderStatistics) {
  const std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 5.5);
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 1.0), 10.0);
  EXPECT_DOUBLE_EQ(percentile(v, 0.9), 9.1);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{7}, 0.99), 7.0);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{}, 0.5), 0.0);
}

TEST(Summary, ExactOverUnsortedSamples) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50, 50.5);
  EXPECT_DOUBLE_EQ(s.p90, 90.1);
  EXPECT_DOUBLE_EQ(s.p99, 99.01);
  EXPECT_DOUBLE_EQ(s.p10, 10.9);
  EXPECT_DOUBLE_EQ(s.p25, 25.75);
  EXPECT_DOUBLE_EQ(s.p75, 75.25);
  EXPECT_DOUBLE_EQ(s.p95, 95.05);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
}

TEST(CaseAggregate, PoolsSamplesOfEveryStreamAndRound) {
  const std::vector<microseconds> offsets{microseconds(0), microseconds(10'000)};
  CaseAggregate agg(offsets, 4, 1.0);
  const auto stream = [](int lag0_ms, int lag1_ms) {
    StreamRecord r;
    r.t0 = TimePoint{};
    r.first_byte = TimePoint{} + milliseconds(1);
    r.content.push_back({TimePoint{} + milliseconds(lag0_ms), 0});
    r.content.push_back({TimePoint{} + milliseconds(10 + lag1_ms), 1});
    r.requests = 3;
    r.empty_polls = 1;
    r.http_bytes_out = 100;
    r.http_bytes_in = 1000;
    r.http_header_bytes_in = 150;
    r.events = 2;
    return r;
  };
  RoundResult a;
  a.streams = {stream(1, 2), stream(3, 4)};
  a.client_cpu_us = 800;
  a.tcp = {200, 2000, 10, 12, 1};
  a.server = ServerRound{
      .cpu_us = 400, .lateness_us_p50 = 10, .lateness_us_p99 = 50, .lateness_us_max = 90};
  RoundResult b;
  b.streams = {stream(5, 6)};
  b.streams[0].fail(ErrorKind::timeout, "late");
  b.streams[0].fail(ErrorKind::curl, "ignored: the first error wins");
  b.client_cpu_us = 400;
  b.tcp = {100, 1000, 5, 6, 2};
  b.server = ServerRound{
      .cpu_us = 200, .lateness_us_p50 = 20, .lateness_us_p99 = 70, .lateness_us_max = 80};
  agg.add(a);
  agg.add(b);

  EXPECT_EQ(agg.streams(), 3u);
  EXPECT_EQ(agg.failed(), 1u);
  EXPECT_EQ(agg.first_error(), "timeout: late");
  EXPECT_EQ(counter(agg, "errors_timeout"), 1);
  EXPECT_EQ(counter(agg, "errors_curl"), 0);
  EXPECT_EQ(counter(agg, "streams_ok"), 2);
  // lag samples 1..6 ms: p50 3.5, max 6, mean 3.5
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_p50"), 3.5);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_max"), 6);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_mean"), 3.5);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_min"), 1);
  // The CDF's points, linear between order statistics of 1..6.
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_p10"), 1.5);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_p25"), 2.25);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_p75"), 4.75);
  EXPECT_DOUBLE_EQ(counter(agg, "lag_ms_p95"), 5.75);
  EXPECT_DOUBLE_EQ(counter(agg, "ttft_ms_p50"), 3);
  EXPECT_DOUBLE_EQ(counter(agg, "ttfb_ms_p50"), 1);
  EXPECT_DOUBLE_EQ(counter(agg, "requests_per_stream"), 3);
  EXPECT_DOUBLE_EQ(counter(agg, "empty_polls_per_stream"), 1);
  EXPECT_DOUBLE_EQ(counter(agg, "client_cpu_us_per_stream"), 400);
  EXPECT_DOUBLE_EQ(counter(agg, "client_cpu_us_per_token"), 100);
  EXPECT_DOUBLE_EQ(counter(agg, "server_cpu_us_per_token"), 50);
  EXPECT_DOUBLE_EQ(counter(agg, "http_bytes_in_per_stream"), 1000);
  EXPECT_DOUBLE_EQ(counter(agg, "http_bytes_out_per_token"), 25);
  EXPECT_DOUBLE_EQ(counter(agg, "http_header_bytes_in_per_stream"), 150);
  EXPECT_DOUBLE_EQ(counter(agg, "tcp_payload_bytes_in_per_stream"), 1000);
  EXPECT_DOUBLE_EQ(counter(agg, "segments_out_per_stream"), 5);
  EXPECT_DOUBLE_EQ(counter(agg, "wire_bytes_out_per_stream"), (300 + 52 * 15) / 3.0);
  EXPECT_DOUBLE_EQ(counter(agg, "tcp_retransmits"), 3);  // a total over the case's sockets
  EXPECT_DOUBLE_EQ(counter(agg, "server_lateness_us_p50"), 15);
  EXPECT_DOUBLE_EQ(counter(agg, "server_lateness_us_p99"), 70);
  EXPECT_DOUBLE_EQ(counter(agg, "server_lateness_us_max"), 90);
}

TEST(CaseAggregate, NoSamplesNoFigure) {
  CaseAggregate agg({}, 0, 1.0);
  RoundResult r;
  r.streams.resize(2);  // streams without content (an error recording)
  agg.add(r);
  for (const auto& [name, value] : agg.counters()) {
    EXPECT_FALSE(name.starts_with("lag_ms")) << name;
    EXPECT_FALSE(name.starts_with("ttft_ms")) << name;
  }
  EXPECT_EQ(counter(agg, "streams_ok"), 2);
}

TEST(CaseAggregate, HeaderBytesAreTheTcpPayloadLessTheBodies) {
  CaseAggregate agg({}, 1, 1.0);
  RoundResult r;
  r.streams.resize(2);
  for (StreamRecord& s : r.streams) {
    s.requests = 5;
    s.body_bytes_in = 300;
    s.body_bytes_out = 20;
  }
  r.tcp.bytes_in = 1000;  // 600 of bodies: 400 of status lines, headers and framing
  r.tcp.bytes_out = 240;  // 40 of bodies
  agg.add(r);
  EXPECT_DOUBLE_EQ(counter(agg, "body_bytes_in_per_request"), 60);
  EXPECT_DOUBLE_EQ(counter(agg, "body_bytes_out_per_request"), 4);
  EXPECT_DOUBLE_EQ(counter(agg, "header_bytes_in_per_request"), 40);
  EXPECT_DOUBLE_EQ(counter(agg, "header_bytes_out_per_request"), 20);
  EXPECT_DOUBLE_EQ(counter(agg, "header_share_in"), 0.4);
  EXPECT_DOUBLE_EQ(counter(agg, "header_share_out"), 200.0 / 240);
}

TEST(CaseAggregate, ABrowsersRoundsHaveItsCountersAndNoSegments) {
  const std::vector<microseconds> offsets{microseconds(0)};
  CaseAggregate agg(offsets, 10, 1.0);
  const auto has = [&](std::string_view name) {
    for (const auto& [n, v] : agg.counters())
      if (n == name) return true;
    return false;
  };
  RoundResult r;
  StreamRecord s;
  s.content.push_back({TimePoint{} + milliseconds(1), 0});
  r.streams = {s, s};
  r.tcp = {.bytes_out = 400, .bytes_in = 4000};  // the server's counts: no segments
  r.client_cpu_us = 600;
  r.browser = BrowserRound{.renderer_cpu_us = 300,
                           .network_cpu_us = 200,
                           .browser_cpu_us = 100,
                           .main_thread_busy_ms = 4,
                           .long_tasks = 1};
  agg.add(r);
  agg.add(r);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_renderer_cpu_us_per_token"), 600.0 / 40);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_network_cpu_us_per_stream"), 100);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_process_cpu_us_per_stream"), 50);
  EXPECT_DOUBLE_EQ(counter(agg, "client_cpu_us_per_token"), 1200.0 / 40);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_main_thread_busy_ms_per_stream"), 2);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_main_thread_busy_us_per_token"), 200);
  EXPECT_DOUBLE_EQ(counter(agg, "browser_long_tasks"), 2);
  EXPECT_DOUBLE_EQ(counter(agg, "tcp_payload_bytes_in_per_token"), 200);
  // What a browser cannot tell: segments, wire bytes, retransmits; preflights unless counted.
  for (std::string_view name : {"segments_in_per_stream", "wire_bytes_in_per_token",
                                "tcp_retransmits", "browser_preflights_per_stream"})
    EXPECT_FALSE(has(name)) << name;
}

TEST(ErrorKind, Names) {
  EXPECT_EQ(to_string(ErrorKind::text_mismatch), "text_mismatch");
  EXPECT_EQ(to_string(ErrorKind::missing_events), "missing_events");
  EXPECT_EQ(to_string(ErrorKind::truncated), "truncated");
  EXPECT_EQ(to_string(ErrorKind::interrupted), "interrupted");
  // Every kind has its own name (the counters are errors_<name>).
  std::set<std::string_view> names;
  for (std::size_t k = 0; k < error_kind_count; ++k)
    names.insert(to_string(static_cast<ErrorKind>(k)));
  EXPECT_EQ(names.size(), error_kind_count);
  EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(StreamFigures, AnOpenLoopStreamCountsFromItsScheduledStart) {
  StreamRecord r;
  r.scheduled = TimePoint{} + milliseconds(10);
  r.t0 = TimePoint{} + milliseconds(15);  // started 5 ms late
  r.first_byte = r.t0 + milliseconds(2);
  r.content.push_back({r.t0 + milliseconds(401), 0});
  const std::vector<microseconds> offsets{microseconds(400'000)};
  const StreamFigures f = stream_figures(r, offsets, 1.0);
  EXPECT_DOUBLE_EQ(*f.dispatch_lag_ms, 5.0);
  EXPECT_DOUBLE_EQ(*f.ttft_ms, 406.0);  // from the schedule: the 5 ms late start counts
  EXPECT_DOUBLE_EQ(*f.ttlt_ms, 406.0);
  EXPECT_DOUBLE_EQ(f.lag_ms.at(0), 6.0);
  EXPECT_DOUBLE_EQ(*f.ttfb_ms, 2.0);  // from the send, as before
  r.scheduled.reset();
  EXPECT_FALSE(stream_figures(r, offsets, 1.0).dispatch_lag_ms);
}

TEST(CaseAggregate, StreamsOutsideTheCountedWindowRunButAreNotCounted) {
  RoundResult round;
  for (int i = 0; i < 4; ++i) {
    StreamRecord r;
    r.scheduled = r.t0 = TimePoint{} + milliseconds(i);
    r.content.push_back({r.t0 + milliseconds(1), 0});
    r.requests = 1;
    r.counted = i == 1 || i == 2;
    round.streams.push_back(r);
  }
  round.client_cpu_us = 400;
  CaseAggregate a({microseconds(0)}, 1, 1.0);
  a.add(round);
  EXPECT_EQ(a.streams(), 2u);
  EXPECT_DOUBLE_EQ(counter(a, "requests_per_stream"), 1.0);
  EXPECT_DOUBLE_EQ(counter(a, "client_cpu_us_per_stream"), 100.0);  // over the 4 run
  EXPECT_DOUBLE_EQ(counter(a, "dispatch_lag_ms_max"), 0.0);
  std::map<std::string, std::uint64_t> samples;
  for (const auto& [name, h] : a.histograms()) samples[name] = h.count();
  EXPECT_EQ(samples["ttft_ms"], 2u);
  EXPECT_EQ(samples["dispatch_lag_ms"], 2u);
}

}  // namespace
}  // namespace ssebench::bench
