// POST /v1/chat/completions and POST /v1/responses: validation, then a stream, a held
// stream:false answer, or a background job.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "endpoints.hpp"

namespace ssebench::server::api {
namespace {

namespace json = boost::json;

constexpr std::string_view malformed_json_message =
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was "
    "not valid JSON. If you have trouble figuring out how to fix this, please contact us through "
    "our help center at help.openai.com.)";

/** A failed check's answer; empty when the check passed. */
using Check = std::optional<Outcome>;

Outcome invalid(const Call& call, std::string_view message, std::string_view param,
                std::string_view code) {
  return error_answer(call, http::status::bad_request, message, "invalid_request_error", param,
                      code);
}

/** `key`, when present and not null, must be a bool. */
Check read_bool(const Call& call, const json::object& body, std::string_view key, bool& out) {
  const json::value* v = body.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_bool())
    return invalid(call, fmt::format("Invalid type for '{}': expected a boolean.", key), key,
                   "invalid_type");
  out = v->get_bool();
  return std::nullopt;
}

/**
 * The recording a request's model names: a recording id; else a set's id, whose next member it
 * takes (each request the next, round-robin across all connections); else a real model name's
 * first recording for this API that can serve the request (events to stream, or a stream:false
 * body).
 */
const Replay* resolve(const State& state, std::string_view model, Api api, bool streamed) {
  if (const auto it = state.replays.find(model); it != state.replays.end()) return &it->second;
  if (const auto set = state.sets.find(model); set != state.sets.end()) return &set->second.take();
  const auto alias = state.aliases.find(model);
  if (alias == state.aliases.end()) return nullptr;
  const auto by_api = alias->second.find(api);
  if (by_api == alias->second.end()) return nullptr;
  const Replay* first = nullptr;
  for (const std::string& id : by_api->second) {
    const Replay& r = state.replays.find(id)->second;
    if (!first) first = &r;
    if (streamed ? !r.recording->events.empty() : r.recording->nonstream.has_value()) return &r;
  }
  return first;  // none can: its own error says why
}

/** Chat's own parameters: messages, n, stream_options. */
Check check_chat(const Call& call, const json::object& body, const Replay& replay, bool stream,
                 bool& include_usage) {
  if (const json::value* m = body.if_contains("messages"); m && !m->is_null()) {
    if (!m->is_array())
      return invalid(call, "Invalid type for 'messages': expected an array of objects.", "messages",
                     "invalid_type");
    std::size_t i = 0;
    for (const json::value& msg : m->get_array()) {
      const json::value* role = msg.is_object() ? msg.get_object().if_contains("role") : nullptr;
      if (!role || !role->is_string())
        return invalid(call,
                       fmt::format("Invalid 'messages[{}]': expected an object with a string "
                                   "'role'.",
                                   i),
                       fmt::format("messages[{}]", i), "invalid_type");
      ++i;
    }
  }
  if (const json::value* n = body.if_contains("n"); n && !n->is_null()) {
    if (!n->is_int64() && !n->is_uint64())
      return invalid(call, "Invalid type for 'n': expected an integer.", "n", "invalid_type");
    const std::int64_t want = n->is_int64() ? n->get_int64() : -1;
    if (want != replay.choices)
      return invalid(call,
                     fmt::format("Invalid value for 'n': the recording `{}` has {} choice{}; "
                                 "n={} cannot be replayed.",
                                 replay.recording->id, replay.choices,
                                 replay.choices == 1 ? "" : "s", json::serialize(*n)),
                     "n", "invalid_value");
  }
  if (const json::value* so = body.if_contains("stream_options"); so && !so->is_null()) {
    if (!stream)
      return invalid(call,
                     "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                     "stream_options", "invalid_value");
    if (!so->is_object())
      return invalid(call, "Invalid type for 'stream_options': expected an object.",
                     "stream_options", "invalid_type");
    if (auto bad = read_bool(call, so->get_object(), "include_usage", include_usage)) {
      return invalid(call, "Invalid type for 'stream_options.include_usage': expected a boolean.",
                     "stream_options.include_usage", "invalid_type");
    }
  }
  return std::nullopt;
}

Check check_responses(const Call& call, const json::object& body) {
  if (const json::value* in = body.if_contains("input");
      in && !in->is_null() && !in->is_string() && !in->is_array())
    return invalid(call, "Invalid type for 'input': expected a string or an array of items.",
                   "input", "invalid_type");
  return std::nullopt;
}

Outcome create(const Call& call, Api api) {
  const std::optional<double> speed = request_speed(call);
  if (!speed) {
    return invalid(call,
                   fmt::format("Invalid x-ssebench-speed header '{}': expected a number >= 0.",
                               std::string_view(call.req["x-ssebench-speed"])),
                   {}, "invalid_value");
  }
  const std::optional<Clock::time_point> start = request_start(call);
  if (!start) {
    return invalid(
        call,
        fmt::format("Invalid x-ssebench-epoch-us header '{}': expected Unix "
                    "microseconds within {} h of now.",
                    std::string_view(call.req["x-ssebench-epoch-us"]), max_epoch_distance.count()),
        {}, "invalid_value");
  }
  json::error_code jec;
  const json::value body = json::parse(call.req.body(), jec);
  if (jec || !body.is_object()) return invalid(call, malformed_json_message, {}, {});
  const json::object& obj = body.get_object();
  const json::value* model = obj.if_contains("model");
  if (!model || model->is_null())
    return invalid(call, "Missing required parameter: 'model'.", "model",
                   "missing_required_parameter");
  if (!model->is_string())
    return invalid(call, "Invalid type for 'model': expected a string.", "model", "invalid_type");
  bool stream = false;
  bool background = false;
  if (auto bad = read_bool(call, obj, "stream", stream)) return std::move(*bad);
  if (auto bad = read_bool(call, obj, "background", background)) return std::move(*bad);
  const std::string_view id(model->get_string());
  const Replay* replay = resolve(call.state, id, api, stream || background);
  if (!replay) return model_not_found(call, id);
  const Recording& rec = *replay->recording;
  if (rec.api != api) {
    const bool chat = rec.api == Api::chat_completions;
    return invalid(call,
                   fmt::format("The recording `{}` was recorded from the {} API: send it to {}.",
                               rec.id, chat ? "Chat Completions" : "Responses",
                               chat ? "/v1/chat/completions" : "/v1/responses"),
                   "model", "wrong_api");
  }
  bool include_usage = false;
  if (api == Api::chat_completions) {
    if (auto bad = check_chat(call, obj, *replay, stream, include_usage)) return std::move(*bad);
  } else if (auto bad = check_responses(call, obj)) {
    return std::move(*bad);
  }

  const Clock::time_point now = *start;  // the clock's zero: the arrival, or the epoch asked for
  if (background) {
    if (rec.events.empty())
      return invalid(call,
                     fmt::format("The recording `{}` has no streamed events to run in the "
                                 "background.",
                                 rec.id),
                     "background", "unsupported_value");
    const auto job = call.state.jobs.create(*replay, now, *speed);
    if (!job) {
      return error_answer(
          call, http::status::too_many_requests,
          fmt::format("Too many background jobs: the limit is {}.", call.state.config.max_jobs),
          "requests", {}, "rate_limit_exceeded");
    }
    if (!stream)
      return json_answer(call, http::status::ok, job_body(*job, PollShape::openai, call.now, {}));
    return {call.endpoint, replay_stream(call, *replay, job->start, job->speed, 0, false, job)};
  }
  if (stream) {
    if (rec.events.empty())
      return invalid(call,
                     fmt::format("The recording `{}` has no streamed events; request it with "
                                 "\"stream\": false.",
                                 rec.id),
                     "stream", "unsupported_value");
    return {call.endpoint, replay_stream(call, *replay, now, *speed, 0,
                                         api == Api::chat_completions && !include_usage, nullptr)};
  }
  if (!rec.nonstream)
    return invalid(call,
                   fmt::format("The recording `{}` has no non-streaming body; request it with "
                               "\"stream\": true.",
                               rec.id),
                   "stream", "unsupported_value");
  // The traditional request/response: the whole body when the stream would have ended.
  const NonStreamBody& ns = *rec.nonstream;
  Response res;
  res.base() = recorded_head(call, ns.status, ns.headers, "application/json").base();
  res.body() = ns.body;
  res.prepare_payload();
  return {call.endpoint,
          HoldPlan{now + scaled(ns.offset, *speed), [res](Clock::time_point) { return res; }}};
}

Outcome create_chat(const Call& call) {
  return create(call, Api::chat_completions);
}
Outcome create_response(const Call& call) {
  return create(call, Api::responses);
}

constexpr Route routes[] = {
    {http::verb::post, "/v1/chat/completions", Endpoint::chat_completions, &create_chat},
    {http::verb::post, "/v1/responses", Endpoint::responses, &create_response},
};

}  // namespace

std::span<const Route> create_routes() {
  return routes;
}

}  // namespace ssebench::server::api
