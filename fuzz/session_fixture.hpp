#pragma once
// What the session fuzzers (h2_session_fuzzer, ws_session_fuzzer) share: the server's State
// with two tiny recordings built here (3 events each: a chat stream with a stream:false body,
// a Responses stream) and short limits; a connected socket pair whose one end is the session's
// tcp::socket (an AF_UNIX fd assigned to it: the session only reads, writes, shuts down and
// closes it), the other the fuzzer's client end; the loop that runs the session until it is
// idle; and the checks every input ends with.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "executor.hpp"
#include "ssebench/recording.hpp"
#include "ssebench/server/api.hpp"
#include "ssebench/server/config.hpp"

namespace ssebench::fuzz {

namespace srv = ssebench::server;
namespace net = boost::asio;

[[noreturn]] inline void die(const char* fuzzer, const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "%s: %s%s%.*s\n", fuzzer, what, detail.empty() ? "" : ": ",
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/** A chat stream ("a", finish, [DONE]) with a stream:false body; model id "chat-tiny". */
inline constexpr std::string_view chat_recording =
    R"({"format":"ssebench-recording","version":1,"api":"chat.completions","model":"gpt-fuzz",)"
    R"("provenance":{"source":"synthesized","timing":{"kind":"recorded"},"notes":"fuzzer"},)"
    R"("request":{"method":"POST","path":"/v1/chat/completions","body":"{\"model\":\"gpt-fuzz\",\"stream\":true}"},)"
    R"("response":{"status":200,"headers":[["content-type","text/event-stream; charset=utf-8"]],"headers_offset_us":0},)"
    R"("nonstream":{"offset_us":300,"status":200,"headers":[["content-type","application/json"]],)"
    R"("body":"{\"id\":\"chatcmpl-f\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-fuzz\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"finish_reason\":\"stop\"}]}"},)"
    R"("events":3})"
    "\n"
    R"({"t_us":100,"kind":"content","bytes":"data: {\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-fuzz\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n"})"
    "\n"
    R"({"t_us":200,"kind":"finish","bytes":"data: {\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-fuzz\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"})"
    "\n"
    R"({"t_us":300,"kind":"done","bytes":"data: [DONE]\n\n"})"
    "\n";

/** A Responses stream (created, one delta, completed); model id "responses-tiny". */
inline constexpr std::string_view responses_recording =
    R"({"format":"ssebench-recording","version":1,"api":"responses","model":"gpt-fuzz-r",)"
    R"("provenance":{"source":"synthesized","timing":{"kind":"recorded"},"notes":"fuzzer"},)"
    R"("request":{"method":"POST","path":"/v1/responses","body":"{\"model\":\"gpt-fuzz-r\",\"stream\":true}"},)"
    R"("response":{"status":200,"headers":[["content-type","text/event-stream; charset=utf-8"]],"headers_offset_us":0},)"
    R"("events":3})"
    "\n"
    R"({"t_us":100,"kind":"response.created","bytes":"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_f\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n"})"
    "\n"
    R"({"t_us":200,"kind":"response.output_text.delta","bytes":"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"content_index\":0,\"delta\":\"a\",\"item_id\":\"msg_f\",\"output_index\":0}\n\n"})"
    "\n"
    R"({"t_us":300,"kind":"response.completed","bytes":"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_f\",\"object\":\"response\",\"status\":\"completed\",\"output\":[]}}\n\n"})"
    "\n";

/**
 * The State every input's session shares (as a server's connections do) and the io_context it
 * runs on. Speed 0: a stream's events are all due at once, so an input's streams play out within
 * the input; limits short so that nothing an input starts outlives it for long.
 */
struct SessionFixture {
  srv::Config config;
  std::unique_ptr<srv::State> state_owner;
  std::shared_ptr<srv::State> state;
  net::io_context ioc;
  const char* fuzzer;

  explicit SessionFixture(const char* name) : fuzzer(name) {
    std::vector<std::shared_ptr<const Recording>> recs;
    for (const auto& [text, file] : {std::pair{chat_recording, "chat-tiny.jsonl"},
                                     std::pair{responses_recording, "responses-tiny.jsonl"}}) {
      auto r = parse_recording(text, file);
      if (!r) die(fuzzer, "a built-in recording does not parse", r.error);
      recs.push_back(r.recording);
    }
    config.speed = 0;
    config.idle_timeout_ms = 1'000;
    config.request_timeout_ms = 1'000;
    config.write_timeout_ms = 1'000;
    config.stream_lifetime_limit_ms = 1'000;
    config.close_linger_ms = 1;  // a protocol error's drain: time, not logic; 1 ms keeps runs fast
    config.long_poll_max_wait_ms = 5;  // waits and retention are time, not logic: short, so that
    config.job_retention_ms = 1;  // the io_context runs dry soon after the EOF (runs per second)
    config.max_jobs = 1'000;
    // Inside the fuzzers' inputs (-max_len 4096), so that 431 and 413 are reachable.
    config.header_limit_bytes = 2'048;
    config.body_limit_bytes = 2'048;
    config.h2_max_concurrent_streams = 8;
    state = std::make_shared<srv::State>(config, recs);
    if (!state->load_errors.empty())
      die(fuzzer, "a built-in recording is not served", state->load_errors.front());
  }

  /** A connected pair: [0] becomes the session's socket, [1] is the client's end. */
  std::pair<srv::TcpSocket, int> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      die(fuzzer, "socketpair() failed");
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    srv::TcpSocket s(net::make_strand(ioc));  // as the server's accept makes them
    boost::system::error_code ec;
    s.assign(net::ip::tcp::v4(), fds[0], ec);
    if (ec) die(fuzzer, "cannot assign the fd to a socket", ec.message());
    return {std::move(s), fds[1]};
  }

  /** Reads what the client end has (non-blocking) into `out`; false at EOF or on an error. */
  static bool drain(int fd, std::string& out) {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  /**
   * The client sends `input` (in pieces as the socket buffer takes them), then everything ready
   * runs until nothing is (timers not yet due are left waiting: idle, deadlines); the server's
   * bytes are collected in `out`.
   */
  void send_and_settle(int fd, std::string_view input, std::string& out) {
    for (;;) {
      while (!input.empty()) {
        const ssize_t n = ::send(fd, input.data(), input.size(), MSG_NOSIGNAL);
        if (n <= 0) break;  // full (EAGAIN), or the session has closed its end
        input.remove_prefix(static_cast<std::size_t>(n));
      }
      std::size_t ran = ioc.poll();
      const std::size_t before = out.size();
      const bool open = drain(fd, out);
      if (ran == 0 && out.size() == before && (input.empty() || !open)) break;
      if (!open && input.size()) input = {};
      ioc.restart();
    }
    ioc.restart();
  }

  /**
   * The client half-closes: the session must end (every handler run, its socket closed) within
   * `limit`; then the gauges every session moves must be back to zero.
   */
  void finish(int fd, std::string& out, std::chrono::milliseconds limit) {
    ::shutdown(fd, SHUT_WR);
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(5));
      drain(fd, out);
      if (std::chrono::steady_clock::now() > until) {
        if (!ioc.stopped())
          die(fuzzer, "the session did not end after the client's EOF (handlers still pending)");
      }
    }
    ioc.restart();
    drain(fd, out);
    ::close(fd);
    const auto& st = state->stats;
    if (st.connections_open.load() != 0) die(fuzzer, "connections_open is not 0 after the session");
    if (st.streams_active.load() != 0) die(fuzzer, "streams_active is not 0 after the session");
    if (st.requests_held.load() != 0) die(fuzzer, "requests_held is not 0 after the session");
  }
};

}  // namespace ssebench::fuzz
