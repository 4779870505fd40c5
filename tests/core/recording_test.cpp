#include "ssebench/recording.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <boost/json.hpp>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace ssebench {
namespace {

namespace json = boost::json;
using std::chrono::microseconds;

constexpr std::string_view model = "gpt-4o-2024-08-06";

// ---- building recordings inline -------------------------------------------------------------

// One chat chunk as OpenAI sends it, with `delta` (JSON) for choice `index`.
std::string chunk(std::string_view delta, int index = 0, std::string_view finish = "null") {
  return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"" +
         std::string(model) + "\",\"choices\":[{\"index\":" + std::to_string(index) +
         ",\"delta\":" + std::string(delta) + ",\"finish_reason\":" + std::string(finish) +
         "}]}\n\n";
}

// One event line of the file.
std::string event(std::int64_t t_us, std::string_view kind, std::string_view bytes) {
  return json::serialize(json::object{{"t_us", t_us}, {"kind", kind}, {"bytes", bytes}});
}

json::object chat_header() {
  return json::object{
      {"format", "ssebench-recording"},
      {"version", 1},
      {"api", "chat.completions"},
      {"model", model},
      {"provenance",
       json::object{{"source", "synthesized"}, {"timing", json::object{{"kind", "recorded"}}}}},
      {"request", json::object{{"method", "POST"},
                               {"path", "/v1/chat/completions"},
                               {"body", R"({"model":"gpt-4o","stream":true})"}}},
      {"response",
       json::object{{"status", 200},
                    {"headers", json::array{json::array{"content-type", "text/event-stream"}}},
                    {"headers_offset_us", 1000}}},
  };
}

json::object responses_header() {
  auto h = chat_header();
  h["api"] = "responses";
  h["request"].as_object()["path"] = "/v1/responses";
  return h;
}

// A well-formed chat stream: role, two content chunks, finish, [DONE].
std::vector<std::string> chat_events() {
  return {
      event(2000, "role", chunk(R"({"role":"assistant","content":""})")),
      event(3000, "content", chunk(R"({"content":"Hel"})")),
      event(4000, "content", chunk(R"({"content":"lo"})")),
      event(5000, "finish", chunk("{}", 0, "\"stop\"")),
      event(5000, "done", "data: [DONE]\n\n"),
  };
}

// The file text: header (with "events" set to the number of event lines unless given) + events.
std::string file_text(json::object header, const std::vector<std::string>& events,
                      std::optional<std::int64_t> declared = std::nullopt) {
  if (!header.contains("events")) {
    header["events"] = declared ? *declared : static_cast<std::int64_t>(events.size());
  }
  std::string text = json::serialize(header) + "\n";
  for (const auto& e : events) text += e + "\n";
  return text;
}

// Parses `text` as "x.jsonl" and returns its error ("" when it loads).
std::string error_of(std::string_view text, const RecordingLimits& limits = {}) {
  const auto r = parse_recording(text, "recordings/x.jsonl", limits);
  EXPECT_EQ(static_cast<bool>(r), r.error.empty());
  return r.error;
}

// The error of the chat file whose event line `line` (2-based file line) is replaced.
std::string error_with_event(std::size_t line, const std::string& replacement) {
  auto events = chat_events();
  events.at(line - 2) = replacement;
  return error_of(file_text(chat_header(), events));
}

std::string error_with_header(const json::object& header) {
  return error_of(file_text(header, chat_events()));
}

// ---- a good recording -----------------------------------------------------------------------

TEST(ParseRecording, FillsEveryField) {
  auto header = chat_header();
  const auto r = parse_recording(file_text(header, chat_events()), "recordings/chat-x.jsonl");
  ASSERT_TRUE(r) << r.error;
  const auto& rec = *r.recording;
  EXPECT_EQ(rec.id, "chat-x");
  EXPECT_EQ(rec.file, std::filesystem::path("recordings/chat-x.jsonl"));
  EXPECT_EQ(rec.api, Api::chat_completions);
  EXPECT_EQ(rec.model, model);
  EXPECT_EQ(rec.provenance.source, "synthesized");
  EXPECT_EQ(rec.provenance.timing, "recorded");
  EXPECT_EQ(rec.provenance.json, R"({"source":"synthesized","timing":{"kind":"recorded"}})");
  EXPECT_EQ(rec.request.method, "POST");
  EXPECT_EQ(rec.request.path, "/v1/chat/completions");
  EXPECT_EQ(rec.request.body, R"({"model":"gpt-4o","stream":true})");
  EXPECT_EQ(rec.response.status, 200);
  ASSERT_EQ(rec.response.headers.size(), 1u);
  EXPECT_EQ(rec.response.headers[0].name, "content-type");
  EXPECT_EQ(rec.response.headers[0].value, "text/event-stream");
  EXPECT_EQ(rec.response.headers_offset, microseconds(1000));
  EXPECT_FALSE(rec.nonstream);

  ASSERT_EQ(rec.events.size(), 5u);
  const auto& role = rec.events[0];
  EXPECT_EQ(role.offset, microseconds(2000));
  EXPECT_EQ(role.kind, "role");
  EXPECT_EQ(role.bytes, chunk(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(role.data_pos, 6u);
  EXPECT_EQ(role.data_len, role.bytes.size() - 8);
  EXPECT_FALSE(role.content);
  EXPECT_EQ(role.text, "");

  const auto& hel = rec.events[1];
  EXPECT_TRUE(hel.content);
  EXPECT_EQ(hel.text, "Hel");
  EXPECT_EQ(hel.choice, 0);
  EXPECT_EQ(hel.data().substr(0, 7), R"({"id":")");
  EXPECT_FALSE(hel.is_done());
  EXPECT_TRUE(rec.events[4].is_done());
  EXPECT_EQ(rec.events[4].data(), "[DONE]");

  EXPECT_EQ(rec.content_events, 2u);
  EXPECT_EQ(rec.completion_tokens, 2u);  // no usage: one per content event
  EXPECT_FALSE(rec.ends_in_error);
  EXPECT_EQ(rec.first_content_offset(), microseconds(3000));
  EXPECT_EQ(rec.last_offset(), microseconds(5000));
  EXPECT_EQ(rec.transcript(), (Transcript{{0, "Hello"}}));
}

TEST(ParseRecording, TakesTokensFromUsageAndKeepsSynthesizedTiming) {
  auto header = chat_header();
  header["usage"] = json::object{{"completion_tokens", 7}};
  header["provenance"].as_object()["timing"] =
      json::object{{"kind", "synthesized"}, {"profile", "gpt-4o"}, {"seed", 42}};
  const auto r = parse_recording(file_text(header, chat_events()), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.recording->completion_tokens, 7u);
  EXPECT_EQ(r.recording->content_events, 2u);
  EXPECT_EQ(r.recording->provenance.timing, "synthesized");
  EXPECT_EQ(r.recording->provenance.profile, "gpt-4o");
  EXPECT_EQ(r.recording->provenance.seed, 42u);
}

// A scenario (scripts/recordings/scenarios.py) names its generator, so its bytes can be remade.
json::object synthetic_provenance() {
  return json::object{
      {"source", "synthetic"},
      {"generator", json::object{{"script", "scripts/recordings/scenarios.py"},
                                 {"scenario", "notify"},
                                 {"seed", 19},
                                 {"duration_s", 540.0},
                                 {"mean_s", 20.0}}},
      {"timing",
       json::object{{"kind", "synthesized"}, {"profile", "scenario-notify"}, {"seed", 19}}}};
}

TEST(ParseRecording, AcceptsASyntheticScenarioWithItsGenerator) {
  auto header = chat_header();
  header["provenance"] = synthetic_provenance();
  const auto r = parse_recording(file_text(header, chat_events()), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.recording->provenance.source, "synthetic");
  EXPECT_NE(r.recording->provenance.json.find(R"("scenario":"notify")"), std::string::npos);
}

TEST(Reject, SyntheticWithoutItsGenerator) {
  auto header = chat_header();
  header["provenance"] = synthetic_provenance();
  header["provenance"].as_object().erase("generator");
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: missing field "provenance.generator")");
  header["provenance"] = synthetic_provenance();
  header["provenance"].as_object()["generator"].as_object().erase("seed");
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: missing field "provenance.generator.seed")");
  header["provenance"] = synthetic_provenance();
  header["provenance"].as_object()["generator"].as_object()["scenario"] = 3;
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: field "provenance.generator.scenario" must be a string)");
}

TEST(ParseRecording, KeepsHeaderOrderAndDuplicates) {
  auto header = chat_header();
  header["response"].as_object()["headers"] = json::array{
      json::array{"set-cookie", "a=1"}, json::array{"x-b", "2"}, json::array{"set-cookie", "c=3"}};
  const auto r = parse_recording(file_text(header, chat_events()), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  const auto& h = r.recording->response.headers;
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name + "=" + h[0].value, "set-cookie=a=1");
  EXPECT_EQ(h[1].name, "x-b");
  EXPECT_EQ(h[2].value, "c=3");
}

TEST(ParseRecording, NonStreamOnlyRecordingIsValid) {
  auto header = chat_header();
  header["nonstream"] = json::object{
      {"offset_us", 900000},
      {"status", 200},
      {"headers", json::array{json::array{"content-type", "application/json"}}},
      {"body", R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"}}]})"}};
  header["usage"] = json::object{{"completion_tokens", 1}};
  const auto r = parse_recording(file_text(header, {}), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  const auto& rec = *r.recording;
  EXPECT_TRUE(rec.events.empty());
  ASSERT_TRUE(rec.nonstream);
  EXPECT_EQ(rec.nonstream->offset, microseconds(900000));
  EXPECT_EQ(rec.nonstream->headers.at(0).value, "application/json");
  EXPECT_EQ(nonstream_transcript(rec.api, rec.nonstream->body), (Transcript{{0, "Hi"}}));
  EXPECT_EQ(rec.last_offset(), microseconds(0));
  EXPECT_FALSE(rec.first_content_offset());
  EXPECT_EQ(rec.completion_tokens, 1u);
}

TEST(ParseRecording, ChoicesOfAnNGreaterThanOneStream) {
  const auto r = parse_recording(
      file_text(chat_header(), {event(2000, "role", chunk(R"({"role":"assistant"})", 0)),
                                event(2000, "role", chunk(R"({"role":"assistant"})", 1)),
                                event(3000, "content", chunk(R"({"content":"a"})", 1)),
                                event(4000, "content", chunk(R"({"content":"b"})", 0)),
                                event(5000, "content", chunk(R"({"content":"c"})", 1)),
                                event(6000, "finish", chunk("{}", 1, "\"stop\"")),
                                event(6000, "done", "data: [DONE]\n\n")}),
      "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  const auto& rec = *r.recording;
  EXPECT_EQ(rec.events[1].choice, 1);  // non-content events keep their choice too
  EXPECT_EQ(rec.events[2].choice, 1);
  EXPECT_EQ(rec.events[5].choice, 1);
  EXPECT_EQ(rec.transcript(), (Transcript{{0, "b"}, {1, "ac"}}));
}

TEST(ParseRecording, ToolArgsHeaderIsNotContentButFragmentsAre) {
  const auto r = parse_recording(
      file_text(chat_header(),
                {event(2000, "tool_args",
                       chunk(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,)"
                             R"("id":"call_1","type":"function","function":{"name":"f",)"
                             R"("arguments":""}}]})")),
                 event(3000, "tool_args",
                       chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]})")),
                 event(4000, "finish", chunk("{}", 0, "\"tool_calls\"")),
                 event(5000, "usage",
                       R"(data: {"choices":[],"usage":{"completion_tokens":5}})"
                       "\n\n"),
                 event(5000, "done", "data: [DONE]\n\n")}),
      "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  EXPECT_FALSE(r.recording->events[0].content);
  EXPECT_TRUE(r.recording->events[1].content);
  EXPECT_EQ(r.recording->content_events, 1u);
  EXPECT_EQ(r.recording->transcript(), (Transcript{{0, R"({"a")"}}));
}

TEST(ParseRecording, ChatErrorMidStreamEndsInError) {
  const auto r =
      parse_recording(file_text(chat_header(), {event(2000, "content", chunk(R"({"content":"x"})")),
                                                event(3000, "error",
                                                      R"(data: {"error":{"message":"boom"}})"
                                                      "\n\n"),
                                                event(3000, "done", "data: [DONE]\n\n")}),
                      "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.recording->ends_in_error);
}

std::string responses_event(std::int64_t t_us, std::string_view type, std::string_view rest = "") {
  std::string payload = "{\"type\":\"" + std::string(type) + "\"" + std::string(rest) + "}";
  return event(t_us, type, "event: " + std::string(type) + "\ndata: " + payload + "\n\n");
}

TEST(ParseRecording, ResponsesStream) {
  const auto r = parse_recording(
      file_text(
          responses_header(),
          {responses_event(2000, "response.created",
                           R"(,"response":{"model":"gpt-4o-2024-08-06","output":[]})"),
           responses_event(3000, "response.reasoning_summary_text.delta", R"(,"delta":"think")"),
           responses_event(4000, "response.output_text.delta", R"(,"delta":"O")"),
           responses_event(5000, "response.output_text.delta", R"(,"delta":"K")"),
           responses_event(6000, "response.failed", R"(,"response":{"output":[]})")}),
      "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  const auto& rec = *r.recording;
  EXPECT_EQ(rec.api, Api::responses);
  EXPECT_EQ(rec.events[0].data_pos, std::string("event: response.created\ndata: ").size());
  EXPECT_EQ(rec.content_events, 3u);
  EXPECT_EQ(rec.events[1].text, "think");
  EXPECT_EQ(rec.transcript(), (Transcript{{0, "thinkOK"}}));
  EXPECT_TRUE(rec.ends_in_error);
}

// The chat events with a `read` index each (what ssebench-record writes).
std::vector<std::string> chat_events_with_reads(std::vector<std::int64_t> reads) {
  auto events = chat_events();
  for (std::size_t i = 0; i < events.size() && i < reads.size(); ++i) {
    auto line = json::parse(events[i]).as_object();
    if (reads[i] >= 0) line["read"] = reads[i];
    events[i] = json::serialize(line);
  }
  return events;
}

TEST(ParseRecording, KeepsTheReadIndexOfEveryEvent) {
  const auto r =
      parse_recording(file_text(chat_header(), chat_events_with_reads({0, 1, 1, 2, 2})), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  std::vector<std::uint64_t> reads;
  for (const auto& e : r.recording->events) reads.push_back(e.read.value_or(99));
  EXPECT_EQ(reads, (std::vector<std::uint64_t>{0, 1, 1, 2, 2}));
  // Without the field (every converted recording), no event has one.
  const auto plain = parse_recording(file_text(chat_header(), chat_events()), "x.jsonl");
  ASSERT_TRUE(plain) << plain.error;
  for (const auto& e : plain.recording->events) EXPECT_FALSE(e.read);
}

TEST(ParseRecording, KeepsTheSetMembership) {
  auto header = chat_header();
  header["set"] = json::object{{"id", "chat-x"}, {"index", 2}, {"of", 3}};
  const auto r = parse_recording(file_text(header, chat_events()), "x.jsonl");
  ASSERT_TRUE(r) << r.error;
  ASSERT_TRUE(r.recording->set);
  EXPECT_EQ(r.recording->set->id, "chat-x");
  EXPECT_EQ(r.recording->set->index, 2u);
  EXPECT_EQ(r.recording->set->of, 3u);
  EXPECT_FALSE(parse_recording(file_text(chat_header(), chat_events()), "x.jsonl").recording->set);
}

TEST(ToString, NamesTheApis) {
  EXPECT_EQ(to_string(Api::chat_completions), "chat.completions");
  EXPECT_EQ(to_string(Api::responses), "responses");
}

// ---- what the validator rejects: one exact line each ----------------------------------------

TEST(Reject, EmptyFile) {
  EXPECT_EQ(error_of(""), "recordings/x.jsonl: empty file");
}

TEST(Reject, FileOverSizeLimitInMemory) {
  RecordingLimits limits;
  limits.max_file_bytes = 100;
  EXPECT_EQ(error_of(std::string(101, ' '), limits),
            "recordings/x.jsonl: 101 bytes, over the limit of 100");
}

TEST(Reject, NotUtf8) {
  auto events = chat_events();
  events[1] = event(3000, "content", chunk(R"({"content":"Hel"})"));
  auto text = file_text(chat_header(), events);
  const auto pos = text.find("Hel");
  text[pos + 1] = '\xff';
  const auto line_start = text.rfind('\n', pos) + 1;
  EXPECT_EQ(error_of(text), "recordings/x.jsonl:3: not UTF-8 (byte 0xff at column " +
                                std::to_string(pos + 1 - line_start + 1) + ")");
}

TEST(Reject, OverlongUtf8OnTheFirstLine) {
  EXPECT_EQ(error_of("{\"a\":\"\xc0\xaf\"}\n"),
            "recordings/x.jsonl:1: not UTF-8 (byte 0xc0 at column 7)");
}

TEST(Reject, LineNotJson) {
  EXPECT_EQ(error_with_event(4, R"({"t_us":4000,"kind":)"),
            "recordings/x.jsonl:4: not JSON (incomplete JSON at column 21)");
  EXPECT_EQ(error_with_event(2, R"({"t_us":2000,} )"),
            "recordings/x.jsonl:2: not JSON (syntax error at column 14)");
}

TEST(Reject, HeaderMissingField) {
  auto header = chat_header();
  header.erase("request");
  EXPECT_EQ(error_with_header(header), R"(recordings/x.jsonl:1: missing field "request")");
}

TEST(Reject, HeaderMissingNestedField) {
  auto header = chat_header();
  header["request"].as_object().erase("body");
  EXPECT_EQ(error_with_header(header), R"(recordings/x.jsonl:1: missing field "request.body")");
}

TEST(Reject, HeaderWrongType) {
  auto header = chat_header();
  header["version"] = "1";
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: field "version" must be an integer)");
  header = chat_header();
  header["model"] = 4;
  EXPECT_EQ(error_with_header(header), R"(recordings/x.jsonl:1: field "model" must be a string)");
  header = chat_header();
  header["request"] = "POST";
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: field "request" must be an object)");
}

TEST(Reject, HeaderNotAnObject) {
  EXPECT_EQ(error_of("[1]\n"), "recordings/x.jsonl:1: header must be a JSON object");
}

TEST(Reject, UnknownFormat) {
  auto header = chat_header();
  header["format"] = "har";
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: unknown format "har" (expected "ssebench-recording"))");
}

TEST(Reject, UnknownVersionBeforeAnythingElse) {
  // A version-2 file may have other fields: the version is what is wrong with it.
  auto header = chat_header();
  header["version"] = 2;
  header.erase("request");
  EXPECT_EQ(error_with_header(header),
            "recordings/x.jsonl:1: unsupported version 2 (this build reads version 1)");
}

TEST(Reject, UnknownApi) {
  auto header = chat_header();
  header["api"] = "completions";
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: unknown api "completions" (expected "chat.completions" or "responses"))");
}

TEST(Reject, UnknownProvenance) {
  auto header = chat_header();
  header["provenance"].as_object()["source"] = "invented";
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: unknown provenance.source "invented" (expected recorded, converted, synthesized or synthetic))");
  header = chat_header();
  header["provenance"].as_object()["timing"] =
      json::object{{"kind", "synthesized"}, {"profile", "gpt-4o"}};
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: missing field "provenance.timing.seed")");
}

TEST(Reject, HeadersNotNameValuePairs) {
  auto header = chat_header();
  header["response"].as_object()["headers"] =
      json::array{json::array{"content-type", "text/event-stream"}, json::array{"x-only-name"}};
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.headers[1]" must be a [name, value] pair of strings)");
  header["response"].as_object()["headers"] = json::object{{"content-type", "text/event-stream"}};
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.headers" must be an array of [name, value] pairs)");
  header["response"].as_object()["headers"] = json::array{json::array{"bad name", "v"}};
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.headers[0]": header name "bad name" is not an HTTP token)");
  header["response"].as_object()["headers"] = json::array{json::array{"x", "a\r\nInjected: 1"}};
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.headers[0]": header value contains CR, LF or NUL)");
}

TEST(Reject, BadStatusAndOffsets) {
  auto header = chat_header();
  header["response"].as_object()["status"] = 42;
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.status" must be an HTTP status (100-599), not 42)");
  header = chat_header();
  header["response"].as_object()["headers_offset_us"] = -1;
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "response.headers_offset_us" must not be negative (-1))");
}

TEST(Reject, BodyThatIsNotJson) {
  auto header = chat_header();
  header["request"].as_object()["body"] = "{\"model\":";
  EXPECT_EQ(
      error_with_header(header),
      R"(recordings/x.jsonl:1: field "request.body" is not JSON (incomplete JSON at column 10))");
}

TEST(Reject, EventNotAnObject) {
  EXPECT_EQ(error_with_event(3, "[3000]"), "recordings/x.jsonl:3: event must be a JSON object");
}

TEST(Reject, EventMissingOrMistypedField) {
  EXPECT_EQ(error_with_event(3, R"({"t_us":3000,"kind":"content"})"),
            R"(recordings/x.jsonl:3: missing field "bytes")");
  EXPECT_EQ(error_with_event(3, R"({"t_us":3.5,"kind":"content","bytes":""})"),
            R"(recordings/x.jsonl:3: field "t_us" must be an integer)");
}

TEST(Reject, UnknownKind) {
  EXPECT_EQ(
      error_with_event(3, event(3000, "text", chunk(R"({"content":"Hel"})"))),
      R"(recordings/x.jsonl:3: unknown kind "text" (expected one of role, content, refusal, tool_args, finish, usage, done, error))");
  EXPECT_EQ(
      error_of(file_text(responses_header(), {responses_event(2000, "output_text.delta")})),
      R"(recordings/x.jsonl:2: unknown kind "output_text.delta" (expected a Responses event type "response.*", "error" or "done"))");
}

TEST(Reject, NegativeTime) {
  EXPECT_EQ(error_with_event(2, event(-5, "role", chunk(R"({"role":"assistant"})"))),
            "recordings/x.jsonl:2: t_us is negative (-5)");
}

TEST(Reject, TimeGoingBackwards) {
  auto events = chat_events();
  events[1] = event(57000, "content", chunk(R"({"content":"Hel"})"));
  events[2] = event(41200, "content", chunk(R"({"content":"lo"})"));
  EXPECT_EQ(error_of(file_text(chat_header(), events)),
            "recordings/x.jsonl:4: t_us goes backwards (41200 after 57000)");
}

TEST(Reject, ReadIndexGoingBackwards) {
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events_with_reads({0, 2, 1, 3, 3}))),
            "recordings/x.jsonl:4: read goes backwards (1 after 2)");
}

TEST(Reject, ReadIndexOnSomeEventsOnly) {
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events_with_reads({0, 1, -1, 2, 2}))),
            "recordings/x.jsonl:4: missing field \"read\" (the events before have one: every "
            "event or none)");
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events_with_reads({-1, 1, 1, 2, 2}))),
            "recordings/x.jsonl:3: field \"read\" here but not on the events before (every event "
            "or none)");
}

TEST(Reject, ReadIndexNotANonNegativeInteger) {
  auto events = chat_events_with_reads({0, 1, 2, 3, 4});
  auto line = json::parse(events[1]).as_object();
  line["read"] = "1";
  events[1] = json::serialize(line);
  EXPECT_EQ(error_of(file_text(chat_header(), events)),
            "recordings/x.jsonl:3: field \"read\" must be an integer");
  line["read"] = -1;
  events[1] = json::serialize(line);
  EXPECT_EQ(error_of(file_text(chat_header(), events)),
            "recordings/x.jsonl:3: field \"read\" must not be negative (-1)");
}

TEST(Reject, BadSetMembership) {
  auto with_set = [](json::object set) {
    auto header = chat_header();
    header["set"] = std::move(set);
    return error_with_header(header);
  };
  EXPECT_EQ(with_set({{"id", ""}, {"index", 1}, {"of", 2}}),
            "recordings/x.jsonl:1: field \"set.id\" must not be empty");
  EXPECT_EQ(with_set({{"id", "s"}, {"index", 3}, {"of", 2}}),
            "recordings/x.jsonl:1: field \"set.index\" is 3, not 1 to set.of (2)");
  EXPECT_EQ(with_set({{"id", "s"}, {"index", 0}, {"of", 2}}),
            "recordings/x.jsonl:1: field \"set.index\" is 0, not 1 to set.of (2)");
  EXPECT_EQ(with_set({{"id", "s"}, {"index", 1}, {"of", 0}}),
            "recordings/x.jsonl:1: field \"set.of\" is 0, not 1 to 10000");
  EXPECT_EQ(with_set({{"id", "s"}, {"of", 2}}),
            "recordings/x.jsonl:1: missing field \"set.index\"");
}

TEST(Reject, EventBeforeTheResponseHeaders) {
  EXPECT_EQ(
      error_with_event(2, event(500, "role", chunk(R"({"role":"assistant"})"))),
      "recordings/x.jsonl:2: t_us 500 is before the response headers (headers_offset_us 1000)");
}

TEST(Reject, OffsetsBeyondTheLimit) {
  // An offset of 2^63-1 us would overflow once converted to nanoseconds for the server's timers.
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(error_with_event(5, event(huge, "finish", chunk("{}", 0, "\"stop\""))),
            "recordings/x.jsonl:5: t_us is " + std::to_string(huge) +
                ", over the limit of 86400000000 us");
  auto header = chat_header();
  header["response"].as_object()["headers_offset_us"] = 86'400'000'001;
  EXPECT_EQ(error_with_header(header),
            R"(recordings/x.jsonl:1: field "response.headers_offset_us" is 86400000001, over the )"
            R"(limit of 86400000000 us)");
}

TEST(Reject, BytesWithoutDataLine) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "event: x\n\n")),
            R"(recordings/x.jsonl:3: bytes are not one SSE event: no "data:" line)");
}

TEST(Reject, BytesWithoutBlankLineTerminator) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "data: {}\n")),
            "recordings/x.jsonl:3: bytes are not one SSE event: missing the blank line that ends "
            "the event");
}

TEST(Reject, BytesWithCrLineEnds) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "data: {}\r\n\r\n")),
            "recordings/x.jsonl:3: bytes are not one SSE event: CR line end at byte 8 (LF only, "
            "as OpenAI sends)");
}

TEST(Reject, BytesWithTwoDataLines) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "data: {}\ndata: {}\n\n")),
            R"(recordings/x.jsonl:3: bytes are not one SSE event: two "data:" lines)");
}

TEST(Reject, BytesWithTwoEventLines) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "event: a\nevent: b\ndata: {}\n\n")),
            R"(recordings/x.jsonl:3: bytes are not one SSE event: two "event:" lines)");
}

TEST(Reject, BytesWithUnknownFieldLine) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "id: 7\ndata: {}\n\n")),
            R"(recordings/x.jsonl:3: bytes are not one SSE event: unknown field line "id: 7")");
  EXPECT_EQ(
      error_with_event(3, event(3000, "content", ": keep-alive\ndata: {}\n\n")),
      R"(recordings/x.jsonl:3: bytes are not one SSE event: unknown field line ": keep-alive")");
}

TEST(Reject, BytesHoldingTwoEvents) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "data: {}\n\ndata: {}\n\n")),
            "recordings/x.jsonl:3: bytes are not one SSE event: blank line at byte 9 ends it "
            "early (more than one event)");
}

TEST(Reject, EmptyBytes) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "")),
            "recordings/x.jsonl:3: bytes are not one SSE event: empty");
}

TEST(Reject, PayloadNotJson) {
  EXPECT_EQ(error_with_event(3, event(3000, "content", "data: {oops}\n\n")),
            "recordings/x.jsonl:3: payload is not JSON (syntax error at column 2)");
}

TEST(Reject, DoneWithoutDoneMarker) {
  EXPECT_EQ(error_with_event(6, event(5000, "done", "data: {}\n\n")),
            R"(recordings/x.jsonl:6: kind "done" but the payload is not [DONE])");
}

TEST(Reject, DoneMarkerWithAnotherKind) {
  EXPECT_EQ(error_with_event(6, event(5000, "finish", "data: [DONE]\n\n")),
            R"(recordings/x.jsonl:6: payload is [DONE] but kind is "finish")");
}

TEST(Reject, ResponsesKindDiffersFromPayloadType) {
  const auto bad = event(2000, "response.created",
                         "event: response.created\ndata: {\"type\":\"response.in_progress\"}\n\n");
  EXPECT_EQ(
      error_of(file_text(responses_header(), {bad})),
      R"(recordings/x.jsonl:2: kind "response.created" differs from the payload's type "response.in_progress")");
}

TEST(Reject, ResponsesEventNameDiffersFromPayloadType) {
  const auto bad = event(2000, "response.created",
                         "event: response.done\ndata: {\"type\":\"response.created\"}\n\n");
  EXPECT_EQ(
      error_of(file_text(responses_header(), {bad})),
      R"(recordings/x.jsonl:2: "event:" line "response.done" differs from the payload's type "response.created")");
}

TEST(Reject, ChatErrorKindMustMatchPayload) {
  EXPECT_EQ(error_with_event(5, event(5000, "finish", "data: {\"error\":{\"message\":\"x\"}}\n\n")),
            R"(recordings/x.jsonl:5: payload is an {"error":...} object but kind is "finish")");
  EXPECT_EQ(error_with_event(5, event(5000, "error", chunk("{}", 0, "\"stop\""))),
            R"(recordings/x.jsonl:5: kind "error" but the payload has no "error" member)");
}

TEST(Reject, TextInANonContentKind) {
  EXPECT_EQ(error_with_event(5, event(5000, "finish", chunk(R"({"content":"!"})", 0, "\"stop\""))),
            R"(recordings/x.jsonl:5: kind "finish" but the payload carries text "!")");
}

TEST(Reject, TextForTwoChoicesInOneEvent) {
  const std::string two =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}},"
      "{\"index\":1,\"delta\":{\"content\":\"b\"}}]}\n\n";
  EXPECT_EQ(error_with_event(3, event(3000, "content", two)),
            "recordings/x.jsonl:3: payload carries text for 2 choices (one event, one choice)");
}

TEST(Reject, PayloadNamesAnotherModel) {
  EXPECT_EQ(
      error_with_event(
          3, event(3000, "content", "data: {\"model\":\"gpt-4o-mini\",\"choices\":[]}\n\n")),
      R"(recordings/x.jsonl:3: payload names model "gpt-4o-mini", the header "gpt-4o-2024-08-06")");
}

TEST(Reject, EventCountDiffersFromHeader) {
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events(), 6)),
            "recordings/x.jsonl: the header declares 6 events, the file has 5");
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events(), 4)),
            "recordings/x.jsonl: the header declares 4 events, the file has 5");
}

TEST(Reject, NoEventsAndNoNonStreamBody) {
  EXPECT_EQ(error_of(file_text(chat_header(), {})),
            R"(recordings/x.jsonl: no events and no "nonstream" body (nothing to replay))");
}

TEST(Reject, TooManyEvents) {
  RecordingLimits limits;
  limits.max_events = 4;
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events(), 4), limits),
            "recordings/x.jsonl:6: more than 4 events (the limit)");
  EXPECT_EQ(error_of(file_text(chat_header(), chat_events()), limits),
            R"(recordings/x.jsonl:1: field "events" is 5, over the limit of 4 events)");
}

TEST(Reject, EventTooLarge) {
  RecordingLimits limits;
  limits.max_event_bytes = 200;  // the normal chunks are about 175 bytes
  auto events = chat_events();
  events[1] = event(3000, "content", chunk(R"({"content":")" + std::string(100, 'x') + "\"}"));
  const auto size = chunk(R"({"content":")" + std::string(100, 'x') + "\"}").size();
  EXPECT_EQ(
      error_of(file_text(chat_header(), events), limits),
      "recordings/x.jsonl:3: event is " + std::to_string(size) + " bytes, over the limit of 200");
}

TEST(Reject, BlankLine) {
  // Header line, then an empty line, then the events (built by concatenation: GCC 12's
  // -Wrestrict misfires on std::string::insert at -O2, PR 105651).
  const auto whole = file_text(chat_header(), chat_events());
  const auto cut = whole.find('\n') + 1;
  const auto text = whole.substr(0, cut) + "\n" + whole.substr(cut);
  EXPECT_EQ(
      error_of(text),
      "recordings/x.jsonl:2: blank line (not allowed: every line is the header or one event)");
  EXPECT_EQ(
      error_of(file_text(chat_header(), chat_events()) + "\n"),
      "recordings/x.jsonl:7: blank line (not allowed: every line is the header or one event)");
}

// ---- files and folders ----------------------------------------------------------------------

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("ssebench-core-") + info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

using LoadRecording = TempDir;
using LoadFolder = TempDir;

TEST_F(LoadRecording, LoadsAFile) {
  const auto path = write("chat-a.jsonl", file_text(chat_header(), chat_events()));
  const auto r = load_recording(path);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.recording->id, "chat-a");
  EXPECT_EQ(r.recording->file, path);
}

TEST_F(LoadRecording, RejectsAFileOverTheSizeLimitUnread) {
  const auto text = file_text(chat_header(), chat_events());
  const auto path = write("big.jsonl", text);
  RecordingLimits limits;
  limits.max_file_bytes = 64;
  EXPECT_EQ(load_recording(path, limits).error,
            path.string() + ": " + std::to_string(text.size()) + " bytes, over the limit of 64");
}

TEST_F(LoadRecording, UsesThePathAsGiven) {
  write("t.jsonl", "");
  const auto relative = std::filesystem::relative(dir_ / "t.jsonl");
  EXPECT_EQ(load_recording(relative).error, relative.string() + ": empty file");
}

TEST_F(LoadRecording, ReportsAMissingFile) {
  const auto path = dir_ / "none.jsonl";
  EXPECT_EQ(load_recording(path).error,
            path.string() + ": cannot read (No such file or directory)");
}

TEST_F(LoadFolder, ReportsTheBadFileAndLoadsTheGoodOnes) {
  write("b-good.jsonl", file_text(chat_header(), chat_events()));
  write("a-good.jsonl", file_text(chat_header(), chat_events()));
  write("c-bad.jsonl", file_text(chat_header(), chat_events(), 9));
  write("notes.txt", "not a recording");
  std::filesystem::create_directory(dir_ / "sub.jsonl");  // a folder is not a recording
  const auto folder = load_folder(dir_);
  ASSERT_EQ(folder.recordings.size(), 2u);
  EXPECT_EQ(folder.recordings[0]->id, "a-good");  // sorted by file name
  EXPECT_EQ(folder.recordings[1]->id, "b-good");
  ASSERT_EQ(folder.errors.size(), 1u);
  EXPECT_EQ(folder.errors[0],
            (dir_ / "c-bad.jsonl").string() + ": the header declares 9 events, the file has 5");
}

TEST_F(LoadFolder, ReportsAMissingFolder) {
  const auto folder = load_folder(dir_ / "none");
  EXPECT_TRUE(folder.recordings.empty());
  ASSERT_EQ(folder.errors.size(), 1u);
  EXPECT_EQ(folder.errors[0],
            (dir_ / "none").string() + ": cannot list folder (No such file or directory)");
}

// ---- the text rules -------------------------------------------------------------------------

std::string payload_of(const std::string& bytes) {
  return bytes.substr(6, bytes.size() - 8);  // strip "data: " and "\n\n"
}

TEST(DeltaText, ChatContent) {
  const auto d = delta_text(Api::chat_completions, payload_of(chunk(R"({"content":"Hi"})")));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->choice, 0);
  EXPECT_EQ(d->text, "Hi");
}

TEST(DeltaText, ChatRefusal) {
  const auto d = delta_text(Api::chat_completions,
                            payload_of(chunk(R"({"content":null,"refusal":"I can't"})")));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "I can't");
}

TEST(DeltaText, ChatToolArguments) {
  const auto d = delta_text(
      Api::chat_completions,
      payload_of(chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city"}}]})")));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->text, "{\"city");
}

TEST(DeltaText, ChatChoiceIndex) {
  const auto d = delta_text(Api::chat_completions, payload_of(chunk(R"({"content":"x"})", 2)));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->choice, 2);
}

TEST(DeltaText, ResponsesDeltas) {
  for (const auto* type :
       {"response.output_text.delta", "response.refusal.delta",
        "response.function_call_arguments.delta", "response.reasoning_summary_text.delta"}) {
    const auto d = delta_text(
        Api::responses, std::string(R"({"type":")") + type + R"(","output_index":0,"delta":"ab"})");
    ASSERT_TRUE(d) << type;
    EXPECT_EQ(d->choice, 0);
    EXPECT_EQ(d->text, "ab");
  }
}

TEST(DeltaText, NonContentEventsCarryNone) {
  EXPECT_FALSE(
      delta_text(Api::chat_completions, payload_of(chunk(R"({"role":"assistant","content":""})"))));
  EXPECT_FALSE(delta_text(Api::chat_completions, payload_of(chunk("{}", 0, "\"stop\""))));
  EXPECT_FALSE(delta_text(Api::chat_completions, R"({"choices":[],"usage":{"total_tokens":3}})"));
  EXPECT_FALSE(delta_text(Api::chat_completions, R"({"error":{"message":"x"}})"));
  EXPECT_FALSE(delta_text(Api::chat_completions, "[DONE]"));
  EXPECT_FALSE(delta_text(Api::chat_completions, "{not json"));
  EXPECT_FALSE(delta_text(Api::responses, R"({"type":"response.output_text.done","text":"OK"})"));
  EXPECT_FALSE(delta_text(Api::responses, R"({"type":"response.output_text.delta","delta":""})"));
  // A chat-shaped payload read as Responses (and the reverse) carries nothing.
  EXPECT_FALSE(delta_text(Api::responses, payload_of(chunk(R"({"content":"Hi"})"))));
  EXPECT_FALSE(
      delta_text(Api::chat_completions, R"({"type":"response.output_text.delta","delta":"x"})"));
}

TEST(DeltaText, ParsedPayloadGivesTheSameAnswerAsItsText) {
  const std::string chat = payload_of(chunk(R"({"content":"Hi"})", 2));
  const auto d = delta_text_of(Api::chat_completions, boost::json::parse(chat));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->choice, 2);
  EXPECT_EQ(d->text, "Hi");
  const auto r = delta_text_of(
      Api::responses, boost::json::parse(R"({"type":"response.refusal.delta","delta":"No"})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "No");
  EXPECT_FALSE(delta_text_of(Api::chat_completions, boost::json::value(nullptr)));
}

TEST(IsContentKind, FollowsMetrics) {
  for (const auto* kind :
       {"content", "refusal", "tool_args", "response.output_text.delta", "response.refusal.delta",
        "response.function_call_arguments.delta", "response.reasoning_summary_text.delta"}) {
    EXPECT_TRUE(is_content_kind(kind)) << kind;
  }
  for (const auto* kind : {"role", "finish", "usage", "done", "error", "response.created",
                           "response.output_text.done", "response.completed"}) {
    EXPECT_FALSE(is_content_kind(kind)) << kind;
  }
}

TEST(NonStreamTranscript, ChatWithToolCalls) {
  const auto t = nonstream_transcript(Api::chat_completions, R"({
    "object":"chat.completion",
    "choices":[
      {"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[
        {"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},
        {"id":"b","type":"function","function":{"name":"g","arguments":"{\"y\":2}"}}]}},
      {"index":1,"message":{"role":"assistant","content":"Hello"}},
      {"index":2,"message":{"role":"assistant","content":null,"refusal":"No."}}]})");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (Transcript{{0, R"({"x":1}{"y":2})"}, {1, "Hello"}, {2, "No."}}));
}

TEST(NonStreamTranscript, ResponsesResponseObject) {
  const auto body = R"({"object":"response","status":"completed","output":[
      {"type":"reasoning","summary":[{"type":"summary_text","text":"Think. "},
                                     {"type":"summary_text","text":"More."}]},
      {"type":"function_call","name":"calc","arguments":"{\"a\":1}"},
      {"type":"message","content":[{"type":"output_text","text":"OK","annotations":[]},
                                   {"type":"refusal","refusal":" no"}]}]})";
  const auto t = nonstream_transcript(Api::responses, body);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (Transcript{{0, R"(Think. More.{"a":1}OK no)"}}));
  // The same object wrapped in its response.completed event.
  const auto wrapped = nonstream_transcript(
      Api::responses, std::string(R"({"type":"response.completed","response":)") + body + "}");
  EXPECT_EQ(wrapped, t);
}

TEST(NonStreamTranscript, BodiesWithoutAnAnswer) {
  EXPECT_FALSE(nonstream_transcript(Api::chat_completions, R"({"error":{"message":"x"}})"));
  EXPECT_FALSE(nonstream_transcript(Api::chat_completions, "not json"));
  EXPECT_FALSE(nonstream_transcript(Api::responses, R"({"object":"response"})"));
  const auto empty = nonstream_transcript(Api::chat_completions,
                                          R"({"choices":[{"index":0,"message":{"content":""}}]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());  // like a stream with no content events
}

}  // namespace
}  // namespace ssebench

#ifdef SSEBENCH_RECORDINGS_DIR
namespace ssebench {
namespace {

// The repository's recordings all load, and where a recording has both a stream and a
// stream:false body, both carry the same text: the harness's verify step relies on that.
TEST(RepositoryRecordings, LoadAndAgreeWithTheirNonStreamBodies) {
  const auto folder = load_folder(SSEBENCH_RECORDINGS_DIR);
  EXPECT_TRUE(folder.errors.empty()) << folder.errors.front();
  EXPECT_FALSE(folder.recordings.empty());
  for (const auto& rec : folder.recordings) {
    if (!rec->nonstream || rec->events.empty() || rec->ends_in_error) continue;
    const auto text = nonstream_transcript(rec->api, rec->nonstream->body);
    ASSERT_TRUE(text) << rec->id;
    EXPECT_EQ(*text, rec->transcript()) << rec->id;
  }
}

}  // namespace
}  // namespace ssebench
#endif
