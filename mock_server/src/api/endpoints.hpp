#pragma once
// What every endpoint file of the application layer shares: the route table's entry, the call a
// handler gets, and the answer builders. Each file (create.cpp, jobs.cpp, models.cpp, mock.cpp)
// lists its own routes; router.cpp joins the lists and dispatches.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ssebench/parse.hpp"
#include "ssebench/server/api.hpp"

namespace ssebench::server::api {

/** The query parameters of a request, in order; values are not percent-decoded. */
class Query {
 public:
  explicit Query(std::string_view query);
  std::optional<std::string_view> get(std::string_view key) const;

 private:
  std::vector<std::pair<std::string_view, std::string_view>> pairs_;
};

/** What a handler is given. */
struct Call {
  const Request& req;
  State& state;
  Clock::time_point now;
  std::string_view id;  // the path's {id} segment, if its pattern has one
  const Query& query;
  Endpoint endpoint;
};

using Handler = Outcome (*)(const Call&);

/** One endpoint: a method and a path pattern whose `{id}` matches one non-empty segment. */
struct Route {
  http::verb method;
  std::string_view pattern;
  Endpoint endpoint;
  Handler handler;
};

std::span<const Route> create_routes();  // create.cpp
std::span<const Route> job_routes();     // jobs.cpp
std::span<const Route> model_routes();   // models.cpp
std::span<const Route> mock_routes();    // mock.cpp

/** GET /v1/models' answer (models.cpp): every recording, every set, then every alias (a real
 *  model name), OpenAI's list shape. Built once, at start-up. */
std::string models_json(const ReplayMap& replays, const SetMap& sets, const AliasMap& aliases);

// ---- answers ----
Outcome json_answer(const Call& call, http::status status, std::string body);
Outcome error_answer(const Call& call, http::status status, std::string_view message,
                     std::string_view type, std::string_view param = {},
                     std::string_view code = {});
/** 404 model_not_found, saying where models come from. */
Outcome model_not_found(const Call& call, std::string_view model);
/** 400 invalid_value for a query parameter. */
Outcome bad_query(const Call& call, std::string_view param, std::string_view value,
                  std::string_view expected);

using ssebench::parse_u64;  // a non-negative decimal integer, the whole string

/** The recorded status and headers, less those the server owns. */
http::response<http::empty_body> recorded_head(const Call& call, int status,
                                               const std::vector<Header>& headers,
                                               std::string_view default_type);

/** A stream of `replay`'s events from index `first`, its recorded head, paced from `start`. */
StreamPlan replay_stream(const Call& call, const Replay& replay, Clock::time_point start,
                         double speed, std::size_t first, bool skip_usage,
                         std::shared_ptr<const Job> job);

/** The speed of this request: x-ssebench-speed, else the server's. */
std::optional<double> request_speed(const Call& call);

/** How far from now an x-ssebench-epoch-us may lie. */
constexpr std::chrono::hours max_epoch_distance{24};

/**
 * Where this request's stream (or job) starts its clock: x-ssebench-epoch-us, a wall-clock
 * instant in Unix microseconds, taken onto the steady clock, so that every stream anchored at
 * the same instant has each event due at the same moment whenever it was asked for (the held
 * users' fan-out); without the header, the request's arrival. nullopt: not a number, or further
 * than max_epoch_distance from now.
 */
std::optional<Clock::time_point> request_start(const Call& call);

}  // namespace ssebench::server::api
