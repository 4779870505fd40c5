#pragma once
/**
 * The background jobs, shared by every connection's thread behind one mutex. A job never changes
 * after it is created except for its atomic cancel time (see Job), so callers keep a shared_ptr
 * and read it without the lock.
 */
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ssebench/server/replay.hpp"
#include "ssebench/server/stats.hpp"

namespace ssebench::server {

class JobStore {
 public:
  /**
   * Sweeps for expired jobs at most this often (a find() also drops the job it finds expired).
   * The sweep visits only the expired jobs, through an index by expiry (see expiries_).
   */
  static constexpr std::chrono::milliseconds sweep_interval{100};

  JobStore(std::size_t max_jobs, std::chrono::milliseconds retention)
      : max_jobs_(max_jobs), retention_(retention) {}

  /** Starts a job at `start`; null when max_jobs are held (after dropping expired ones). */
  std::shared_ptr<const Job> create(const Replay& replay, Clock::time_point start, double speed);
  /** The job named `name` ("resp_bg_N", "chatcmpl_bg_N"), or null when unknown or expired. */
  std::shared_ptr<const Job> find(std::string_view name, Clock::time_point now);
  /**
   * Cancels `job` (Job::cancel) and lets the store drop it `retention` after `now` rather than
   * after its natural end. A Job::cancel called directly still takes effect in find(), figures()
   * and a full store's create(), which check each job, but the 100 ms sweep drops that job only
   * when its natural end + retention comes.
   */
  bool cancel(const Job& job, Clock::time_point now);
  /** Forgets the job named `name`; false when there is none. */
  bool erase(std::string_view name, Clock::time_point now);
  JobFigures figures(Clock::time_point now);

  /** Parses "resp_bg_N" or "chatcmpl_bg_N" into N. */
  static std::optional<std::uint64_t> parse_name(std::string_view name);

 private:
  bool expired(const Job& job, Clock::time_point now) const {
    return now >= job.end_time() + retention_;
  }
  /** Drops the jobs expired at `now`: by the index, or (`force`) by checking every job. */
  void sweep_locked(Clock::time_point now, bool force);
  void index_locked(Clock::time_point expiry, std::uint64_t id);

  /** (expiry, job id), soonest first. */
  using Expiry = std::pair<Clock::time_point, std::uint64_t>;

  const std::size_t max_jobs_;
  const std::chrono::milliseconds retention_;
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  Clock::time_point next_sweep_{};
  std::unordered_map<std::uint64_t, std::shared_ptr<const Job>> jobs_;
  /**
   * Every held job's expiry (end_time() + retention), fixed when it is created and pushed again,
   * earlier, when cancel() cuts it short: expiry depends only on start, speed and the cancel time.
   * An entry can be stale: its job erased by erase() or find() (or already dropped through its
   * cancel's earlier entry); the sweep skips those ids as it pops them. Stale entries wait for
   * their time, so the index can outgrow jobs_ (slow jobs created and deleted); index_locked()
   * rebuilds it from jobs_ once it holds over twice as many entries (+64), so it stays O(max_jobs).
   */
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries_;
};

}  // namespace ssebench::server
