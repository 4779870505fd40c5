// A background job's endpoints, for both APIs: poll (GET, in four shapes), long poll, resume as
// SSE, cancel, delete, and the Responses API's input items.
#include <fmt/format.h>

#include "endpoints.hpp"

namespace ssebench::server::api {
namespace {

/** The job the path names, if it exists and belongs to the path's API. */
std::shared_ptr<const Job> find_job(const Call& call) {
  return call.state.jobs.find(call.id, call.now);
}

Outcome job_not_found(const Call& call, Api api) {
  return error_answer(call, http::status::not_found,
                      api == Api::responses
                          ? fmt::format("Response with id '{}' not found.", call.id)
                          : fmt::format("Chat completion with id '{}' not found.", call.id),
                      "invalid_request_error");
}

Outcome retrieve(const Call& call, Api api) {
  const Query& q = call.query;
  PollShape shape = PollShape::openai;
  std::optional<std::uint64_t> after;
  std::optional<std::uint64_t> wait_ms;
  std::optional<std::uint64_t> retry_ms;
  std::optional<std::uint64_t> drop_after;
  bool stream = false;
  if (const auto s = q.get("shape")) {
    const auto parsed = parse_poll_shape(*s);
    if (!parsed) return bad_query(call, "shape", *s, "openai, snapshot, delta or events");
    shape = *parsed;
  }
  if (const auto s = q.get("starting_after")) {
    after = parse_u64(*s);
    if (!after) return bad_query(call, "starting_after", *s, "a non-negative integer");
  }
  if (const auto s = q.get("wait_ms")) {
    wait_ms = parse_u64(*s);
    if (!wait_ms) return bad_query(call, "wait_ms", *s, "a non-negative integer");
  }
  if (const auto s = q.get("stream")) {
    if (*s != "true" && *s != "false") return bad_query(call, "stream", *s, "true or false");
    stream = *s == "true";
  }
  // EventSource on the resume stream (ssebench extensions): how long it waits before it
  // reconnects, and a stream that ends after K events so that a test can watch it reconnect.
  if (const auto s = q.get("retry_ms")) {
    retry_ms = parse_u64(*s);
    if (!retry_ms) return bad_query(call, "retry_ms", *s, "a non-negative integer");
  }
  if (const auto s = q.get("drop_after")) {
    drop_after = parse_u64(*s);
    if (!drop_after || *drop_after == 0)
      return bad_query(call, "drop_after", *s, "a positive integer");
  }
  // A reconnecting EventSource sends the last id it saw: it says where to resume, and wins over
  // the URL's starting_after (which the browser repeats unchanged).
  std::optional<std::uint64_t> last_event_id;
  if (const auto it = call.req.find("last-event-id");
      it != call.req.end() && !it->value().empty()) {
    last_event_id = parse_u64(it->value());
    if (!last_event_id)
      return error_answer(call, http::status::bad_request,
                          fmt::format("Invalid Last-Event-ID '{}': expected a job event number.",
                                      std::string_view(it->value())),
                          "invalid_request_error", "Last-Event-ID", "invalid_value");
  }
  const auto job = find_job(call);
  if (!job || job->api() != api) return job_not_found(call, api);
  const Replay& replay = *job->replay;

  if (stream) {
    // Resume: the job's events after `after` (all without it), [DONE] included, at its pace;
    // each job event with its number as the SSE id.
    if (last_event_id) after = last_event_id;
    StreamPlan plan = replay_stream(call, replay, job->start, job->speed,
                                    replay.clock.resume_index(after), false, job);
    plan.event_ids = true;
    plan.retry_ms = retry_ms;
    plan.drop_after = drop_after;
    return {call.endpoint, std::move(plan)};
  }
  if (wait_ms && *wait_ms > 0) {
    if (!has_cursor(shape))
      return error_answer(call, http::status::bad_request,
                          "'wait_ms' needs shape=delta or shape=events: the openai and snapshot "
                          "answers have no cursor to wait after.",
                          "invalid_request_error", "wait_ms", "invalid_value");
    const std::uint64_t next = after ? *after + 1 : 0;
    const Clock::time_point now = call.now;
    if (job->due(now) <= next && !is_terminal(job->status(now))) {
      const auto wait =
          std::chrono::milliseconds(std::min(*wait_ms, call.state.config.long_poll_max_wait_ms));
      const Request& req = call.req;
      const bool keep_alive = req.keep_alive();
      const unsigned version = req.version();
      HoldPlan hold{std::min(job->next_change(after), now + wait),
                    [job, shape, after, keep_alive, version](Clock::time_point t) {
                      Response res{http::status::ok, version};
                      res.set(http::field::content_type, "application/json");
                      res.body() = job_body(*job, shape, t, after);
                      res.keep_alive(keep_alive);
                      res.prepare_payload();
                      return res;
                    }};
      return {call.endpoint, std::move(hold)};
    }
  }
  return json_answer(call, http::status::ok,
                     job_body(*job, shape, call.now, has_cursor(shape) ? after : std::nullopt));
}

Outcome cancel(const Call& call, Api api) {
  const auto job = find_job(call);
  if (!job || job->api() != api) return job_not_found(call, api);
  const JobStatus status = job->status(call.now);
  if (status == JobStatus::completed || status == JobStatus::failed) {
    return error_answer(
        call, http::status::bad_request,
        fmt::format("Cannot cancel a response with status '{}'.", to_string(status)),
        "invalid_request_error", {}, "response_already_finished");
  }
  // False when cancelled before: cancelling again changes nothing.
  call.state.jobs.cancel(*job, call.now);
  return json_answer(call, http::status::ok, job_body(*job, PollShape::openai, call.now, {}));
}

/** DELETE's answer. */
std::string deleted_json(const Job& job) {
  return R"({"id":")" + job.name() +
         (job.api() == Api::responses ? R"(","object":"response.deleted","deleted":true})"
                                      : R"(","object":"chat.completion.deleted","deleted":true})");
}

Outcome erase(const Call& call, Api api) {
  const auto job = find_job(call);
  if (!job || job->api() != api) return job_not_found(call, api);
  call.state.jobs.erase(call.id, call.now);
  return json_answer(call, http::status::ok, deleted_json(*job));
}

Outcome input_items(const Call& call) {
  const auto job = find_job(call);
  if (!job || job->api() != Api::responses) return job_not_found(call, Api::responses);
  return json_answer(call, http::status::ok, "{" + job->replay->representation.input_items + "}");
}

// One handler per API for the route table.
template <Api api>
Outcome get(const Call& call) {
  return retrieve(call, api);
}
template <Api api>
Outcome cancel(const Call& call) {
  return cancel(call, api);
}
template <Api api>
Outcome erase(const Call& call) {
  return erase(call, api);
}

constexpr Route routes[] = {
    {http::verb::get, "/v1/responses/{id}", Endpoint::responses_get, &get<Api::responses>},
    {http::verb::delete_, "/v1/responses/{id}", Endpoint::responses_get, &erase<Api::responses>},
    {http::verb::post, "/v1/responses/{id}/cancel", Endpoint::responses_get,
     &cancel<Api::responses>},
    {http::verb::get, "/v1/responses/{id}/input_items", Endpoint::responses_get, &input_items},
    {http::verb::get, "/v1/chat/completions/{id}", Endpoint::chat_completions_get,
     &get<Api::chat_completions>},
    {http::verb::delete_, "/v1/chat/completions/{id}", Endpoint::chat_completions_get,
     &erase<Api::chat_completions>},
    {http::verb::post, "/v1/chat/completions/{id}/cancel", Endpoint::chat_completions_get,
     &cancel<Api::chat_completions>},
};

}  // namespace

std::span<const Route> job_routes() {
  return routes;
}

}  // namespace ssebench::server::api
