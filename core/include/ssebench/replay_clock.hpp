#pragma once
/**
 * The one replay clock: how a recording's offsets scale with the replay speed, how background
 * jobs number its events, and where its content events sit. The server paces and answers by it,
 * the clients number what they receive by it, the metrics take recorded offsets from it, so the
 * three can never disagree.
 *
 * Job numbering: every event except `[DONE]` (SSE framing, not state), in recording order, from
 * 0 — for the Responses API the payloads' own `sequence_number`. `starting_after=N` means the
 * events numbered N+1 onwards.
 */
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ssebench/recording.hpp"

namespace ssebench {

/** A recorded offset at `speed` (0 = as fast as possible: every offset is 0). */
std::chrono::nanoseconds scaled(std::chrono::microseconds offset, double speed);

/** Parses a speed ("1", "20", "0.5", "0"): finite and >= 0, else nullopt. */
std::optional<double> parse_speed(std::string_view text);

class ReplayClock {
 public:
  /** Keeps a reference: the recording must outlive the clock. */
  explicit ReplayClock(const Recording& recording);

  const Recording& recording() const { return *recording_; }

  // ---- job numbering ----
  /** E: the number of job events. */
  std::uint64_t job_events() const { return job_events_.size(); }
  /** Index into recording().events of job event `seq` (0..E-1). */
  std::size_t event_index(std::uint64_t seq) const { return job_events_[seq]; }
  const Event& job_event(std::uint64_t seq) const { return recording_->events[job_events_[seq]]; }
  /** The content ordinal (0..C-1) of job event `seq`, or -1 when it carries no content. */
  long content_ordinal(std::uint64_t seq) const { return content_ordinal_[seq]; }
  /** The first recording event a job stream resumed after `seq` sends (events.size(): none). */
  std::size_t resume_index(std::optional<std::uint64_t> after) const;

  // ---- content ----
  /** Recorded offset of every content event, by content ordinal. */
  const std::vector<std::chrono::microseconds>& content_offsets() const { return content_offsets_; }

  // ---- time, relative to the replay's start ----
  /** When job event `seq` is due at `speed`. */
  std::chrono::nanoseconds due_at(std::uint64_t seq, double speed) const {
    return scaled(job_event(seq).offset, speed);
  }
  /** How many job events are due `elapsed` after the start: they are a prefix, 0..due-1. */
  std::uint64_t due(std::chrono::nanoseconds elapsed, double speed) const;
  /** When the recording's last event (any kind) is due: the replay has ended from then on. */
  std::chrono::nanoseconds end(double speed) const {
    return scaled(recording_->last_offset(), speed);
  }

 private:
  const Recording* recording_;
  std::vector<std::size_t> job_events_;
  std::vector<long> content_ordinal_;
  std::vector<std::chrono::microseconds> content_offsets_;
};

}  // namespace ssebench
