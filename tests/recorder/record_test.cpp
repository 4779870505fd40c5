// ssebench-record end to end: it records the project's own server replaying real recordings
// (and a canned server for answers ours never gives), then the new recordings are loaded and
// compared with the originals. Bad input: one line on stderr, exit 1, no file.
#include "ssebench/recorder/recorder.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "../temp_dir.hpp"
#include "ssebench/bench/server.hpp"

namespace ssebench::recorder {
namespace {

namespace json = boost::json;
using std::chrono::microseconds;

/** Replays are four times faster than recorded: the tests stay fast. */
constexpr double test_speed = 4;
/** How much later than scheduled (offset / speed) a recorded event may arrive on a loaded test
 *  machine running a debug or sanitizer build (the asan pass saw 30.5 ms); it may not arrive
 *  earlier (the client's clock starts first). */
constexpr microseconds late_tolerance{100'000};
constexpr microseconds early_tolerance{1'000};

class ServerEnv : public ::testing::Environment {
 public:
  static inline std::unique_ptr<bench::ServerProcess> server;
  void SetUp() override {
    server = std::make_unique<bench::ServerProcess>(
        SSEBENCH_MOCK_SERVER, std::vector<std::string>{"--recordings", SSEBENCH_RECORDINGS_DIR});
  }
  void TearDown() override { server.reset(); }
};
const auto* const env = ::testing::AddGlobalTestEnvironment(new ServerEnv);

using ssebench::test::TempDir;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::stringstream s(err);
    for (std::string line; std::getline(s, line);) lines.push_back(line);
    return lines;
  }
};

/** Runs the built ssebench-record with `args` (and `env_vars` assignments before it). */
ToolRun record_with(const std::vector<std::string>& args, const std::string& env_vars = {}) {
  TempDir io;
  std::string cmd = env_vars + " " + quoted(SSEBENCH_RECORD_BIN);
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " >" + quoted((io.path() / "out").string()) + " 2>" + quoted((io.path() / "err").string());
  const int status = std::system(cmd.c_str());
  ToolRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(io.path() / "out");
  r.err = slurp(io.path() / "err");
  return r;
}

std::shared_ptr<const Recording> original(const std::string& id) {
  const auto r = load_recording(std::filesystem::path(SSEBENCH_RECORDINGS_DIR) / (id + ".jsonl"));
  EXPECT_TRUE(r) << r.error;
  return r.recording;
}

/** The original's request body naming the recording by id (what the harness sends). */
std::filesystem::path body_file(const TempDir& dir, const Recording& rec, bool stream) {
  json::object body = json::parse(rec.request.body).as_object();
  body["model"] = rec.id;
  body["stream"] = stream;
  if (!stream) body.erase("stream_options");
  const auto path = dir.path() / "body.json";
  std::ofstream(path, std::ios::binary) << json::serialize(body);
  return path;
}

std::vector<std::string> base_args(const std::filesystem::path& body, const std::string& api,
                                   const std::filesystem::path& out) {
  return {"--base-url",  ServerEnv::server->url() + "/v1",
          "--api",       api,
          "--body-file", body.string(),
          "--out",       out.string(),
          "--header",    "x-ssebench-speed: " + std::to_string(test_speed)};
}

std::shared_ptr<const Recording> load_ok(const std::filesystem::path& p) {
  const auto r = load_recording(p);
  EXPECT_TRUE(r) << r.error;
  return r.recording;
}

/** Every event's bytes and kind equal the original's; each offset is where the server put it. */
void expect_same_stream(const Recording& got, const Recording& want, double speed) {
  ASSERT_EQ(got.events.size(), want.events.size());
  for (std::size_t i = 0; i < want.events.size(); ++i) {
    EXPECT_EQ(got.events[i].bytes, want.events[i].bytes) << "event " << i;
    EXPECT_EQ(got.events[i].kind, want.events[i].kind) << "event " << i;
    ASSERT_TRUE(got.events[i].read) << "event " << i;
    const auto scheduled = microseconds(
        static_cast<std::int64_t>(static_cast<double>(want.events[i].offset.count()) / speed));
    EXPECT_GE(got.events[i].offset, scheduled - early_tolerance) << "event " << i;
    EXPECT_LE(got.events[i].offset, scheduled + late_tolerance) << "event " << i;
  }
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.api, want.api);
  EXPECT_EQ(got.completion_tokens, want.completion_tokens);
  EXPECT_EQ(got.provenance.source, "recorded");
  EXPECT_EQ(got.provenance.timing, "recorded");
}

TEST(Record, AChatStreamByteForByteAtItsPace) {
  TempDir dir;
  const auto want = original("chat-gpt-4o-mini-text");
  const auto out = dir.path() / "chat.jsonl";
  const ToolRun r = record_with(base_args(body_file(dir, *want, true), "chat", out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("wrote " + out.string() + " (12 events, 8 content, ")) << r.out;
  const auto got = load_ok(out);
  ASSERT_TRUE(got);
  expect_same_stream(*got, *want, test_speed);
  // The recorded headers the server replays, in order (it adds its own after them).
  std::vector<std::pair<std::string, std::string>> got_headers, want_headers;
  for (const auto& h : got->response.headers) got_headers.emplace_back(h.name, h.value);
  for (const auto& h : want->response.headers)
    if (h.name != "connection" && h.name != "transfer-encoding")
      want_headers.emplace_back(h.name, h.value);
  ASSERT_GE(got_headers.size(), want_headers.size());
  EXPECT_TRUE(std::equal(want_headers.begin(), want_headers.end(), got_headers.begin()));
  EXPECT_EQ(got->request.path, "/v1/chat/completions");
  EXPECT_FALSE(got->set);
  EXPECT_EQ(dir.files(), (std::vector<std::string>{"body.json", "chat.jsonl"}));
}

TEST(Record, AResponsesStream) {
  TempDir dir;
  const auto want = original("responses-gpt-4o-mini-ok");
  const auto out = dir.path() / "resp.jsonl";
  const ToolRun r = record_with(base_args(body_file(dir, *want, true), "responses", out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = load_ok(out);
  ASSERT_TRUE(got);
  expect_same_stream(*got, *want, test_speed);
  EXPECT_EQ(got->request.path, "/v1/responses");
}

TEST(Record, AStreamFalseAnswerWithItsOffset) {
  TempDir dir;
  const auto want = original("chat-gpt-4.1-nano-nonstream");
  const auto out = dir.path() / "ns.jsonl";
  auto args = base_args(body_file(dir, *want, false), "chat", out);
  const ToolRun r = record_with(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = load_ok(out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->events.empty());
  ASSERT_TRUE(got->nonstream);
  EXPECT_EQ(got->nonstream->body, want->nonstream->body);
  EXPECT_EQ(got->nonstream->status, 200);
  EXPECT_EQ(got->model, want->model);
  EXPECT_EQ(got->completion_tokens, want->completion_tokens);
  const auto scheduled = microseconds(
      static_cast<std::int64_t>(static_cast<double>(want->nonstream->offset.count()) / test_speed));
  EXPECT_GE(got->nonstream->offset, scheduled - early_tolerance);
  EXPECT_LE(got->nonstream->offset, scheduled + late_tolerance);
}

TEST(Record, AResponsesStreamFalseAnswer) {
  TempDir dir;
  const auto want = original("responses-gpt-4o-mini-ok");
  const auto out = dir.path() / "ns.jsonl";
  const ToolRun r = record_with(base_args(body_file(dir, *want, false), "responses", out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = load_ok(out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->events.empty());
  ASSERT_TRUE(got->nonstream);
  EXPECT_EQ(got->nonstream->body, want->nonstream->body);
  EXPECT_EQ(got->api, Api::responses);
  EXPECT_EQ(got->completion_tokens, want->completion_tokens);  // the body's output_tokens
}

TEST(Record, RepeatWritesASetThatTheServerCyclesThrough) {
  TempDir dir;
  const auto want = original("chat-gpt-4o-mini-text");
  auto args = base_args(body_file(dir, *want, true), "chat", dir.path() / "mini.jsonl");
  args.insert(args.end(), {"--repeat", "3"});
  const ToolRun r = record_with(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove(dir.path() / "body.json");
  EXPECT_EQ(dir.files(),
            (std::vector<std::string>{"mini.1.jsonl", "mini.2.jsonl", "mini.3.jsonl"}));
  for (std::uint64_t k = 1; k <= 3; ++k) {
    const auto got = load_ok(dir.path() / ("mini." + std::to_string(k) + ".jsonl"));
    ASSERT_TRUE(got);
    expect_same_stream(*got, *want, test_speed);
    ASSERT_TRUE(got->set);
    EXPECT_EQ(got->set->id, "mini");
    EXPECT_EQ(got->set->index, k);
    EXPECT_EQ(got->set->of, 3u);
  }
  // Served from its folder, the set's id is a model, and it replays.
  bench::ServerProcess served(SSEBENCH_MOCK_SERVER, {"--recordings", dir.path().string()});
  TempDir again;
  const ToolRun replay =
      record_with({"--base-url", served.url() + "/v1", "--model", "mini", "--prompt", "hi", "--out",
                   (again.path() / "x.jsonl").string(), "--header", "x-ssebench-speed: 0"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  const auto got = load_ok(again.path() / "x.jsonl");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->events.size(), want->events.size());
}

// ---- bad input: one line, exit 1, nothing written ----------------------------------------------

void expect_one_line_and_no_file(const ToolRun& r, const TempDir& dir, const std::string& prefix,
                                 std::vector<std::string> left = {}) {
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_TRUE(lines[0].starts_with("ssebench-record: " + prefix)) << lines[0];
  EXPECT_TRUE(lines[0].ends_with("; nothing written")) << lines[0];
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(dir.files(), left);  // no recording, no temporary file
}

TEST(RecordRefuses, AnUnreachableHost) {
  TempDir dir;
  const ToolRun r = record_with({"--base-url", "http://127.0.0.1:1/v1", "--model", "m", "--prompt",
                                 "p", "--out", (dir.path() / "x.jsonl").string()});
  expect_one_line_and_no_file(r, dir, "cannot reach http://127.0.0.1:1/v1/chat/completions: ");
}

TEST(RecordRefuses, ANonSuccessUnlessAskedToKeepIt) {
  TempDir dir;
  const auto out = (dir.path() / "x.jsonl").string();
  const std::vector<std::string> args = {"--base-url", ServerEnv::server->url() + "/v1",
                                         "--model",    "no-such-recording",
                                         "--prompt",   "p",
                                         "--out",      out};
  const ToolRun r = record_with(args);
  expect_one_line_and_no_file(r, dir, "HTTP 404 from " + ServerEnv::server->url() + "/v1/");
  EXPECT_NE(r.err.find("(--keep-errors keeps it as an error recording)"), std::string::npos);

  auto keep = args;
  keep.push_back("--keep-errors");
  const ToolRun kept = record_with(keep);
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_TRUE(kept.out.starts_with("wrote " + out + " (error recording: HTTP 404")) << kept.out;
  const auto rec = load_ok(out);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->events.empty());
  ASSERT_TRUE(rec->nonstream);
  EXPECT_EQ(rec->nonstream->status, 404);
  EXPECT_NE(rec->nonstream->body.find("model_not_found"), std::string::npos);
}

TEST(RecordRefuses, AChatStreamEndingInAnErrorWithoutDone) {
  TempDir dir;
  const auto want = original("chat-gpt-4o-json-error-midstream");
  const auto out = dir.path() / "x.jsonl";
  auto args = base_args(body_file(dir, *want, true), "chat", out);
  args.back() = "x-ssebench-speed: 0";
  const ToolRun r = record_with(args);
  expect_one_line_and_no_file(
      r, dir, "the stream ended without data: [DONE] after 41 events (its last event is an error)",
      {"body.json"});
  args.push_back("--keep-errors");
  const ToolRun kept = record_with(args);
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  const auto rec = load_ok(out);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->ends_in_error);
  ASSERT_EQ(rec->events.size(), want->events.size());
  for (std::size_t i = 0; i < rec->events.size(); ++i)
    EXPECT_EQ(rec->events[i].bytes, want->events[i].bytes);
}

TEST(RecordRefuses, ABadOptionWithExitStatusTwo) {
  TempDir dir;
  const ToolRun r = record_with({"--base-url", "http://x/v1", "--repeat", "many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err_lines(),
            (std::vector<std::string>{"ssebench-record: bad value 'many' for --repeat: a whole "
                                      "number from 1 to 10000 (see --help)"}));
}

// ---- a canned server: answers our server never gives
// ---------------------------------------------

/** Answers every request on 127.0.0.1 with the same raw bytes, then closes; keeps what it read. */
class CannedServer {
 public:
  explicit CannedServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::string requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string got;
      char buf[4096];
      // Headers, then the body by its Content-Length.
      for (;;) {
        const auto n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
        const auto end = got.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const auto cl = got.find("Content-Length: ");
        const std::size_t body = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + body) break;
      }
      {
        std::lock_guard lock(mutex_);
        requests_ += got;
      }
      (void)!::write(c, answer_.data(), answer_.size());
      ::close(c);
    }
  }

  std::string answer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string requests_;
  std::thread thread_;
};

std::string chunked(const std::vector<std::string>& pieces, bool last = true) {
  std::string out;
  for (const auto& p : pieces) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", p.size());
    out += size + p + "\r\n";
  }
  return last ? out + "0\r\n\r\n" : out;
}

std::string sse_answer(const std::vector<std::string>& events, bool last_chunk = true,
                       std::string_view extra_headers = {},
                       std::string_view type = "text/event-stream") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(type) + "\r\n" +
         std::string(extra_headers) + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
         chunked(events, last_chunk);
}

const std::string chunk_event =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"local\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";

ToolRun record_canned(const CannedServer& s, const TempDir& dir,
                      std::vector<std::string> extra = {}, const std::string& env_vars = {}) {
  std::vector<std::string> args = {
      "--base-url", s.url(), "--model", "local",
      "--prompt",   "p",     "--out",   (dir.path() / "x.jsonl").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return record_with(args, env_vars);
}

TEST(RecordRefuses, AStreamCutBeforeDone) {
  const CannedServer s(sse_answer({chunk_event}));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir), dir,
                              "the stream ended without data: [DONE] after 1 events; nothing "
                              "written");
}

TEST(RecordRefuses, AConnectionClosedBeforeTheLastChunk) {
  const CannedServer s(sse_answer({chunk_event}, false));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir), dir,
                              "the chunked body ended before its last chunk");
}

TEST(RecordRefuses, AStreamEndingInsideAnEvent) {
  const std::string cut = "data: {\"choices\"";
  const CannedServer s(sse_answer({chunk_event, cut}));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir), dir,
                              "invalid SSE: the stream ended inside an event (" +
                                  std::to_string(cut.size()) + " bytes after the last blank line)");
}

TEST(RecordRefuses, AnEventThatIsNotJson) {
  const CannedServer s(sse_answer({chunk_event, "data: {oops\n\n", "data: [DONE]\n\n"}));
  TempDir dir;
  expect_one_line_and_no_file(
      record_canned(s, dir), dir,
      "the answer does not make a valid recording: event 2: payload is not JSON");
}

TEST(RecordRefuses, CrLineEnds) {
  const CannedServer s(sse_answer({"data: [DONE]\r\n\r\n"}));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir), dir, "invalid SSE: CR line end at byte 12");
}

TEST(RecordRefuses, AStreamThatIsNotEventStream) {
  const CannedServer s(sse_answer({"{\"a\":1}\n\n"}, true, {}, "application/json"));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir), dir,
                              "asked for a stream, got content-type \"application/json\"");
}

TEST(RecordRefuses, AResponsesStreamWithoutItsFinalEvent) {
  const CannedServer s(
      sse_answer({"event: response.created\ndata: "
                  "{\"type\":\"response.created\",\"response\":{\"model\":\"l\"}}"
                  "\n\n"}));
  TempDir dir;
  expect_one_line_and_no_file(record_canned(s, dir, {"--api", "responses"}), dir,
                              "the stream ended without its final event (response.completed, "
                              ".failed, .incomplete or error) after 1 events; the last is "
                              "response.created");
}

TEST(Record, SendsTheKeyRedactsCookiesAndDropsComments) {
  const std::string key = "sk-test-0123456789abcdef";
  const CannedServer s(sse_answer({": keep-alive\n\n", chunk_event, "data: [DONE]\n\n"}, true,
                                  "Set-Cookie: session=" + key + "\r\nX-Request-Id: req_1\r\n"));
  TempDir dir;
  const ToolRun r =
      record_canned(s, dir, {"--api-key-env", "SSEBENCH_TEST_KEY"}, "SSEBENCH_TEST_KEY=" + key);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(s.requests().find("Authorization: Bearer " + key), std::string::npos);
  const std::string text = slurp(dir.path() / "x.jsonl");
  EXPECT_EQ(text.find(key), std::string::npos);
  const auto rec = load_ok(dir.path() / "x.jsonl");
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->events.size(), 2u);
  EXPECT_EQ(rec->events[0].bytes, chunk_event);
  const auto p = json::parse(rec->provenance.json).as_object();
  EXPECT_EQ(p.at("redacted"), json::value(json::array{"set-cookie"}));
  EXPECT_EQ(p.at("dropped_comments"), json::value(1));
  bool kept_request_id = false;
  for (const auto& h : rec->response.headers)
    if (h.name == "X-Request-Id") kept_request_id = h.value == "req_1";
  EXPECT_TRUE(kept_request_id);
}

}  // namespace
}  // namespace ssebench::recorder
