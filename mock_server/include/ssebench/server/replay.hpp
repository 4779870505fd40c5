#pragma once
/**
 * What the server derives from a recording once at start-up, and the pure functions of time that
 * replay it: when an event is due at a given speed, and what a background job shows at time t.
 * A job is only {recording, start, speed}: its state at any instant is computed, never mutated.
 */
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/recording.hpp"
#include "ssebench/replay_clock.hpp"

namespace ssebench::server {

using Clock = std::chrono::steady_clock;

/** A recording plus what the server precomputes for it (immutable, shared by all threads). */
struct Replay {
  std::shared_ptr<const Recording> recording;
  std::vector<std::size_t> job_events;  // indices of the events jobs number 1..E ([DONE] excluded)
  std::string id_json;                  // the id as a JSON string literal
  std::string model_json;               // the recorded model as a JSON string literal

  explicit Replay(std::shared_ptr<const Recording> r);
  const Event& job_event(std::uint64_t seq) const {  // seq in 1..E
    return recording->events[job_events[seq - 1]];
  }
  std::uint64_t events_total() const { return job_events.size(); }
};

/** Recordings by id; std::less<> allows lookup by string_view. */
using ReplayMap = std::map<std::string, Replay, std::less<>>;

enum class JobStatus { in_progress, completed, failed };
std::string_view to_string(JobStatus s);

/** A background job: a replay clock started at `start`. */
struct Job {
  std::uint64_t id = 0;
  const Replay* replay = nullptr;
  Clock::time_point start;
  double speed = 1;

  std::string name() const { return "resp_bg_" + std::to_string(id); }
  /** When job event `seq` (1..E) is due. */
  Clock::time_point event_time(std::uint64_t seq) const;
  /** When the recording's last event (any kind) is due: the job is finished from then on. */
  Clock::time_point end_time() const;
  /** How many job events are due at `now` (the cursor of a full poll). */
  std::uint64_t due(Clock::time_point now) const;
  JobStatus status(Clock::time_point now) const;
  /**
   * When the answer to "anything after `after`?" can change next: the time of event after+1, or
   * the end time when no more events will come.
   */
  Clock::time_point next_change(std::uint64_t after) const;
};

/**
 * A job's JSON object at `now`. `after` empty: poll-full (every due event); else poll (events
 * with sequence number > *after). Payloads are inserted verbatim, never re-serialized.
 */
std::string job_json(const Job& job, Clock::time_point now, std::optional<std::uint64_t> after);

/** The answer to the POST that creates the job. */
std::string job_created_json(const Job& job, Clock::time_point now);

/** GET /v1/models/{id}: one recording as an OpenAI model object. */
std::string model_json(const Replay& replay);

/** GET /v1/models: every recording, OpenAI's list shape. */
std::string models_json(const ReplayMap& replays);

/** OpenAI's error object: {"error":{"message","type","param","code"}}; empty param/code = null. */
std::string error_json(std::string_view message, std::string_view type, std::string_view param = {},
                       std::string_view code = {});

}  // namespace ssebench::server
