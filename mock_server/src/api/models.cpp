// GET /v1/models and GET /v1/models/{id}: the recordings, the recorded sets, and the real model
// names that alias them.
#include <fmt/format.h>

#include "endpoints.hpp"

namespace ssebench::server::api {
namespace {

Outcome list(const Call& call) {
  return json_answer(call, http::status::ok, call.state.models_body);
}

Outcome retrieve(const Call& call) {
  const auto it = call.state.replays.find(call.id);
  if (it != call.state.replays.end())
    return json_answer(call, http::status::ok, model_json(it->second));
  if (const auto set = call.state.sets.find(call.id); set != call.state.sets.end())
    return json_answer(call, http::status::ok, set_model_json(set->first, set->second));
  if (call.state.aliases.contains(call.id))
    return json_answer(call, http::status::ok,
                       R"({"id":)" + json_string(call.id) +
                           R"(,"object":"model","created":0,"owned_by":"ssebench"})");
  return model_not_found(call, call.id);
}

constexpr Route routes[] = {
    {http::verb::get, "/v1/models", Endpoint::models, &list},
    {http::verb::get, "/v1/models/{id}", Endpoint::models, &retrieve},
};

}  // namespace

std::span<const Route> model_routes() {
  return routes;
}

}  // namespace ssebench::server::api
