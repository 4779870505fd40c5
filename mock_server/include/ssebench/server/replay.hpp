#pragma once
/**
 * What the server derives from a recording once at start-up, and the pure functions of time that
 * replay it: a background job's state and its polled answers at time t. A job is {recording,
 * start, speed} plus, once cancelled, the instant its clock stopped: its state at any instant is
 * computed, never mutated per event.
 */
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/poll_shape.hpp"
#include "ssebench/recording.hpp"
#include "ssebench/replay_clock.hpp"
#include "ssebench/server/representation.hpp"

namespace ssebench::server {

using Clock = std::chrono::steady_clock;

/** A recording plus what the server precomputes for it (immutable, shared by all threads). */
struct Replay {
  std::shared_ptr<const Recording> recording;
  ReplayClock clock;
  Representation representation;  // the polled answers' building blocks
  std::string id_json;            // the id as a JSON string literal
  std::string model_json;         // the recorded model as a JSON string literal
  int choices = 1;                // chat: distinct choice indices in the stream (n)

  /** Throws std::runtime_error when its representations exceed `budget_bytes`. */
  Replay(std::shared_ptr<const Recording> r, std::size_t budget_bytes);
};

/** Recordings by id; std::less<> allows lookup by string_view. */
using ReplayMap = std::map<std::string, Replay, std::less<>>;

/**
 * A set of recorded runs of one request (recordings/README.md, "Sets of runs"): a request for
 * the set's id replays its members in turn. Only the counter changes after start-up; take() is
 * safe from every thread.
 */
struct ReplaySet {
  std::vector<const Replay*> members;  // member k at members[k - 1]; they live in the ReplayMap

  /** The member the next request replays: 1, 2, …, N, 1, … */
  const Replay& take() const {
    return *members[next_.fetch_add(1, std::memory_order_relaxed) % members.size()];
  }

 private:
  mutable std::atomic<std::uint64_t> next_{0};
};

/** Sets by id. */
using SetMap = std::map<std::string, ReplaySet, std::less<>>;

/** Real model names ("gpt-4o-mini", "gpt-4o-mini-2024-07-18") → the recordings of that model,
 *  per API, by id: the first is the default, a later one serves what the first cannot. */
using AliasMap = std::map<std::string, std::map<Api, std::vector<std::string>>, std::less<>>;

enum class JobStatus { queued, in_progress, completed, failed, cancelled };
std::string_view to_string(JobStatus s);
inline bool is_terminal(JobStatus s) {
  return s != JobStatus::queued && s != JobStatus::in_progress;
}

/** A background job: a replay clock started at `start`. */
struct Job {
  Job(std::uint64_t id_, const Replay* replay_, Clock::time_point start_, double speed_)
      : id(id_), replay(replay_), start(start_), speed(speed_) {}

  const std::uint64_t id;
  const Replay* const replay;
  const Clock::time_point start;
  const double speed;

  /** "resp_bg_N" (Responses) or "chatcmpl_bg_N" (chat). */
  std::string name() const;
  Api api() const { return replay->recording->api; }

  /** Stops the job's clock at `now`; false when it had ended (or was cancelled) before. */
  bool cancel(Clock::time_point now) const;
  /** When it was cancelled, if it was. */
  std::optional<Clock::time_point> cancelled_at() const;
  /** `now`, or the cancel time when that came first: the job's clock stands still from then. */
  Clock::time_point cut(Clock::time_point now) const;

  /** When job event `seq` (0..E-1) is due. */
  Clock::time_point event_time(std::uint64_t seq) const;
  /** When the job ends: its last event's time, or its cancel time. */
  Clock::time_point end_time() const;
  /** How many job events are due at `now`: events 0..due-1. */
  std::uint64_t due(Clock::time_point now) const;
  JobStatus status(Clock::time_point now) const;
  /**
   * When the answer to "anything after `after`?" can change next: the time of the next event,
   * or the end time when no more events will come.
   */
  Clock::time_point next_change(std::optional<std::uint64_t> after) const;

 private:
  static constexpr Clock::rep not_cancelled = Clock::rep{-1};
  mutable std::atomic<Clock::rep> cancelled_{not_cancelled};  // since the clock's epoch
};

/**
 * A job's answer at `now` in `shape`. `after` (delta, events): only events numbered above it.
 * Built from the precomputed representation: payloads and tails are inserted verbatim.
 */
std::string job_body(const Job& job, PollShape shape, Clock::time_point now,
                     std::optional<std::uint64_t> after);

}  // namespace ssebench::server
