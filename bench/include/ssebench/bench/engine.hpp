#pragma once
/**
 * The client engine: every stream of a round, whatever its transport, on one libcurl multi
 * handle driven by the calling thread (curl_multi_poll/perform, plus timers for poll schedules).
 *
 * Connections stay in the multi handle's cache between rounds (keep-alive), so an Engine lives
 * for a whole case. Every socket libcurl opens is tracked so that TCP_INFO can be read before
 * it closes and, for sockets still open, at the end of each round.
 */
#include <cstddef>
#include <memory>

#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

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

  /** Sockets libcurl holds open right now (cached keep-alive connections). */
  std::size_t open_sockets() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/** CPU time (user + sys) of the calling thread, in microseconds. */
double thread_cpu_us();

}  // namespace ssebench::bench
