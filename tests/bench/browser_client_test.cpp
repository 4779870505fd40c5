// The browser's replies turned into the harness's records: arrivals of text to content receipts
// (by each choice's text length), the clock offset, a reply's errors. No browser needed.
#include "ssebench/bench/browser_client.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "support.hpp"

namespace ssebench::bench {
namespace {

using test::load;

/** One arrival per content event, as a page parsing every SSE event reports them. */
std::vector<BrowserArrival> per_event(const Expectation& x, TimePoint t0) {
  std::vector<BrowserArrival> out;
  int k = 0;
  for (const Event& e : x.recording->events)
    if (e.content)
      out.push_back({.t = t0 + std::chrono::milliseconds(++k), .choice = e.choice, .text = e.text});
  return out;
}

TEST(BrowserArrivals, OneArrivalPerEventIsOneReceiptPerContentEvent) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const TimePoint t0{};
  StreamRecord r;
  r.t0 = t0;
  const auto arrivals = per_event(x, t0);
  receive_arrivals(x, arrivals, r);
  EXPECT_EQ(r.transcript, x.transcript);
  ASSERT_EQ(r.content.size(), x.clock.content_offsets().size());
  for (std::size_t k = 0; k < r.content.size(); ++k) {
    EXPECT_EQ(r.content[k].ordinal, k);
    EXPECT_EQ(r.content[k].recv, arrivals[k].t);
  }
}

TEST(BrowserArrivals, ABatchedArrivalReceivesEveryEventItCompletes) {
  // A long poll's answer carries several events' text at once: each is received then.
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const auto events = per_event(x, TimePoint{});
  ASSERT_GE(events.size(), 4u);
  const TimePoint first = TimePoint{} + std::chrono::milliseconds(10);
  const TimePoint second = TimePoint{} + std::chrono::milliseconds(20);
  std::string head, tail;
  for (std::size_t k = 0; k < events.size(); ++k) (k < 3 ? head : tail) += events[k].text;
  // The split falls inside the fourth event's text: it is received with the second arrival.
  const std::size_t cut = events[3].text.size() / 2;
  head += tail.substr(0, cut);
  tail.erase(0, cut);
  const std::vector<BrowserArrival> arrivals{{.t = first, .choice = 0, .text = head},
                                             {.t = second, .choice = 0, .text = tail}};
  StreamRecord r;
  receive_arrivals(x, arrivals, r);
  EXPECT_EQ(r.transcript, x.transcript);
  ASSERT_EQ(r.content.size(), events.size());
  for (std::size_t k = 0; k < r.content.size(); ++k)
    EXPECT_EQ(r.content[k].recv, k < 3 ? first : second) << "content event " << k;
}

TEST(BrowserArrivals, ChoicesCountTheirOwnText) {
  // Three choices interleaved: an arrival of choice 2 completes choice 2's events only.
  const Expectation x = make_expectation(load("chat-gpt-4o-n3"));
  StreamRecord r;
  const auto arrivals = per_event(x, TimePoint{});
  receive_arrivals(x, arrivals, r);
  EXPECT_EQ(r.transcript, x.transcript);
  ASSERT_EQ(r.content.size(), x.clock.content_offsets().size());
  for (std::size_t k = 0; k < r.content.size(); ++k) EXPECT_EQ(r.content[k].ordinal, k);
}

TEST(BrowserArrivals, TextShortOfTheRecordingLeavesItsEventsUnreceived) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  auto arrivals = per_event(x, TimePoint{});
  arrivals.back().text.pop_back();  // the last event one byte short
  StreamRecord r;
  receive_arrivals(x, arrivals, r);
  EXPECT_EQ(r.content.size(), x.clock.content_offsets().size() - 1);
  EXPECT_NE(r.transcript, x.transcript);
}

TEST(BrowserClock, EpochMillisecondsMoveToTheSteadyClock) {
  const TimePoint now = Clock::now();
  const double now_ms = 1.7e12;
  EXPECT_EQ(from_epoch_ms(now_ms, now_ms, now), now);
  const auto d = now - from_epoch_ms(now_ms - 12.5, now_ms, now);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(d).count(), 12'500);
}

/** A reply of one stream that got every content event, 1 ms apart after t0 = now - 1000 ms. */
std::string reply_of(const Expectation& x, double now_ms, const std::string& tweak = "") {
  namespace json = boost::json;
  json::array arrivals;
  int k = 0;
  for (const Event& e : x.recording->events)
    if (e.content)
      arrivals.push_back(
          json::object{{"t", now_ms - 900 + ++k}, {"choice", e.choice}, {"text", e.text}});
  if (tweak == "wrong text") arrivals.back().as_object()["text"] = "not what was recorded";
  json::object stream{{"t0", now_ms - 1000},
                      {"dispatched", now_ms - 999.5},
                      {"first_byte", now_ms - 990},
                      {"end", now_ms - 10},
                      {"requests", 1},
                      {"preflights", 1},
                      {"events", k},
                      {"arrivals", arrivals},
                      {"error", nullptr}};
  json::object reply{{"round", 1},
                     {"error", nullptr},
                     {"streams", json::array{stream}},
                     {"renderer_cpu_us", 3000},
                     {"network_cpu_us", 2000},
                     {"browser_cpu_us", 1000},
                     {"main_thread_busy_ms", 4.5},
                     {"long_tasks", 0}};
  if (tweak == "round error") reply["error"] = "the page crashed";
  return json::serialize(reply);
}

TEST(BrowserReply, BecomesARoundWithEveryFigure) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const TimePoint now = Clock::now();
  const double now_ms = 1.7e12;
  const RoundResult r = parse_browser_reply(reply_of(x, now_ms), x, Transport::sse, now_ms, now);
  ASSERT_EQ(r.streams.size(), 1u);
  const StreamRecord& s = r.streams[0];
  EXPECT_TRUE(s.ok()) << s.error_detail;
  EXPECT_EQ(s.content.size(), x.clock.content_offsets().size());
  const auto ms = [&](TimePoint t) {
    return std::chrono::duration<double, std::milli>(t - s.t0).count();
  };
  EXPECT_NEAR(ms(*s.dispatched), 0.5, 1e-3);
  EXPECT_NEAR(ms(*s.first_byte), 10, 1e-3);
  EXPECT_NEAR(ms(s.content.front().recv), 101, 1e-3);
  EXPECT_NEAR(r.wall_s, 0.990, 1e-6);
  EXPECT_DOUBLE_EQ(r.client_cpu_us, 6000);  // renderer + network service + browser process
  ASSERT_TRUE(r.browser);
  EXPECT_EQ(r.browser->preflights, 1u);
  EXPECT_TRUE(r.browser->preflights_counted);
  EXPECT_DOUBLE_EQ(r.browser->main_thread_busy_ms, 4.5);
}

TEST(BrowserReply, WrongTextFailsTheStreamAsTheHarnessDoes) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const RoundResult r =
      parse_browser_reply(reply_of(x, 1e12, "wrong text"), x, Transport::sse, 1e12, Clock::now());
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].error, ErrorKind::text_mismatch);
}

TEST(BrowserReply, ARoundErrorFailsEveryStreamWithTheBrowsersText) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const RoundResult r =
      parse_browser_reply(reply_of(x, 1e12, "round error"), x, Transport::sse, 1e12, Clock::now());
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_FALSE(r.streams[0].ok());
  EXPECT_NE(r.streams[0].error_detail.find("the page crashed"), std::string::npos);
}

TEST(BrowserReply, ARoundWithoutStreamsFailsTheStreamsAsked) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  const RoundResult r = parse_browser_reply(
      R"j({"round":3,"error":"the browser process exited (crashed or killed)","streams":[]})j", x,
      Transport::sse, 1e12, Clock::now(), 4);
  ASSERT_EQ(r.streams.size(), 4u);
  for (const StreamRecord& s : r.streams) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.error_detail, "browser: the browser process exited (crashed or killed)");
  }
}

TEST(BrowserReply, NotAReplyIsAnError) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  EXPECT_THROW(parse_browser_reply("{\"ready\":true}", x, Transport::sse, 1e12, Clock::now()),
               std::runtime_error);
}

}  // namespace
}  // namespace ssebench::bench
