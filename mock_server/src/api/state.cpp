// The shared state: replays built once, the recorded sets, the model aliases, the allowed
// origins.
#include <fmt/format.h>

#include "endpoints.hpp"
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

/**
 * Groups the recordings that name a set by its id. A set is served when members 1..N are all
 * there, agree on N and on the API, and no recording has the set's id; otherwise one line says
 * why, and its members are still served on their own.
 */
void build_sets(const ReplayMap& replays, SetMap& sets, std::vector<std::string>& errors) {
  std::map<std::string, std::vector<const Replay*>, std::less<>> found;
  for (const auto& [id, replay] : replays) {
    if (replay.recording->set) found[replay.recording->set->id].push_back(&replay);
  }
  for (const auto& [set_id, members] : found) {
    // set_id by an init-capture: clang 14 refuses a lambda naming a structured binding.
    const auto refuse = [&errors, &id = set_id](std::string why) {
      errors.push_back(fmt::format("set {}: not served: {}", id, why));
    };
    if (replays.contains(set_id)) {
      refuse("a recording has that id");
      continue;
    }
    const RecordingSet& first = *members.front()->recording->set;
    std::vector<const Replay*> by_index(first.of, nullptr);
    std::string why;
    for (const Replay* m : members) {
      const Recording& r = *m->recording;
      if (r.set->of != first.of) {
        why = fmt::format("{} says {} members, {} says {}", members.front()->recording->id,
                          first.of, r.id, r.set->of);
      } else if (r.api != members.front()->recording->api) {
        why = fmt::format("{} and {} are of different APIs", members.front()->recording->id, r.id);
      } else if (const Replay*& slot = by_index[r.set->index - 1]; slot) {
        why = fmt::format("{} and {} are both member {}", slot->recording->id, r.id, r.set->index);
      } else {
        slot = m;
      }
      if (!why.empty()) break;
    }
    if (why.empty()) {
      for (std::size_t k = 0; k < by_index.size(); ++k) {
        if (!by_index[k]) {
          why = fmt::format("member {} of {} is missing", k + 1, first.of);
          break;
        }
      }
    }
    if (!why.empty()) {
      refuse(why);
      continue;
    }
    sets[set_id].members = std::move(by_index);
  }
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
  build_sets(replays, sets, set_errors);
  // Each real model name (dated and undated) names the recordings of it, by id, per API.
  if (c.model_aliases) {
    for (const auto& [id, replay] : replays) {
      const Recording& r = *replay.recording;
      for (std::string_view name : {std::string_view(r.model), undated(r.model)}) {
        if (name.empty() || replays.contains(name) || sets.contains(name)) continue;
        aliases[std::string(name)][r.api].push_back(id);
      }
    }
  }
  models_body = api::models_json(replays, sets, aliases);
}

}  // namespace ssebench::server
