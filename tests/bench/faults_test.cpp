// The harness's clients against a server that answers garbage (a tiny raw-socket server here):
// wrong framing, truncated chunks, events that are not JSON, a stalled stream, no HTTP at all.
// Each is a counted error of its own kind, and nothing crashes or hangs: with libcurl (a round),
// and with the soak's own HTTP/1.1 client (HttpClient::epoll, in a soak).
#include "ssebench/bench/engine.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace ssebench::bench {
namespace {

using namespace std::chrono_literals;

/**
 * Accepts connections on 127.0.0.1 (port 0) and answers every request with `answer`, whatever
 * was asked; then closes, or with `stall` keeps the connection open and silent.
 */
class GarbageServer {
 public:
  GarbageServer(std::string answer, bool stall) : answer_(std::move(answer)), stall_(stall) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0)
      throw std::runtime_error("bind/listen");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~GarbageServer() {
    stop_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      read_request(fd);
      const char* data = answer_.data();
      std::size_t left = answer_.size();
      while (left > 0) {
        const ssize_t n = ::send(fd, data, left, MSG_NOSIGNAL);
        if (n <= 0) break;
        data += n;
        left -= static_cast<std::size_t>(n);
      }
      if (stall_)
        held_.push_back(fd);
      else
        ::close(fd);
    }
  }

  /** Reads the request's headers and its Content-Length body (at most a second). */
  static void read_request(int fd) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + 1s;
    std::size_t need = std::string::npos;
    while (std::chrono::steady_clock::now() < until) {
      if (const auto end = got.find("\r\n\r\n");
          need == std::string::npos && end != std::string::npos) {
        std::size_t length = 0;
        if (const auto cl = got.find("Content-Length: "); cl != std::string::npos && cl < end)
          length = std::stoul(got.substr(cl + 16));
        need = end + 4 + length;
      }
      if (need != std::string::npos && got.size() >= need) return;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

  std::string answer_;
  bool stall_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

/** A recording of the project (only its expectation: the garbage server ignores it). */
Expectation expectation() {
  const FolderLoad folder = load_folder(SSEBENCH_RECORDINGS_DIR);
  for (const auto& r : folder.recordings)
    if (r->id == "chat-gpt-4o-mini-text") return make_expectation(r);
  throw std::runtime_error("no recording chat-gpt-4o-mini-text");
}

constexpr std::string_view sse_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

const std::string good_event =
    R"(data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]})"
    "\n\n";

struct Outcome {
  std::vector<StreamRecord> streams;
  std::chrono::steady_clock::duration took;
};

ClientConfig config_for(const GarbageServer& server) {
  ClientConfig c;
  c.base_url = server.url();
  c.speed = 1000;  // the recording's own length ≈ 0: the deadline is the slack
  c.deadline_slack = 500ms;
  c.interval = 50ms;
  c.shape = PollShape::delta;
  return c;
}

/** Three streams of `transport` against a server answering `answer`. */
Outcome run_against(const std::string& answer, bool stall, Transport transport = Transport::sse) {
  GarbageServer server(answer, stall);
  const Expectation x = expectation();
  const ClientConfig c = config_for(server);
  Engine engine;
  const auto t0 = std::chrono::steady_clock::now();
  RoundResult r = engine.run_round(x, transport, c, 3);
  return {std::move(r.streams), std::chrono::steady_clock::now() - t0};
}

void expect_all(const Outcome& o, ErrorKind kind, std::string_view detail) {
  ASSERT_EQ(o.streams.size(), 3u);
  for (const StreamRecord& s : o.streams) {
    ASSERT_TRUE(s.error) << "a stream passed";
    EXPECT_EQ(to_string(*s.error), to_string(kind)) << s.error_detail;
    EXPECT_NE(s.error_detail.find(detail), std::string::npos) << s.error_detail;
  }
  EXPECT_LT(o.took, 5s);
}

/**
 * Three users of `transport` held by a soak for `length` against a server answering `answer`,
 * their requests sent by the soak's own HTTP/1.1 client (HttpClient::epoll), each session
 * replaced as it ends: every session that ended failed, all of `kind`, the first with `detail`.
 */
void expect_all_epoll(const std::string& answer, bool stall, Transport transport, ErrorKind kind,
                      std::string_view detail, std::chrono::milliseconds length = 300ms) {
  GarbageServer server(answer, stall);
  const Expectation x = expectation();
  std::vector<SoakGroup> groups{{&x, transport, config_for(server), 3}};
  groups[0].config.client = HttpClient::epoll;
  Engine engine;
  const auto t0 = std::chrono::steady_clock::now();
  const SoakResult r = engine.run_soak(groups, 0ms, length, 1h, {});
  const SoakGroupResult& g = r.groups.at(0);
  EXPECT_EQ(g.streams_ok, 0u);
  EXPECT_GE(g.streams_failed, 3u) << "every user's session failed at least once";
  EXPECT_EQ(g.errors[static_cast<std::size_t>(kind)], g.streams_failed) << g.first_error;
  EXPECT_NE(g.first_error.find(detail), std::string::npos) << g.first_error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, length + 2s);
}

TEST(GarbageServer, WrongChunkFramingIsABadResponse) {
  expect_all(run_against(std::string(sse_head) + "zz\r\n" + good_event, false),
             ErrorKind::bad_response, "bad chunked framing");
  expect_all_epoll(std::string(sse_head) + "zz\r\n" + good_event, false, Transport::sse,
                   ErrorKind::bad_response, "bad chunked framing");
}

TEST(GarbageServer, AChunkCutShortIsTruncated) {
  const std::string cut = chunk(good_event).substr(0, 20);  // size line and part of its data
  expect_all(run_against(std::string(sse_head) + chunk(good_event) + cut, false),
             ErrorKind::truncated, "");
  expect_all_epoll(std::string(sse_head) + chunk(good_event) + cut, false, Transport::sse,
                   ErrorKind::truncated, "the answer was cut");
}

TEST(GarbageServer, AStreamWithoutItsLastChunkIsTruncated) {
  expect_all(run_against(std::string(sse_head) + chunk(good_event), false), ErrorKind::truncated,
             "");
  expect_all_epoll(std::string(sse_head) + chunk(good_event), false, Transport::sse,
                   ErrorKind::truncated, "closed the connection before the answer ended");
}

TEST(GarbageServer, AnEventThatIsNotJsonIsABadResponse) {
  expect_all(run_against(std::string(sse_head) + chunk(good_event) + chunk("data: {oops\n\n") +
                             chunk("data: [DONE]\n\n") + "0\r\n\r\n",
                         false),
             ErrorKind::bad_response, "event 2 is not a JSON object");
  expect_all_epoll(std::string(sse_head) + chunk(good_event) + chunk("data: {oops\n\n") +
                       chunk("data: [DONE]\n\n") + "0\r\n\r\n",
                   false, Transport::sse, ErrorKind::bad_response, "event 2 is not a JSON object");
}

TEST(GarbageServer, AStalledStreamTimesOutAtItsDeadline) {
  const Outcome o = run_against(std::string(sse_head) + chunk(good_event), true);
  expect_all(o, ErrorKind::timeout, "no end after");
  EXPECT_GE(o.took, 500ms);
  // Each user's stream times out at ≈ 550 ms (slack + interval); the next is cut at the end.
  expect_all_epoll(std::string(sse_head) + chunk(good_event), true, Transport::sse,
                   ErrorKind::timeout, "no end after", 900ms);
}

TEST(GarbageServer, AnAnswerThatIsNotHttpIsAConnectionError) {
  expect_all(run_against("SSH-2.0-OpenSSH_9.2\r\n\r\n", false), ErrorKind::curl, "");
  expect_all_epoll("SSH-2.0-OpenSSH_9.2\r\n\r\n", false, Transport::sse, ErrorKind::curl,
                   "a malformed status line");
}

TEST(GarbageServer, AnEmptyAnswerIsAConnectionError) {
  expect_all(run_against("", false), ErrorKind::curl, "");
  expect_all_epoll("", false, Transport::poll, ErrorKind::curl,
                   "closed the connection before the answer ended");
}

TEST(GarbageServer, AnErrorStatusIsCountedAsSuch) {
  expect_all(
      run_against("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", false),
      ErrorKind::http_status, "HTTP 503: busy");
  expect_all_epoll("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", false,
                   Transport::poll, ErrorKind::http_status, "HTTP 503: busy");
}

TEST(GarbageServer, APollAnswerThatIsNotJsonIsABadResponse) {
  for (Transport t : {Transport::poll, Transport::long_poll}) {
    expect_all(run_against("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!", false, t),
               ErrorKind::bad_response, "not a JSON object");
    expect_all_epoll("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!", false, t,
                     ErrorKind::bad_response, "not a JSON object");
  }
}

TEST(GarbageServer, AStalledPollTimesOutAtItsDeadline) {
  const Outcome o =
      run_against("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", true, Transport::poll);
  expect_all(o, ErrorKind::timeout, "no end after");
  expect_all_epoll("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", true, Transport::poll,
                   ErrorKind::timeout, "no end after", 900ms);
}

}  // namespace
}  // namespace ssebench::bench
