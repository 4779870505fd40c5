// Transports, poll shapes and expectations: no server needed.
#include "ssebench/bench/transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "ssebench/bench/engine.hpp"
#include "support.hpp"

namespace ssebench::bench {
namespace {

using test::load;

TEST(Transport, NamesRoundTrip) {
  for (Transport t : all_transports) EXPECT_EQ(parse_transport(to_string(t)), t);
  EXPECT_EQ(parse_transport("long-poll"), Transport::long_poll);
  EXPECT_EQ(parse_transport("poll-full"), std::nullopt);  // the snapshot shape replaced it
  EXPECT_EQ(parse_transport("POLL"), std::nullopt);
  EXPECT_EQ(parse_transport(""), std::nullopt);
}

TEST(HttpVersion, NamesAreTheHarnessFlagsValues) {
  EXPECT_EQ(to_string(HttpVersion::http1_1), "1.1");
  EXPECT_EQ(to_string(HttpVersion::http2), "2");
  for (HttpVersion v : {HttpVersion::http1_1, HttpVersion::http2})
    EXPECT_EQ(parse_http_version(to_string(v)), v);
  EXPECT_EQ(parse_http_version("h2"), std::nullopt);
  EXPECT_EQ(parse_http_version("3"), std::nullopt);
  EXPECT_EQ(ClientConfig{}.http, HttpVersion::http1_1);  // the default: behaviour unchanged
}

TEST(Transport, OnlyPollHasAnIntervalAndPollsAreShaped) {
  EXPECT_TRUE(has_interval(Transport::poll));
  EXPECT_FALSE(has_interval(Transport::long_poll));
  EXPECT_TRUE(is_polled(Transport::poll));
  EXPECT_TRUE(is_polled(Transport::long_poll));
  EXPECT_FALSE(is_polled(Transport::sse));
  EXPECT_FALSE(is_polled(Transport::rest));
}

TEST(Transport, EveryTransportHasOneRowAndTheQueriesReadIt) {
  const std::span<const TransportRow> table = transport_table();
  ASSERT_EQ(table.size(), std::size(all_transports));
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Transport t = all_transports[i];
    SCOPED_TRACE(std::string(to_string(t)));
    const TransportRow& row = row_of(t);
    EXPECT_EQ(&row, &table[i]) << "rows in all_transports order";
    EXPECT_EQ(row.transport, t);
    EXPECT_EQ(to_string(t), row.name);
    EXPECT_EQ(parse_transport(row.name), t);
    EXPECT_EQ(has_interval(t), row.has_interval);
    EXPECT_EQ(is_polled(t), row.shapes != Shapes::none);
    const std::vector<PollShape> shapes = shapes_for(t, all_poll_shapes);
    for (PollShape s : all_poll_shapes) {
      const bool runs = std::find(shapes.begin(), shapes.end(), s) != shapes.end();
      EXPECT_EQ(runs,
                row.shapes == Shapes::every || (row.shapes == Shapes::cursor && has_cursor(s)))
          << to_string(s);
    }
    // A libcurl transport says how its streams are made; another loop makes its own.
    EXPECT_EQ(row.make_stream != nullptr, row.loop == Loop::curl);
  }
  // ws is the one transport on its own loop.
  EXPECT_EQ(row_of(Transport::ws).loop, Loop::asio);
  EXPECT_TRUE(shapes_for(Transport::ws, all_poll_shapes).empty());
}

TEST(PollShape, NamesAreTheServersShapeValues) {
  EXPECT_EQ(to_string(PollShape::openai), "openai");
  EXPECT_EQ(to_string(PollShape::snapshot), "snapshot");
  EXPECT_EQ(to_string(PollShape::delta), "delta");
  EXPECT_EQ(to_string(PollShape::events), "events");
  for (PollShape s : all_poll_shapes) EXPECT_EQ(parse_poll_shape(to_string(s)), s);
  EXPECT_EQ(parse_poll_shape("full"), std::nullopt);
  EXPECT_EQ(parse_poll_shape("Delta"), std::nullopt);
  EXPECT_EQ(parse_poll_shape(" delta"), std::nullopt);
  EXPECT_EQ(parse_poll_shape(""), std::nullopt);
}

TEST(PollShape, OnlyDeltaAndEventsHaveACursor) {
  EXPECT_FALSE(has_cursor(PollShape::openai));
  EXPECT_FALSE(has_cursor(PollShape::snapshot));
  EXPECT_TRUE(has_cursor(PollShape::delta));
  EXPECT_TRUE(has_cursor(PollShape::events));
}

TEST(PollShape, PollRunsEveryListedShapeLongPollTheCursorOnes) {
  using V = std::vector<PollShape>;
  EXPECT_EQ(shapes_for(Transport::poll, all_poll_shapes),
            V(std::begin(all_poll_shapes), std::end(all_poll_shapes)));
  EXPECT_EQ(shapes_for(Transport::long_poll, all_poll_shapes),
            (V{PollShape::delta, PollShape::events}));
  // The listed order is kept.
  const V listed{PollShape::events, PollShape::openai, PollShape::delta};
  EXPECT_EQ(shapes_for(Transport::poll, listed), listed);
  EXPECT_EQ(shapes_for(Transport::long_poll, listed), (V{PollShape::events, PollShape::delta}));
  EXPECT_TRUE(shapes_for(Transport::long_poll, V{PollShape::snapshot}).empty());
  EXPECT_TRUE(shapes_for(Transport::sse, all_poll_shapes).empty());
  EXPECT_TRUE(shapes_for(Transport::rest, all_poll_shapes).empty());
}

TEST(Expectation, AChatRecordingIsPolledOnTheChatEndpoint) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  EXPECT_EQ(x.job_path, "/v1/chat/completions");
  EXPECT_EQ(x.job_body, R"({"model":"chat-gpt-4o-mini-text","background":true})");
  // Job events: every event but [DONE], from 0.
  EXPECT_EQ(x.clock.job_events(), x.recording->events.size() - 1);
  EXPECT_EQ(x.clock.content_offsets().size(), x.recording->content_events);
}

TEST(Expectation, AResponsesRecordingIsPolledOnTheResponsesEndpoint) {
  const Expectation x = make_expectation(load("responses-gpt-5.1-codex-max-4"));
  EXPECT_EQ(x.job_path, "/v1/responses");
}

TEST(Expectation, ContentTextEndsCountEachChoiceOnItsOwn) {
  const Expectation x = make_expectation(load("chat-gpt-4o-n3"));
  ASSERT_EQ(x.content_text_end.size(), x.clock.content_offsets().size());
  ASSERT_GE(x.transcript.size(), 2u);
  std::map<int, std::size_t> last;  // the largest end seen per choice
  std::size_t ordinal = 0;
  for (const Event& e : x.recording->events) {
    if (!e.content) continue;
    const std::size_t end = x.content_text_end[ordinal++];
    EXPECT_EQ(end, last[e.choice] + e.text.size());
    last[e.choice] = end;
  }
  for (const auto& [choice, text] : x.transcript) EXPECT_EQ(last[choice], text.size());
}

TEST(Expectation, ACopySharesTheRecordingItsClockReadsFrom) {
  std::optional<Expectation> original = make_expectation(load("chat-gpt-4o-json"));
  const Expectation copy = *original;
  const std::uint64_t events = original->clock.job_events();
  original.reset();
  EXPECT_EQ(&copy.clock.recording(), copy.recording.get());
  EXPECT_EQ(copy.clock.job_events(), events);
}

TEST(Engine, LongPollWithoutACursorShapeIsRefused) {
  const Expectation x = make_expectation(load("chat-gpt-4o-mini-text"));
  ClientConfig c;
  c.base_url = "http://127.0.0.1:9";  // never reached
  Engine engine;
  for (PollShape s : {PollShape::openai, PollShape::snapshot}) {
    c.shape = s;
    EXPECT_THROW(engine.run_round(x, Transport::long_poll, c, 1), std::invalid_argument);
  }
}

}  // namespace
}  // namespace ssebench::bench
