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
  if (force) {
    // Also drops a job whose Job::cancel bypassed cancel(), so its index entry is late.
    std::erase_if(jobs_, [&](const auto& kv) { return expired(*kv.second, now); });
  }
  while (!expiries_.empty() && expiries_.top().first <= now) {
    const auto it = jobs_.find(expiries_.top().second);
    // The job may be gone already (erased, or dropped by find() or a forced sweep).
    if (it != jobs_.end() && expired(*it->second, now)) jobs_.erase(it);
    expiries_.pop();
  }
}

void JobStore::index_locked(Clock::time_point expiry, std::uint64_t id) {
  expiries_.emplace(expiry, id);
  if (expiries_.size() <= 2 * jobs_.size() + 64) return;
  // Mostly stale entries: rebuild from the held jobs (their end_time() includes any cancel).
  std::vector<Expiry> live;
  live.reserve(jobs_.size());
  for (const auto& [job_id, job] : jobs_) live.emplace_back(job->end_time() + retention_, job_id);
  expiries_ = decltype(expiries_)(std::greater<>{}, std::move(live));
}

std::shared_ptr<const Job> JobStore::create(const Replay& replay, Clock::time_point start,
                                            double speed) {
  std::lock_guard lock(mutex_);
  sweep_locked(start, false);
  if (jobs_.size() >= max_jobs_) sweep_locked(start, true);
  if (jobs_.size() >= max_jobs_) return nullptr;
  auto job = std::make_shared<Job>(next_id_++, &replay, start, speed);
  jobs_.emplace(job->id, job);
  index_locked(job->end_time() + retention_, job->id);
  return job;
}

bool JobStore::cancel(const Job& job, Clock::time_point now) {
  if (!job.cancel(now)) return false;
  std::lock_guard lock(mutex_);
  if (jobs_.contains(job.id)) index_locked(job.end_time() + retention_, job.id);
  return true;
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
