#pragma once
/**
 * One schedule for every shard (--start-at=T): shards given the same T and the same flags run
 * each case, and each round of it, in the same window of the SERVER's wall clock.
 *
 * The windows follow from the flags and the recordings only, so every shard computes the same
 * ones: each case the harness runs (each repetition too, in Google Benchmark's order, selected
 * cases only) gets a window starting where the previous one ends, the first at T. A window is
 * a warm-up slot, then one slot per round:
 *
 *   warm-up slot = 2 × pad + 1 ms per stream of a closed round (0 with --no-warmup)
 *   round slot   = the round's planned time (cases.hpp planned_s / rounds) × margin + pad
 *
 * (margin --slot-margin, default 1.25; pad --slot-pad-ms, default 1000). A shard waits (steady
 * clock, Ctrl-C still stops it) for each slot's start: its local time is the server's minus
 * the measured offset (GET /mock/time, the min-RTT probe of a few,
 * measure_clock). A slot begun later than
 * --late-ms marks the case schedule_missed=1: that shard's load did not overlap the others'.
 */
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "ssebench/bench/server.hpp"

namespace ssebench::bench {

/** --start-at's value in unix seconds: unix seconds ("1764903600.5") or ISO-8601 UTC ending in
 *  Z ("2026-12-05T03:00:00Z", fractional seconds allowed); nullopt when it is neither. */
std::optional<double> parse_start_at(std::string_view text);

/** Unix seconds as ISO-8601 UTC, milliseconds shown when there are any:
 *  "2026-12-05T03:00:00Z", "2026-12-05T03:00:00.500Z". */
std::string iso_utc(double unix_s);

/** How the slots are sized (HarnessConfig's slot_margin and slot_pad_s). */
struct SlotRules {
  double margin = 1.25;
  double pad_s = 1;
  bool warmup = true;  // a warm-up slot before the rounds
};

/** A case's window on the server's clock (unix seconds). */
struct CaseWindow {
  double start = 0;     // its warm-up slot's start
  double warmup_s = 0;  // the warm-up slot
  double round_s = 0;   // each round's slot
  int rounds = 0;
  double round_start(int r) const { return start + warmup_s + round_s * r; }
  double end() const { return round_start(rounds); }
  double length() const { return end() - start; }
};

/** The window of a case of `rounds` rounds planned at `planned_round_s` each, `closed_streams`
 *  the streams of a closed round (0 for open loops and sessions), from `start`. */
CaseWindow case_window(double start, double planned_round_s, int rounds, std::size_t closed_streams,
                       const SlotRules& rules);

/** The run's schedule: hands out the windows of the cases in the order they run. */
class Schedule {
 public:
  Schedule(double start_at, SlotRules rules) : next_(start_at), start_(start_at), rules_(rules) {}
  /** The next case's window, where the previous one ended (the first at start_at). */
  CaseWindow next(double planned_round_s, int rounds, std::size_t closed_streams);
  double start_at() const { return start_; }
  /** Where the next window would start: the end of the last one handed out. */
  double end() const { return next_; }
  const SlotRules& rules() const { return rules_; }
  /** Before a slot's start by this much, shard 0 resets the server's counters; a round's
   *  server figures are read at its slot's end less twice this (pad / 4). */
  double reset_lead_s() const { return rules_.pad_s / 4; }
  /** The schedule in words, for the run's context. */
  std::string describe(double late_ms) const;

 private:
  double next_;
  double start_;
  SlotRules rules_;
};

/** The server's clock now, by `clock`. */
double server_now(const ClockOffset& clock);

/**
 * Sleeps on the steady clock until the server's clock reads `server_t` (by `clock`), waking
 * early when `stop` is set. Returns how late it is then, in seconds (negative when it woke
 * early).
 */
double wait_until(double server_t, const ClockOffset& clock, const std::atomic<bool>& stop);

}  // namespace ssebench::bench
