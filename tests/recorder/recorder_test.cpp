// The recorder's pieces in memory: the request it builds, how it cuts events, the kinds it
// names, what it redacts, and the recordings it builds from a capture.
#include "ssebench/recorder/recorder.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <random>

namespace ssebench::recorder {
namespace {

namespace json = boost::json;
using std::chrono::microseconds;

// ---- the event splitter -----------------------------------------------------------------------

TEST(EventSplitter, KeepsExactBytesAcrossReadsWithTheReadThatEndedEachEvent) {
  EventSplitter s;
  ASSERT_TRUE(s.feed("data: {\"a\":1}\n\ndata: {\"b\"", microseconds(10), 0));
  ASSERT_TRUE(s.feed(":2}\n", microseconds(20), 1));
  ASSERT_TRUE(s.feed("\nevent: x\ndata: 3\n\ndata: [DONE]\n\n", microseconds(30), 2));
  ASSERT_EQ(s.events().size(), 4u);
  EXPECT_EQ(s.events()[0].bytes, "data: {\"a\":1}\n\n");
  EXPECT_EQ(s.events()[0].offset, microseconds(10));
  EXPECT_EQ(s.events()[0].read, 0u);
  EXPECT_EQ(s.events()[1].bytes, "data: {\"b\":2}\n\n");  // split over reads 0, 1 and 2
  EXPECT_EQ(s.events()[1].read, 2u);
  EXPECT_EQ(s.events()[1].offset, microseconds(30));
  EXPECT_EQ(s.events()[2].bytes, "event: x\ndata: 3\n\n");
  EXPECT_EQ(s.events()[3].bytes, "data: [DONE]\n\n");
  EXPECT_EQ(s.pending(), 0u);
}

TEST(EventSplitter, DropsCommentBlocksAndCountsThem) {
  EventSplitter s;
  ASSERT_TRUE(s.feed(": keep-alive\n\ndata: 1\n\n: ping\n: pong\n\n", microseconds(1), 0));
  ASSERT_EQ(s.events().size(), 1u);
  EXPECT_EQ(s.events()[0].bytes, "data: 1\n\n");
  EXPECT_EQ(s.dropped_comments(), 2u);
}

TEST(EventSplitter, ACarriageReturnIsAnError) {
  EventSplitter s;
  ASSERT_TRUE(s.feed("data: 1\n\n", microseconds(1), 0));
  EXPECT_FALSE(s.feed("data: 2\r\n\r\n", microseconds(2), 1));
  EXPECT_EQ(s.error(),
            "invalid SSE: CR line end at byte 16 of the body (a recording holds LF line ends, as "
            "OpenAI sends)");
}

TEST(EventSplitter, AnUnfinishedEventIsPending) {
  EventSplitter s;
  ASSERT_TRUE(s.feed("data: 1\n\ndata: 2\n", microseconds(1), 0));
  EXPECT_EQ(s.events().size(), 1u);
  EXPECT_EQ(s.pending(), 8u);
}

// ---- kinds and redaction ----------------------------------------------------------------------

TEST(ChatKind, NamesEveryChunkAsTheLoaderExpects) {
  EXPECT_EQ(chat_kind(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"),
            "role");
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{"role":"assistant","content":"Hi"}}]})"), "content");
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{"refusal":"No"}}]})"), "refusal");
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c"}]}}]})"),
            "tool_args");
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"), "finish");
  // Text and a finish reason in one chunk (llama.cpp, vLLM): the text decides.
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{"content":"."},"finish_reason":"stop"}]})"),
            "content");
  EXPECT_EQ(chat_kind(R"({"choices":[],"usage":{"completion_tokens":3}})"), "usage");
  EXPECT_EQ(chat_kind(R"({"error":{"message":"boom"}})"), "error");
  EXPECT_EQ(chat_kind(R"({"choices":[{"delta":{}}]})"), "content");  // no text: not counted
}

TEST(Redact, ReplacesSecretsAndCookiesAndNamesThem) {
  std::vector<std::string> redacted;
  const auto out = redact({{"Content-Type", "text/event-stream"},
                           {"Set-Cookie", "a=1"},
                           {"set-cookie", "b=2"},
                           {"OpenAI-Organization", "org-x"},
                           {"x-request-id", "req_1"},
                           {"X-Custom", "v"}},
                          {"x-custom"}, redacted);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].value, "text/event-stream");
  EXPECT_EQ(out[1].value, "[redacted]");
  EXPECT_EQ(out[2].value, "[redacted]");
  EXPECT_EQ(out[3].value, "[redacted]");
  EXPECT_EQ(out[4].value, "req_1");  // a request id is no secret (support asks for it)
  EXPECT_EQ(out[5].value, "[redacted]");
  EXPECT_EQ(out[1].name, "Set-Cookie");  // names, order and duplicates kept
  EXPECT_EQ(redacted, (std::vector<std::string>{"set-cookie", "openai-organization", "x-custom"}));
}

// ---- the request ------------------------------------------------------------------------------

Config flags_config() {
  Config c;
  c.base_url = "http://127.0.0.1:8000/v1/";
  c.model = "gpt-4o-mini";
  c.prompt = "Say hi";
  c.out = "x.jsonl";
  return c;
}

TEST(BuildRequest, FromFlagsChatStreamsWithUsage) {
  const auto r = std::get<RequestSpec>(build_request(flags_config()));
  EXPECT_EQ(r.url, "http://127.0.0.1:8000/v1/chat/completions");
  EXPECT_EQ(r.path, "/v1/chat/completions");
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.body, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],)"
                    R"("stream":true,"stream_options":{"include_usage":true}})");
}

TEST(BuildRequest, FromFlagsResponsesAndNoStream) {
  Config c = flags_config();
  c.api = Api::responses;
  c.stream = false;
  const auto r = std::get<RequestSpec>(build_request(c));
  EXPECT_EQ(r.url, "http://127.0.0.1:8000/v1/responses");
  EXPECT_EQ(r.path, "/v1/responses");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.body, R"({"model":"gpt-4o-mini","input":"Say hi","stream":false})");
}

class BodyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ssebench-recorder-body-" + std::to_string(rd()) + ".json");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  Config with(std::string_view text) {
    std::ofstream(path_, std::ios::binary) << text;
    Config c;
    c.base_url = "http://127.0.0.1:1/v1";
    c.body_file = path_;
    c.out = "x.jsonl";
    return c;
  }
  std::filesystem::path path_;
};

TEST_F(BodyFile, IsSentByteForByteUnlessAFlagChangesIt) {
  const std::string body = R"({"stream": true, "model": "m", "messages": []})";
  const auto r = std::get<RequestSpec>(build_request(with(body + "\n")));
  EXPECT_EQ(r.body, body);  // the trailing newline is not sent
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.model, "m");
  Config c = with(body);
  c.model = "other";
  c.stream = false;
  const auto changed = std::get<RequestSpec>(build_request(c));
  EXPECT_EQ(changed.body, R"({"stream":false,"model":"other","messages":[]})");
  EXPECT_FALSE(changed.stream);
}

TEST_F(BodyFile, WithoutStreamItIsNotStreamed) {
  EXPECT_FALSE(std::get<RequestSpec>(build_request(with(R"({"model":"m"})"))).stream);
}

TEST_F(BodyFile, BadBodiesAreOneLine) {
  EXPECT_EQ(std::get<std::string>(build_request(with("[1]"))),
            path_.string() + ": not a JSON object");
  EXPECT_EQ(std::get<std::string>(build_request(with(R"({"stream":true})"))),
            "the request body has no model (give --model)");
  EXPECT_EQ(std::get<std::string>(build_request(with(R"({"model":"m","stream":"yes"})"))),
            path_.string() + ": \"stream\" is not a boolean");
}

// ---- the recording ----------------------------------------------------------------------------

RequestSpec chat_request() {
  RequestSpec r;
  r.url = "https://user:pw@api.example.com:8443/v1/chat/completions?key=k";
  r.shown_url = "https://api.example.com:8443/v1/chat/completions";
  r.path = "/v1/chat/completions";
  r.body = R"({"model":"gpt-x","stream":true})";
  r.model = "gpt-x";
  return r;
}

std::string chunk(std::string_view delta, std::string_view finish = "null") {
  return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-1\","
         "\"choices\":[{\"index\":0,\"delta\":" +
         std::string(delta) + ",\"finish_reason\":" + std::string(finish) + "}]}\n\n";
}

Capture chat_capture() {
  Capture c;
  c.status = 200;
  c.headers = {{"Content-Type", "text/event-stream; charset=utf-8"}, {"Set-Cookie", "s=1"}};
  c.headers_offset = microseconds(100);
  c.events = {{chunk(R"({"role":"assistant","content":""})"), microseconds(150), 0},
              {chunk(R"({"content":"Hi"})"), microseconds(150), 0},
              {chunk("{}", "\"stop\""), microseconds(300), 1},
              {"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-1\","
               "\"choices\":[],\"usage\":{\"completion_tokens\":1}}\n\n",
               microseconds(310), 2},
              {"data: [DONE]\n\n", microseconds(310), 2}};
  c.reads = 3;
  c.date = "2026-12-02T15:00:00Z";
  return c;
}

const Recording& load(const std::variant<Built, Failure>& built, LoadResult& holder) {
  EXPECT_TRUE(std::holds_alternative<Built>(built)) << std::get<Failure>(built).message;
  holder = parse_recording(std::get<Built>(built).text, "x.jsonl");
  EXPECT_TRUE(holder) << holder.error;
  return *holder.recording;
}

TEST(BuildRecording, AStreamKeepsBytesOffsetsReadsAndRedactsHeaders) {
  LoadResult holder;
  const auto built =
      build_recording(chat_capture(), chat_request(), Config{}, std::nullopt, "x.jsonl");
  const Recording& rec = load(built, holder);
  EXPECT_EQ(rec.model, "gpt-x-1");  // the model the chunks name
  ASSERT_EQ(rec.events.size(), 5u);
  EXPECT_EQ(rec.events[1].bytes, chunk(R"({"content":"Hi"})"));
  EXPECT_EQ(rec.events[1].kind, "content");
  EXPECT_EQ(rec.events[2].kind, "finish");
  EXPECT_EQ(rec.events[3].kind, "usage");
  EXPECT_EQ(rec.events[4].kind, "done");
  EXPECT_EQ(rec.events[2].offset, microseconds(300));
  EXPECT_EQ(rec.events[2].read, 1u);
  EXPECT_EQ(rec.response.headers_offset, microseconds(100));
  EXPECT_EQ(rec.response.headers[1].value, "[redacted]");
  EXPECT_EQ(rec.completion_tokens, 1u);
  EXPECT_EQ(rec.request.body, R"({"model":"gpt-x","stream":true})");
  const auto p = json::parse(rec.provenance.json).as_object();
  EXPECT_EQ(p.at("source"), "recorded");
  EXPECT_EQ(p.at("timing"), json::value(json::object{{"kind", "recorded"}}));
  EXPECT_EQ(p.at("host"), "api.example.com:8443");
  EXPECT_EQ(p.at("url"), "https://api.example.com:8443/v1/chat/completions");  // no user, query
  EXPECT_EQ(p.at("date"), "2026-12-02T15:00:00Z");
  EXPECT_EQ(p.at("redacted"), json::value(json::array{"set-cookie"}));
  EXPECT_TRUE(std::string(p.at("client").as_string()).starts_with("ssebench-record/"));
  EXPECT_EQ(std::get<Built>(built).summary, "5 events, 1 content, 3 reads, 0.000 s");
}

TEST(BuildRecording, AStreamWithoutDoneIsAFailureUnlessItEndsInAnErrorAndErrorsAreKept) {
  Capture c = chat_capture();
  c.events.pop_back();
  auto f = std::get<Failure>(build_recording(c, chat_request(), Config{}, std::nullopt, "x.jsonl"));
  EXPECT_EQ(f.message, "the stream ended without data: [DONE] after 4 events");
  EXPECT_FALSE(f.keepable);
  c.events.back() = {"data: {\"error\":{\"message\":\"boom\"}}\n\n", microseconds(310), 2};
  f = std::get<Failure>(build_recording(c, chat_request(), Config{}, std::nullopt, "x.jsonl"));
  EXPECT_EQ(f.message,
            "the stream ended without data: [DONE] after 4 events (its last event is an error)");
  EXPECT_TRUE(f.keepable);
  Config keep;
  keep.keep_errors = true;
  LoadResult holder;
  const auto built = build_recording(c, chat_request(), keep, std::nullopt, "x.jsonl");
  EXPECT_TRUE(load(built, holder).ends_in_error);
  EXPECT_TRUE(std::get<Built>(built).error_recording);
}

TEST(BuildRecording, InvalidSseIsTheLoadersMessageForThatEvent) {
  Capture c = chat_capture();
  c.events[1].bytes = "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]\n\n";
  const auto f =
      std::get<Failure>(build_recording(c, chat_request(), Config{}, std::nullopt, "out/x.jsonl"));
  EXPECT_TRUE(f.message.starts_with(
      "the answer does not make a valid recording: event 2: payload is not JSON"))
      << f.message;
}

TEST(BuildRecording, ANonSuccessIsAFailureOrAnErrorRecordingWithoutTheKey) {
  Capture c;
  c.status = 401;
  c.headers = {{"content-type", "application/json"}};
  c.body = R"({"error":{"message":"Incorrect API key provided: sk-secret-key-123.","type":"x"}})";
  c.body_offset = microseconds(900);
  auto f = std::get<Failure>(
      build_recording(c, chat_request(), Config{}, std::nullopt, "x.jsonl", "sk-secret-key-123"));
  EXPECT_EQ(f.message,
            "HTTP 401 from https://api.example.com:8443/v1/chat/completions: "
            "Incorrect API key provided: sk-secret-key-123.");
  EXPECT_TRUE(f.keepable);
  f = std::get<Failure>(build_recording(c, chat_request(), Config{}, std::nullopt, "x.jsonl"));
  EXPECT_TRUE(f.message.ends_with("(no API key sent: $OPENAI_API_KEY is not set)")) << f.message;
  Config keep;
  keep.keep_errors = true;
  LoadResult holder;
  const auto built =
      build_recording(c, chat_request(), keep, std::nullopt, "x.jsonl", "sk-secret-key-123");
  const Recording& rec = load(built, holder);
  EXPECT_TRUE(rec.events.empty());
  ASSERT_TRUE(rec.nonstream);
  EXPECT_EQ(rec.nonstream->status, 401);
  EXPECT_EQ(rec.nonstream->offset, microseconds(900));
  EXPECT_EQ(std::get<Built>(built).text.find("sk-secret-key-123"), std::string::npos);
  EXPECT_NE(rec.nonstream->body.find("[redacted]"), std::string::npos);
}

TEST(BuildRecording, ASetMemberSaysWhichRun) {
  LoadResult holder;
  const Recording& rec = load(build_recording(chat_capture(), chat_request(), Config{},
                                              RecordingSet{"chat-x", 2, 3}, "chat-x.2.jsonl"),
                              holder);
  ASSERT_TRUE(rec.set);
  EXPECT_EQ(rec.set->id, "chat-x");
  EXPECT_EQ(rec.set->index, 2u);
  EXPECT_EQ(rec.set->of, 3u);
}

// ---- options ----------------------------------------------------------------------------------

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ssebench-record");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseArgs, NeedsAUrlAnOutputAndABody) {
  EXPECT_EQ(parse({"--out", "x.jsonl", "--model", "m", "--prompt", "p"}).message,
            "ssebench-record: --base-url is required (see --help)");
  EXPECT_EQ(parse({"--base-url", "http://h/v1", "--model", "m", "--prompt", "p"}).message,
            "ssebench-record: --out is required (see --help)");
  EXPECT_EQ(parse({"--base-url", "http://h/v1", "--out", "x.jsonl"}).message,
            "ssebench-record: give --body-file, or --model and --prompt (see --help)");
  EXPECT_EQ(parse({"--base-url", "u", "--out", "x.json", "--model", "m", "--prompt", "p"}).message,
            "ssebench-record: bad value 'x.json' for --out: a FILE.jsonl path (see --help)");
  EXPECT_EQ(parse({"--repeat", "0"}).message,
            "ssebench-record: bad value '0' for --repeat: a whole number from 1 to 10000 "
            "(see --help)");
  EXPECT_EQ(parse({"--header", "no colon"}).message,
            "ssebench-record: bad value 'no colon' for --header: 'NAME: VALUE' on one line "
            "(see --help)");
  EXPECT_EQ(parse({"--api=completions"}).message,
            "ssebench-record: bad value 'completions' for --api: chat or responses (see --help)");
  EXPECT_EQ(parse({"--timeout-ms=86400001"}).exit_code, 2);  // over a day
  EXPECT_EQ(parse({"--base-urll=x"}).message,
            "ssebench-record: unknown flag --base-urll (did you mean --base-url?) (see --help)");
  EXPECT_EQ(parse({"--stream", "--no-stream"}).message,
            "ssebench-record: --stream and --no-stream: give one (see --help)");
}

TEST(ParseArgs, TakesEveryOption) {
  const auto p = parse({"--base-url",
                        "http://h:1/v1",
                        "--api",
                        "responses",
                        "--model",
                        "m",
                        "--prompt",
                        "p",
                        "--no-stream",
                        "--out",
                        "d/x.jsonl",
                        "--repeat",
                        "3",
                        "--pause-ms",
                        "5",
                        "--keep-errors",
                        "--header",
                        "x-ssebench-speed: 4",
                        "--redact-header",
                        "x-a",
                        "--api-key-env",
                        "MY_KEY",
                        "--timeout-ms",
                        "100",
                        "--connect-timeout-ms",
                        "50"});
  ASSERT_TRUE(p.config) << p.message;
  const Config& c = *p.config;
  EXPECT_EQ(c.api, Api::responses);
  EXPECT_EQ(c.stream, false);
  EXPECT_EQ(c.repeat, 3u);
  EXPECT_EQ(c.pause_ms, 5u);
  EXPECT_TRUE(c.keep_errors);
  EXPECT_EQ(c.headers, (std::vector<std::string>{"x-ssebench-speed: 4"}));
  EXPECT_EQ(c.redact_headers, (std::vector<std::string>{"x-a"}));
  EXPECT_EQ(c.api_key_env, "MY_KEY");
  EXPECT_EQ(c.timeout_ms, 100u);
  EXPECT_EQ(c.connect_timeout_ms, 50u);
}

TEST(ParseArgs, EqualsAndSpaceFormsAlike) {
  const auto p = parse({"--base-url=http://h:1/v1", "--out=x.jsonl", "--model", "m", "--prompt=a b",
                        "--header=x-a: 1", "--header", "x-b: 2"});
  ASSERT_TRUE(p.config) << p.message;
  EXPECT_EQ(p.config->base_url, "http://h:1/v1");
  EXPECT_EQ(p.config->prompt, "a b");
  EXPECT_EQ(p.config->headers, (std::vector<std::string>{"x-a: 1", "x-b: 2"}));
}

TEST(ParseArgs, HelpPrintsTheDefaults) {
  const auto p = parse({"--help"});
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(p.message.find("(default OPENAI_API_KEY"), std::string::npos);
}

}  // namespace
}  // namespace ssebench::recorder
