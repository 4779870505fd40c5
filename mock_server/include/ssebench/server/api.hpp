#pragma once
/**
 * The application layer: routing, validation and answers, with no sockets. A session reads a
 * request, calls handle(), and carries out what it returns — write an answer, play a stream, or
 * hold and then answer. Every endpoint lives in one file of src/api/ (routes and handlers
 * together); tests and the HTTP fuzzer call handle() in memory.
 */
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/beast/http.hpp>

#include "ssebench/recording.hpp"
#include "ssebench/server/config.hpp"
#include "ssebench/server/jobs.hpp"
#include "ssebench/server/replay.hpp"
#include "ssebench/server/stats.hpp"

namespace ssebench::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/** Everything the connections share; immutable after start-up except the atomics and the jobs. */
struct State {
  Config config;
  ReplayMap replays;
  SetMap sets;  // recorded sets: their id answers with each member in turn
  AliasMap aliases;
  std::vector<std::string> origins;  // allowed CORS origins; {"*"} = any
  Stats stats;
  JobStore jobs;
  std::string models_body;
  std::vector<std::string> load_errors;  // recordings not served, one line each
  std::vector<std::string> set_errors;   // sets not served (their members are), one line each

  /** A recording whose representations exceed the budget is left out, with a line in errors. */
  State(const Config& c, const std::vector<std::shared_ptr<const Recording>>& recordings);
};

/** An SSE stream: the recording's events from `first` on, each at start + offset / speed. */
struct StreamPlan {
  http::response<http::empty_body> head;  // status and headers; chunked
  const Replay* replay = nullptr;
  Clock::time_point start;
  double speed = 1;
  std::size_t first = 0;  // index into the recording's events
  Clock::time_point headers_at;
  bool skip_usage = false;  // chat without stream_options.include_usage: no usage chunk
  /** A job's stream: its id replaces the recorded one in the payloads; a cancel ends it. */
  std::shared_ptr<const Job> job;
  /** An SSE comment after this much silence (Config::sse_heartbeat_ms, real time); 0 = none. */
  std::chrono::milliseconds heartbeat{0};
  /** A job's resumed stream: an `id: N` line before each job event (N its number), so that an
   *  EventSource that reconnects says where it was (Last-Event-ID). */
  bool event_ids = false;
  /** `retry: N` before the first event: EventSource's reconnection delay, ms (&retry_ms=N). */
  std::optional<std::uint64_t> retry_ms{};
  /** The stream ends after this many events, as a cancelled job's does (&drop_after=K, an
   *  ssebench test hook: the client must resume). */
  std::optional<std::uint64_t> drop_after{};
};

/** An answer that waits until `until` (the client may leave first), then is `answer(now)`. */
struct HoldPlan {
  Clock::time_point until;
  std::function<Response(Clock::time_point)> answer;
};

struct Outcome {
  Endpoint endpoint = Endpoint::other;
  std::variant<Response, StreamPlan, HoldPlan> plan;
};

/** Answers one request read completely at `now`; the session counts it under `endpoint`. */
Outcome handle(const Request& req, State& state, Clock::time_point now);

/** An OpenAI-shaped error answer (also used by sessions for requests that failed to parse). */
Response error_response(http::status status, std::string_view message, std::string_view type,
                        std::string_view param = {}, std::string_view code = {});

/** The answers to a request over a Config limit, the same whichever session read it. */
Response header_too_large_response(const Config& config);  // 431
Response body_too_large_response(const Config& config);    // 413

}  // namespace ssebench::server
