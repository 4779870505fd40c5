#pragma once
// Test support for the mock server: short recordings written to a temp folder, a server running
// on its own threads, and a raw-socket HTTP/1.1 client that is independent of Beast (it checks
// the server's bytes, so it must not share the server's parser).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../temp_dir.hpp"
#include "ssebench/recording.hpp"
#include "ssebench/server/config.hpp"
#include "ssebench/server/server.hpp"

namespace ssebench::server::test {

using Clock = std::chrono::steady_clock;

// ---- recordings ------------------------------------------------------------------------------

struct TestEvent {
  TestEvent(std::int64_t t, std::string k, std::string p, std::string e = {})
      : t_us(t), kind(std::move(k)), payload(std::move(p)), event(std::move(e)) {}
  std::int64_t t_us;
  std::string kind;
  std::string payload;  // the data: payload; "[DONE]" for kind "done"
  std::string event;    // SSE event name (Responses API), empty for chat
};

struct TestRecording {
  std::string api = "chat.completions";
  std::string model = "gpt-test";
  std::string request_body = R"({"model":"gpt-test","stream":true})";
  std::int64_t headers_offset_us = 0;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "text/event-stream; charset=utf-8"}};
  std::vector<TestEvent> events;
  std::optional<std::int64_t> nonstream_offset_us;
  std::string nonstream_body;
};

inline std::string sse_bytes(const TestEvent& e) {
  std::string out;
  if (!e.event.empty()) out += "event: " + e.event + "\n";
  return out + "data: " + e.payload + "\n\n";
}

/** A chat chunk payload carrying `content` (empty: role chunk). */
inline std::string chat_chunk(std::string_view content, std::string_view finish = {}) {
  boost::json::object delta;
  if (content.empty() && finish.empty()) {
    delta["role"] = "assistant";
    delta["content"] = "";
  } else if (!content.empty()) {
    delta["content"] = content;
  }
  boost::json::object choice{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}};
  choice["finish_reason"] =
      finish.empty() ? boost::json::value(nullptr) : boost::json::value(finish);
  boost::json::object chunk{{"id", "chatcmpl-test"},
                            {"object", "chat.completion.chunk"},
                            {"created", 1},
                            {"model", "gpt-test"},
                            {"choices", boost::json::array{choice}}};
  return boost::json::serialize(chunk);
}

inline std::string recording_text(const TestRecording& r) {
  namespace json = boost::json;
  json::array headers;
  for (const auto& [n, v] : r.headers)
    headers.push_back(json::array{json::string(n), json::string(v)});
  json::object header{
      {"format", "ssebench-recording"},
      {"version", 1},
      {"api", r.api},
      {"model", r.model},
      {"provenance",
       {{"source", "synthesized"}, {"timing", {{"kind", "recorded"}}}, {"notes", "unit test"}}},
      {"request",
       {{"method", "POST"},
        {"path", r.api == "responses" ? "/v1/responses" : "/v1/chat/completions"},
        {"body", r.request_body}}},
      {"response",
       {{"status", 200}, {"headers", headers}, {"headers_offset_us", r.headers_offset_us}}},
      {"events", r.events.size()}};
  if (r.nonstream_offset_us) {
    header["nonstream"] = {
        {"offset_us", *r.nonstream_offset_us},
        {"status", 200},
        {"headers", json::array{json::array{"content-type", "application/json"}}},
        {"body", r.nonstream_body}};
  }
  std::string out = json::serialize(header) + "\n";
  for (const auto& e : r.events) {
    json::object line{{"t_us", e.t_us}, {"kind", e.kind}, {"bytes", sse_bytes(e)}};
    out += json::serialize(line) + "\n";
  }
  return out;
}

/** One content event ("a") at 1 ms, then "b" and [DONE] `gap_us` later: a stream that stays
 *  open while a test acts on it. */
inline TestRecording one_then_gap(std::int64_t gap_us) {
  TestRecording r;
  r.events = {{1'000, "content", chat_chunk("a")},
              {gap_us, "content", chat_chunk("b")},
              {gap_us, "done", "[DONE]"}};
  return r;
}

/** Waits (bounded) until `pred` holds; returns whether it did. */
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

using ssebench::test::TempDir;

// ---- a running server --------------------------------------------------------------------------

/** A Server serving on its own thread(s) until destroyed. */
class RunningServer {
 public:
  RunningServer(const Config& config, const std::vector<std::shared_ptr<const Recording>>& recs)
      : server_(std::make_unique<Server>(config, recs)), thread_([this] { server_->run(); }) {}
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  std::uint16_t port() const { return server_->port(); }
  const Server& server() const { return *server_; }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// ---- a raw-socket HTTP/1.1 client
// ----------------------------------------------------------------

struct Chunk {
  std::string data;
  Clock::time_point received;  // when its last byte was read
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked
  std::vector<Chunk> chunks;
  bool chunked = false;
  Clock::time_point headers_received;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() == name.size() &&
          std::equal(n.begin(), n.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return v;
    }
    return std::nullopt;
  }
  std::size_t count_header(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        ++n;
    }
    return n;
  }
  boost::json::value json() const { return boost::json::parse(body); }
};

class Client {
 public:
  static constexpr int receive_timeout_s = 10;  // no test can hang on a read

  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    timeval tv{receive_timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect");
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }  // for a test reading bytes that are not HTTP

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes_sent_ += static_cast<std::size_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  static std::string request_text(std::string_view method, std::string_view target,
                                  std::string_view body = {},
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string out =
        std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") {
      out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
  }

  /** Sends one request and reads its answer; throws when the connection ends first. */
  Response roundtrip(std::string_view method, std::string_view target, std::string_view body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    send(request_text(method, target, body, std::move(headers)));
    auto r = read_response();
    if (!r) throw std::runtime_error("connection closed before a response");
    return std::move(*r);
  }

  /** Reads one response (skipping 1xx); nullopt on EOF before its status line. */
  std::optional<Response> read_response() {
    for (;;) {
      std::size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) return std::nullopt;
      }
      Response r;
      r.headers_received = Clock::now();
      const std::string head = buf_.substr(0, end);
      buf_.erase(0, end + 4);
      std::size_t line_end = head.find("\r\n");
      const std::string status_line = head.substr(0, line_end);
      r.status = std::stoi(status_line.substr(9, 3));
      while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string line = head.substr(start, line_end - start);
        const auto colon = line.find(':');
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers.emplace_back(line.substr(0, colon), value);
      }
      if (r.status >= 100 && r.status < 200) continue;
      const auto te = r.header("transfer-encoding");
      if (te && *te == "chunked") {
        r.chunked = true;
        for (;;) {
          std::size_t eol;
          while ((eol = buf_.find("\r\n")) == std::string::npos) {
            if (!fill()) throw std::runtime_error("EOF in chunk size");
          }
          const std::size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
          buf_.erase(0, eol + 2);
          while (buf_.size() < size + 2) {
            if (!fill()) throw std::runtime_error("EOF in chunk");
          }
          if (buf_.compare(size, 2, "\r\n") != 0) throw std::runtime_error("bad chunk end");
          if (size == 0) {
            buf_.erase(0, 2);
            break;
          }
          r.chunks.push_back({buf_.substr(0, size), Clock::now()});
          r.body += r.chunks.back().data;
          buf_.erase(0, size + 2);
        }
      } else {
        const auto cl = r.header("content-length");
        const std::size_t size = cl ? std::stoul(*cl) : 0;
        while (buf_.size() < size) {
          if (!fill()) throw std::runtime_error("EOF in body");
        }
        r.body = buf_.substr(0, size);
        buf_.erase(0, size);
      }
      return r;
    }
  }

  /** Reads until the server closes; true if it did (with nothing more to read). */
  bool closed_by_server() {
    while (buf_.empty()) {
      if (!fill()) return true;
    }
    return false;
  }

  std::size_t bytes_read() const { return bytes_read_; }
  std::size_t bytes_sent() const { return bytes_sent_; }

 private:
  bool fill() {
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    bytes_read_ += static_cast<std::size_t>(n);
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  std::size_t bytes_read_ = 0;
  std::size_t bytes_sent_ = 0;
};

}  // namespace ssebench::server::test
