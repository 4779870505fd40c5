// http_request_fuzzer: arbitrary bytes as one client's whole input, twice over.
// 1. In memory: the bytes are parsed as pipelined HTTP/1.1 requests (Beast's parser, the
//    server's limits) and each is given to the application layer, handle(), with no socket; every
//    answer must be well formed (a JSON body that parses, a hold whose answer can be built at
//    once and later, a stream plan inside its recording).
// 2. Over a socket: the real server runs in-process (started once, on its own thread, port 0,
//    speed 0) with three small recordings from recordings/ (a chat stream, a Responses stream, a
//    stream:false body). A fresh TCP connection, the bytes, a half-close, the answer read with a
//    short deadline, then a check that the server still answers GET /v1/models with 200.
// "resp_bg_X" in an input is replaced by the id of a job started just before (substitute_job_id).
// Findings are crashes, sanitizer reports, malformed answers and a server that stops answering.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "ssebench/recording.hpp"
#include "ssebench/server/api.hpp"
#include "ssebench/server/config.hpp"
#include "ssebench/server/server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds answer_deadline{300};   // per fuzz input: then the client just leaves
constexpr milliseconds health_deadline{5000};  // GET /v1/models must answer within this
constexpr std::string_view job_placeholder = "resp_bg_X";  // see substitute_job_id()
constexpr const char* recordings[] = {"chat-gpt-4o-tool-call.jsonl",
                                      "responses-gpt-4o-mini-ok.jsonl",
                                      "chat-gpt-4.1-nano-nonstream.jsonl"};

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "http_request_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

/**
 * The server on its own thread for the whole run; stopped and joined at exit (a detached thread
 * still inside run() while the static is destroyed was a use-after-destroy of this harness).
 */
struct Fixture {
  ssebench::server::Config config;
  std::unique_ptr<ssebench::server::Server> server;
  std::thread thread;
  std::unique_ptr<ssebench::server::State> state;  // the in-memory application layer's

  Fixture() {
    std::vector<std::shared_ptr<const ssebench::Recording>> recs;
    for (const char* name : recordings) {
      auto r = ssebench::load_recording(std::string(SSEBENCH_RECORDINGS_DIR) + "/" + name);
      if (!r) die("cannot load a recording", r.error);
      recs.push_back(r.recording);
    }
    config.speed = 0;
    // Short limits so that no input holds the server (or this loop) for long.
    config.idle_timeout_ms = 1'000;
    config.stream_lifetime_limit_ms = 1'000;
    config.close_linger_ms = 50;
    config.long_poll_max_wait_ms = 100;
    config.job_retention_ms = 100;
    config.max_jobs = 1'000;
    // Limits inside the fuzzer's -max_len=4096, so that 431 and 413 are reachable.
    config.header_limit_bytes = 2'048;
    config.body_limit_bytes = 2'048;
    server = std::make_unique<ssebench::server::Server>(config, recs);
    thread = std::thread([this] { server->run(); });
    state = std::make_unique<ssebench::server::State>(config, recs);
  }
  ~Fixture() {
    server->stop();
    thread.join();
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket() failed");
  // Close with RST: no TIME_WAIT per input, so a long run cannot run out of ephemeral ports.
  const linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    die("connect() to the server failed");
  }
  return fd;
}

/** Sends `bytes` (stopping quietly if the server closed), half-closes, reads until EOF. */
std::string exchange(std::uint16_t port, std::string_view bytes, milliseconds deadline, bool* eof) {
  const int fd = connect_to(port);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  *eof = false;
  const auto until = Clock::now() + deadline;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *eof = true;  // closed (n == 0) or reset (n < 0): the server is done with us
      break;
    }
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

/**
 * Job ids are numbered by the server, so an input cannot name a live one. When an input holds
 * `job_placeholder`, a background job is started first (at speed 0.1, still running for a few
 * seconds, when the input's length is odd; at speed 0, finished at once, when even) and every
 * placeholder is replaced by its id. If the server refuses (429 at max_jobs), they stay as they
 * are.
 */
void substitute_job_id(std::uint16_t port, std::string& input) {
  if (input.find(job_placeholder) == std::string::npos) return;
  const std::string body = R"({"model":"responses-gpt-4o-mini-ok","background":true})";
  const std::string request =
      "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nx-ssebench-speed: " +
      std::string(input.size() % 2 == 1 ? "0.1" : "0") +
      "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  bool eof = false;
  const std::string answer = exchange(port, request, health_deadline, &eof);
  const auto at = answer.find("\"id\":\"");
  if (!answer.starts_with("HTTP/1.1 200 ") || at == std::string::npos) return;
  const auto end = answer.find('"', at + 6);
  if (end == std::string::npos) return;
  const std::string id = answer.substr(at + 6, end - at - 6);
  for (auto pos = input.find(job_placeholder); pos != std::string::npos;
       pos = input.find(job_placeholder, pos + id.size())) {
    input.replace(pos, job_placeholder.size(), id);
  }
}

namespace srv = ssebench::server;
namespace http = boost::beast::http;

/** A JSON answer must parse; an SSE or empty one is left alone. */
void check_answer(const srv::Response& res, std::string_view what) {
  if (res.result_int() < 100 || res.result_int() > 599) die("bad status", what);
  if (res[http::field::content_type] != "application/json") return;
  boost::json::error_code ec;
  (void)boost::json::parse(res.body(), ec);
  if (ec) die("a JSON answer that does not parse", res.body());
}

/**
 * Part 1: every complete request in `input`, in order, through handle() at a fixed instant and
 * with the job placeholder bound to a job of the in-memory state.
 */
void fuzz_in_memory(Fixture& f, std::string input) {
  if (input.find(job_placeholder) != std::string::npos) {
    const auto& replay = f.state->replays.at("responses-gpt-4o-mini-ok");
    const auto job = f.state->jobs.create(replay, Clock::now(), input.size() % 2 ? 0.1 : 0);
    if (job) {
      const std::string id = job->name();
      for (auto pos = input.find(job_placeholder); pos != std::string::npos;
           pos = input.find(job_placeholder, pos + id.size()))
        input.replace(pos, job_placeholder.size(), id);
    }
  }
  boost::beast::flat_buffer buffer;
  buffer.commit(boost::asio::buffer_copy(buffer.prepare(input.size()), boost::asio::buffer(input)));
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(f.config.header_limit_bytes));
    parser.body_limit(f.config.body_limit_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more && used > 0) continue;
      if (ec != http::error::need_more) {
        if (ec || used == 0) return;  // errors: the session answers these itself (400, 413, 431)
        continue;
      }
      // All of the input is in: what is left is a message that ends at EOF, or a fragment.
      if (!parser.got_some()) return;
      ec = {};
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return;
    }
    const srv::Request& req = parser.get();
    const auto now = Clock::now();
    srv::Outcome out = srv::handle(req, *f.state, now);
    if (const auto* res = std::get_if<srv::Response>(&out.plan)) check_answer(*res, "answer");
    if (auto* hold = std::get_if<srv::HoldPlan>(&out.plan)) {
      check_answer(hold->answer(now), "held answer, at once");
      check_answer(hold->answer(hold->until), "held answer, when due");
    }
    if (const auto* plan = std::get_if<srv::StreamPlan>(&out.plan)) {
      if (!plan->replay || plan->first > plan->replay->recording->events.size())
        die("a stream plan outside its recording", req.target());
    }
    if (!req.keep_alive()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  const std::uint16_t port = fixture.server->port();

  bool eof = false;
  std::string input(reinterpret_cast<const char*>(data), size);
  fuzz_in_memory(fixture, input);
  substitute_job_id(port, input);
  (void)exchange(port, input, answer_deadline, &eof);
  if (!eof) {
    // Not a failure (a busy machine can be slow), but a server that keeps a half-closed
    // connection open is worth a look: count them, show the first.
    static std::size_t open_after_deadline = 0;
    if (open_after_deadline++ == 0) {
      std::fprintf(stderr, "http_request_fuzzer: still open after %lld ms (first such input):\n",
                   static_cast<long long>(answer_deadline.count()));
      for (const char c : input.substr(0, 400)) {
        if (c >= 0x20 && c < 0x7f && c != '\\')
          std::fputc(c, stderr);
        else
          std::fprintf(stderr, "\\x%02x", static_cast<unsigned char>(c));
      }
      std::fputc('\n', stderr);
    } else if ((open_after_deadline & (open_after_deadline - 1)) == 0) {
      std::fprintf(stderr, "http_request_fuzzer: %zu inputs still open after the deadline\n",
                   open_after_deadline);
    }
  }

  const auto health =
      exchange(port, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
               health_deadline, &eof);
  if (!health.starts_with("HTTP/1.1 200 ") ||
      health.find("\"object\":\"list\"") == std::string::npos)
    die("the server no longer answers GET /v1/models with 200", health.substr(0, 200));
  return 0;
}
