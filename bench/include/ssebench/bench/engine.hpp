#pragma once
/**
 * The client engine: closed rounds, open-loop arrivals, user sessions and the soak, each written
 * once over a driver that its transport's row names (transport.hpp, bench/src/driver.hpp): the
 * HTTP transports' streams on one libcurl multi handle, ws's connections on an Asio io_context,
 * both driven by the calling thread.
 *
 * Connections stay in the multi handle's cache between rounds (keep-alive), so an Engine lives
 * for a whole case. Every socket opened is tracked so that TCP_INFO can be read before it
 * closes and, for sockets still open, at the end of each round.
 *
 * ws: a stream is one turn, a record per turn. A connection plays up to ClientConfig::ws_turns
 * turns in every load model, the first one opening it (its record counts the connection and
 * the upgrade): in a closed round each of `concurrency` connections plays its turns back to
 * back; in open-loop each arrival is one connection playing its turns back to back (the first
 * turn scheduled at the arrival, each later one when the turn before it ended); in user sessions
 * a user keeps its connection across its turns, think time between them, as a chat client keeps
 * its socket (OpenAI's Responses WebSocket mode keeps one for a conversation), and opens a new
 * one after ws_turns turns or a failed turn.
 */
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

/** One kind of stream in a soak: `count` of them kept running, each replaced when it ends. */
struct SoakGroup {
  const Expectation* expect = nullptr;
  Transport transport = Transport::sse;
  ClientConfig config;
  std::size_t count = 0;
};

/** What one group's streams did in a soak. Streams still running at its end are cut, not
 *  counted as failed. */
struct SoakGroupResult {
  std::size_t streams_ok = 0, streams_failed = 0, streams_cut = 0;
  std::array<std::size_t, error_kind_count> errors{};
  std::string first_error;
  std::vector<double> lag_ms;  // every content event of the streams that ended well
  std::uint64_t events = 0, requests = 0;
  /** Connections opened by all of the group's streams, ended and cut (a held user keeps one). */
  std::uint64_t connections = 0;
  /** The streams cut at the end, so far: held users' streams (a long recording) end only so. */
  std::vector<double> cut_lag_ms;  // every content event they received
  std::uint64_t cut_events = 0, cut_requests = 0;
};

struct SoakResult {
  std::vector<SoakGroupResult> groups;  // in the order given
  double client_cpu_us = 0;             // the calling thread's, over the whole soak
};

class Engine {
 public:
  explicit Engine(ClockFn clock = &Clock::now);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /**
   * Runs `concurrency` streams of `transport` over the recording at once and returns when every
   * one has finished, failed or passed its deadline. Throws std::invalid_argument for long-poll
   * with a shape that has no cursor (openai, snapshot: there is nothing to wait after).
   */
  RoundResult run_round(const Expectation& expect, Transport transport, const ClientConfig& config,
                        std::size_t concurrency);

  /**
   * An open-loop round: stream k is due at the round's start + schedule[k] (arrival_offsets());
   * at most `max_concurrency` run at once (0 = no cap): an arrival beyond it waits for one to
   * end. Every record carries its scheduled start beside its t0. Returns when every stream has
   * ended. Records come arrival by arrival, the same number for each (ws: its turns).
   */
  RoundResult run_open(const Expectation& expect, Transport transport, const ClientConfig& config,
                       std::span<const std::chrono::microseconds> schedule,
                       std::size_t max_concurrency);

  /**
   * Closed-loop chat sessions: `users` each start a stream, read it to its end, think for
   * `think`, and start the next, until `duration` has passed (a turn due after it is not
   * started). A turn's scheduled start is the previous one's end + think (the first turns spread
   * over one think time). ws: a user's turns share its connection (see above).
   */
  RoundResult run_users(const Expectation& expect, Transport transport, const ClientConfig& config,
                        std::size_t users, Clock::duration think, Clock::duration duration);

  /**
   * A soak: every group's streams, their starts spread evenly over `ramp`, each replaced by a
   * new one (a fresh t0 and request; connections are reused) as soon as it ends, until
   * `ramp + duration` has passed or a group's config.stop is set. `tick(elapsed)` is called from
   * this thread about every `tick_every` (to sample the server). Timers (staggered starts, poll
   * schedules, deadlines) are checked every 10 ms: a soak keeps thousands of streams, and a scan
   * of every one per wake-up would cost more than they do. ws groups (a connection of
   * config.ws_turns turns, replaced when it ends) run on a second thread with their own loop;
   * client_cpu_us sums both threads.
   */
  SoakResult run_soak(std::span<const SoakGroup> groups, Clock::duration ramp,
                      Clock::duration duration, Clock::duration tick_every,
                      const std::function<void(Clock::duration)>& tick);

  /** Sockets libcurl holds open right now (cached keep-alive connections). */
  std::size_t open_sockets() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/** CPU time (user + sys) of the calling thread, in microseconds. */
double thread_cpu_us();

}  // namespace ssebench::bench
