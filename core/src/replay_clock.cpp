#include "ssebench/replay_clock.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ssebench {

std::chrono::nanoseconds scaled(std::chrono::microseconds offset, double speed) {
  if (speed == 0) return std::chrono::nanoseconds{0};
  if (speed == 1) return offset;
  // Clamp so a tiny speed cannot overflow the clock (about 30 years).
  const double ns = std::min(static_cast<double>(offset.count()) * 1000.0 / speed, 1e18);
  return std::chrono::nanoseconds{std::llround(ns)};
}

std::optional<double> parse_speed(std::string_view text) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v) ||
      v < 0)
    return std::nullopt;
  return v;
}

ReplayClock::ReplayClock(const Recording& recording) : recording_(&recording) {
  long ordinal = 0;
  for (std::size_t i = 0; i < recording.events.size(); ++i) {
    const Event& e = recording.events[i];
    if (e.content) content_offsets_.push_back(e.offset);
    if (e.is_done()) continue;
    job_events_.push_back(i);
    content_ordinal_.push_back(e.content ? ordinal : -1);
    if (e.content) ++ordinal;
  }
}

std::size_t ReplayClock::resume_index(std::optional<std::uint64_t> after) const {
  const std::size_t all = recording_->events.size();
  if (!after) return 0;
  if (*after + 1 < job_events_.size()) return job_events_[*after + 1];
  // Past the last job event: what follows it ([DONE]), or nothing.
  return job_events_.empty() ? all : job_events_.back() + 1;
}

std::uint64_t ReplayClock::due(std::chrono::nanoseconds elapsed, double speed) const {
  const auto& events = recording_->events;
  // Offsets never decrease, so the due events are a prefix.
  const auto it = std::partition_point(job_events_.begin(), job_events_.end(), [&](std::size_t i) {
    return scaled(events[i].offset, speed) <= elapsed;
  });
  return static_cast<std::uint64_t>(it - job_events_.begin());
}

}  // namespace ssebench
