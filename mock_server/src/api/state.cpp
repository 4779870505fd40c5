// The shared state: replays built once, the model aliases, the allowed origins.
#include <fmt/format.h>

#include "ssebench/server/api.hpp"

namespace ssebench::server {
namespace {

/** "gpt-4o-mini-2024-07-18" → "gpt-4o-mini": OpenAI's dated snapshot names end in -YYYY-MM-DD. */
std::string_view undated(std::string_view model) {
  constexpr std::size_t date = 11;  // "-2024-07-18"
  if (model.size() <= date) return model;
  const std::string_view tail = model.substr(model.size() - date);
  for (std::size_t i = 0; i < date; ++i) {
    const bool dash = i == 0 || i == 5 || i == 8;
    if (dash ? tail[i] != '-' : (tail[i] < '0' || tail[i] > '9')) return model;
  }
  return model.substr(0, model.size() - date);
}

}  // namespace

State::State(const Config& c, const std::vector<std::shared_ptr<const Recording>>& recordings)
    : config(c),
      origins(allowed_origins(c)),
      jobs(c.max_jobs, std::chrono::milliseconds(c.job_retention_ms)) {
  for (const auto& r : recordings) {
    try {
      replays.emplace(r->id, Replay(r, c.snapshot_limit_bytes));
    } catch (const std::exception& e) {
      load_errors.push_back(fmt::format("{}: not served: {}", r->file.string(), e.what()));
    }
  }
  // Each real model name (dated and undated) picks the first recording of it, by id, per API.
  if (c.model_aliases) {
    for (const auto& [id, replay] : replays) {
      const Recording& r = *replay.recording;
      for (std::string_view name : {std::string_view(r.model), undated(r.model)}) {
        if (name.empty() || replays.contains(name)) continue;
        aliases[std::string(name)].emplace(r.api, id);
      }
    }
  }
  models_body = models_json(replays, aliases);
}

}  // namespace ssebench::server
