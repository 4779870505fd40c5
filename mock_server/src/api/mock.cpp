// /mock/stats and its reset: the server's own figures; /mock/time: its clock
// (mock_server/README.md).
#include <fmt/format.h>

#include <chrono>

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

// The server's wall clock (CLOCK_REALTIME) in µs since the epoch: harness shards given a common
// --start-at measure their offset from it (min-RTT probes) and run their schedule on it.
Outcome time(const Call& call) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return json_answer(call, http::status::ok, fmt::format(R"({{"unix_us":{}}})", us));
}

constexpr Route routes[] = {
    {http::verb::get, "/mock/stats", Endpoint::mock, &stats},
    {http::verb::post, "/mock/stats/reset", Endpoint::mock, &reset},
    {http::verb::get, "/mock/time", Endpoint::mock, &time},
};

}  // namespace

std::span<const Route> mock_routes() {
  return routes;
}

}  // namespace ssebench::server::api
