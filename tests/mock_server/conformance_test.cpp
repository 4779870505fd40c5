// The HTTP/1.x conformance battery: one test per requirement of RFC 9112 and the server side of
// RFC 9110, each named after its section, against the real server over raw TCP (the point is the
// exact bytes). mock_server/README.md "HTTP/1.x conformance" is the table of these tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "ssebench/server/replay.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
using test::Clock;
namespace json = boost::json;

// ---- recordings --------------------------------------------------------------------------------

test::TestRecording tiny() {
  test::TestRecording r;
  r.events = {{1'000, "role", test::chat_chunk("")},
              {2'000, "content", test::chat_chunk("Hel")},
              {3'000, "content", test::chat_chunk("lo")},
              {4'000, "done", "[DONE]"}};
  r.nonstream_offset_us = 1'000;
  r.nonstream_body = R"({"object":"chat.completion","choices":[]})";
  return r;
}

// Events 100 ms apart: a long poll after none is held until the first.
test::TestRecording paced() {
  test::TestRecording r;
  r.events = {{100'000, "content", test::chat_chunk("a")},
              {200'000, "content", test::chat_chunk("b")},
              {200'000, "done", "[DONE]"}};
  return r;
}

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<test::TempDir>();
    dir_->write("tiny.jsonl", test::recording_text(tiny()));
    dir_->write("paced.jsonl", test::recording_text(paced()));
    const FolderLoad folder = load_folder(dir_->path());
    ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
    for (const auto& r : folder.recordings) recordings_[r->id] = r;
    Config config;
    config.long_poll_max_wait_ms = 1'000;
    config.close_linger_ms = 100;
    server_ = std::make_unique<test::RunningServer>(config, folder.recordings);
  }
  void TearDown() override {
    server_.reset();
    dir_.reset();
  }
  static std::uint16_t port() { return instance->server_->port(); }
  static const Recording& recording(const std::string& id) { return *instance->recordings_.at(id); }
  static Environment* instance;

 private:
  std::unique_ptr<test::TempDir> dir_;
  std::map<std::string, std::shared_ptr<const Recording>> recordings_;
  std::unique_ptr<test::RunningServer> server_;
};
Environment* Environment::instance =
    static_cast<Environment*>(::testing::AddGlobalTestEnvironment(new Environment));

std::string all_bytes(const Recording& r) {
  std::string out;
  for (const auto& e : r.events) out += e.bytes;
  return out;
}

// ---- a raw client that reads every framing: Content-Length, chunked, close-delimited ----------

struct Answer {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded
  enum class Framing { none, length, chunked, close } framing = Framing::none;
  std::vector<Answer> interim;  // 1xx before it

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (iequal(k, name)) return v;
    return std::nullopt;
  }
  static bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }
};

class Conn {
 public:
  static constexpr int receive_timeout_s = 5;  // no test hangs on a read

  Conn() : Conn(Environment::port()) {}
  // The socket, its connect and sends are test::Client's (support.hpp); reads are this class's,
  // since it must see every framing, close-delimited included.
  explicit Conn(std::uint16_t port) : client_(port) {
    timeval tv{receive_timeout_s, 0};
    ::setsockopt(client_.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void send(std::string_view bytes) { client_.send(bytes); }

  /** One answer (1xx kept in `interim`); `head` for a HEAD request (no body whatever it says). */
  Answer read(bool head = false) {
    Answer a = read_one(head);
    while (a.status >= 100 && a.status < 200) {
      Answer next = read_one(head);
      next.interim.push_back(std::move(a));
      a = std::move(next);
    }
    return a;
  }

  /** Whether the server closed the connection with nothing more to read. */
  bool closed() {
    while (buf_.empty()) {
      if (!fill()) return eof_;
    }
    return false;
  }

  /** Whether the server sends nothing for `ms` (and keeps the connection). */
  bool quiet_for(int ms) {
    timeval tv{0, ms * 1000};
    ::setsockopt(client_.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const bool got = !buf_.empty() || fill();
    tv = {receive_timeout_s, 0};
    ::setsockopt(client_.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return !got && !eof_;
  }

  const std::string& pending() const { return buf_; }

  /** Reads until the connection ends: 0 when the server closed it, else the error (errno). */
  int read_to_end() {
    for (;;) {
      char tmp[16384];
      const ssize_t n = ::recv(client_.fd(), tmp, sizeof tmp, 0);
      if (n == 0) return 0;
      if (n < 0) return errno;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  bool fill() {
    char tmp[16384];
    const ssize_t n = ::recv(client_.fd(), tmp, sizeof tmp, 0);
    if (n == 0) eof_ = true;
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  std::string take_line() {
    std::size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos) {
      if (!fill()) throw std::runtime_error("connection ended in a line: " + buf_);
    }
    std::string line = buf_.substr(0, eol);
    buf_.erase(0, eol + 2);
    return line;
  }

  std::string take(std::size_t n) {
    while (buf_.size() < n) {
      if (!fill()) throw std::runtime_error("connection ended in a body");
    }
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  Answer read_one(bool head) {
    Answer a;
    a.status_line = take_line();
    if (a.status_line.size() < 12) throw std::runtime_error("bad status line: " + a.status_line);
    a.status = std::stoi(a.status_line.substr(9, 3));
    for (std::string line; !(line = take_line()).empty();) {
      const auto colon = line.find(':');
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      a.headers.emplace_back(line.substr(0, colon), value);
    }
    if (head || a.status < 200 || a.status == 204 || a.status == 304) return a;
    if (const auto te = a.header("transfer-encoding")) {
      if (*te != "chunked") throw std::runtime_error("transfer coding " + *te);
      a.framing = Answer::Framing::chunked;
      for (;;) {
        const std::size_t size = std::stoul(take_line(), nullptr, 16);
        a.body += take(size);
        if (take(2) != "\r\n") throw std::runtime_error("bad chunk end");
        if (size == 0) break;
      }
    } else if (const auto cl = a.header("content-length")) {
      a.framing = Answer::Framing::length;
      a.body = take(std::stoul(*cl));
    } else {
      a.framing = Answer::Framing::close;
      while (fill()) {
      }
      if (!eof_) throw std::runtime_error("a close-delimited body that did not end");
      a.body = std::move(buf_);
      buf_.clear();
    }
    return a;
  }

  test::Client client_;
  std::string buf_;
  bool eof_ = false;
};

std::size_t count_of(const Answer& a, std::string_view name) {
  std::size_t n = 0;
  for (const auto& [k, v] : a.headers) n += Answer::iequal(k, name) ? 1 : 0;
  return n;
}

std::string fmt_hex(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

// ---- requests ----------------------------------------------------------------------------------

constexpr std::string_view h11 = "HTTP/1.1";
constexpr std::string_view h10 = "HTTP/1.0";

std::string get(std::string_view target, std::string_view version = h11,
                std::string_view extra = {}) {
  std::string out = "GET " + std::string(target) + " " + std::string(version) + "\r\n";
  if (version != h10) out += "Host: 127.0.0.1\r\n";
  return out + std::string(extra) + "\r\n";
}

std::string post(std::string_view target, std::string_view body, std::string_view version = h11,
                 std::string_view extra = {}) {
  std::string out = "POST " + std::string(target) + " " + std::string(version) + "\r\n";
  if (version != h10) out += "Host: 127.0.0.1\r\n";
  return out + "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

const std::string chat = "/v1/chat/completions";
std::string stream_body(std::string_view model = "tiny") {
  return R"({"model":")" + std::string(model) + R"(","stream":true})";
}
std::string plain_body() {
  return R"({"model":"tiny","stream":false})";
}

/** A background job of `model`; returns its GET path. */
std::string start_job(std::string_view model) {
  Conn c;
  c.send(post(chat, R"({"model":")" + std::string(model) + R"(","background":true})"));
  const Answer a = c.read();
  EXPECT_EQ(a.status, 200) << a.body;
  return chat + "/" + std::string(json::parse(a.body).at("id").as_string());
}

/** The request is refused with `status` and an OpenAI error, then the connection closes. */
void expect_refused(const std::string& request, int status) {
  SCOPED_TRACE(request.substr(0, 120));
  Conn c;
  c.send(request);
  const Answer a = c.read();
  EXPECT_EQ(a.status, status) << a.body;
  EXPECT_EQ(a.status_line.substr(0, 9), "HTTP/1.1 ");
  EXPECT_EQ(a.header("connection"), "close");
  EXPECT_EQ(json::parse(a.body).at("error").at("type"), "invalid_request_error");
  EXPECT_TRUE(c.closed());
}

/** The request is answered `status` and the connection serves the next request. */
void expect_kept(const std::string& request, int status) {
  SCOPED_TRACE(request.substr(0, 120));
  Conn c;
  c.send(request);
  EXPECT_EQ(c.read().status, status);
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
}

// ---- RFC 9112 §2: message format ----------------------------------------------------------------

TEST(Conformance, Rfc9112_2_2_EmptyLinesBeforeTheRequestLineAreIgnored) {
  expect_kept("\r\n" + get("/v1/models"), 200);
  expect_kept("\r\n\r\n" + post(chat, plain_body()), 200);
}

TEST(Conformance, Rfc9112_2_2_BareLfIs400) {
  expect_refused("GET /v1/models HTTP/1.1\nHost: x\n\n", 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_2_2_BareCrIs400) {
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_2_2_WhitespaceBeforeTheFirstFieldIs400) {
  expect_refused("GET /v1/models HTTP/1.1\r\n Host: x\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_2_3_Http12IsAnsweredAsHttp11) {
  Conn c;
  c.send(get("/v1/models", "HTTP/1.2"));
  const Answer a = c.read();
  EXPECT_EQ(a.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(count_of(a, "connection"), 0u);  // persistent, as for 1.1
  c.send(post(chat, stream_body(), "HTTP/1.2"));
  const Answer s = c.read();
  EXPECT_EQ(s.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(s.framing, Answer::Framing::chunked);
  EXPECT_EQ(s.body, all_bytes(Environment::recording("tiny")));
}

TEST(Conformance, Rfc9112_2_3_Http2And3RequestLinesAre505) {
  expect_refused(get("/v1/models", "HTTP/2.0"), 505);
  expect_refused(get("/v1/models", "HTTP/3.0"), 505);
  expect_refused(get("/v1/models", "HTTP/0.9"), 505);
}

TEST(Conformance, Rfc9112_2_3_MalformedVersionIs400) {
  expect_refused(get("/v1/models", "http/1.1"), 400);
  expect_refused(get("/v1/models", "HTTP/1.10"), 400);
  expect_refused(get("/v1/models", "HTTP/1"), 400);
}

// ---- RFC 9112 §3: request line ------------------------------------------------------------------

TEST(Conformance, Rfc9112_3_UnknownMethodIs501) {
  expect_refused("FOO /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 501);
  expect_refused("get /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 501);  // methods are case-sensitive
  expect_refused("PROPFIND /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 501);
}

TEST(Conformance, Rfc9112_3_ExtraWhitespaceInTheRequestLineIs400) {
  expect_refused("GET  /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_refused("GET /v1/models  HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.1 \r\nHost: x\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_3_OverlongTargetIs414) {
  expect_refused(get("/v1/models?x=" + std::string(9000, 'a')), 414);
}

TEST(Conformance, Rfc9112_3_2_MissingHostIs400) {
  expect_refused("GET /v1/models HTTP/1.1\r\n\r\n", 400);
  expect_refused("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: " +
                     std::to_string(stream_body().size()) + "\r\n\r\n" + stream_body(),
                 400);
  // HTTP/1.0 has no Host requirement.
  Conn c;
  c.send("GET /v1/models HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.read().status, 200);
}

TEST(Conformance, Rfc9112_3_2_TwoHostFieldsAre400) {
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_3_2_InvalidHostIs400) {
  for (const char* host : {"a b", "x:80a", "[::1", "a/b", "a@b", "[]:80"})
    expect_refused(std::string("GET /v1/models HTTP/1.1\r\nHost: ") + host + "\r\n\r\n", 400);
  for (const char* host : {"", "127.0.0.1:8080", "[::1]:80", "example.com", "ex%41mple.com:"})
    expect_kept(std::string("GET /v1/models HTTP/1.1\r\nHost: ") + host + "\r\n\r\n", 200);
}

TEST(Conformance, Rfc9112_3_2_2_AbsoluteFormIsAccepted) {
  Conn c;
  c.send(get("/v1/models"));
  const std::string models = c.read().body;
  c.send("GET http://127.0.0.1/v1/models HTTP/1.1\r\nHost: elsewhere\r\n\r\n");
  const Answer a = c.read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, models);
  c.send("GET HTTP://127.0.0.1:80/v1/models?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read().status, 200);
  // A stream, a poll and a long poll in absolute form.
  c.send(post("http://127.0.0.1" + chat, stream_body()));
  EXPECT_EQ(c.read().body, all_bytes(Environment::recording("tiny")));
  const std::string job = start_job("paced");
  c.send(get("http://127.0.0.1" + job + "?shape=events"));
  EXPECT_EQ(c.read().status, 200);
  c.send(get("http://127.0.0.1" + job + "?shape=events&wait_ms=500"));
  EXPECT_EQ(c.read().status, 200);
  // No path: "/" (a 404 here, not a 400).
  c.send("GET http://127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read().status, 404);
}

TEST(Conformance, Rfc9112_3_2_2_AbsoluteFormWithABadAuthorityIs400) {
  expect_refused("GET http:///v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);  // empty host
  expect_refused("GET http://u@x/v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_refused("GET http://x:8a/v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_refused("GET ftp://x/v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_refused("GET http:x/v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  // Host is still required of HTTP/1.1 (§3.2), whatever the target.
  expect_refused("GET http://x/v1/models HTTP/1.1\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_3_2_3_AuthorityFormIsForConnectOnly) {
  expect_refused("GET 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  // CONNECT: this server is no proxy and tunnels nowhere.
  expect_refused("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 501);
}

TEST(Conformance, Rfc9112_3_2_4_AsteriskFormIsForOptionsOnly) {
  Conn c;
  c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  const Answer a = c.read();
  EXPECT_EQ(a.status, 204);
  EXPECT_EQ(a.header("allow"), "GET, HEAD, POST, DELETE, OPTIONS");
  EXPECT_EQ(count_of(a, "content-length"), 0u);  // RFC 9110 §8.6: none on a 204
  EXPECT_EQ(count_of(a, "transfer-encoding"), 0u);
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
  expect_refused("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

// ---- RFC 9112 §5: field syntax ------------------------------------------------------------------

TEST(Conformance, Rfc9112_5_1_WhitespaceBeforeTheColonIs400) {
  expect_refused("GET /v1/models HTTP/1.1\r\nHost : x\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A\t: b\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_5_2_ObsFoldIs400) {
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tc\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_5_BadFieldNamesAndValuesAre400) {
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400);
  expect_refused(std::string("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n"), 400);
  expect_refused(std::string("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\0z\r\n\r\n", 44), 400);
  expect_refused("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\x7fz\r\n\r\n", 400);
  // obs-text and HTAB are field content.
  expect_kept("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9\tok\r\n\r\n", 200);
}

TEST(Conformance, Rfc9112_5_OverlongHeadersAre431) {
  expect_refused(get("/v1/models", h11, "X-Big: " + std::string(9000, 'a') + "\r\n"), 431);
  expect_refused(get(
                     "/v1/models", h11,
                     std::string(400, 'X') + ": a\r\n" +
                         [] {
                           std::string many;
                           for (int i = 0; i < 1000; ++i)
                             many += "X-" + std::to_string(i) + ": v\r\n";
                           return many;
                         }()),
                 431);
}

// ---- RFC 9112 §6: message body length
// ------------------------------------------------------------

TEST(Conformance, Rfc9112_6_1_Http10StreamIsCloseDelimited) {
  const std::string bytes = all_bytes(Environment::recording("tiny"));
  for (const char* extra : {"", "Connection: keep-alive\r\n"}) {
    SCOPED_TRACE(extra);
    Conn c;
    c.send(post(chat, stream_body(), h10, extra));
    const Answer a = c.read();
    EXPECT_EQ(a.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(count_of(a, "transfer-encoding"), 0u);
    EXPECT_EQ(count_of(a, "content-length"), 0u);
    EXPECT_EQ(a.header("connection"), "close");
    EXPECT_EQ(a.framing, Answer::Framing::close);
    EXPECT_EQ(a.body, bytes);  // not a chunk-size line in it
  }
  // A resumed job stream too (its payloads carry the job's id): the bytes HTTP/1.1 gets.
  const std::string job = start_job("tiny");
  Conn c11;
  c11.send(get(job + "?stream=true"));
  const Answer chunked = c11.read();
  Conn c;
  c.send(get(job + "?stream=true", h10));
  const Answer a = c.read();
  EXPECT_EQ(a.framing, Answer::Framing::close);
  EXPECT_EQ(a.body, chunked.body);
}

TEST(Conformance, Rfc9112_6_1_Http10RequestWithTransferEncodingIs400) {
  expect_refused(
      "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST(Conformance, Rfc9112_6_1_ChunkedNotFinalIs400) {
  for (const char* te : {"chunked, gzip", "gzip", "chunked, chunked", ","}) {
    expect_refused("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " +
                       std::string(te) + "\r\n\r\n0\r\n\r\n",
                   400);
  }
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400);
}

TEST(Conformance, Rfc9112_6_1_UnknownTransferCodingIs501) {
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "0\r\n\r\n",
      501);
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      501);
}

TEST(Conformance, Rfc9112_6_3_ContentLengthWithTransferEncodingIs400ThenClose) {
  const std::string body = "0\r\n\r\n";
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
          body,
      400);
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 5\r\n\r\n" +
          body,
      400);
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
      "Content-Length: 5\r\n\r\n" +
          body,
      400);
}

TEST(Conformance, Rfc9112_6_3_InvalidContentLengthIs400ThenClose) {
  for (const char* cl : {"abc", "-1", "+5", "5 5", "", "0x5", "5,"}) {
    expect_refused("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::string(cl) + "\r\n\r\n{}",
                   400);
  }
}

TEST(Conformance, Rfc9112_6_3_DifferingContentLengthsAre400) {
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
      "Content-Length: 3\r\n\r\n{} ",
      400);
  expect_refused("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 3\r\n\r\n{} ",
                 400);
}

// RFC 9110 §8.6 lets a recipient take repeated identical values as one: Beast does.
TEST(Conformance, Rfc9110_8_6_RepeatedEqualContentLengthIsOne) {
  const std::string body = plain_body();
  const std::string n = std::to_string(body.size());
  expect_kept("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + n +
                  "\r\nContent-Length: " + n + "\r\n\r\n" + body,
              200);
  expect_kept("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + n + ", " + n +
                  "\r\n\r\n" + body,
              200);
}

TEST(Conformance, Rfc9112_6_3_NoLengthMeansNoBody) {
  // The empty body is not JSON: the application's 400, and the connection goes on.
  Conn c;
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read().status, 400);
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
}

TEST(Conformance, Rfc9112_7_1_ChunkedRequestBodyIsDecoded) {
  const std::string body = stream_body();
  Conn c;
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
         fmt_hex(5) + ";ext=1\r\n" + body.substr(0, 5) + "\r\n" + fmt_hex(body.size() - 5) +
         "\r\n" + body.substr(5) + "\r\n0\r\nX-Trailer: t\r\n\r\n");
  const Answer a = c.read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, all_bytes(Environment::recording("tiny")));
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
}

TEST(Conformance, Rfc9112_7_1_BadChunkSizeIs400) {
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\n{}\r\n0\r\n\r\n",
      400);
}

// ---- RFC 9112 §9: connection management
// -----------------------------------------------------------

TEST(Conformance, Rfc9112_9_3_Http11IsPersistentForEveryKindOfAnswer) {
  const std::string job = start_job("paced");
  Conn c;
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
  c.send(post(chat, stream_body()));
  EXPECT_EQ(c.read().framing, Answer::Framing::chunked);
  c.send(get(job + "?shape=events"));
  EXPECT_EQ(c.read().framing, Answer::Framing::length);
  c.send(get(job + "?shape=events&wait_ms=500"));
  const Answer lp = c.read();
  EXPECT_EQ(lp.status, 200);
  EXPECT_EQ(count_of(lp, "connection"), 0u);
  c.send(get("/nope"));
  EXPECT_EQ(c.read().status, 404);
  EXPECT_TRUE(c.quiet_for(50));
}

TEST(Conformance, Rfc9112_9_3_2_PipelinedRequestsAreAnsweredInOrder) {
  Conn c;
  c.send(get("/v1/models") + post(chat, stream_body()) + get("/nope") + post(chat, plain_body()));
  EXPECT_EQ(c.read().status, 200);
  EXPECT_EQ(c.read().body, all_bytes(Environment::recording("tiny")));
  EXPECT_EQ(c.read().status, 404);
  EXPECT_EQ(c.read().body, Environment::recording("tiny").nonstream->body);
}

TEST(Conformance, Rfc9112_9_3_Http10KeepAliveOnlyWhenAskedAndForAKnownLength) {
  const std::string job = start_job("paced");
  const std::vector<std::string> known_length = {
      get("/v1/models", h10), post(chat, plain_body(), h10), get(job + "?shape=events", h10),
      get(job + "?shape=delta&wait_ms=500", h10)};
  for (const std::string& req : known_length) {
    SCOPED_TRACE(req);
    {  // not asked: closed after the answer
      Conn c;
      c.send(req);
      const Answer a = c.read();
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.framing, Answer::Framing::length);
      EXPECT_EQ(a.header("connection"), "close");
      EXPECT_TRUE(c.closed());
    }
    {  // asked: kept, and said so
      Conn c;
      c.send(req.substr(0, req.find("\r\n") + 2) + "Connection: keep-alive\r\n" +
             req.substr(req.find("\r\n") + 2));
      const Answer a = c.read();
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.header("connection"), "keep-alive");
      c.send(get("/v1/models", h10, "Connection: keep-alive\r\n"));
      EXPECT_EQ(c.read().status, 200);
    }
  }
}

TEST(Conformance, Rfc9112_9_6_ConnectionCloseClosesAfterTheAnswer) {
  const std::string job = start_job("paced");
  const std::string close = "Connection: close\r\n";
  for (const std::string& req :
       {get("/v1/models", h11, close), post(chat, stream_body(), h11, close),
        post(chat, plain_body(), h11, close), get(job + "?shape=events", h11, close),
        get(job + "?shape=delta&wait_ms=500", h11, close), get("/nope", h11, close)}) {
    SCOPED_TRACE(req);
    Conn c;
    c.send(req + get("/v1/models"));  // a request after it is not answered
    const Answer a = c.read();
    EXPECT_GE(a.status, 200);
    EXPECT_EQ(a.header("connection"), "close");
    EXPECT_TRUE(c.closed());
  }
}

// ---- RFC 9110: semantics a server keeps ---------------------------------------------------------

TEST(Conformance, Rfc9110_2_5_Http10IsAnsweredAsHttp11) {
  Conn c;
  c.send(get("/v1/models", h10));
  EXPECT_EQ(c.read().status_line, "HTTP/1.1 200 OK");
}

TEST(Conformance, Rfc9110_9_3_2_HeadIsGetWithoutTheBody) {
  const std::string job = start_job("tiny");
  std::this_thread::sleep_for(20ms);  // the job has ended: its answers no longer change
  const std::vector<std::string> targets = {"/v1/models", "/v1/models/tiny", job + "?shape=events",
                                            job + "?shape=snapshot"};
  Conn c;
  for (const std::string& t : targets) {
    SCOPED_TRACE(t);
    c.send(get(t));
    const Answer g = c.read();
    c.send("HEAD " + t + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const Answer h = c.read(true);
    EXPECT_EQ(h.status, g.status);
    EXPECT_EQ(h.headers, g.headers);  // Content-Length included
    EXPECT_EQ(h.header("content-length"), std::to_string(g.body.size()));
    EXPECT_TRUE(c.quiet_for(30));  // no body bytes follow
  }
}

// A long poll's HEAD is answered at once (the head its GET would get now); a stream's HEAD gets the
// stream's head (chunked, as its GET) and no body, and the connection goes on.
TEST(Conformance, Rfc9110_9_3_2_HeadOfALongPollOrAStreamIsAnsweredAtOnce) {
  const std::string job = start_job("paced");
  Conn c;
  const auto t0 = Clock::now();
  c.send("HEAD " + job + "?shape=events&wait_ms=900 HTTP/1.1\r\nHost: x\r\n\r\n");
  const Answer lp = c.read(true);
  EXPECT_EQ(lp.status, 200);
  EXPECT_TRUE(lp.header("content-length"));
  EXPECT_LT(Clock::now() - t0, 450ms);  // not held for its wait_ms of 900
  c.send("HEAD " + job + "?stream=true HTTP/1.1\r\nHost: x\r\n\r\n");
  const Answer s = c.read(true);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.header("transfer-encoding"), "chunked");
  EXPECT_EQ(s.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_TRUE(c.quiet_for(30));
  c.send(get("/v1/models"));
  EXPECT_EQ(c.read().status, 200);
  // Over HTTP/1.0 the stream's head says close, as its GET would, and the server closes.
  Conn old;
  old.send("HEAD " + job + "?stream=true HTTP/1.0\r\n\r\n");
  const Answer o = old.read(true);
  EXPECT_EQ(o.header("connection"), "close");
  EXPECT_EQ(count_of(o, "transfer-encoding"), 0u);
  EXPECT_TRUE(old.closed());
}

TEST(Conformance, Rfc9110_10_1_1_ExpectContinueGets100ThenTheAnswer) {
  const std::string body = stream_body();
  Conn c;
  c.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_FALSE(c.quiet_for(500));
  EXPECT_EQ(c.pending(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send(body);
  const Answer a = c.read();
  ASSERT_EQ(a.interim.size(), 1u);
  EXPECT_EQ(a.body, all_bytes(Environment::recording("tiny")));
  // A request refused from its head gets the final answer instead of 100.
  Conn r;
  r.send(
      "POST /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: gzip, "
      "chunked\r\n\r\n");
  const Answer refused = r.read();
  EXPECT_EQ(refused.status, 501);
  EXPECT_TRUE(refused.interim.empty());
}

TEST(Conformance, Rfc9110_10_1_1_Http10ExpectIsIgnored) {
  const std::string body = plain_body();
  Conn c;
  c.send("POST /v1/chat/completions HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_TRUE(c.quiet_for(100));  // no 1xx to an HTTP/1.0 client (RFC 9110 §15.2)
  c.send(body);
  const Answer a = c.read();
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.interim.empty());
}

TEST(Conformance, Rfc9110_10_1_1_UnknownExpectationIs417) {
  expect_refused(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n"
      "Content-Length: 2\r\n\r\n{}",
      417);
}

TEST(Conformance, Rfc9110_15_5_6_KnownMethodOnAPathWithoutItIs405WithAllow) {
  Conn c;
  c.send("PUT /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  const Answer a = c.read();
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(a.header("allow"), "GET, HEAD");
  c.send("HEAD /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n");
  const Answer h = c.read(true);
  EXPECT_EQ(h.status, 405);
  EXPECT_EQ(h.header("allow"), "POST");
  EXPECT_TRUE(c.quiet_for(30));
  c.send("DELETE /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read().status, 405);
  // A preflight's Allow, and no Content-Length on its 204 (RFC 9110 §8.6).
  c.send("OPTIONS /v1/models HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\n\r\n");
  const Answer o = c.read();
  EXPECT_EQ(o.status, 204);
  EXPECT_EQ(o.header("allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(count_of(o, "content-length"), 0u);
}

// Deliberate: no Date (RFC 9110 §6.6.1). The suite's header-byte figures for HTTP/1.1 are fixed by
// the recordings, which carry none either; README "HTTP/1.x conformance" says why.
TEST(Conformance, Rfc9110_6_6_1_NoDateIsSent) {
  Conn c;
  c.send(get("/v1/models") + post(chat, stream_body()));
  EXPECT_EQ(count_of(c.read(), "date"), 0u);
  EXPECT_EQ(count_of(c.read(), "date"), 0u);
}

// A close-delimited stream a limit cuts short (here --stream-lifetime-limit-ms) ends with a reset,
// not a close: an HTTP/1.0 client can tell it is incomplete. An HTTP/1.1 one has the chunking.
TEST(Conformance, Rfc9112_8_Http10StreamCutShortIsReset) {
  test::TempDir dir;
  dir.write("slow.jsonl", test::recording_text(test::one_then_gap(60'000'000)));
  const FolderLoad folder = load_folder(dir.path());
  ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
  Config config;
  config.stream_lifetime_limit_ms = 100;
  test::RunningServer server(config, folder.recordings);
  Conn c(server.port());
  c.send(post(chat, stream_body("slow"), h10));
  EXPECT_EQ(c.read_to_end(), ECONNRESET);
  EXPECT_EQ(c.pending().find("Transfer-Encoding"), std::string::npos);
  EXPECT_NE(c.pending().find("\r\n\r\ndata: "), std::string::npos);  // the head, then an event
}

// ---- every recording, read by an HTTP/1.0 client ------------------------------------------------

TEST(Conformance, Rfc9112_6_3_Http10ReadsEveryRecordingByteExact) {
  const FolderLoad folder = load_folder(SSEBENCH_RECORDINGS_DIR);
  ASSERT_FALSE(folder.recordings.empty()) << "no recordings in " << SSEBENCH_RECORDINGS_DIR;
  Config config;
  config.speed = 0;
  test::RunningServer server(config, folder.recordings);
  std::size_t streams = 0;
  for (const auto& r : folder.recordings) {
    if (r->events.empty()) continue;
    SCOPED_TRACE(r->id);
    const std::string path = r->api == Api::responses ? "/v1/responses" : "/v1/chat/completions";
    json::object body = json::parse(r->request.body).as_object();
    body["model"] = r->id;
    body["stream"] = true;
    const std::string text = json::serialize(body);
    Conn c11(server.port());
    c11.send(post(path, text));
    const Answer chunked = c11.read();
    Conn c10(server.port());
    c10.send(post(path, text, h10));
    const Answer closed = c10.read();
    EXPECT_EQ(chunked.framing, Answer::Framing::chunked);
    EXPECT_EQ(closed.framing, Answer::Framing::close);
    EXPECT_EQ(closed.status, r->response.status);
    EXPECT_EQ(closed.body, chunked.body);
    EXPECT_EQ(closed.body, all_bytes(*r));
    ++streams;
  }
  EXPECT_GT(streams, 0u);
}

}  // namespace
}  // namespace ssebench::server
