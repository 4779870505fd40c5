// The browser as a client: the driver process (bench/browser/driver.mjs) and its replies turned
// into the harness's records.
#include "ssebench/bench/browser_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "ssebench/poll_shape.hpp"
#include "stream.hpp"

namespace ssebench::bench {

namespace json = boost::json;

std::string built_browser_driver() {
#ifdef SSEBENCH_SOURCE_DIR
  return SSEBENCH_SOURCE_DIR "/bench/browser/driver.mjs";
#else
  return "bench/browser/driver.mjs";
#endif
}

void receive_arrivals(const Expectation& expect, std::span<const BrowserArrival> arrivals,
                      StreamRecord& record) {
  // The content ordinals of each choice, in order, and the first not yet received.
  struct Pending {
    std::vector<std::size_t> ordinals;
    std::size_t next = 0;
  };
  std::map<int, Pending> by_choice;
  std::size_t ordinal = 0;
  for (const Event& e : expect.recording->events)
    if (e.content) by_choice[e.choice].ordinals.push_back(ordinal++);
  for (const auto& [choice, text] : record.transcript) {
    // Text already there (a reply read in parts): its events were received before.
    Pending& p = by_choice[choice];
    while (p.next < p.ordinals.size() && expect.content_text_end[p.ordinals[p.next]] <= text.size())
      ++p.next;
  }
  for (const BrowserArrival& a : arrivals) {
    std::string& text = record.transcript[a.choice];
    text += a.text;
    Pending& p = by_choice[a.choice];
    while (p.next < p.ordinals.size() &&
           expect.content_text_end[p.ordinals[p.next]] <= text.size()) {
      record.content.push_back({a.t, p.ordinals[p.next]});
      ++p.next;
    }
  }
}

TimePoint from_epoch_ms(double epoch_ms, double now_epoch_ms, TimePoint now) {
  return now - std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double, std::milli>(now_epoch_ms - epoch_ms));
}

namespace {

double number_of(const json::value* v) {
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return 0;
}

/** The browser's error text as one of the harness's kinds (the text itself is kept). */
ErrorKind kind_of(std::string_view text) {
  if (text.find("deadline") != std::string_view::npos ||
      text.find("timed out") != std::string_view::npos)
    return ErrorKind::timeout;
  if (text.starts_with("HTTP ")) return ErrorKind::http_status;
  if (text.find("nterrupt") != std::string_view::npos) return ErrorKind::interrupted;
  // fetch's TypeError, a closed WebSocket, a crashed page: no (complete) answer.
  return ErrorKind::truncated;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > 400) s = s.substr(0, 400) + "...";
  return s;
}

}  // namespace

RoundResult parse_browser_reply(const std::string& line, const Expectation& expect,
                                Transport transport, double now_epoch_ms, TimePoint now,
                                std::size_t streams_asked) {
  json::error_code ec;
  const json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) throw std::runtime_error("the driver's reply is not a JSON object");
  const json::object& o = v.as_object();
  const json::value* streams = o.if_contains("streams");
  if (!streams || !streams->is_array())
    throw std::runtime_error("the driver's reply has no streams array");
  const auto at = [&](const json::value* ms) -> std::optional<TimePoint> {
    if (!ms || ms->is_null()) return std::nullopt;
    return from_epoch_ms(number_of(ms), now_epoch_ms, now);
  };
  std::string round_error;
  if (const json::value* e = o.if_contains("error"); e && e->is_string())
    round_error = one_line(std::string(e->as_string()));
  RoundResult out;
  const Transcript& want =
      transport == Transport::rest ? expect.rest_transcript : expect.transcript;
  const std::size_t content_events = expect.clock.content_offsets().size();
  std::optional<TimePoint> first, last;
  std::size_t preflights = 0;
  bool preflights_counted = !streams->as_array().empty();
  for (const json::value& sv : streams->as_array()) {
    if (!sv.is_object()) throw std::runtime_error("a stream of the driver's reply is no object");
    const json::object& s = sv.as_object();
    StreamRecord r;
    r.t0 = at(s.if_contains("t0")).value_or(now);
    r.dispatched = at(s.if_contains("dispatched"));
    r.first_byte = at(s.if_contains("first_byte"));
    r.end = at(s.if_contains("end"));
    r.requests = static_cast<std::size_t>(number_of(s.if_contains("requests")));
    r.events = static_cast<std::size_t>(number_of(s.if_contains("events")));
    // null unless the driver was asked to count them.
    const json::value* p = s.if_contains("preflights");
    preflights_counted = preflights_counted && p && !p->is_null();
    preflights += static_cast<std::size_t>(number_of(p));
    std::vector<BrowserArrival> arrivals;
    if (const json::value* a = s.if_contains("arrivals"); a && a->is_array())
      for (const json::value& one : a->as_array()) {
        if (!one.is_object()) continue;
        const json::object& x = one.as_object();
        const json::value* text = x.if_contains("text");
        arrivals.push_back(BrowserArrival{
            .t = at(x.if_contains("t")).value_or(now),
            .choice = static_cast<int>(number_of(x.if_contains("choice"))),
            .text = text && text->is_string() ? std::string(text->as_string()) : std::string()});
      }
    receive_arrivals(expect, arrivals, r);
    if (const json::value* e = s.if_contains("error"); e && e->is_string()) {
      const std::string text = one_line(std::string(e->as_string()));
      r.fail(kind_of(text), "browser: " + text);
    } else if (!round_error.empty()) {
      r.fail(kind_of(round_error), "browser: " + round_error);
    } else {
      check_transcript(r, want, content_events);
    }
    if (!r.end && r.ok()) r.fail(ErrorKind::truncated, "browser: the stream has no end");
    first = first ? std::min(*first, r.t0) : r.t0;
    const TimePoint e = r.end.value_or(r.content.empty() ? r.t0 : r.content.back().recv);
    last = last ? std::max(*last, e) : e;
    out.streams.push_back(std::move(r));
  }
  if (out.streams.empty() && !round_error.empty()) {
    // The round never started its streams (Chromium gone, the page threw): each fails with it.
    for (std::size_t k = 0; k < streams_asked; ++k) {
      StreamRecord r;
      r.t0 = now;
      r.fail(kind_of(round_error), "browser: " + round_error);
      out.streams.push_back(std::move(r));
    }
  }
  if (first && last) out.wall_s = std::chrono::duration<double>(*last - *first).count();
  BrowserRound b{
      .renderer_cpu_us = number_of(o.if_contains("renderer_cpu_us")),
      .network_cpu_us = number_of(o.if_contains("network_cpu_us")),
      .browser_cpu_us = number_of(o.if_contains("browser_cpu_us")),
      .main_thread_busy_ms = number_of(o.if_contains("main_thread_busy_ms")),
      .long_tasks = static_cast<std::size_t>(number_of(o.if_contains("long_tasks"))),
      .preflights = preflights,
      .preflights_counted = preflights_counted,
  };
  out.client_cpu_us = b.renderer_cpu_us + b.network_cpu_us + b.browser_cpu_us;
  out.browser = b;
  return out;
}

/** The driver's stderr, drained by a thread (a full pipe would block the driver): its last
 *  lines kept for the one line a failure prints; echoed with $SSEBENCH_BROWSER_LOG set. */
struct BrowserClient::Stderr {
  static constexpr std::size_t keep_bytes = 8192;
  int fd = -1;
  std::mutex mutex;
  std::string tail;
  std::atomic<bool> done{false};
  std::thread reader;

  explicit Stderr(int f) : fd(f) {
    const bool echo = std::getenv("SSEBENCH_BROWSER_LOG") != nullptr;
    reader = std::thread([this, echo] {
      char buf[4096];
      // Polled, not blocked in read(): a Chromium left holding the pipe cannot keep it open.
      while (!done.load()) {
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (echo) (void)!::write(STDERR_FILENO, buf, static_cast<std::size_t>(n));
        const std::lock_guard lock(mutex);
        tail.append(buf, static_cast<std::size_t>(n));
        if (tail.size() > keep_bytes) tail.erase(0, tail.size() - keep_bytes);
      }
    });
  }
  ~Stderr() {
    done = true;
    if (reader.joinable()) reader.join();
    ::close(fd);
  }
  std::string last_line() {
    const std::lock_guard lock(mutex);
    std::string t = tail;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    const std::size_t nl = t.rfind('\n');
    return one_line(nl == std::string::npos ? t : t.substr(nl + 1));
  }
};

BrowserClient::BrowserClient(BrowserSetup setup) : setup_(std::move(setup)) {
  if (::access(setup_.chromium.c_str(), X_OK) != 0)
    throw BrowserUnavailable(fmt::format(
        "no Chromium at {} (Debian's package chromium; or --chromium=PATH, $SSEBENCH_CHROMIUM)",
        setup_.chromium));
  if (setup_.node.empty() || ::access(setup_.node.c_str(), X_OK) != 0)
    throw BrowserUnavailable("no node on PATH (Debian's package nodejs)");
  if (::access(setup_.driver.c_str(), R_OK) != 0)
    throw BrowserUnavailable(fmt::format("no browser driver at {}", setup_.driver));
  // A driver gone between rounds must not kill the harness as it writes the next one.
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args{setup_.node, setup_.driver, "--chromium=" + setup_.chromium};
  if (!setup_.cert.empty()) args.push_back("--cert=" + setup_.cert);
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw BrowserUnavailable("pipe failed");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw BrowserUnavailable("pipe failed");
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    throw BrowserUnavailable("pipe failed");
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw BrowserUnavailable("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness: it closes Chromium then
    ::setpgid(0, 0);                     // a terminal's Ctrl-C reaches the harness only
    if (::getppid() != parent) _exit(127);
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::setpgid(pid_, pid_);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_ = std::make_unique<Stderr>(err[0]);
  const std::optional<std::string> line =
      read_line(std::chrono::steady_clock::now() + ready_timeout, nullptr);
  const auto fail = [&](const std::string& why) {
    stop();
    throw BrowserUnavailable(why);
  };
  if (!line) {
    // Its output closed: it is exiting; its status says how.
    for (int i = 0; i < 200 && stdout_fd_ < 0 && !lost(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::string gone =
        lost().value_or(stdout_fd_ < 0 ? "closed its output before its ready line"
                                       : "gave no ready line within " +
                                             std::to_string(ready_timeout.count()) + " s");
    const std::string tail = stderr_tail();
    fail(fmt::format("the browser driver {}{}", gone, tail.empty() ? "" : ": " + tail));
  }
  json::error_code ec;
  const json::value v = json::parse(*line, ec);
  if (ec || !v.is_object()) fail("the browser driver's first line is not JSON: " + one_line(*line));
  const json::object& o = v.as_object();
  const json::value* ready = o.if_contains("ready");
  if (!ready || !ready->is_bool() || !ready->as_bool()) {
    const json::value* e = o.if_contains("error");
    fail("the browser did not start: " +
         (e && e->is_string() ? one_line(std::string(e->as_string())) : one_line(*line)));
  }
  if (const json::value* c = o.if_contains("chromium"); c && c->is_string())
    version_ = c->as_string();
  if (const json::value* p = o.if_contains("page_origin"); p && p->is_string())
    page_origin_ = p->as_string();
  browser_pid_ = static_cast<pid_t>(number_of(o.if_contains("browser_pid")));
}

BrowserClient::~BrowserClient() {
  stop();
}

std::string BrowserClient::stderr_tail() {
  return stderr_ ? stderr_->last_line() : "";
}

std::optional<std::string> BrowserClient::read_line(std::chrono::steady_clock::time_point until,
                                                    const std::atomic<bool>* stop) {
  while (true) {
    if (const std::size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (stop && stop->load()) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until || stdout_fd_ < 0) return std::nullopt;
    // Short waits: an interrupt is seen within 100 ms.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    pollfd p{.fd = stdout_fd_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 100)));
    if (ready < 0 && errno != EINTR) return std::nullopt;
    if (ready <= 0) continue;
    char buf[65536];
    const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {  // EOF: the driver is gone
      ::close(stdout_fd_);
      stdout_fd_ = -1;
      return std::nullopt;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

RoundResult BrowserClient::run_round(const Expectation& expect, const BrowserRoundSpec& spec,
                                     const ClientConfig& config, const std::atomic<bool>* stop) {
  if (const std::optional<std::string> gone = lost())
    throw BrowserLost(fmt::format("the browser driver {} before this round{}", *gone,
                                  stderr_tail().empty() ? "" : ": " + stderr_tail()));
  const Recording& rec = *expect.recording;
  const auto deadline = stream_deadline(TimePoint{}, expect, config) - TimePoint{};
  const long deadline_ms =
      static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline).count());
  const bool polled = is_polled(spec.transport);
  json::object req{
      {"round", ++round_},
      {"transport", to_string(spec.transport)},
      {"eventsource", spec.eventsource},
      {"base_url", config.base_url},
      {"api", rec.api == Api::responses ? "responses" : "chat"},
      {"sse_body", expect.sse_body},
      {"rest_body", expect.rest_body},
      {"job_body", expect.job_body},
      {"ws_message", expect.ws_message},
      {"job_path", expect.job_path},
      {"concurrency", spec.concurrency},
      {"speed", config.speed},
      {"interval_ms", config.interval.count()},
      {"long_poll_wait_ms", config.long_poll_wait.count()},
      {"ws_turns", config.ws_turns},
      {"deadline_ms", deadline_ms},
  };
  if (polled)
    req["shape"] = to_string(config.shape);
  else
    req["shape"] = nullptr;
  const std::string line = json::serialize(req) + "\n";
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(stdin_fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string tail = stderr_tail();
      this->stop();
      throw BrowserLost(fmt::format("the browser driver {}{}", lost().value_or("took no round"),
                                    tail.empty() ? "" : ": " + tail));
    }
    written += static_cast<std::size_t>(n);
  }
  const auto until = std::chrono::steady_clock::now() + deadline + reply_slack;
  while (true) {
    std::optional<std::string> reply = read_line(until, stop);
    if (!reply) {
      if (stop && stop->load()) {
        // Interrupted: the driver goes now (no Chromium left behind), the streams as interrupted.
        this->stop();
        RoundResult r;
        const TimePoint now = Clock::now();
        for (std::size_t k = 0; k < spec.concurrency; ++k) {
          StreamRecord s;
          s.t0 = now;
          s.fail(ErrorKind::interrupted, "interrupted while the browser played the round");
          r.streams.push_back(std::move(s));
        }
        return r;
      }
      // Dead (EOF) or hung past the deadline: either way it goes, and the case fails.
      const bool hung = stdout_fd_ >= 0;
      this->stop();
      std::string tail = stderr_tail();
      throw BrowserLost(
          fmt::format("the browser driver {}{}",
                      hung ? fmt::format("gave no answer within the round's deadline + {} s",
                                         reply_slack.count())
                           : lost().value_or("closed its output"),
                      tail.empty() ? "" : ": " + tail));
    }
    // Both clocks read together: the page's EPOCH_MS is the system clock.
    const TimePoint now = Clock::now();
    const double now_epoch_ms = std::chrono::duration<double, std::milli>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    json::error_code ec;
    const json::value v = json::parse(*reply, ec);
    if (ec || !v.is_object()) continue;  // not a reply (a stray line): the next one
    const json::value* n = v.as_object().if_contains("round");
    if (!n || number_of(n) != static_cast<double>(round_)) continue;
    // Chromium crashed and the driver relaunched it: the new one is the one to stop.
    if (const json::value* pid = v.as_object().if_contains("browser_pid"); pid && !pid->is_null())
      browser_pid_ = static_cast<pid_t>(number_of(pid));
    try {
      // ws: a record per turn, as the harness's ws client makes.
      const std::size_t asked =
          spec.concurrency * (spec.transport == Transport::ws ? config.ws_turns : 1);
      return parse_browser_reply(*reply, expect, spec.transport, now_epoch_ms, now, asked);
    } catch (const std::exception& e) {
      throw BrowserLost(fmt::format("round {}: {}", round_, e.what()));
    }
  }
}

std::optional<std::string> BrowserClient::lost() {
  if (!lost_ && pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      lost_ = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
              : WIFSIGNALED(status)
                  ? fmt::format("was killed by signal {}", ::strsignal(WTERMSIG(status)))
                  : std::string("ended");
      pid_ = -1;
      // Anything but a clean exit (which closed Chromium): Chromium, a process group of its own
      // (puppeteer detaches it), may be left.
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) kill_browser();
    }
  }
  return lost_;
}

void BrowserClient::kill_browser() {
  if (browser_pid_ <= 0) return;
  ::kill(-browser_pid_, SIGKILL);
  ::kill(browser_pid_, SIGKILL);
  browser_pid_ = -1;
}

void BrowserClient::stop() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);  // EOF: the driver closes Chromium, removes its folders and exits
    stdin_fd_ = -1;
  }
  if (pid_ > 0 && !lost()) {
    const auto wait = [&](std::chrono::steady_clock::duration d) {
      const auto until = std::chrono::steady_clock::now() + d;
      while (std::chrono::steady_clock::now() < until && !lost())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return lost().has_value();
    };
    if (!wait(stop_timeout / 2)) {
      ::kill(-pid_, SIGTERM);
      if (!wait(stop_timeout / 2)) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        lost_ = "was stopped";
        pid_ = -1;
        kill_browser();  // what a killed driver could not close
      }
    }
  }
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  stderr_.reset();
}

}  // namespace ssebench::bench
