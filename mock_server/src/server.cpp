#include "ssebench/server/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "ssebench/server/jobs.hpp"
#include "ssebench/server/replay.hpp"

namespace ssebench::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

/** Everything the connections share; immutable after start-up except the atomics and the jobs. */
struct State {
  Config config;
  ReplayMap replays;
  Stats stats;
  JobStore jobs;
  std::string models_body;

  State(const Config& c, const std::vector<std::shared_ptr<const Recording>>& recordings)
      : config(c), jobs(c.max_jobs, milliseconds(c.job_retention_ms)) {
    for (const auto& r : recordings) replays.emplace(r->id, Replay(r));
    models_body = models_json(replays);
  }
};

/** Headers the server owns on every response: recorded values are dropped. */
bool is_hop_by_hop(std::string_view name) {
  for (std::string_view h : {"content-length", "transfer-encoding", "connection", "keep-alive"}) {
    if (beast::iequals(name, h)) return true;
  }
  return false;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/** The query parameters the job endpoint understands; others are ignored. */
struct Query {
  std::optional<std::string_view> starting_after;
  std::optional<std::string_view> wait_ms;
  std::optional<std::string_view> stream;
};

Query parse_query(std::string_view q) {
  Query out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "starting_after") out.starting_after = value;
    if (key == "wait_ms") out.wait_ms = value;
    if (key == "stream") out.stream = value;
  }
  return out;
}

/** Errors that only mean the peer went away or we cancelled: not worth a line on stderr. */
bool is_quiet(beast::error_code ec) {
  return ec == net::error::operation_aborted || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::bad_descriptor || ec == beast::error::timeout ||
         ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == net::error::not_connected;
}

void fail(beast::error_code ec, const char* what) {
  if (is_quiet(ec)) return;
  std::fprintf(stderr, "ssebench-mock-server: %s: %s\n", what, ec.message().c_str());
}

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view malformed_json_message =
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was "
    "not valid JSON. If you have trouble figuring out how to fix this, please contact us through "
    "our help center at help.openai.com.)";

/**
 * One connection. Requests are served one at a time (keep-alive, no pipelining in parallel).
 * An SSE stream or a held answer is "busy": meanwhile the socket is watched for the client's
 * EOF so that a client that leaves frees its stream at once, not at the next write.
 */
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)),
        state_(std::move(state)),
        timer_(stream_.get_executor()),
        deadline_(stream_.get_executor()) {
    state_->stats.connections_open.fetch_add(1, std::memory_order_relaxed);
  }

  ~Session() {
    set_busy(Busy::none);
    state_->stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  enum class Busy { none, stream, held };
  enum class Held { response, long_poll };

  const Config& config() const { return state_->config; }
  Stats& stats() { return state_->stats; }
  Clock::duration lifetime() const { return milliseconds(config().stream_lifetime_limit_ms); }

  // ---- reading a request -------------------------------------------------------------------

  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(config().header_limit_bytes));
    parser_->body_limit(config().body_limit_bytes);
    bytes_in_ = 0;
    bytes_out_early_ = 0;
    stream_.expires_after(milliseconds(config().idle_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
  }

  // libcurl sends `Expect: 100-continue` before a body over 1 KiB and waits a second for the
  // interim answer: give it at once.
  void on_read_header(beast::error_code ec, std::size_t bytes) {
    bytes_in_ += bytes;
    if (ec) return on_read(ec, 0);
    if (parser_->is_done()) return on_read(ec, 0);
    const auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      return net::async_write(
          stream_, net::buffer(continue_100.data(), continue_100.size()),
          beast::bind_front_handler(&Session::on_write_continue, shared_from_this()));
    }
    do_read_body();
  }

  void on_write_continue(beast::error_code ec, std::size_t bytes) {
    bytes_out_early_ += bytes;  // counted with the request, once its endpoint is known
    if (ec) return fail(ec, "write 100-continue");
    do_read_body();
  }

  void do_read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    bytes_in_ += bytes;
    if (ec == http::error::end_of_stream) return do_shutdown();
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      ep_ = Endpoint::other;
      count_request(bytes_in_);
      keep_alive_ = false;
      if (ec == http::error::header_limit) {
        return send_error(http::status::request_header_fields_too_large,
                          fmt::format("Request header fields too large: the limit is {} bytes.",
                                      config().header_limit_bytes),
                          "invalid_request_error", {}, "request_header_fields_too_large");
      }
      return send_error(
          http::status::payload_too_large,
          fmt::format("Request body too large: the limit is {} bytes.", config().body_limit_bytes),
          "invalid_request_error", {}, "request_too_large");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      ep_ = Endpoint::other;
      count_request(bytes_in_);
      keep_alive_ = false;
      return send_error(http::status::bad_request,
                        fmt::format("Malformed HTTP request: {}.", ec.message()),
                        "invalid_request_error", {}, "bad_request");
    }
    if (ec) return fail(ec, "read");
    stream_.expires_never();
    start_ = Clock::now();
    handle_request(bytes_in_);
  }

  void count_request(std::size_t bytes_in) {
    auto& e = stats().at(ep_);
    e.requests.fetch_add(1, std::memory_order_relaxed);
    e.bytes_in.fetch_add(bytes_in, std::memory_order_relaxed);
    if (bytes_out_early_) e.bytes_out.fetch_add(bytes_out_early_, std::memory_order_relaxed);
  }

  // ---- routing -----------------------------------------------------------------------------

  void handle_request(std::size_t bytes_in) {
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    const std::string_view target = req.target();
    const auto qpos = target.find('?');
    const std::string_view path = target.substr(0, qpos);
    const std::string_view query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    const http::verb method = req.method();

    constexpr std::string_view responses_prefix = "/v1/responses/";
    http::verb allowed = http::verb::unknown;
    if (path == "/v1/chat/completions") {
      ep_ = Endpoint::chat_completions;
      allowed = http::verb::post;
    } else if (path == "/v1/responses") {
      ep_ = Endpoint::responses;
      allowed = http::verb::post;
    } else if (path.starts_with(responses_prefix) && path.size() > responses_prefix.size()) {
      ep_ = Endpoint::responses_get;
      allowed = http::verb::get;
    } else if (path == "/v1/models" || path.starts_with("/v1/models/")) {
      ep_ = Endpoint::models;
      allowed = http::verb::get;
    } else if (path == "/mock/stats") {
      ep_ = Endpoint::mock;
      allowed = http::verb::get;
    } else if (path == "/mock/stats/reset") {
      ep_ = Endpoint::mock;
      allowed = http::verb::post;
    } else {
      ep_ = Endpoint::other;
    }
    count_request(bytes_in);

    if (ep_ == Endpoint::other) {
      return send_error(
          http::status::not_found,
          fmt::format("Invalid URL ({} {})", std::string_view(req.method_string()), path),
          "invalid_request_error");
    }
    if (method != allowed) {
      return send_error(http::status::method_not_allowed,
                        fmt::format("Method {} is not allowed on {}; use {}.",
                                    std::string_view(req.method_string()), path,
                                    std::string_view(http::to_string(allowed))),
                        "invalid_request_error", {}, "method_not_allowed",
                        std::string_view(http::to_string(allowed)));
    }
    switch (ep_) {
      case Endpoint::chat_completions:
      case Endpoint::responses:
        return handle_create();
      case Endpoint::responses_get:
        return handle_job_get(path.substr(responses_prefix.size()), query);
      case Endpoint::models:
        if (path == "/v1/models") return send_json(http::status::ok, state_->models_body);
        return handle_model(path.substr(std::string_view("/v1/models/").size()));
      case Endpoint::mock:
        if (path == "/mock/stats/reset") {
          stats().reset();
          return send_json(http::status::ok, R"({"reset":true})");
        }
        return send_json(http::status::ok, stats_json(stats(), state_->jobs.figures(Clock::now())));
      case Endpoint::other:
        break;
    }
  }

  void handle_model(std::string_view id) {
    const auto it = state_->replays.find(id);
    if (it == state_->replays.end()) return send_model_not_found(id);
    send_json(http::status::ok, model_json(it->second));
  }

  void send_model_not_found(std::string_view id) {
    send_error(http::status::not_found,
               fmt::format("The model `{}` does not exist or you do not have access to it.", id),
               "invalid_request_error", {}, "model_not_found");
  }

  /** The speed for this request: the x-ssebench-speed header, else the server's. */
  std::optional<double> request_speed() {
    const auto& req = parser_->get();
    const auto it = req.find("x-ssebench-speed");
    if (it == req.end()) return config().speed;
    const auto speed = parse_speed(it->value());
    if (!speed) {
      send_error(http::status::bad_request,
                 fmt::format("Invalid x-ssebench-speed header '{}': expected a number >= 0.",
                             std::string_view(it->value())),
                 "invalid_request_error", {}, "invalid_value");
    }
    return speed;
  }

  /** Checks that `key`, when present and not null, is a bool; answers 400 otherwise. */
  bool read_bool(const json::object& body, std::string_view key, bool& out) {
    const json::value* v = body.if_contains(key);
    if (!v || v->is_null()) return true;
    if (!v->is_bool()) {
      send_error(http::status::bad_request,
                 fmt::format("Invalid type for '{}': expected a boolean.", key),
                 "invalid_request_error", key, "invalid_type");
      return false;
    }
    out = v->get_bool();
    return true;
  }

  void handle_create() {
    const auto speed = request_speed();
    if (!speed) return;
    json::error_code jec;
    const json::value body = json::parse(parser_->get().body(), jec);
    if (jec || !body.is_object()) {
      return send_error(http::status::bad_request, malformed_json_message, "invalid_request_error");
    }
    const json::object& obj = body.get_object();
    const json::value* model = obj.if_contains("model");
    if (!model || model->is_null()) {
      return send_error(http::status::bad_request, "Missing required parameter: 'model'.",
                        "invalid_request_error", "model", "missing_required_parameter");
    }
    if (!model->is_string()) {
      return send_error(http::status::bad_request, "Invalid type for 'model': expected a string.",
                        "invalid_request_error", "model", "invalid_type");
    }
    bool stream = false;
    bool background = false;
    if (!read_bool(obj, "stream", stream) || !read_bool(obj, "background", background)) return;
    const std::string_view id(model->get_string());
    const auto it = state_->replays.find(id);
    if (it == state_->replays.end()) return send_model_not_found(id);
    const Replay& replay = it->second;
    const Recording& rec = *replay.recording;

    if (background) {
      if (ep_ != Endpoint::responses) {
        return send_error(http::status::bad_request,
                          "Background mode is only supported on /v1/responses.",
                          "invalid_request_error", "background", "unsupported_parameter");
      }
      const auto job = state_->jobs.create(replay, start_, *speed);
      if (!job) {
        return send_error(
            http::status::too_many_requests,
            fmt::format("Too many background jobs: the limit is {}.", config().max_jobs),
            "requests", {}, "rate_limit_exceeded");
      }
      return send_json(http::status::ok, job_created_json(*job, Clock::now()));
    }
    if (stream) {
      if (rec.events.empty()) {
        return send_error(http::status::bad_request,
                          fmt::format("The recording `{}` has no streamed events; "
                                      "request it with \"stream\": false.",
                                      id),
                          "invalid_request_error", "stream", "unsupported_value");
      }
      return start_stream(replay, start_, *speed, 0,
                          start_ + scaled(rec.response.headers_offset, *speed));
    }
    if (!rec.nonstream) {
      return send_error(http::status::bad_request,
                        fmt::format("The recording `{}` has no non-streaming body; "
                                    "request it with \"stream\": true.",
                                    id),
                        "invalid_request_error", "stream", "unsupported_value");
    }
    // The traditional request/response: the whole body when the stream would have ended.
    const NonStreamBody& ns = *rec.nonstream;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(ns.status));
    bool has_type = false;
    for (const Header& h : ns.headers) {
      if (is_hop_by_hop(h.name)) continue;
      has_type = has_type || beast::iequals(h.name, "content-type");
      res_.insert(h.name, h.value);
    }
    if (!has_type) res_.set(http::field::content_type, "application/json");
    res_.body() = ns.body;
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    held_ = Held::response;
    do_hold(start_ + scaled(ns.offset, *speed));
  }

  void handle_job_get(std::string_view name, std::string_view query) {
    const Query q = parse_query(query);
    std::optional<std::uint64_t> after;
    std::optional<std::uint64_t> wait_ms;
    bool stream = false;
    if (q.starting_after) {
      after = parse_u64(*q.starting_after);
      if (!after) return bad_query("starting_after", *q.starting_after, "a non-negative integer");
    }
    if (q.wait_ms) {
      wait_ms = parse_u64(*q.wait_ms);
      if (!wait_ms) return bad_query("wait_ms", *q.wait_ms, "a non-negative integer");
    }
    if (q.stream) {
      if (*q.stream != "true" && *q.stream != "false")
        return bad_query("stream", *q.stream, "true or false");
      stream = *q.stream == "true";
    }
    const Clock::time_point now = Clock::now();
    job_ = state_->jobs.find(name, now);
    if (!job_) {
      return send_error(http::status::not_found,
                        fmt::format("Response with id '{}' not found.", name),
                        "invalid_request_error");
    }
    const Replay& replay = *job_->replay;
    const Recording& rec = *replay.recording;
    if (stream) {
      // Resume: the recording's events from job event after+1 on, [DONE] included, at the
      // job's pace.
      const std::uint64_t n = after.value_or(0);
      std::size_t first = rec.events.size();
      if (n < replay.events_total()) {
        first = replay.job_events[n];
      } else if (!replay.job_events.empty()) {
        first = replay.job_events.back() + 1;
      }
      const auto job = std::move(job_);
      return start_stream(replay, job->start, job->speed, first,
                          job->start + scaled(rec.response.headers_offset, job->speed));
    }
    after_ = after;
    if (wait_ms && *wait_ms > 0) {
      const std::uint64_t n = after.value_or(0);
      if (job_->due(now) <= n && job_->status(now) == JobStatus::in_progress) {
        const auto wait = milliseconds(std::min(*wait_ms, config().long_poll_max_wait_ms));
        held_ = Held::long_poll;
        return do_hold(std::min(job_->next_change(n), now + wait));
      }
    }
    const auto job = std::move(job_);
    send_json(http::status::ok, job_json(*job, now, after));
  }

  void bad_query(std::string_view param, std::string_view value, std::string_view expected) {
    send_error(http::status::bad_request,
               fmt::format("Invalid value for '{}': '{}' (expected {}).", param, value, expected),
               "invalid_request_error", param, "invalid_value");
  }

  // ---- plain answers -----------------------------------------------------------------------

  void send_json(http::status status, std::string body) {
    res_ = {};
    res_.version(11);
    res_.result(status);
    res_.set(http::field::content_type, "application/json");
    res_.body() = std::move(body);
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    do_write_response();
  }

  void send_error(http::status status, std::string_view message, std::string_view type,
                  std::string_view param = {}, std::string_view code = {},
                  std::string_view allow = {}) {
    res_ = {};
    res_.version(11);
    res_.result(status);
    res_.set(http::field::content_type, "application/json");
    if (!allow.empty()) res_.set(http::field::allow, allow);
    res_.body() = error_json(message, type, param, code);
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    do_write_response();
  }

  void do_write_response() {
    stream_.expires_after(milliseconds(config().idle_timeout_ms));
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::on_write_response, shared_from_this()));
  }

  void on_write_response(beast::error_code ec, std::size_t bytes) {
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return fail(ec, "write");
    if (!keep_alive_) return do_close();
    do_read();
  }

  // ---- held answers: stream:false and long polls -------------------------------------------

  void do_hold(Clock::time_point until) {
    set_busy(Busy::held);
    arm_deadline();
    do_watch();
    timer_.expires_at(until);
    timer_.async_wait(beast::bind_front_handler(&Session::on_hold, shared_from_this()));
  }

  void on_hold(beast::error_code ec) {
    if (ec) return fail(ec, "hold");
    set_busy(Busy::none);
    if (held_ == Held::long_poll) {
      const auto job = std::move(job_);
      return send_json(http::status::ok, job_json(*job, Clock::now(), after_));
    }
    do_write_response();
  }

  // ---- SSE ---------------------------------------------------------------------------------

  void start_stream(const Replay& replay, Clock::time_point start, double speed, std::size_t first,
                    Clock::time_point headers_at) {
    const Recording& rec = *replay.recording;
    events_ = &rec.events;
    stream_start_ = start;
    speed_ = speed;
    next_ = first;
    sse_res_ = {};
    sse_res_.version(11);
    sse_res_.result(static_cast<unsigned>(rec.response.status));
    bool has_type = false;
    for (const Header& h : rec.response.headers) {
      if (is_hop_by_hop(h.name)) continue;
      has_type = has_type || beast::iequals(h.name, "content-type");
      sse_res_.insert(h.name, h.value);
    }
    if (!has_type) sse_res_.set(http::field::content_type, "text/event-stream; charset=utf-8");
    sse_res_.keep_alive(keep_alive_);
    sse_res_.chunked(true);
    sse_sr_.emplace(sse_res_);
    set_busy(Busy::stream);
    arm_deadline();
    do_watch();
    if (headers_at <= Clock::now()) return do_write_header();
    timer_.expires_at(headers_at);
    timer_.async_wait(beast::bind_front_handler(&Session::on_header_timer, shared_from_this()));
  }

  void on_header_timer(beast::error_code ec) {
    if (ec) return fail(ec, "timer");
    do_write_header();
  }

  void do_write_header() {
    http::async_write_header(
        stream_, *sse_sr_,
        beast::bind_front_handler(&Session::on_write_header, shared_from_this()));
  }

  void on_write_header(beast::error_code ec, std::size_t bytes) {
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return fail(ec, "write header");
    do_next_event();
  }

  void do_next_event() {
    const auto& events = *events_;
    while (next_ < events.size() && events[next_].bytes.empty()) ++next_;
    if (next_ == events.size()) return do_write_last_chunk();
    event_at_ = stream_start_ + scaled(events[next_].offset, speed_);
    const Clock::time_point now = Clock::now();
    if (event_at_ <= now) return do_write_event(now);
    timer_.expires_at(event_at_);
    timer_.async_wait(beast::bind_front_handler(&Session::on_event_timer, shared_from_this()));
  }

  void on_event_timer(beast::error_code ec) {
    if (ec) return fail(ec, "timer");
    do_write_event(Clock::now());
  }

  // One event = one HTTP chunk, framed here rather than with http::make_chunk, whose chunk-size
  // header is a heap-allocated shared_ptr: the hot path allocates and copies nothing.
  void do_write_event(Clock::time_point now) {
    const std::string& bytes = (*events_)[next_].bytes;
    // Not recorded: at speed 0 there is no schedule, only a backlog; and the events a resumed
    // stream owes from before its request are a backlog too. Recorded once the write succeeds,
    // so that the count equals events_written.
    late_ns_ = -1;
    if (speed_ != 0 && event_at_ >= start_) {
      const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(now - event_at_);
      late_ns_ = std::max<std::int64_t>(0, late.count());
    }
    auto [end, ec] = std::to_chars(chunk_head_.data(), chunk_head_.data() + chunk_head_.size() - 2,
                                   bytes.size(), 16);
    end[0] = '\r';
    end[1] = '\n';
    const std::array<net::const_buffer, 3> buffers{
        net::buffer(chunk_head_.data(), static_cast<std::size_t>(end + 2 - chunk_head_.data())),
        net::buffer(bytes), net::buffer(crlf.data(), crlf.size())};
    net::async_write(stream_.socket(), buffers,
                     beast::bind_front_handler(&Session::on_write_event, shared_from_this()));
  }

  void on_write_event(beast::error_code ec, std::size_t bytes) {
    if (ec) return fail(ec, "write event");
    if (late_ns_ >= 0) stats().lateness.record(static_cast<std::uint64_t>(late_ns_));
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    stats().events_written.fetch_add(1, std::memory_order_relaxed);
    ++next_;
    do_next_event();
  }

  void do_write_last_chunk() {
    net::async_write(stream_.socket(), net::buffer(last_chunk.data(), last_chunk.size()),
                     beast::bind_front_handler(&Session::on_write_last_chunk, shared_from_this()));
  }

  void on_write_last_chunk(beast::error_code ec, std::size_t bytes) {
    stats().at(ep_).bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return fail(ec, "write last chunk");
    set_busy(Busy::none);
    sse_sr_.reset();
    if (!keep_alive_) return do_shutdown();
    do_read();
  }

  // ---- while busy: the client's EOF and the lifetime limit ---------------------------------

  void set_busy(Busy b) {
    if (busy_ == b) return;
    auto gauge = [&](Busy which) -> std::atomic<std::int64_t>* {
      if (which == Busy::stream) return &stats().streams_active;
      if (which == Busy::held) return &stats().requests_held;
      return nullptr;
    };
    if (auto* g = gauge(busy_)) g->fetch_sub(1, std::memory_order_relaxed);
    if (auto* g = gauge(b)) g->fetch_add(1, std::memory_order_relaxed);
    if (busy_ != Busy::none) deadline_.cancel();
    busy_ = b;
    ++busy_generation_;
  }

  void arm_deadline() {
    deadline_.expires_at(start_ + lifetime());
    deadline_.async_wait(
        beast::bind_front_handler(&Session::on_deadline, shared_from_this(), busy_generation_));
  }

  void on_deadline(std::uint64_t generation, beast::error_code ec) {
    if (ec || generation != busy_generation_ || busy_ == Busy::none) return;
    abort();
  }

  // Readable while busy means the client sent EOF, a reset, or a pipelined request.
  void do_watch() {
    if (watch_pending_) return;
    watch_pending_ = true;
    stream_.socket().async_wait(tcp::socket::wait_read,
                                beast::bind_front_handler(&Session::on_watch, shared_from_this()));
  }

  void on_watch(beast::error_code ec) {
    watch_pending_ = false;
    if (busy_ == Busy::none) return;
    if (!ec) {
      char c = 0;
      const ssize_t n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request: read once this answer is out
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return do_watch();
    }
    abort();
  }

  /** Ends the connection now: every pending operation fails and the session is freed. */
  void abort() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    timer_.cancel();
    deadline_.cancel();
  }

  // ---- closing -----------------------------------------------------------------------------

  void do_shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // After an answer that closes the connection, read what the client still sends (for at most
  // close_linger_ms) so that closing with unread data does not reset the connection before the
  // client has read the answer.
  void do_close() {
    do_shutdown();
    buffer_.clear();
    stream_.expires_after(milliseconds(config().close_linger_ms));
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&Session::on_drain, shared_from_this()));
  }

  void on_drain(beast::error_code ec, std::size_t) {
    if (ec) return;
    do_drain();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<State> state_;
  net::steady_timer timer_;     // pacing: event times, held answers
  net::steady_timer deadline_;  // stream_lifetime_limit_ms
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  Endpoint ep_ = Endpoint::other;
  bool keep_alive_ = true;
  Clock::time_point start_;          // the current request was fully read
  std::size_t bytes_in_ = 0;         // bytes the parser consumed for the current request
  std::size_t bytes_out_early_ = 0;  // a 100 Continue written before the endpoint was known

  Busy busy_ = Busy::none;
  std::uint64_t busy_generation_ = 0;
  bool watch_pending_ = false;

  // held answers
  Held held_ = Held::response;
  std::shared_ptr<const Job> job_;
  std::optional<std::uint64_t> after_;

  // the SSE stream
  http::response<http::empty_body> sse_res_;
  std::optional<http::response_serializer<http::empty_body>> sse_sr_;
  const std::vector<Event>* events_ = nullptr;
  Clock::time_point stream_start_;
  double speed_ = 1;
  std::size_t next_ = 0;
  Clock::time_point event_at_;  // when the event being written was due
  std::int64_t late_ns_ = -1;   // its lateness, -1 when not recorded
  std::array<char, 2 * sizeof(std::size_t) + 2> chunk_head_{};  // hex size + CRLF
};

/** Accepts connections and starts a Session, on its own strand, for each. */
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  /** After a failed accept (EMFILE...), wait this long before the next one. */
  static constexpr milliseconds accept_backoff{10};

  Listener(net::io_context& ioc, const tcp::endpoint& endpoint, std::shared_ptr<State> state)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        backoff_(acceptor_.get_executor()),
        state_(std::move(state)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void run() {
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
  }

  void stop() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->backoff_.cancel();
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      fail(ec, "accept");
      backoff_.expires_after(accept_backoff);
      backoff_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->do_accept();
      });
      return;
    }
    Stats& stats = state_->stats;
    stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    if (static_cast<std::size_t>(stats.connections_open.load(std::memory_order_relaxed)) >=
        state_->config.max_connections) {
      stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // one event, one segment, at once
      std::make_shared<Session>(std::move(socket), state_)->run();
    }
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  std::shared_ptr<State> state_;
};

}  // namespace

struct Server::Impl {
  Config config;
  net::io_context ioc;
  std::shared_ptr<State> state;
  std::shared_ptr<Listener> listener;
  std::optional<net::signal_set> signals;

  Impl(const Config& c, const std::vector<std::shared_ptr<const Recording>>& recordings)
      : config(c),
        ioc(static_cast<int>(c.threads)),
        state(std::make_shared<State>(c, recordings)),
        listener(std::make_shared<Listener>(
            ioc, tcp::endpoint(net::ip::make_address(c.bind_address), c.port), state)) {
    listener->run();
  }
};

Server::Server(const Config& config,
               const std::vector<std::shared_ptr<const Recording>>& recordings)
    : impl_(std::make_unique<Impl>(config, recordings)) {}

Server::~Server() {
  stop();
  // Destroying the io_context destroys pending handlers, which frees every session.
}

std::uint16_t Server::port() const {
  return impl_->listener->port();
}

std::string Server::url() const {
  const std::string& a = impl_->config.bind_address;
  return a.find(':') == std::string::npos ? fmt::format("http://{}:{}", a, port())
                                          : fmt::format("http://[{}]:{}", a, port());
}

void Server::handle_signals() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](beast::error_code ec, int) {
    if (!ec) stop();
  });
}

void Server::run() {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->config.threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  impl_->listener->stop();
  if (impl_->signals) {
    beast::error_code ignored;
    impl_->signals->cancel(ignored);
  }
  impl_->ioc.stop();
}

const Stats& Server::stats() const {
  return impl_->state->stats;
}

std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

}  // namespace ssebench::server
