#pragma once
/**
 * Walks a StreamPlan's events in the order and at the times they go out, whatever carries them
 * (an HTTP/1.1 chunk, an HTTP/2 DATA frame, a WebSocket text frame): the events a plan skips
 * (empty, or the usage chunk nobody asked for), the due time of each, where a cancelled job's
 * stream ends, the job's id in place of the recorded one, the lateness that counts, and the SSE
 * comment heartbeats a quiet stream gets (StreamPlan::heartbeat), which go out in the events'
 * place. One copy of those rules for every session.
 */
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ssebench/server/api.hpp"
#include "ssebench/server/representation.hpp"

namespace ssebench::server {

class StreamCursor {
 public:
  StreamCursor() = default;
  /** The plan must outlive the cursor. */
  explicit StreamCursor(const StreamPlan& plan)
      : plan_(&plan), next_(plan.first), last_due_(plan.headers_at) {}

  /**
   * The comment a heartbeat sends, 3 bytes: an empty comment line (WHATWG HTML §9.2.6
   * "Interpreting an event stream": a line that starts with a colon is ignored) and the blank
   * line that ends an event (one without data dispatches nothing). The smallest text that is a
   * whole `event` of the spec's grammar (§9.2.5), so the stream stays a run of complete events
   * for clients that split on blank lines. Over HTTP/1.1 its chunk is 8 bytes (3\r\n:\n\n\r\n).
   */
  static constexpr std::string_view heartbeat_bytes = ":\n\n";

  /**
   * Moves to the next event to send (skipping those the plan does not send) and returns true,
   * or returns false when the stream is over: every event sent, or its job cancelled before
   * that event was due. When the plan has heartbeats and the next event is due more than a
   * heartbeat interval after the last thing sent was due, a heartbeat comes first
   * (heartbeat() is then true, bytes() its comment).
   */
  bool advance() {
    const auto& events = plan_->replay->recording->events;
    while (next_ < events.size() &&
           (events[next_].bytes.empty() || (plan_->skip_usage && events[next_].kind == "usage")))
      ++next_;
    if (next_ == events.size()) return false;
    if (plan_->drop_after && events_sent_ >= *plan_->drop_after) return false;
    due_ = plan_->start + scaled(events[next_].offset, plan_->speed);
    heartbeat_ = false;
    if (plan_->heartbeat.count() > 0 && due_ - last_due_ > plan_->heartbeat) {
      heartbeat_ = true;
      due_ = last_due_ + plan_->heartbeat;
    }
    return !cut_before_due();
  }

  /** The current item is a heartbeat comment, not an event. */
  bool heartbeat() const { return heartbeat_; }

  /** After a wait for due(): true if the job was cancelled meanwhile (the stream ends). */
  bool cut_before_due() const {
    if (!plan_->job) return false;
    const auto cut = plan_->job->cancelled_at();
    return cut && due_ > *cut;
  }

  Clock::time_point due() const { return due_; }
  std::size_t index() const { return next_; }
  const Event& event() const { return plan_->replay->recording->events[next_]; }

  /** The event's SSE bytes as sent: a job's stream carries the job's id. The view lasts until
   *  the next call. */
  std::string_view bytes() {
    prefix_len_ = 0;
    if (heartbeat_) return heartbeat_bytes;
    const Representation& repr = plan_->replay->representation;
    const bool job_id = plan_->job && !repr.id_positions[next_].empty();
    const bool retry = plan_->retry_ms && events_sent_ == 0;
    if (!job_id && !retry && !plan_->event_ids) return event().bytes;
    // Built in one buffer the stream keeps, so its capacity serves every event: EventSource's
    // fields first (before the event's own `event:`, `data:`), then the bytes, job id rewritten.
    rewritten_.clear();
    if (retry) fmt::format_to(std::back_inserter(rewritten_), "retry: {}\n", *plan_->retry_ms);
    if (plan_->event_ids) {
      if (const auto seq = job_event_number(); seq)
        fmt::format_to(std::back_inserter(rewritten_), "id: {}\n", *seq);
    }
    prefix_len_ = rewritten_.size();
    if (job_id) {
      if (job_id_escaped_.empty()) job_id_escaped_ = json_escaped(plan_->job->name());
      append_with_job_id(rewritten_, repr, *plan_->replay->recording, next_, job_id_escaped_);
    } else {
      rewritten_ += event().bytes;
    }
    return rewritten_;
  }

  /** The event's data payload as sent (the JSON after `data: `; "[DONE]"), id rewritten too. */
  std::string_view data() {
    const Event& e = event();
    const std::string_view sent = bytes().substr(prefix_len_);  // the id sits inside the payload
    return sent.substr(e.data_pos, e.data_len + sent.size() - e.bytes.size());
  }

  /** The current event's job event number (ReplayClock's: every event but [DONE]), if any. */
  std::optional<std::uint64_t> job_event_number() const {
    const ReplayClock& clock = plan_->replay->clock;
    std::uint64_t lo = 0;
    std::uint64_t hi = clock.job_events();
    while (lo < hi) {  // the first job event at or after the current recording event
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (clock.event_index(mid) < next_)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < clock.job_events() && clock.event_index(lo) == next_) return lo;
    return std::nullopt;
  }

  /**
   * How late the event goes out if written at `now`, in ns; -1 when it does not count: at speed
   * 0 there is no schedule, only a backlog, and the events a resumed stream owes from before its
   * request are a backlog too.
   */
  std::int64_t lateness_ns(Clock::time_point now, Clock::time_point request_start) const {
    if (plan_->speed == 0 || heartbeat_ || due_ < request_start) return -1;
    const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(now - due_);
    return std::max<std::int64_t>(0, late.count());
  }

  /** The current event (or heartbeat) went out; counted in `stats`. */
  void sent(Stats& stats) {
    (heartbeat_ ? stats.heartbeats_written : stats.events_written)
        .fetch_add(1, std::memory_order_relaxed);
    last_due_ = std::max(last_due_, due_);  // a backlog (due before the headers) sent at once
    if (!heartbeat_) {
      ++next_;
      ++events_sent_;
    }
    heartbeat_ = false;
  }

 private:
  const StreamPlan* plan_ = nullptr;
  std::size_t next_ = 0;
  Clock::time_point due_{};
  Clock::time_point last_due_{};  // when the last thing sent (or the head) was due
  bool heartbeat_ = false;
  std::uint64_t events_sent_ = 0;
  std::size_t prefix_len_ = 0;  // EventSource fields before the event's own bytes
  std::string rewritten_;       // bytes() when they differ from the recording's; reused
  std::string job_id_escaped_;  // the job's id as JSON, once
};

}  // namespace ssebench::server
