#pragma once
/** The transports of METRICS.md, the clients' settings, and what a recording makes them expect. */
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssebench/recording.hpp"
#include "ssebench/replay_clock.hpp"

namespace ssebench::bench {

enum class Transport { sse, rest, poll, poll_full, long_poll };
inline constexpr Transport all_transports[] = {Transport::sse, Transport::rest, Transport::poll,
                                               Transport::poll_full, Transport::long_poll};

/** "sse", "rest", "poll", "poll-full", "long-poll". */
std::string_view to_string(Transport t);
std::optional<Transport> parse_transport(std::string_view name);
/** poll and poll-full run at a poll interval; the others have none. */
bool has_interval(Transport t);

/** When the next poll goes out. */
enum class PollSchedule {
  fixed_rate,      // at t0 + k·interval; a late answer moves to the next slot after now
  after_response,  // interval after the previous answer was read
};

/** Settings shared by every client of a round. */
struct ClientConfig {
  std::string base_url;  // "http://127.0.0.1:PORT", no trailing slash
  /** Replay speed, sent as x-ssebench-speed on every request; 0 = as fast as possible. */
  double speed = 1.0;
  std::chrono::milliseconds interval{250};  // poll and poll-full period
  PollSchedule schedule = PollSchedule::fixed_rate;
  std::chrono::milliseconds long_poll_wait{10'000};  // wait_ms of long-poll requests
  bool keep_alive = true;                            // false: a fresh connection for every request
  /**
   * Stream starts spread evenly over this window (0: all at once). With identical recordings,
   * streams started together send their events in lockstep bursts.
   */
  std::chrono::microseconds stagger{0};
  /** A stream's deadline: recording duration / speed × factor + slack (+ one interval). */
  double deadline_factor = 1.5;
  std::chrono::milliseconds deadline_slack{10'000};
};

/**
 * What a recording makes every stream of a case expect; computed once per case. Copies share
 * the recording, which `clock` refers into: replace `recording` only together with `clock`.
 */
struct Expectation {
  /** Only the recording and its clock; make_expectation() fills in the rest. */
  explicit Expectation(std::shared_ptr<const Recording> r)
      : recording(std::move(r)), clock(*recording) {}

  std::shared_ptr<const Recording> recording;
  /** Core's one rule for job numbering (0…E−1), content ordinals and offsets. */
  ReplayClock clock;
  Transcript transcript;  // recording->transcript()
  /** What a stream:false body must carry: the streamed text, or for a recording without events
   *  the text of its recorded stream:false body. */
  Transcript rest_transcript;
  std::string sse_body;   // the recorded request body, "model" = recording id, "stream": true
  std::string rest_body;  // the same with "stream": false
  std::string job_body;   // {"model":ID,"background":true}
};

/** Builds the expectation; throws std::runtime_error if the request body is not a JSON object. */
Expectation make_expectation(std::shared_ptr<const Recording> recording);

}  // namespace ssebench::bench
