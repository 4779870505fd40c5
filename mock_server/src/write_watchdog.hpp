#pragma once
// A session's write timeout (Config::write_timeout_ms) without a timer per write: the HTTP and
// the WebSocket sessions write a stream's events straight to the socket on the hot path.
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include <boost/system/error_code.hpp>

#include "executor.hpp"
#include "held_wait.hpp"
#include "ssebench/server/replay.hpp"

namespace ssebench::server {

/**
 * One timer, armed at most once per timeout, checks that the write in flight started less than
 * the timeout ago; if not, it calls the owner's on_write_timeout(). It holds the owner weakly,
 * so it never keeps a closed session alive (the owner owns the watchdog, so `this` lives as long
 * as the owner does).
 */
class WriteWatchdog {
 public:
  WriteWatchdog(const Executor& ex, Clock::duration timeout) : timer_(ex), timeout_(timeout) {}

  /** A write starts at `now`. */
  template <typename Owner>
  void begin(Clock::time_point now, const std::shared_ptr<Owner>& owner) {
    started_ = now;
    writing_ = true;
    if (!armed_) arm(now + timeout_, std::weak_ptr<Owner>(owner));
  }
  /** The write in flight has completed (or failed). */
  void end() { writing_ = false; }
  void cancel() { timer_.cancel(); }
  /**
   * Nothing will be written for a while (a held user waits seconds for its next heartbeat or
   * event): the timer's pending wait, kept armed across a stream's writes so that they cost no
   * timer each, is given back, and the next write arms it again. The sessions call it before a
   * wait longer than rest_after.
   */
  static constexpr std::chrono::seconds rest_after{1};
  void rest() {
    if (!armed_ || writing_) return;
    armed_ = false;
    ++arming_;  // the cancelled wait's handler is not this arming's
    timer_.cancel();
  }

 private:
  template <typename Owner>
  void arm(Clock::time_point at, std::weak_ptr<Owner> owner) {
    armed_ = true;
    timer_.expires_at(at);
    timer_.async_wait(
        held_wait([this, owner = std::move(owner), arming = arming_](boost::system::error_code ec) {
          const auto self = owner.lock();
          if (!self || arming != arming_) return;
          armed_ = false;
          if (ec || !writing_) return;  // the next write arms it again
          if (Clock::now() - started_ < timeout_) return arm(started_ + timeout_, owner);
          self->on_write_timeout();
        }));
  }

  Timer timer_;
  Clock::duration timeout_;
  bool writing_ = false;  // a write is in flight, since started_
  bool armed_ = false;
  std::uint32_t arming_ = 0;  // counts rest()s: a wait it cancelled does nothing
  Clock::time_point started_;
};

}  // namespace ssebench::server
