// The dispatcher: finds the route for a request, answers 404/405 and CORS preflights, and puts
// the CORS headers on whatever the handler answered.
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <boost/beast/core/string.hpp>

#include "endpoints.hpp"
#include "ssebench/utf8.hpp"

namespace ssebench::server {
namespace {

/** OpenAI's error object: {"error":{"message","type","param","code"}}; empty param/code = null. */
std::string error_json(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  auto or_null = [](std::string_view s) {
    return s.empty() ? std::string("null") : json_string(s);
  };
  return R"({"error":{"message":)" + json_string(message) + R"(,"type":)" + json_string(type) +
         R"(,"param":)" + or_null(param) + R"(,"code":)" + or_null(code) + "}}";
}

}  // namespace

namespace api {
namespace {

namespace beast = boost::beast;

/** Headers the server owns on every response: recorded values are dropped. */
bool is_hop_by_hop(std::string_view name) {
  for (std::string_view h : {"content-length", "transfer-encoding", "connection", "keep-alive"})
    if (beast::iequals(name, h)) return true;
  return false;
}

/** Whether `path` fits `pattern`; the `{id}` segment's text goes to `id`. */
bool matches(std::string_view pattern, std::string_view path, std::string_view& id) {
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/')
      return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view p = pattern.substr(0, pattern.find('/'));
    const std::string_view s = path.substr(0, path.find('/'));
    if (p == "{id}") {
      if (s.empty()) return false;
      id = s;
    } else if (p != s) {
      return false;
    }
    pattern.remove_prefix(p.size());
    path.remove_prefix(s.size());
  }
  return true;
}

constexpr std::string_view preflight_max_age_s = "600";

/** The origin to allow for this request, or empty when it is not allowed (or no Origin). */
std::string allowed_origin(const Request& req, const State& state) {
  const auto it = req.find(http::field::origin);
  if (it == req.end()) return {};
  const std::string_view origin = it->value();
  for (const std::string& o : state.origins)
    if (o == "*" || o == origin) return o == "*" ? "*" : std::string(origin);
  return {};
}

template <class Head>
void add_cors(Head& head, const std::string& origin) {
  if (origin.empty()) return;
  head.set(http::field::access_control_allow_origin, origin);
  if (origin != "*") head.set(http::field::vary, "Origin");
  head.set(http::field::access_control_expose_headers, "*");
  // Resource Timing's detail (requestStart, responseStart) for pages of that origin: how a
  // browser client measures its own connection queue.
  head.set("Timing-Allow-Origin", origin);
}

Outcome preflight(const Call& call, const std::string& methods) {
  const std::string origin = allowed_origin(call.req, call.state);
  const bool has_origin = call.req.find(http::field::origin) != call.req.end();
  if (has_origin && origin.empty()) {
    return error_answer(call, http::status::forbidden,
                        fmt::format("Origin '{}' is not allowed (server option --cors-origins).",
                                    std::string_view(call.req[http::field::origin])),
                        "invalid_request_error", {}, "origin_not_allowed");
  }
  Response res{http::status::no_content, call.req.version()};
  res.set(http::field::allow, methods);
  if (!origin.empty()) {
    add_cors(res, origin);
    res.set(http::field::access_control_allow_methods, methods);
    const auto asked = call.req.find(http::field::access_control_request_headers);
    res.set(http::field::access_control_allow_headers,
            asked != call.req.end() ? std::string(asked->value())
                                    : std::string("authorization, content-type"));
    res.set(http::field::access_control_max_age, preflight_max_age_s);
  }
  res.keep_alive(call.req.keep_alive());
  res.prepare_payload();
  return {call.endpoint, std::move(res)};
}

}  // namespace

Query::Query(std::string_view q) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = pair.find('=');
    pairs_.emplace_back(pair.substr(0, eq),
                        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
}

std::optional<std::string_view> Query::get(std::string_view key) const {
  for (const auto& [k, v] : pairs_)
    if (k == key) return v;
  return std::nullopt;
}

Outcome json_answer(const Call& call, http::status status, std::string body) {
  Response res{status, call.req.version()};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.keep_alive(call.req.keep_alive());
  res.prepare_payload();
  return {call.endpoint, std::move(res)};
}

Outcome error_answer(const Call& call, http::status status, std::string_view message,
                     std::string_view type, std::string_view param, std::string_view code) {
  return json_answer(call, status, error_json(message, type, param, code));
}

Outcome model_not_found(const Call& call, std::string_view model) {
  return error_answer(
      call, http::status::not_found,
      fmt::format("The model `{}` does not exist or you do not have access to it. Models here are "
                  "recording ids (GET /v1/models lists them; the files are in the server's "
                  "--recordings folder) or the real model names they were recorded from.",
                  model),
      "invalid_request_error", {}, "model_not_found");
}

Outcome bad_query(const Call& call, std::string_view param, std::string_view value,
                  std::string_view expected) {
  return error_answer(
      call, http::status::bad_request,
      fmt::format("Invalid value for '{}': '{}' (expected {}).", param, value, expected),
      "invalid_request_error", param, "invalid_value");
}

http::response<http::empty_body> recorded_head(const Call& call, int status,
                                               const std::vector<Header>& headers,
                                               std::string_view default_type) {
  http::response<http::empty_body> head;
  head.version(call.req.version());
  head.result(static_cast<unsigned>(status));
  bool has_type = false;
  for (const Header& h : headers) {
    if (is_hop_by_hop(h.name)) continue;
    has_type = has_type || beast::iequals(h.name, "content-type");
    head.insert(h.name, h.value);
  }
  if (!has_type) head.set(http::field::content_type, default_type);
  head.keep_alive(call.req.keep_alive());
  return head;
}

StreamPlan replay_stream(const Call& call, const Replay& replay, Clock::time_point start,
                         double speed, std::size_t first, bool skip_usage,
                         std::shared_ptr<const Job> job) {
  const RecordedResponse& r = replay.recording->response;
  const Config& config = call.state.config;
  auto head = recorded_head(call, r.status, r.headers, "text/event-stream; charset=utf-8");
  if (config.x_accel_buffering_no) head.set("X-Accel-Buffering", "no");
  // Headers due before the request came (a resumed job, an x-ssebench-epoch-us in the past) go
  // out at once, and the first heartbeat counts from then, not from a past it was not there for.
  return StreamPlan{
      std::move(head), &replay,        start,
      speed,           first,          std::max(start + scaled(r.headers_offset, speed), call.now),
      skip_usage,      std::move(job), std::chrono::milliseconds(config.sse_heartbeat_ms)};
}

std::optional<double> request_speed(const Call& call) {
  const auto it = call.req.find("x-ssebench-speed");
  if (it == call.req.end()) return call.state.config.speed;
  return parse_speed(it->value());
}

std::optional<Clock::time_point> request_start(const Call& call) {
  const auto it = call.req.find("x-ssebench-epoch-us");
  if (it == call.req.end()) return call.now;
  const std::optional<std::uint64_t> us = parse_u64(it->value());
  if (!us) return std::nullopt;
  using std::chrono::system_clock;
  const auto wall_now = system_clock::now();
  const auto at = system_clock::time_point(std::chrono::microseconds(*us));
  if (at < wall_now - max_epoch_distance || at > wall_now + max_epoch_distance) return std::nullopt;
  // Both clocks read here, next to each other: the request's arrival plays no part.
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(at - wall_now);
}

}  // namespace api

Response error_response(http::status status, std::string_view message, std::string_view type,
                        std::string_view param, std::string_view code) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = error_json(message, type, param, code);
  res.prepare_payload();
  return res;
}

Response header_too_large_response(const Config& config) {
  return error_response(http::status::request_header_fields_too_large,
                        fmt::format("Request header fields too large: the limit is {} bytes.",
                                    config.header_limit_bytes),
                        "invalid_request_error", {}, "request_header_fields_too_large");
}

Response body_too_large_response(const Config& config) {
  return error_response(
      http::status::payload_too_large,
      fmt::format("Request body too large: the limit is {} bytes.", config.body_limit_bytes),
      "invalid_request_error", {}, "request_too_large");
}

Outcome handle(const Request& req, State& state, Clock::time_point now) {
  using namespace api;
  const std::string_view target = req.target();
  const auto qpos = target.find('?');
  const std::string_view path = target.substr(0, qpos);
  const Query query(qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1));

  const std::array<std::span<const Route>, 4> tables{create_routes(), job_routes(), model_routes(),
                                                     mock_routes()};
  const Route* found = nullptr;
  std::string_view id;
  std::string methods;  // every method the path takes, for Allow and preflights
  Endpoint endpoint = Endpoint::other;
  for (const auto& table : tables) {
    for (const Route& r : table) {
      std::string_view rid;
      if (!matches(r.pattern, path, rid)) continue;
      endpoint = r.endpoint;
      if (!methods.empty()) methods += ", ";
      methods += std::string_view(http::to_string(r.method));
      if (r.method == req.method() && !found) {
        found = &r;
        id = rid;
      }
    }
  }
  const Call call{req, state, now, id, query, found ? found->endpoint : endpoint};
  if (methods.empty()) {
    Outcome o = error_answer(
        call, http::status::not_found,
        fmt::format("Invalid URL ({} {})", std::string_view(req.method_string()), path),
        "invalid_request_error");
    add_cors(std::get<Response>(o.plan), allowed_origin(req, state));
    return o;
  }
  if (req.method() == http::verb::options) return preflight(call, methods + ", OPTIONS");

  Outcome out =
      found ? found->handler(call)
            : error_answer(call, http::status::method_not_allowed,
                           fmt::format("Method {} is not allowed on {}; use {}.",
                                       std::string_view(req.method_string()), path, methods),
                           "invalid_request_error", {}, "method_not_allowed");
  if (!found) std::get<Response>(out.plan).set(http::field::allow, methods);

  const std::string origin = allowed_origin(req, state);
  if (!origin.empty()) {
    if (auto* res = std::get_if<Response>(&out.plan)) add_cors(*res, origin);
    if (auto* stream = std::get_if<StreamPlan>(&out.plan)) add_cors(stream->head, origin);
    if (auto* hold = std::get_if<HoldPlan>(&out.plan)) {
      hold->answer = [inner = std::move(hold->answer), origin](Clock::time_point t) {
        Response res = inner(t);
        add_cors(res, origin);
        return res;
      };
    }
  }
  return out;
}

}  // namespace ssebench::server
