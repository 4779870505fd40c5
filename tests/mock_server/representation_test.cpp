#include "ssebench/server/representation.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "support.hpp"

namespace ssebench::server {
namespace {

namespace json = boost::json;

constexpr std::size_t no_budget = std::size_t{1} << 40;

const FolderLoad& all_recordings() {
  static const FolderLoad loaded = load_folder(SSEBENCH_RECORDINGS_DIR);
  return loaded;
}

std::shared_ptr<const Recording> recording(std::string_view id) {
  for (const auto& r : all_recordings().recordings) {
    if (r->id == id) return r;
  }
  ADD_FAILURE() << "no recording " << id;
  return nullptr;
}

std::shared_ptr<const Recording> parsed(const test::TestRecording& r, const char* name) {
  auto loaded = parse_recording(test::recording_text(r), name);
  EXPECT_TRUE(loaded) << loaded.error;
  return loaded.recording;
}

// The answer a server builds from a tail.
std::string answer(const std::string& tail) {
  return R"({"id":"x","status":"s",)" + tail + "}";
}

json::object answer_object(const std::string& tail) {
  return json::parse(answer(tail)).as_object();
}

std::string unescape(const std::string& piece) {
  return std::string(json::parse("\"" + piece + "\"").as_string());
}

// The JSON payload of SSE bytes (`[event: x\n]data: P\n\n`).
json::value payload_of(std::string_view sse) {
  const auto start = sse.find("data: ") + 6;
  return json::parse(sse.substr(start, sse.rfind("\n\n") - start));
}

TEST(Representation, EveryTailReadsAsTheTextSoFar) {
  ASSERT_TRUE(all_recordings().errors.empty()) << all_recordings().errors.front();
  std::size_t checked = 0;
  for (const auto& rec : all_recordings().recordings) {
    if (rec->events.empty()) continue;
    SCOPED_TRACE(rec->id);
    const ReplayClock clock(*rec);
    const auto r = build_representation(clock, no_budget);
    const std::uint64_t total = clock.job_events();
    ASSERT_EQ(r.tails.size(), total + 1);
    ASSERT_EQ(r.delta_escaped.size(), total);
    ASSERT_EQ(r.delta_choice.size(), total);
    ASSERT_EQ(r.id_positions.size(), rec->events.size());
    EXPECT_EQ(r.object, rec->api == Api::responses ? "response" : "chat.completion");
    Transcript expected;
    for (std::uint64_t k = 0; k <= total; ++k) {
      SCOPED_TRACE(k);
      const auto obj = json::parse("{" + r.tails[k] + "}").as_object();
      EXPECT_EQ(obj.at("object"), json::value(r.object));
      EXPECT_FALSE(obj.contains("id"));  // the server writes those per job
      EXPECT_FALSE(obj.contains("status"));
      if (rec->api == Api::responses) {
        EXPECT_EQ(obj.at("background"), true);
      }
      const auto text = nonstream_transcript(rec->api, answer(r.tails[k]));
      ASSERT_TRUE(text);
      EXPECT_EQ(*text, expected);
      if (k == total) break;
      if (const auto d = delta_text(rec->api, clock.job_event(k).data()))
        expected[d->choice] += d->text;
    }
    EXPECT_EQ(*nonstream_transcript(rec->api, answer(r.tails.back())), rec->transcript());
    EXPECT_EQ(r.pending_tail, r.tails.front());
    ++checked;
  }
  EXPECT_GE(checked, 16u);  // every recording in recordings/ that has events
}

TEST(Representation, DeltaPiecesRebuildTheTranscript) {
  for (const auto& rec : all_recordings().recordings) {
    SCOPED_TRACE(rec->id);
    const ReplayClock clock(*rec);
    const auto r = build_representation(clock, no_budget);
    Transcript rebuilt;
    for (std::size_t seq = 0; seq < r.delta_escaped.size(); ++seq) {
      if (!r.delta_escaped[seq].empty())
        rebuilt[r.delta_choice[seq]] += unescape(r.delta_escaped[seq]);
      EXPECT_EQ(r.delta_choice[seq], clock.job_event(seq).choice);
    }
    EXPECT_EQ(rebuilt, rec->transcript());
    EXPECT_EQ(r.multi_choice, rec->id == "chat-gpt-4o-n3");
  }
}

TEST(Representation, ResponsesTailsFollowTheStream) {
  const auto rec = recording("responses-gpt-4o-mini-ok");
  ASSERT_TRUE(rec);
  const ReplayClock clock(*rec);
  const auto r = build_representation(clock, no_budget);
  EXPECT_EQ(r.recorded_id, "resp_sanitized_streaming");

  const auto pending = answer_object(r.pending_tail);
  EXPECT_TRUE(pending.at("output").as_array().empty());
  EXPECT_EQ(pending.at("model"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(pending.at("created_at"), 1788205738);

  // After content_part.added (seq 3): an empty output_text part; after the delta: its text.
  const auto part = [&](std::size_t k) {
    return answer_object(r.tails[k]).at("output").at(0).at("content").at(0).as_object();
  };
  EXPECT_EQ(part(4).at("text"), "");
  EXPECT_EQ(part(5).at("text"), "OK");

  // The last tail is the recorded response.completed object, background set, id/status left out.
  auto completed = payload_of(rec->events.back().bytes).at("response").as_object();
  completed.erase("id");
  completed.erase("status");
  completed["background"] = true;
  auto last = answer_object(r.tails.back());
  last.erase("id");
  last.erase("status");
  EXPECT_EQ(last, completed);
}

TEST(Representation, ResponsesObjectKeepsItsRecordedBytes) {
  const auto rec = recording("responses-gpt-5.1-codex-max-4");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  // Re-serializing would write 9.85E-1: the recorded members are kept as text.
  for (const auto& tail : {r.pending_tail, r.tails[5], r.tails.back()})
    EXPECT_NE(tail.find(R"("top_p":0.985,)"), std::string::npos) << tail;
  // The last tail is the recorded response.completed text but for id, status and background.
  const std::string data(rec->events.back().data());
  const std::string output = data.substr(data.find(R"("output":)"));
  EXPECT_NE(r.tails.back().find(output.substr(0, output.find(R"(,"parallel_tool_calls")"))),
            std::string::npos);
}

TEST(Representation, ResponsesReasoningAndFunctionCall) {
  const auto rec = recording("responses-gpt-5.1-codex-max-1");
  ASSERT_TRUE(rec);
  const ReplayClock clock(*rec);
  const auto r = build_representation(clock, no_budget);
  // seq 8 is the fifth summary delta: "**Calcul" "ating" " step" "-by" "-step".
  const auto mid = answer_object(r.tails[9]);
  EXPECT_EQ(mid.at("output").at(0).at("summary").at(0).at("text"), "**Calculating step-by-step");
  // seq 45 is the sixth arguments delta.
  const auto args = answer_object(r.tails[46]);
  EXPECT_EQ(args.at("output").at(1).at("arguments"), R"({"a":12,"b)");
  EXPECT_EQ(args.at("output").at(1).at("name"), "calculator");
}

TEST(Representation, ChatAccumulatesChoicesToolCallsUsageAndErrors) {
  {
    const auto rec = recording("chat-gpt-4o-parallel-tools");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    const auto pending = answer_object(r.pending_tail);
    EXPECT_EQ(pending.at("created"), 1727346178);
    EXPECT_EQ(pending.at("model"), "gpt-4o-2024-08-06");
    EXPECT_TRUE(pending.at("choices").as_array().empty());
    EXPECT_FALSE(pending.contains("system_fingerprint"));  // not seen before the first chunk

    const auto last = answer_object(r.tails.back());
    EXPECT_EQ(last.at("system_fingerprint"), "fp_5050236cbd");
    const auto& choice = last.at("choices").at(0).as_object();
    EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
    EXPECT_TRUE(choice.at("logprobs").is_null());
    const auto& message = choice.at("message").as_object();
    EXPECT_EQ(message.at("role"), "assistant");
    const auto& calls = message.at("tool_calls").as_array();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].at("id"), "call_DNYTawLBoN8fj3KN6qU9N1Ou");
    EXPECT_EQ(calls[1].at("type"), "function");
    EXPECT_EQ(calls[1].at("function").at("name"), "get_stock_price");
    EXPECT_TRUE(json::parse(calls[1].at("function").at("arguments").as_string()).is_object());
    EXPECT_EQ(last.at("usage").at("completion_tokens"), 60);
  }
  {
    const auto rec = recording("chat-gpt-4o-n3");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    const auto last = answer_object(r.tails.back());
    const auto& choices = last.at("choices").as_array();
    ASSERT_EQ(choices.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(choices[i].at("index"), i);
      EXPECT_EQ(choices[i].at("finish_reason"), "stop");
      EXPECT_TRUE(choices[i].at("message").at("refusal").is_null());
    }
  }
  {
    const auto rec = recording("chat-gpt-4o-refusal");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    const auto last = answer_object(r.tails.back());
    const auto& message = last.at("choices").at(0).at("message");
    EXPECT_TRUE(message.at("refusal").is_string());
    EXPECT_FALSE(message.as_object().contains("tool_calls"));
  }
  {
    const auto rec = recording("chat-gpt-4o-json-error-midstream");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    EXPECT_FALSE(answer_object(r.tails[r.tails.size() - 2]).contains("error"));
    EXPECT_EQ(answer_object(r.tails.back()).at("error").at("type"), "server_error");
  }
}

TEST(Representation, WithJobIdReplacesTheRecordedIdOnly) {
  for (const char* id : {"responses-gpt-4o-mini-ok", "responses-gpt-5-nano-error-midstream",
                         "chat-gpt-4o-json", "chat-gpt-4o-json-error-midstream"}) {
    SCOPED_TRACE(id);
    const auto rec = recording(id);
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    ASSERT_FALSE(r.recorded_id.empty());
    const std::string job = "resp_bg_7";
    std::size_t replaced = 0;
    for (std::size_t i = 0; i < rec->events.size(); ++i) {
      const Event& e = rec->events[i];
      const std::string out = with_job_id(r, *rec, i, job);
      EXPECT_EQ(out.find(r.recorded_id), std::string::npos);
      // Swapping the id (and a Responses object's background flag) back gives the recorded
      // bytes: nothing else was touched.
      std::string back = out;
      for (auto p = back.find(job); p != std::string::npos; p = back.find(job, p))
        back.replace(p, job.size(), r.recorded_id);
      if (rec->api == Api::responses && !r.id_positions[i].empty()) {
        const auto p = back.find(R"("background":true)");
        if (p != std::string::npos && e.bytes.find(R"("background":false)") != std::string::npos)
          back.replace(p, std::string_view(R"("background":true)").size(), R"("background":false)");
      }
      EXPECT_EQ(back, e.bytes);
      if (e.is_done()) continue;
      const auto payload = payload_of(out).as_object();
      if (rec->api == Api::chat_completions && payload.contains("id")) {
        EXPECT_EQ(payload.at("id"), json::value(job));
        ++replaced;
      }
      if (payload.contains("response")) {
        EXPECT_EQ(payload.at("response").at("id"), json::value(job));
        if (payload.at("response").as_object().contains("background")) {
          EXPECT_EQ(payload.at("response").at("background"), true);  // as the job's polls say
        }
        ++replaced;
      }
    }
    EXPECT_GE(replaced, 2u);
  }
  // responses-gpt-4o-mini-ok: exactly created, in_progress and completed carry the id.
  const auto rec = recording("responses-gpt-4o-mini-ok");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  std::size_t events_with_id = 0;
  for (const auto& p : r.id_positions) events_with_id += p.empty() ? 0 : 1;
  EXPECT_EQ(events_with_id, 3u);
}

TEST(Representation, IdInKeysIsNotReplaced) {
  test::TestRecording t;
  t.api = "responses";
  const std::string created =
      R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_x","object":"response","status":"in_progress","model":"gpt-test","output":[],"metadata":{"resp_x":"resp_x","note":"\\resp_x"}}})";
  t.events = {{1000, "response.created", created, "response.created"}};
  const auto rec = parsed(t, "keys.jsonl");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  EXPECT_EQ(r.id_positions[0].size(), 3u);  // response.id, the metadata value, the note
  const auto out = payload_of(with_job_id(r, *rec, 0, "resp_bg_1")).at("response");
  EXPECT_EQ(out.at("id"), "resp_bg_1");
  EXPECT_EQ(out.at("metadata").at("resp_x"), "resp_bg_1");
  EXPECT_EQ(out.at("metadata").at("note"), "\\resp_bg_1");
}

TEST(Representation, InputItems) {
  {
    const auto rec = recording("responses-gpt-5.1-codex-max-2");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    const auto list = json::parse("{" + r.input_items + "}").as_object();
    const auto recorded = json::parse(rec->request.body).at("input").as_array();
    const auto& data = list.at("data").as_array();
    ASSERT_EQ(data.size(), recorded.size());
    ASSERT_GE(data.size(), 2u);
    EXPECT_EQ(data[0].at("id"), "msg_in_0");
    EXPECT_EQ(data[0].at("type"), "message");
    EXPECT_EQ(data[0].at("role"), "user");
    EXPECT_EQ(data[0].at("content"), recorded[0].at("content"));
    EXPECT_EQ(data[1], recorded[1]);  // the reasoning item keeps its own id
    EXPECT_EQ(list.at("first_id"), "msg_in_0");
    EXPECT_EQ(list.at("last_id"), data.back().at("id"));
    EXPECT_EQ(list.at("has_more"), false);
    EXPECT_EQ(list.at("object"), "list");
  }
  {
    test::TestRecording t;
    t.api = "responses";
    t.request_body = R"({"model":"gpt-test","input":"Say \"hi\"","stream":true})";
    t.events = {{1000, "response.created",
                 R"({"type":"response.created","response":{"id":"resp_s","output":[]}})",
                 "response.created"}};
    const auto rec = parsed(t, "string-input.jsonl");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    EXPECT_EQ(r.input_items,
              R"("object":"list","data":[{"id":"msg_in_0","type":"message","role":"user",)"
              R"("content":[{"type":"input_text","text":"Say \"hi\""}]}],"first_id":"msg_in_0",)"
              R"("last_id":"msg_in_0","has_more":false)");
  }
  {
    const auto rec = recording("chat-gpt-4o-json");
    ASSERT_TRUE(rec);
    const auto r = build_representation(ReplayClock(*rec), no_budget);
    EXPECT_EQ(r.input_items,
              R"("object":"list","data":[],"first_id":null,"last_id":null,"has_more":false)");
  }
}

TEST(Representation, BudgetFailsFastNamingTheRecording) {
  const auto rec = recording("chat-gpt-4o-mini-long");
  ASSERT_TRUE(rec);
  const ReplayClock clock(*rec);
  try {
    build_representation(clock, 10'000);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("chat-gpt-4o-mini-long"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  const auto r = build_representation(clock, no_budget);
  EXPECT_THROW(build_representation(clock, r.bytes() - 1), std::runtime_error);
  EXPECT_EQ(build_representation(clock, r.bytes()).bytes(), r.bytes());
  RecordProperty("bytes", std::to_string(r.bytes()));
}

TEST(Representation, EmptyRecordingHasOnePendingTail) {
  const auto rec = recording("chat-gpt-4.1-nano-nonstream");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  ASSERT_EQ(r.tails.size(), 1u);
  EXPECT_EQ(
      r.pending_tail,
      R"("object":"chat.completion","created":0,"model":"gpt-4.1-nano-2025-04-14","choices":[])");
  EXPECT_TRUE(r.recorded_id.empty());
}

TEST(Representation, ResponsesWithoutCreatedStartFromAMinimalObject) {
  test::TestRecording t;
  t.api = "responses";
  t.events = {{1, "error", R"({"type":"error","error":{"message":"boom"}})", "error"}};
  const auto rec = parsed(t, "no-created.jsonl");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  EXPECT_EQ(
      r.pending_tail,
      R"("object":"response","created_at":0,"model":"gpt-test","output":[],"background":true)");
  EXPECT_EQ(r.tails.back(), r.pending_tail);
  EXPECT_TRUE(r.recorded_id.empty());
  EXPECT_EQ(with_job_id(r, *rec, 0, "resp_bg_1"), rec->events[0].bytes);
}

TEST(Representation, MalformedResponsesEventsLeaveTheSnapshot) {
  test::TestRecording t;
  t.api = "responses";
  auto ev = [&](std::int64_t us, const std::string& type, const std::string& rest) {
    t.events.emplace_back(us, type, R"({"type":")" + type + "\"" + rest + "}", type);
  };
  ev(1, "response.created",
     R"(,"response":{"id":"resp_m","object":"response","model":"gpt-test","output":[]})");
  ev(2, "response.output_item.added",
     R"(,"output_index":0,"item":{"id":"msg_1","type":"message","content":[]})");
  // in_progress without output keeps the item built so far.
  ev(3, "response.in_progress",
     R"(,"response":{"id":"resp_m","object":"response","model":"gpt-test","output":[]})");
  const std::size_t first_bad = t.events.size();
  ev(4, "response.output_item.added", R"(,"output_index":1)");  // no item
  ev(5, "response.content_part.added", R"(,"output_index":7,"content_index":0,"part":{})");
  ev(6, "response.content_part.added", R"(,"content_index":0,"part":{"type":"output_text"})");
  ev(7, "response.output_text.delta", R"(,"content_index":0,"delta":"x")");  // no output_index
  ev(8, "response.output_text.delta", R"(,"output_index":0,"content_index":3,"delta":"x")");
  ev(9, "response.function_call_arguments.delta", R"(,"output_index":-1,"delta":"x")");
  ev(10, "response.reasoning_summary_text.delta",
     R"(,"output_index":0,"summary_index":0,"delta":"x")");
  ev(11, "response.output_text.done", R"(,"output_index":0,"content_index":0,"text":5)");
  ev(12, "response.completed", R"(,"response":"gone")");
  ev(13, "response.completed", "");
  ev(14, "response.something_new", R"(,"output_index":0)");
  ev(15, "error", R"(,"error":{"message":"boom"})");
  const auto rec = parsed(t, "malformed.jsonl");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  ASSERT_EQ(r.tails.size(), t.events.size() + 1);
  const auto kept = answer_object(r.tails[first_bad]);
  EXPECT_EQ(kept.at("output").at(0).at("id"), "msg_1");
  for (std::size_t k = first_bad; k < r.tails.size(); ++k)
    EXPECT_EQ(r.tails[k], r.tails[first_bad]);
}

TEST(Representation, MalformedChatChunksLeaveTheSnapshot) {
  test::TestRecording t;
  t.events = {{1, "role", test::chat_chunk("")},
              {2, "content", test::chat_chunk("Hi")},
              {3, "finish", R"({"id":"chatcmpl-test","choices":"oops"})"},
              {4, "finish", R"({"id":"chatcmpl-test","choices":[1,null]})"},
              {5, "finish",
               R"({"id":"chatcmpl-test","choices":[{"index":0,"delta":{"tool_calls":"no"}}]})"},
              {6, "finish", R"({})"},
              {7, "finish", R"([1,2])"},
              {8, "usage", R"({"id":"chatcmpl-test","choices":[],"usage":null})"}};
  const auto rec = parsed(t, "malformed-chat.jsonl");
  ASSERT_TRUE(rec);
  const auto r = build_representation(ReplayClock(*rec), no_budget);
  EXPECT_EQ(r.pending_tail,
            R"("object":"chat.completion","created":1,"model":"gpt-test","choices":[])");
  EXPECT_EQ(r.tails[2],
            R"("object":"chat.completion","created":1,"model":"gpt-test","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hi","refusal":null},"logprobs":null,)"
            R"("finish_reason":null}])");
  for (std::size_t k = 3; k < r.tails.size(); ++k) EXPECT_EQ(r.tails[k], r.tails[2]) << k;
}

}  // namespace
}  // namespace ssebench::server
