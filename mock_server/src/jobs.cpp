#include "ssebench/server/jobs.hpp"

#include <charconv>

namespace ssebench::server {

std::optional<std::uint64_t> JobStore::parse_name(std::string_view name) {
  constexpr std::string_view responses = "resp_bg_", chat = "chatcmpl_bg_";
  if (name.starts_with(responses))
    name.remove_prefix(responses.size());
  else if (name.starts_with(chat))
    name.remove_prefix(chat.size());
  else
    return std::nullopt;
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (name.empty() || ec != std::errc{} || p != name.data() + name.size()) return std::nullopt;
  return id;
}

void JobStore::sweep_locked(Clock::time_point now, bool force) {
  if (!force && now < next_sweep_) return;
  next_sweep_ = now + sweep_interval;
  std::erase_if(jobs_, [&](const auto& kv) { return expired(*kv.second, now); });
}

std::shared_ptr<const Job> JobStore::create(const Replay& replay, Clock::time_point start,
                                            double speed) {
  std::lock_guard lock(mutex_);
  sweep_locked(start, false);
  if (jobs_.size() >= max_jobs_) sweep_locked(start, true);
  if (jobs_.size() >= max_jobs_) return nullptr;
  auto job = std::make_shared<Job>(next_id_++, &replay, start, speed);
  jobs_.emplace(job->id, job);
  return job;
}

std::shared_ptr<const Job> JobStore::find(std::string_view name, Clock::time_point now) {
  const auto id = parse_name(name);
  if (!id) return nullptr;
  std::lock_guard lock(mutex_);
  sweep_locked(now, false);
  auto it = jobs_.find(*id);
  if (it == jobs_.end()) return nullptr;
  if (expired(*it->second, now)) {
    jobs_.erase(it);
    return nullptr;
  }
  // "resp_bg_3" does not name chat job 3.
  if (it->second->name() != name) return nullptr;
  return it->second;
}

bool JobStore::erase(std::string_view name, Clock::time_point now) {
  const auto job = find(name, now);
  if (!job) return false;
  std::lock_guard lock(mutex_);
  return jobs_.erase(job->id) > 0;
}

JobFigures JobStore::figures(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  sweep_locked(now, true);
  JobFigures f;
  f.held = jobs_.size();
  for (const auto& [id, job] : jobs_) {
    if (now < job->end_time()) ++f.active;
  }
  return f;
}

}  // namespace ssebench::server
