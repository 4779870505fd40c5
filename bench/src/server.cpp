#include "ssebench/bench/server.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

namespace ssebench::bench {

namespace json = boost::json;

namespace {
constexpr std::string_view listening_prefix = "listening on ";
/** Timeout of one /mock/stats request. */
constexpr long stats_timeout_ms = 10'000;

void wait_or_kill(pid_t pid) {
  const auto until = std::chrono::steady_clock::now() + ServerProcess::stop_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::size_t append_cb(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/** A handle of the harness's own requests to the server (/mock/...): no proxy, no signals, the
 *  stats timeout, its body appended to `body`. */
CURL* control_handle(const std::string& url, std::string& body) {
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, stats_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append_cb);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  return easy;
}

/** One blocking request on its own handle (not tracked: it is not part of any round). */
std::optional<std::string> simple_request(const std::string& url, bool post, std::string* error) {
  std::string body;
  CURL* easy = control_handle(url, body);
  if (post) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
  }
  const CURLcode rc = curl_easy_perform(easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK || status != 200) {
    if (error)
      *error =
          url + ": " + (rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status));
    return std::nullopt;
  }
  return body;
}

double number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0.0;
}
}  // namespace

ServerProcess::ServerProcess(const std::string& binary, std::vector<std::string> args,
                             const std::string& netns) {
  const std::vector<std::string> command_args = args;
  args.insert(args.begin(), binary);
  args.push_back("--port");
  args.push_back("0");
  for (const std::string& a : args) {
    if (!command_.empty()) command_ += ' ';
    command_ += a;
  }
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The namespace is opened here: the child only calls setns on it.
  const int ns_fd =
      netns.empty() ? -1 : open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (!netns.empty() && ns_fd < 0)
    throw std::runtime_error("no network namespace /run/netns/" + netns);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness
    // Its own process group: a Ctrl-C at the terminal reaches the harness only, which stops the
    // run cleanly (its results written) and then this server.
    setpgid(0, 0);
    if (getppid() != parent) _exit(127);
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) _exit(126);
    dup2(fds[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  if (ns_fd >= 0) close(ns_fd);
  stdout_fd_ = fds[0];
  const auto fail = [&](const std::string& why) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(stdout_fd_);
    throw std::runtime_error(command_ + ": " + why);
  };
  std::string pending;  // read, not yet taken as a line
  const auto until = std::chrono::steady_clock::now() + start_timeout;
  // The next stdout line, or empty when it does not come in time.
  const auto next_line = [&]() -> std::optional<std::string> {
    while (pending.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      pollfd p{stdout_fd_, POLLIN, 0};
      char buf[256];
      ssize_t n = 0;
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0 ||
          (n = read(stdout_fd_, buf, sizeof buf)) <= 0)
        return std::nullopt;
      pending.append(buf, static_cast<std::size_t>(n));
    }
    std::string line = pending.substr(0, pending.find('\n'));
    pending.erase(0, line.size() + 1);
    return line;
  };
  // "listening on URL" -> URL, without a trailing slash.
  const auto url_of = [](std::string line) {
    line.erase(0, listening_prefix.size());
    while (!line.empty() && (line.back() == '\r' || line.back() == '/')) line.pop_back();
    return line;
  };
  const std::optional<std::string> first = next_line();
  if (!first) fail("no 'listening on' line (exited or timed out)");
  if (!first->starts_with(listening_prefix)) fail("unexpected first line: " + *first);
  url_ = url_of(*first);
  // With a TLS port, its line follows at once.
  const bool tls = std::any_of(command_args.begin(), command_args.end(),
                               [](const std::string& a) { return a.starts_with("--tls-port"); });
  if (tls) {
    const std::optional<std::string> second = next_line();
    if (!second) fail("no 'listening on https://' line (exited or timed out)");
    if (!second->starts_with(std::string(listening_prefix) + "https://"))
      fail("unexpected second line: " + *second);
    tls_url_ = url_of(*second);
  }
  // Later output is drained so that the server never blocks on a full pipe; the pipe is closed
  // once the server has exited.
  std::thread([fd = stdout_fd_] {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }).detach();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    wait_or_kill(pid_);
  }
}

std::optional<ServerStats> fetch_stats(const std::string& base_url, std::string* error,
                                       bool count_fds) {
  const std::optional<std::string> body =
      simple_request(base_url + (count_fds ? "/mock/stats?fds=true" : "/mock/stats"), false, error);
  if (!body) return std::nullopt;
  json::error_code ec;
  const json::value v = json::parse(*body, ec);
  if (ec || !v.is_object()) {
    if (error) *error = base_url + "/mock/stats: not a JSON object";
    return std::nullopt;
  }
  const json::object& o = v.as_object();
  ServerStats s;
  if (const json::value* cpu = o.if_contains("cpu"); cpu && cpu->is_object()) {
    s.cpu_user_us = number(cpu->as_object(), "user_us");
    s.cpu_sys_us = number(cpu->as_object(), "sys_us");
  }
  if (const json::value* l = o.if_contains("lateness_us"); l && l->is_object()) {
    s.lateness_us_p50 = number(l->as_object(), "p50");
    s.lateness_us_p99 = number(l->as_object(), "p99");
    s.lateness_us_max = number(l->as_object(), "max");
    s.lateness_count = static_cast<std::uint64_t>(number(l->as_object(), "count"));
  }
  s.rss_bytes = static_cast<std::int64_t>(number(o, "rss_bytes"));
  s.fds_open = static_cast<std::int64_t>(number(o, "fds_open"));
  s.connections_open = static_cast<std::int64_t>(number(o, "connections_open"));
  s.streams_active = static_cast<std::int64_t>(number(o, "streams_active"));
  s.requests_held = static_cast<std::int64_t>(number(o, "requests_held"));
  s.jobs_active = static_cast<std::int64_t>(number(o, "jobs_active"));
  s.jobs_held = static_cast<std::int64_t>(number(o, "jobs_held"));
  if (const json::value* t = o.if_contains("timeouts"); t && t->is_object())
    for (const auto& [name, value] : t->as_object())
      s.timeouts[std::string(name)] = value.is_number() ? value.to_number<std::uint64_t>() : 0;
  if (const json::value* h = o.if_contains("h2_connection_bytes"); h && h->is_object()) {
    s.h2_connection_bytes_in = static_cast<std::uint64_t>(number(h->as_object(), "in"));
    s.h2_connection_bytes_out = static_cast<std::uint64_t>(number(h->as_object(), "out"));
  }
  s.connections_accepted = static_cast<std::uint64_t>(number(o, "connections_accepted"));
  if (const json::value* t = o.if_contains("tls"); t && t->is_object())
    if (const json::value* w = t->as_object().if_contains("wire_bytes"); w && w->is_object()) {
      s.tls_wire_bytes_in = static_cast<std::uint64_t>(number(w->as_object(), "in"));
      s.tls_wire_bytes_out = static_cast<std::uint64_t>(number(w->as_object(), "out"));
    }
  if (const json::value* e = o.if_contains("endpoints"); e && e->is_object()) {
    for (const auto& [name, value] : e->as_object()) {
      if (!value.is_object()) continue;
      EndpointStats& es = s.endpoints[std::string(name)];
      es.requests = static_cast<std::uint64_t>(number(value.as_object(), "requests"));
      es.bytes_in = static_cast<std::uint64_t>(number(value.as_object(), "bytes_in"));
      es.bytes_out = static_cast<std::uint64_t>(number(value.as_object(), "bytes_out"));
      es.header_bytes_in = static_cast<std::uint64_t>(number(value.as_object(), "header_bytes_in"));
      es.header_bytes_out =
          static_cast<std::uint64_t>(number(value.as_object(), "header_bytes_out"));
    }
  }
  return s;
}

bool reset_stats(const std::string& base_url) {
  return simple_request(base_url + "/mock/stats/reset", true, nullptr).has_value();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<ClockOffset> measure_clock(const std::string& base_url, int probes,
                                         std::string* error) {
  const std::string url = base_url + "/mock/time";
  std::string body;
  CURL* easy = control_handle(url, body);
  std::optional<ClockOffset> best;
  double best_rtt = 0;
  for (int i = 0; i < probes; ++i) {
    body.clear();
    // The round trip by the steady clock, its midpoint by the wall clock the offset is against.
    const auto sent = std::chrono::steady_clock::now();
    const double sent_unix = unix_now();
    const CURLcode rc = curl_easy_perform(easy);
    const double received_unix = unix_now();
    const double rtt =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    json::error_code ec;
    const json::value v = rc == CURLE_OK && status == 200 ? json::parse(body, ec) : json::value();
    const json::value* us = v.is_object() ? v.as_object().if_contains("unix_us") : nullptr;
    if (!us || !us->is_number()) {
      if (error)
        *error = url + ": " +
                 (rc != CURLE_OK  ? curl_easy_strerror(rc)
                  : status != 200 ? "HTTP " + std::to_string(status) +
                                        (status == 404 ? " (a server older than the harness?)" : "")
                                  : "no unix_us in " + body);
      curl_easy_cleanup(easy);
      return std::nullopt;
    }
    const double server = us->to_number<double>() / 1e6;
    if (!best || rtt < best_rtt) {
      best_rtt = rtt;
      best = ClockOffset{.offset_s = server - (sent_unix + received_unix) / 2,
                         .uncertainty_s = rtt / 2};
    }
  }
  curl_easy_cleanup(easy);
  return best;
}

}  // namespace ssebench::bench
