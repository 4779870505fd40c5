#pragma once
/**
 * One direction of the emulated link, as pure scheduling: packets go in with the time they
 * arrived and come out at the time they are due. No clock, no I/O: the caller passes `now`
 * (the emulator its steady_clock, the tests a made-up one), so every rule is testable exactly.
 *
 * A packet's path (mahimahi's mm-link nested in mm-delay, with mm-loss after the link):
 *   1. the bottleneck queue, droptail: refused when it already holds `queue_packets` packets or
 *      `queue_bytes` bytes (those not yet fully sent);
 *   2. the bottleneck: a fixed rate (serialization time = bytes × 8 / rate), or a trace's
 *      delivery opportunities (byte accounting: 1,500 bytes per opportunity shared by small
 *      packets, a big packet spanning several, an opportunity nobody waits for is lost, the
 *      trace wraps); neither: no bottleneck;
 *   3. loss, Bernoulli or Gilbert–Elliott, decided once the packet has crossed the bottleneck
 *      (a packet lost on the path still used the link's capacity);
 *   4. the one-way delay, plus jitter uniform in ±jitter; the order is kept (a packet never
 *      leaves before the one in front of it) unless `reorder`.
 */
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "ssebench/link/trace.hpp"

namespace ssebench::link {

using Nanos = std::chrono::nanoseconds;

/** Bursty loss: a two-state Markov chain stepped once per packet (Gilbert–Elliott). */
struct GilbertElliott {
  double p = 0;          // good → bad, per packet; 0 = the model is off
  double r = 1;          // bad → good, per packet
  double loss_good = 0;  // loss probability in the good state
  double loss_bad = 1;   // loss probability in the bad state
  bool on() const { return p > 0; }
  /** Mean loss rate in the steady state: the chain spends p/(p+r) of packets in bad. */
  double mean_loss() const { return on() ? (p * loss_bad + r * loss_good) / (p + r) : 0; }
};

/** One direction's link. Defaults: no delay, no loss, no limit, a 1,000-packet queue. */
struct Direction {
  std::int64_t delay_us = 0;           // one-way delay added to every packet
  std::int64_t jitter_us = 0;          // ± uniform jitter on the delay (0 = none)
  bool reorder = false;                // jitter may reorder packets (else order is kept)
  double loss = 0;                     // Bernoulli loss per packet (ignored when ge is on)
  GilbertElliott ge;                   // bursty loss, when ge.p > 0
  double rate_bps = 0;                 // bottleneck rate in bit/s (0 = unlimited)
  std::shared_ptr<const Trace> trace;  // delivery opportunities, instead of rate_bps
  // Droptail limits of the bottleneck queue. 1,000 packets is netem's default limit and Linux's
  // default txqueuelen, what a WebPageTest-style tc shaper would have; 0 = unbounded.
  std::uint64_t queue_packets = 1000;
  std::uint64_t queue_bytes = 0;  // 0 = no byte limit

  bool has_bottleneck() const { return rate_bps > 0 || trace != nullptr; }
};

/** A deterministic RNG (splitmix64): the same seed gives the same losses on every platform. */
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /** Uniform in [0, 1). */
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

/** What became of a packet offered to a pipe. */
enum class Verdict { queued, lost, queue_full };

/** A packet the pipe holds: its size and the caller's handle to its bytes. */
struct Packet {
  std::uint32_t size = 0;
  std::uint32_t slot = 0;  // the caller's buffer index, returned untouched
};

/** A packet due for release. */
struct Due {
  Packet packet;
  Nanos release_at{};  // when it was scheduled to leave
  Nanos arrived_at{};
};

/** Counters of one direction since the last reset. */
struct PipeCounts {
  std::uint64_t packets = 0;    // offered
  std::uint64_t bytes = 0;      // offered
  std::uint64_t delivered = 0;  // released
  std::uint64_t drops_loss = 0;
  std::uint64_t drops_queue = 0;
};

class Pipe {
 public:
  /** `start` is time zero of the trace (its opportunity at t ms is at start + t ms). */
  Pipe(Direction d, std::uint64_t seed, Nanos start);

  /**
   * A packet arrives at `now` (non-decreasing across calls). Returns queued, or why it was
   * dropped: the pipe keeps only a queued packet, so the caller frees the buffer of any other.
   * `queue_delay` (when queued) gets the time it will spend beyond the configured delay: the
   * bottleneck's wait and serialization, and jitter, never below 0.
   */
  Verdict offer(Packet p, Nanos now, Nanos* queue_delay = nullptr);

  /** When the next held packet is due, if any. */
  std::optional<Nanos> next_release() const;
  /** Pops the packet due first if it is due at or before `now`. */
  std::optional<Due> pop(Nanos now);

  /** Packets held (queued or delayed). */
  std::size_t held() const { return held_.size(); }
  const PipeCounts& counts() const { return counts_; }
  void reset_counts() { counts_ = {}; }
  const Direction& direction() const { return d_; }

  /** Bottleneck departure time for a packet of `size` bytes arriving at `now` (advances). */
  Nanos depart(std::uint32_t size, Nanos now);

 private:
  Nanos opportunity_at(std::uint64_t k) const;
  std::uint64_t first_opportunity_at_or_after(Nanos t) const;
  bool lose();

  struct Held {
    Nanos release_at;
    std::uint64_t seq;
    Packet packet;
    Nanos arrived_at;
    bool operator>(const Held& o) const {
      return release_at != o.release_at ? release_at > o.release_at : seq > o.seq;
    }
  };

  Direction d_;
  Rng rng_;
  Nanos start_;
  // Bottleneck state.
  Nanos link_free_at_{};   // rate: when the packet in front finishes serializing
  std::uint64_t opp_ = 0;  // trace: the opportunity the next byte may use...
  std::uint32_t opp_left_ = opportunity_bytes;           // ...and the bytes left in it
  std::deque<std::pair<Nanos, std::uint32_t>> backlog_;  // (departure, size) not yet sent
  std::uint64_t backlog_bytes_ = 0;
  bool ge_bad_ = false;
  // Delay stage.
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held_;
  std::uint64_t seq_ = 0;
  Nanos last_release_{};
  PipeCounts counts_;
};

}  // namespace ssebench::link
