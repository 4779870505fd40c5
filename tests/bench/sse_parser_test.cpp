#include "ssebench/bench/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ssebench::bench {
namespace {

struct Collect {
  std::vector<SseEvent> events;
  SseParser parser{[this](const SseEvent& e) { events.push_back(e); }};
};

TEST(SseParser, OneEventOneRead) {
  Collect c;
  c.parser.feed("data: hello\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "hello");
  EXPECT_EQ(c.events[0].type, "");
  EXPECT_FALSE(c.parser.pending());
}

TEST(SseParser, EmptyReadBetweenCrAndLf) {
  Collect c;
  c.parser.feed("data: x\r");
  c.parser.feed("");
  c.parser.feed("\ndata: y\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "x\ny");
}

TEST(SseParser, SeveralEventsInOneRead) {
  Collect c;
  c.parser.feed("data: a\n\ndata: b\n\nevent: x\ndata: c\n\n");
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].data, "a");
  EXPECT_EQ(c.events[1].data, "b");
  EXPECT_EQ(c.events[2].data, "c");
  EXPECT_EQ(c.events[2].type, "x");
}

TEST(SseParser, EventSplitAtEveryByte) {
  const std::string wire = "event: response.output_text.delta\ndata: {\"delta\":\"hi\"}\n\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Collect c;
    c.parser.feed(wire.substr(0, cut));
    EXPECT_TRUE(c.events.empty() || cut == wire.size()) << cut;
    c.parser.feed(wire.substr(cut));
    ASSERT_EQ(c.events.size(), 1u) << cut;
    EXPECT_EQ(c.events[0].type, "response.output_text.delta");
    EXPECT_EQ(c.events[0].data, "{\"delta\":\"hi\"}");
  }
}

TEST(SseParser, OneByteAtATime) {
  const std::string wire = "data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n";
  Collect c;
  for (char ch : wire) c.parser.feed(std::string_view(&ch, 1));
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].data, "1");
  EXPECT_EQ(c.events[1].data, "2");
  EXPECT_EQ(c.events[2].data, "3");
}

TEST(SseParser, CrLfLineEnds) {
  Collect c;
  c.parser.feed("event: a\r\ndata: x\r\n\r\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "a");
  EXPECT_EQ(c.events[0].data, "x");
}

TEST(SseParser, CrAloneEndsALine) {
  Collect c;
  c.parser.feed("data: x\r\rdata: y\r\r");
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].data, "x");
  EXPECT_EQ(c.events[1].data, "y");
}

TEST(SseParser, CrAtEndOfReadThenLfInNextIsOneLineEnd) {
  Collect c;
  c.parser.feed("data: x\r");
  c.parser.feed("\ndata: y\r");
  c.parser.feed("\n\r");
  c.parser.feed("\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "x\ny");  // two data lines, not an event in between
}

TEST(SseParser, CrAtEndOfReadThenDataIsNotSwallowed) {
  Collect c;
  c.parser.feed("data: x\r");
  c.parser.feed("data: y\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "x\ny");
}

TEST(SseParser, CommentsAreSkippedAndCounted) {
  Collect c;
  c.parser.feed(": keep-alive\n\n:another\ndata: x\n: inside\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "x");
  EXPECT_EQ(c.parser.comments(), 3u);
}

TEST(SseParser, MultiLineDataJoinedWithLf) {
  Collect c;
  c.parser.feed("data: a\ndata:b\ndata:  c\ndata\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "a\nb\n c\n");  // one leading space removed; bare "data" adds ""
}

TEST(SseParser, IdPersistsAndRetryParses) {
  Collect c;
  c.parser.feed("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nretry: x1\nid\ndata: c\n\n");
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].id, "7");
  EXPECT_EQ(c.events[0].retry, 1500u);
  EXPECT_EQ(c.events[1].id, "7");
  EXPECT_FALSE(c.events[1].retry);
  EXPECT_EQ(c.events[2].id, "");  // a field without colon has an empty value
  EXPECT_FALSE(c.events[2].retry);
}

TEST(SseParser, FieldWithoutColonAndUnknownFields) {
  Collect c;
  c.parser.feed("event\nfoo: bar\ndata: x\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "");
  EXPECT_EQ(c.events[0].data, "x");
}

TEST(SseParser, NoDataNoEvent) {
  Collect c;
  c.parser.feed("event: ping\n\n\n\n");
  EXPECT_TRUE(c.events.empty());
  c.parser.feed("data: after\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "");  // the type does not leak from the dropped event
}

TEST(SseParser, PendingUntilTheBlankLine) {
  Collect c;
  c.parser.feed("data: x\n");
  EXPECT_TRUE(c.parser.pending());
  EXPECT_TRUE(c.events.empty());
  c.parser.feed("\n");
  EXPECT_FALSE(c.parser.pending());
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(SseParser, LeadingBomSplitAcrossReads) {
  Collect c;
  c.parser.feed("\xEF\xBB");
  c.parser.feed(
      "\xBF"
      "data: x\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "x");
}

TEST(SseParser, OpenAiDoneSentinel) {
  Collect c;
  c.parser.feed("data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[1].data, "[DONE]");
  EXPECT_EQ(c.parser.events(), 2u);
}

}  // namespace
}  // namespace ssebench::bench
