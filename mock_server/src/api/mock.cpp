// /mock/stats and its reset: the server's own figures (mock_server/README.md).
#include "endpoints.hpp"

namespace ssebench::server::api {
namespace {

// ?fds=true adds fds_open, which costs a listing of /proc/self/fd (see stats_json).
Outcome stats(const Call& call) {
  const auto fds = call.query.get("fds");
  return json_answer(
      call, http::status::ok,
      stats_json(call.state.stats, call.state.jobs.figures(call.now), fds && *fds == "true"));
}

Outcome reset(const Call& call) {
  call.state.stats.reset();
  return json_answer(call, http::status::ok, R"({"reset":true})");
}

constexpr Route routes[] = {
    {http::verb::get, "/mock/stats", Endpoint::mock, &stats},
    {http::verb::post, "/mock/stats/reset", Endpoint::mock, &reset},
};

}  // namespace

std::span<const Route> mock_routes() {
  return routes;
}

}  // namespace ssebench::server::api
