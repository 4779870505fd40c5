#pragma once
// ws: the recorded request as a WebSocket turn (OpenAI's Responses API WebSocket mode, or the
// mock server's chat variant), read as one text frame per event. Private to the engine.
#include <cstddef>

#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

/**
 * `concurrency` connections at once on a Boost.Asio loop run by the calling thread, each
 * playing config.ws_turns turns one after the other. One StreamRecord per turn, connection by
 * connection: the first turn's t0 is before connect and carries the upgrade's bytes.
 */
RoundResult run_ws_round(const Expectation& expect, const ClientConfig& config,
                         std::size_t concurrency, ClockFn clock);

}  // namespace ssebench::bench
