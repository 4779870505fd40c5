// GET /v1/models and GET /v1/models/{id}: the recordings, the recorded sets, and the real model
// names that alias them.
#include <fmt/format.h>

#include "endpoints.hpp"
#include "ssebench/utf8.hpp"

namespace ssebench::server::api {
namespace {

/** An OpenAI model object without its closing brace; `id_json` is a JSON string literal. */
std::string model_head(std::string_view id_json) {
  std::string out = R"({"id":)";
  out += id_json;
  out += R"(,"object":"model","created":0,"owned_by":"ssebench")";
  return out;
}

/** A recording as a model. */
std::string model_json(const Replay& replay) {
  return model_head(replay.id_json) + '}';
}

/** A set as a model, with its members' ids in "set". */
std::string set_model_json(std::string_view id, const ReplaySet& set) {
  std::string out = model_head(json_string(id)) + R"(,"set":[)";
  for (std::size_t i = 0; i < set.members.size(); ++i) {
    if (i) out += ',';
    out += set.members[i]->id_json;
  }
  return out + "]}";
}

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
    return json_answer(call, http::status::ok, model_head(json_string(call.id)) + '}');
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

std::string models_json(const ReplayMap& replays, const SetMap& sets, const AliasMap& aliases) {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& [id, replay] : replays) {
    if (!first) out += ',';
    first = false;
    out += model_json(replay);
  }
  for (const auto& [id, set] : sets) {
    if (!first) out += ',';
    first = false;
    out += set_model_json(id, set);
  }
  // A real model name answers with a default recording of that model, per API.
  for (const auto& [name, by_api] : aliases) {
    if (!first) out += ',';
    first = false;
    out += model_head(json_string(name)) + R"(,"recordings":{)";
    bool comma = false;
    for (const auto& [api, ids] : by_api) {
      if (comma) out += ',';
      comma = true;
      out += json_string(to_string(api)) + ':' + json_string(ids.front());
    }
    out += "}}";
  }
  out += "]}";
  return out;
}

}  // namespace ssebench::server::api
