#pragma once
// What the engine's load models run over, whatever the transport: a Session (one stream-like
// thing: a libcurl transfer, a WebSocket connection and its turns) and a Driver (the loop that
// makes and moves a transport's sessions: libcurl's multi handle, or an Asio io_context).
// Closed rounds, open-loop arrivals, user sessions and the soak are written once over these
// (engine.cpp); each transport's row says which driver runs it (transport.hpp). Private to the
// engine.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

/** How a session goes from one turn to the next (ws; the HTTP streams have one turn). */
enum class Pace {
  back_to_back,  // config.ws_turns turns, each sent when the one before ends
  on_demand,     // up to config.ws_turns turns, each sent by next_turn() (user sessions)
};

class Session {
 public:
  Session() = default;
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /** Takes t0 and sends the first request (connects first if it must). */
  virtual void start() = 0;
  /** Starts at `at` instead: staggered starts, the soak's ramp. */
  virtual void start_at(TimePoint at) = 0;
  /** Nothing more will happen: every turn ended (finished, failed, timed out, interrupted). */
  virtual bool finished() const = 0;
  /** The run is being interrupted: what is in flight ends as interrupted. */
  virtual void on_interrupt() = 0;
  /**
   * Timers the driver does not keep itself (deadline, poll schedules, kicks), checked at `now`;
   * lowers `next` to when they want looking at again. True if a request went out (the loop
   * handles what it brings without waiting).
   */
  virtual bool on_tick(TimePoint now, TimePoint& next) = 0;
  /** One record per turn begun (and per turn failed as not run), in order. Set the first one's
   *  `scheduled` and `waited` before starting it. */
  virtual std::span<StreamRecord> records() = 0;

  /** Between turns, open, and able to take another (Pace::on_demand). */
  virtual bool idle() const { return false; }
  /** Sends the next turn now; it was due at `scheduled`. Only when idle(). */
  virtual void next_turn(TimePoint scheduled) { (void)scheduled; }
  /** Ends an idle session: no turn comes. */
  virtual void close() {}
};

/** What a session is made of. */
struct SessionSpec {
  const Expectation* expect = nullptr;
  const ClientConfig* config = nullptr;
  Transport transport = Transport::sse;
  Pace pace = Pace::back_to_back;
  /** A soak's user (its slot): the libcurl driver keeps each user's connection in a cache of
   *  its own, as one device would (curl_driver.cpp, CurlDriver::pool); nullopt: the driver's
   *  one cache. */
  std::optional<std::size_t> pool;
};

class Driver {
 public:
  Driver() = default;
  virtual ~Driver() = default;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  /** Before a round of at most `streams` at once with `config`'s settings. */
  virtual void prepare(const ClientConfig& config, std::size_t streams) = 0;
  /** Before a soak of `streams` sessions kept running; end_soak() after it. */
  virtual void begin_soak(std::size_t streams) = 0;
  virtual void end_soak() {}
  virtual std::unique_ptr<Session> make(const SessionSpec& spec) = 0;
  /** Handles the I/O that is ready, without waiting. */
  virtual void step() = 0;
  /** Waits until I/O is ready or `until`, whichever is first. */
  virtual void wait(TimePoint until) = 0;
  /** TCP counters of the connections closed since the last call, and of those still open. */
  virtual TcpCounters take_round() = 0;

  /** Sessions that step() or wait() handled since the last call: ended (the soak replaces
   *  them), or with timers that may have moved (it files them again); collected only while a
   *  soak runs. A session may appear more than once. */
  std::vector<Session*> take_touched() { return std::exchange(touched_, {}); }

 protected:
  void touched(Session* s) {
    if (collect_touched_) touched_.push_back(s);
  }
  bool collect_touched_ = false;

 private:
  std::vector<Session*> touched_;
};

/** Longest single wait of a driver: also how soon ClientConfig::stop is seen. */
inline constexpr std::chrono::milliseconds max_wait{1000};

/** The libcurl driver: every HTTP transport's streams on one multi handle. */
std::unique_ptr<Driver> make_curl_driver(ClockFn clock);
/** Sockets the libcurl driver holds open (its keep-alive cache). */
std::size_t open_sockets(const Driver& curl_driver);
/** The Asio driver: ws connections on an io_context run by the calling thread (ws_client.cpp). */
std::unique_ptr<Driver> make_ws_driver(ClockFn clock);

}  // namespace ssebench::bench
