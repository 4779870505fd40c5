#pragma once
// What a stream of a session is busy with, as the /mock/stats gauges count it; private to the
// server. The HTTP/1.1 connection, each HTTP/2 stream and each WebSocket turn owns one.
#include <atomic>
#include <cstdint>

#include "ssebench/server/stats.hpp"

namespace ssebench::server {

/** An SSE stream (or WebSocket turn) in flight, or an answer held until its time. */
enum class Busy { none, stream, held };

/** Counts its owner in streams_active or requests_held while busy; leaving takes it out. */
class BusyGauge {
 public:
  explicit BusyGauge(Stats& stats) : stats_(stats) {}
  ~BusyGauge() { set(Busy::none); }
  BusyGauge(const BusyGauge&) = delete;
  BusyGauge& operator=(const BusyGauge&) = delete;

  Busy get() const { return busy_; }

  /** Moves the owner to `b`'s gauge; false when it was `b` already (nothing changed). */
  bool set(Busy b) {
    if (b == busy_) return false;
    if (auto* g = gauge(busy_)) g->fetch_sub(1, std::memory_order_relaxed);
    if (auto* g = gauge(b)) g->fetch_add(1, std::memory_order_relaxed);
    busy_ = b;
    return true;
  }

 private:
  std::atomic<std::int64_t>* gauge(Busy b) {
    if (b == Busy::stream) return &stats_.streams_active;
    if (b == Busy::held) return &stats_.requests_held;
    return nullptr;
  }

  Stats& stats_;
  Busy busy_ = Busy::none;
};

}  // namespace ssebench::server
