#include "ssebench/bench/engine.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "driver.hpp"

namespace ssebench::bench {

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Engine::Impl {
  explicit Impl(ClockFn c) : clock(c), curl(make_curl_driver(c)), ws(make_ws_driver(c)) {}

  /** The driver of a transport's row. */
  Driver& driver(Transport t) { return row_of(t).loop == Loop::curl ? *curl : *ws; }

  ClockFn clock;
  std::unique_ptr<Driver> curl;  // keeps its connections between rounds (keep-alive)
  std::unique_ptr<Driver> ws;
};

Engine::Engine(ClockFn clock) : impl_(std::make_unique<Impl>(clock)) {}
Engine::~Engine() = default;

std::size_t Engine::open_sockets() const {
  return bench::open_sockets(*impl_->curl);
}

namespace {
using Sessions = std::vector<std::unique_ptr<Session>>;

/**
 * Sessions not started yet, started by `admit(now)` when they are due (it may add them to the
 * sessions); it returns when the next one is due (nullopt: none waiting or none can start yet,
 * and none will unless a running session ends or a turn does). Closed rounds have none.
 */
using Admit = std::function<std::optional<TimePoint>(TimePoint now)>;

/**
 * Drives `sessions` on `driver` until every one has ended (finished, failed, passed its
 * deadline, interrupted) and `admit` has none to come; a session not started counts as
 * running. Only the sessions not ended are scanned: an open-loop case ends thousands.
 */
void drive(Driver& driver, ClockFn clock, Sessions& sessions, const ClientConfig& config,
           const Admit& admit) {
  std::vector<Session*> live;  // not ended, in order
  std::size_t seen = 0;
  const auto take_new = [&] {
    for (; seen < sessions.size(); ++seen) live.push_back(sessions[seen].get());
  };
  std::optional<TimePoint> due = admit ? admit(clock()) : std::nullopt;
  take_new();
  while (!live.empty() || due) {
    if (config.stop && config.stop->load(std::memory_order_relaxed)) {
      for (Session* s : live)
        if (!s->finished()) s->on_interrupt();
      break;
    }
    driver.step();
    const TimePoint now = clock();
    TimePoint next = now + max_wait;
    if (admit) due = admit(now);
    take_new();
    if (due) next = std::min(next, *due);
    bool sent = false;
    for (Session* s : live) sent = s->on_tick(now, next) || sent;
    std::erase_if(live, [](const Session* s) { return s->finished(); });
    if (sent || (live.empty() && !due)) continue;
    driver.wait(next);
  }
}

RoundResult collect(Sessions& sessions, double cpu0, TcpCounters tcp) {
  RoundResult round;
  round.client_cpu_us = thread_cpu_us() - cpu0;
  round.tcp = tcp;
  TimePoint first = TimePoint::max();
  TimePoint last = TimePoint::min();
  round.streams.reserve(sessions.size());
  for (auto& s : sessions)
    for (StreamRecord& r : s->records()) {
      first = std::min(first, r.t0);
      last = std::max(last, r.end.value_or(r.t0));
      round.streams.push_back(std::move(r));
    }
  if (!round.streams.empty()) round.wall_s = std::chrono::duration<double>(last - first).count();
  return round;
}

void check_shape(Transport transport, const ClientConfig& config) {
  if (row_of(transport).shapes == Shapes::cursor && !has_cursor(config.shape))
    throw std::invalid_argument(fmt::format("{} takes a cursor shape (delta, events), not {}",
                                            to_string(transport), to_string(config.shape)));
}
}  // namespace

RoundResult Engine::run_round(const Expectation& expect, Transport transport,
                              const ClientConfig& config, std::size_t concurrency) {
  check_shape(transport, config);
  Driver& d = impl_->driver(transport);
  d.prepare(config, concurrency);
  const SessionSpec spec{&expect, &config, transport, Pace::back_to_back, std::nullopt};
  Sessions sessions;
  sessions.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) sessions.push_back(d.make(spec));

  d.take_round();  // counters of earlier rounds stay there
  const double cpu0 = thread_cpu_us();
  if (config.stagger.count() > 0) {
    // Starts spread evenly over the stagger window, so that streams are not in lockstep.
    const TimePoint begin = impl_->clock();
    for (std::size_t i = 0; i < sessions.size(); ++i)
      sessions[i]->start_at(begin + config.stagger * static_cast<long>(i) /
                                        static_cast<long>(sessions.size()));
  } else {
    for (auto& s : sessions) s->start();
  }
  drive(d, impl_->clock, sessions, config, {});
  return collect(sessions, cpu0, d.take_round());
}

RoundResult Engine::run_open(const Expectation& expect, Transport transport,
                             const ClientConfig& config,
                             std::span<const std::chrono::microseconds> schedule,
                             std::size_t max_concurrency) {
  check_shape(transport, config);
  Driver& d = impl_->driver(transport);
  const std::size_t cap = max_concurrency > 0 ? max_concurrency : schedule.size();
  d.prepare(config, cap);
  const SessionSpec spec{&expect, &config, transport, Pace::back_to_back, std::nullopt};
  // Each session made when it is due: a case of thousands of arrivals holds only those begun.
  Sessions sessions;
  sessions.reserve(schedule.size());

  d.take_round();
  const double cpu0 = thread_cpu_us();
  const TimePoint begin = impl_->clock();
  std::vector<Session*> running;  // started, maybe ended since
  bool next_waited = false;       // the next arrival was due while the cap was full
  // Arrivals in schedule order; one beyond the cap waits for a session to end, its latency
  // still counted from its scheduled time.
  const Admit admit = [&](TimePoint now) -> std::optional<TimePoint> {
    std::erase_if(running, [](const Session* s) { return s->finished(); });
    std::size_t next = sessions.size();
    while (next < schedule.size() && running.size() < cap && begin + schedule[next] <= now) {
      sessions.push_back(d.make(spec));
      Session& s = *sessions.back();
      s.records().front().scheduled = begin + schedule[next];
      s.records().front().waited = next_waited;
      next_waited = false;
      s.start();
      running.push_back(&s);
      ++next;
    }
    // Due but held by the cap: its dispatch lag is the cap's queue, not the harness's.
    if (next < schedule.size() && begin + schedule[next] <= now) next_waited = true;
    if (next == schedule.size() || running.size() >= cap) return std::nullopt;
    return begin + schedule[next];
  };
  drive(d, impl_->clock, sessions, config, admit);
  return collect(sessions, cpu0, d.take_round());
}

RoundResult Engine::run_users(const Expectation& expect, Transport transport,
                              const ClientConfig& config, std::size_t users, Clock::duration think,
                              Clock::duration duration) {
  check_shape(transport, config);
  Driver& d = impl_->driver(transport);
  d.prepare(config, users);
  const SessionSpec spec{&expect, &config, transport, Pace::on_demand, std::nullopt};
  Sessions sessions;
  struct User {
    TimePoint next;              // when its next turn is due
    Session* current = nullptr;  // its session, if it has one
    bool busy = false;           // a turn of it running
  };
  d.take_round();
  const double cpu0 = thread_cpu_us();
  const TimePoint begin = impl_->clock();
  const TimePoint end = begin + duration;
  // First turns spread over one think time, so that the users are not in lockstep.
  std::vector<User> sessions_of(users);
  for (std::size_t u = 0; u < users; ++u)
    sessions_of[u].next = begin + think * static_cast<long>(u) / static_cast<long>(users);
  const Admit admit = [&](TimePoint now) -> std::optional<TimePoint> {
    std::optional<TimePoint> due;
    for (User& u : sessions_of) {
      if (u.busy) {
        if (!u.current->finished() && !u.current->idle()) continue;
        u.next = u.current->records().back().end.value_or(now) + think;
        u.busy = false;
      }
      const bool idle = u.current && u.current->idle();
      if (u.next >= end) {
        if (idle) u.current->close();  // its last turn is done
        continue;
      }
      if (u.next > now) {
        due = due ? std::min(*due, u.next) : u.next;
      } else if (idle) {  // a ws connection kept between its turns
        u.current->next_turn(u.next);
        u.busy = true;
      } else {
        sessions.push_back(d.make(spec));
        u.current = sessions.back().get();
        u.current->records().front().scheduled = u.next;
        u.current->start();
        u.busy = true;
      }
    }
    return due;
  };
  drive(d, impl_->clock, sessions, config, admit);
  return collect(sessions, cpu0, d.take_round());
}

namespace {
/** A soak's session: one of a group's `count`, replaced when it ends. */
struct SoakSlot {
  std::size_t group = 0;
  Clock::duration start{};  // its first start, after the soak's begin (the ramp)
  std::unique_ptr<Session> session;
};

/** Adds what a session did to its group's result. */
void account(Session& s, const SoakGroup& g, SoakGroupResult& out) {
  for (const StreamRecord& r : s.records()) {
    out.events += r.events;
    out.requests += r.requests;
    out.connections += r.connections;
    if (r.error) {
      ++out.streams_failed;
      ++out.errors[static_cast<std::size_t>(*r.error)];
      if (out.first_error.empty())
        out.first_error = std::string(to_string(*r.error)) + ": " + r.error_detail;
      continue;
    }
    ++out.streams_ok;
    const StreamFigures f = stream_figures(r, g.expect->clock.content_offsets(), g.config.speed);
    out.lag_ms.insert(out.lag_ms.end(), f.lag_ms.begin(), f.lag_ms.end());
  }
}

/**
 * One driver's part of a soak, on the calling thread: its slots started over the ramp, each
 * session replaced as soon as it ends, until `end` or a group's stop. Returns the thread's CPU.
 * Only the slots whose timers are due are visited (at 15,000 users a scan of every slot every
 * 10 ms cost ~6.5 % of a core whatever the request rate): each slot is filed under the time its
 * session's on_tick asked to be looked at again, and filed again whenever the driver handled
 * its transfer (take_touched), which may move that time. Bytes read in wait() touch no
 * session, so HTTP/2's kick (Stream::kick_at, armed by a read) waits for the slot's next due
 * time: the soak runs HTTP/1.1, where there is no kick.
 */
double soak_on(Driver& d, ClockFn clock, std::span<const SoakGroup> groups,
               std::vector<SoakSlot>& slots, TimePoint begin, TimePoint end,
               Clock::duration tick_every, const std::function<void(Clock::duration)>& tick,
               SoakResult& result) {
  // A session that ended as it started (its first request not sent) is replaced again after
  // this, not in a loop.
  constexpr auto retry_after = std::chrono::milliseconds(10);
  const double cpu0 = thread_cpu_us();
  const auto make = [&](std::size_t i) {
    const SoakGroup& g = groups[slots[i].group];
    // A connection cache per slot: a held user is one device, reusing only its own connection.
    return d.make({g.expect, &g.config, g.transport, Pace::back_to_back, i});
  };
  std::unordered_map<Session*, std::size_t> slot_of;
  const auto replace = [&](std::size_t i) {
    SoakSlot& slot = slots[i];
    slot_of.erase(slot.session.get());
    account(*slot.session, groups[slot.group], result.groups[slot.group]);
    slot.session = make(i);
    slot.session->start();
    slot_of[slot.session.get()] = i;
  };
  // (when due, slot): the slots with a timer, soonest first; filed[i] is slot i's key, max if
  // none (a ws session keeps its timers in Asio, and is touched when it ends).
  std::set<std::pair<TimePoint, std::size_t>> timers;
  std::vector<TimePoint> filed(slots.size(), TimePoint::max());
  const auto file = [&](std::size_t i, TimePoint at) {
    if (filed[i] == at) return;
    if (filed[i] != TimePoint::max()) timers.erase({filed[i], i});
    if (at != TimePoint::max()) timers.emplace(at, i);
    filed[i] = at;
  };
  // Acts on what is due of slot i's session (replacing it if it ended), then files it again.
  const auto visit = [&](std::size_t i, TimePoint now) {
    TimePoint next = TimePoint::max();
    slots[i].session->on_tick(now, next);
    if (slots[i].session->finished()) {
      replace(i);
      next = TimePoint::max();
      slots[i].session->on_tick(now, next);
      if (slots[i].session->finished()) next = now + retry_after;
    }
    file(i, next);
  };
  const auto stopped = [&] {
    for (const SoakGroup& g : groups)
      if (g.config.stop && g.config.stop->load(std::memory_order_relaxed)) return true;
    return false;
  };
  for (std::size_t i = 0; i < slots.size(); ++i) {
    slots[i].session = make(i);
    slots[i].session->start_at(begin + slots[i].start);
    slot_of[slots[i].session.get()] = i;
    visit(i, clock());
  }
  TimePoint next_tick = begin + tick_every;
  std::vector<std::size_t> due;
  for (;;) {
    const TimePoint first = timers.empty() ? TimePoint::max() : timers.begin()->first;
    d.wait(std::min({first, next_tick, end}));
    d.step();
    TimePoint now = clock();
    for (Session* s : d.take_touched())  // sessions whose transfer the driver handled
      if (const auto it = slot_of.find(s); it != slot_of.end()) visit(it->second, now);
    if (now >= end || stopped()) break;
    if (tick && now >= next_tick) {
      tick(now - begin);
      next_tick += tick_every;
      now = clock();
    }
    // Those due now, each visited once (a visit may file it again at `now`).
    due.clear();
    for (auto it = timers.begin(); it != timers.end() && it->first <= now; ++it)
      due.push_back(it->second);
    for (const std::size_t i : due) visit(i, now);
    d.take_touched();  // those just replaced
  }
  for (const SoakSlot& slot : slots) {
    if (slot.session->finished()) continue;
    SoakGroupResult& out = result.groups[slot.group];
    ++out.streams_cut;
    const SoakGroup& g = groups[slot.group];
    for (const StreamRecord& r : slot.session->records()) {
      out.cut_events += r.events;
      out.cut_requests += r.requests;
      out.connections += r.connections;
      const StreamFigures f = stream_figures(r, g.expect->clock.content_offsets(), g.config.speed);
      out.cut_lag_ms.insert(out.cut_lag_ms.end(), f.lag_ms.begin(), f.lag_ms.end());
    }
  }
  return thread_cpu_us() - cpu0;
}
}  // namespace

SoakResult Engine::run_soak(std::span<const SoakGroup> groups, Clock::duration ramp,
                            Clock::duration duration, Clock::duration tick_every,
                            const std::function<void(Clock::duration)>& tick) {
  std::size_t total = 0;
  for (const SoakGroup& g : groups) {
    check_shape(g.transport, g.config);
    total += g.count;
  }
  SoakResult result;
  result.groups.resize(groups.size());
  // Groups interleaved, so that the ramp mixes them; then split by driver, each driver's
  // slots on a thread of its own (the first on the caller's, which ticks): one thread cannot
  // wait on libcurl's sockets and Asio's at once.
  std::vector<Driver*> drivers;
  std::vector<std::vector<SoakSlot>> slots;
  std::size_t i = 0;
  for (std::size_t k = 0; i < total; ++k)
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (k >= groups[g].count) continue;
      Driver* d = &impl_->driver(groups[g].transport);
      const auto at = std::find(drivers.begin(), drivers.end(), d);
      if (at == drivers.end()) {
        drivers.push_back(d);
        slots.emplace_back();
      }
      slots[static_cast<std::size_t>(std::find(drivers.begin(), drivers.end(), d) -
                                     drivers.begin())]
          .push_back({g, ramp * static_cast<long>(i) / static_cast<long>(total), nullptr});
      ++i;
    }
  for (std::size_t n = 0; n < drivers.size(); ++n) {
    drivers[n]->begin_soak(slots[n].size());
    drivers[n]->take_round();
  }
  const TimePoint begin = impl_->clock();
  const TimePoint end = begin + ramp + duration;
  std::vector<double> cpu(drivers.size());
  {
    std::vector<std::jthread> others;
    for (std::size_t n = 1; n < drivers.size(); ++n)
      others.emplace_back([&, n] {
        cpu[n] = soak_on(*drivers[n], impl_->clock, groups, slots[n], begin, end, tick_every, {},
                         result);
      });
    if (!drivers.empty())
      cpu[0] = soak_on(*drivers[0], impl_->clock, groups, slots[0], begin, end, tick_every, tick,
                       result);
  }  // joins
  for (std::size_t n = 0; n < drivers.size(); ++n) {
    result.client_cpu_us += cpu[n];
    slots[n].clear();  // removes the transfers still in flight, closes the connections
    drivers[n]->end_soak();
    drivers[n]->take_round();
  }
  return result;
}

}  // namespace ssebench::bench
