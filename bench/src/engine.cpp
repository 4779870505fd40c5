#include "ssebench/bench/engine.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "socket_tracker.hpp"
#include "stream.hpp"
#include "ws_client.hpp"

namespace ssebench::bench {

namespace {
/**
 * Longest single wait in curl_multi_poll. Sockets, libcurl's own timers, poll schedules and
 * deadlines all end a wait earlier; idle wake-ups would only add to the client's CPU figure.
 */
constexpr int max_poll_wait_ms = 1000;
/** Spare cached connections beyond the round's concurrency. */
constexpr long spare_connections = 16;

/** libcurl's global state, initialised once for the process. */
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
}  // namespace

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Engine::Impl {
  explicit Impl(ClockFn c) : clock(c) {
    static CurlGlobal global;
    multi = curl_multi_init();
    if (!multi) throw std::runtime_error("curl_multi_init failed");
  }
  ~Impl() { curl_multi_cleanup(multi); }  // closes cached connections through the tracker

  ClockFn clock;
  std::size_t h2_openers = 0;  // StreamContext::h2_openers
  SocketTracker sockets;       // outlives `multi`: its close callback runs in curl_multi_cleanup
  CURLM* multi = nullptr;
};

namespace {
/**
 * HTTP/2: the round's streams multiplexed over one connection (a browser tab's one connection
 * per origin); beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS (and libcurl's
 * CURLMOPT_MAX_CONCURRENT_STREAMS, 100) streams wait for a free one, as in a browser. Without
 * keep-alive every request has its own connection, as over HTTP/1.1.
 */
void set_http(CURLM* multi, const ClientConfig& config) {
  const bool mux = config.http == HttpVersion::http2;
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, mux ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
  // HTTP/2: one multiplexed connection, as a browser tab per origin. HTTP/1.1: the configured
  // cap (the browser profile's 6), else none.
  const long cap = mux && config.keep_alive ? 1L : static_cast<long>(config.max_host_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
}

std::unique_ptr<Stream> make_stream(const StreamContext& ctx, Transport transport) {
  switch (transport) {
    case Transport::sse:
      return make_sse_stream(ctx);
    case Transport::rest:
      return make_rest_stream(ctx);
    default:
      return make_job_stream(ctx, transport);
  }
}
}  // namespace

Engine::Engine(ClockFn clock) : impl_(std::make_unique<Impl>(clock)) {}
Engine::~Engine() = default;

std::size_t Engine::open_sockets() const {
  return impl_->sockets.open_sockets();
}

namespace {
/**
 * Streams not started yet, started by `admit(now)` when they are due (it may add them to the
 * streams); it returns when the next one is due (nullopt: none waiting or none can start yet,
 * and none will unless a running stream ends). Closed rounds have none.
 */
using Admit = std::function<std::optional<TimePoint>(TimePoint now)>;

/**
 * Drives `streams` on `multi` until every one has ended (finished, failed, passed its
 * deadline, interrupted) and `admit` has none to come; a stream not started counts as running.
 * Only the streams not ended are scanned: an open-loop case ends thousands.
 */
void drive(CURLM* multi, ClockFn clock, std::vector<std::unique_ptr<Stream>>& streams,
           const ClientConfig& config, const Admit& admit) {
  std::vector<Stream*> live;  // not ended, in order
  std::size_t seen = 0;
  const auto take_new = [&] {
    for (; seen < streams.size(); ++seen) live.push_back(streams[seen].get());
  };
  std::optional<TimePoint> due = admit ? admit(clock()) : std::nullopt;
  take_new();
  while (!live.empty() || due) {
    if (config.stop && config.stop->load(std::memory_order_relaxed)) {
      for (Stream* s : live)
        if (!s->finished()) s->on_interrupt();
      break;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Stream* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode result = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      s->on_done(result);  // may add the handle again
    }
    const TimePoint now = clock();
    TimePoint next = now + std::chrono::milliseconds(max_poll_wait_ms);
    if (admit) due = admit(now);
    take_new();
    if (due) next = std::min(next, *due);
    bool sent = false;
    for (Stream* s : live) {
      if (s->finished()) continue;
      if (now >= s->deadline()) {
        s->on_deadline();
        continue;
      }
      if (s->wake_at() && *s->wake_at() <= now) {
        s->on_timer();
        sent = true;
      }
      if (s->finished()) continue;
      if (const auto at = s->kick_at()) {  // libcurl 7.88's stalled HTTP/2 answer (stream.hpp)
        if (*at <= now) {
          s->kick();
          sent = true;  // what the kick read is handled without waiting
        } else {
          next = std::min(next, *at);
        }
      }
      next = std::min(next, s->deadline());
      if (s->wake_at()) next = std::min(next, *s->wake_at());
    }
    std::erase_if(live, [](const Stream* s) { return s->finished(); });
    if (sent || (live.empty() && !due)) continue;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    curl_multi_poll(multi, nullptr, 0,
                    static_cast<int>(std::clamp<long long>(wait, 0, max_poll_wait_ms)), nullptr);
  }
}

RoundResult collect(std::vector<std::unique_ptr<Stream>>& streams, double cpu0, TcpCounters tcp) {
  RoundResult round;
  round.client_cpu_us = thread_cpu_us() - cpu0;
  round.tcp = tcp;
  TimePoint first = TimePoint::max();
  TimePoint last = TimePoint::min();
  round.streams.reserve(streams.size());
  for (auto& s : streams) {
    StreamRecord& r = s->record();
    first = std::min(first, r.t0);
    last = std::max(last, r.end.value_or(r.t0));
    round.streams.push_back(std::move(r));
  }
  if (!streams.empty()) round.wall_s = std::chrono::duration<double>(last - first).count();
  return round;
}

void check_shape(Transport transport, const ClientConfig& config) {
  if (transport == Transport::long_poll && !has_cursor(config.shape))
    throw std::invalid_argument(fmt::format(
        "long-poll takes a cursor shape (delta, events), not {}", to_string(config.shape)));
}
}  // namespace

RoundResult Engine::run_round(const Expectation& expect, Transport transport,
                              const ClientConfig& config, std::size_t concurrency) {
  check_shape(transport, config);
  Impl& m = *impl_;
  if (transport == Transport::ws) return run_ws_round(expect, config, concurrency, m.clock);
  curl_multi_setopt(m.multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(concurrency) + spare_connections);
  set_http(m.multi, config);
  const StreamContext ctx{m.multi, &m.sockets, m.clock, &expect, &config, &m.h2_openers};
  std::vector<std::unique_ptr<Stream>> streams;
  streams.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) streams.push_back(make_stream(ctx, transport));

  m.sockets.take_round();  // counters of earlier rounds stay there
  const double cpu0 = thread_cpu_us();
  if (config.stagger.count() > 0) {
    // Starts spread evenly over the stagger window, so that streams are not in lockstep.
    const TimePoint begin = m.clock();
    for (std::size_t i = 0; i < streams.size(); ++i)
      streams[i]->start_at(begin + config.stagger * static_cast<long>(i) /
                                       static_cast<long>(streams.size()));
  } else {
    for (auto& s : streams) s->start();
  }
  drive(m.multi, m.clock, streams, config, {});
  return collect(streams, cpu0, m.sockets.take_round());
}

RoundResult Engine::run_open(const Expectation& expect, Transport transport,
                             const ClientConfig& config,
                             std::span<const std::chrono::microseconds> schedule,
                             std::size_t max_concurrency) {
  check_shape(transport, config);
  if (transport == Transport::ws)
    throw std::invalid_argument("ws does not run open-loop: its streams are not libcurl's");
  Impl& m = *impl_;
  const std::size_t cap = max_concurrency > 0 ? max_concurrency : schedule.size();
  curl_multi_setopt(m.multi, CURLMOPT_MAXCONNECTS, static_cast<long>(cap) + spare_connections);
  set_http(m.multi, config);
  const StreamContext ctx{m.multi, &m.sockets, m.clock, &expect, &config, &m.h2_openers};
  // Each stream made when it is due: a case of thousands of arrivals holds only those begun.
  std::vector<std::unique_ptr<Stream>> streams;
  streams.reserve(schedule.size());

  m.sockets.take_round();
  const double cpu0 = thread_cpu_us();
  const TimePoint begin = m.clock();
  std::vector<Stream*> running;  // started, maybe ended since
  bool next_waited = false;      // the next arrival was due while the cap was full
  // Arrivals in schedule order; one beyond the cap waits for a stream to end, its latency
  // still counted from its scheduled time.
  const Admit admit = [&](TimePoint now) -> std::optional<TimePoint> {
    std::erase_if(running, [](const Stream* s) { return s->finished(); });
    std::size_t next = streams.size();
    while (next < schedule.size() && running.size() < cap && begin + schedule[next] <= now) {
      streams.push_back(make_stream(ctx, transport));
      Stream& s = *streams.back();
      s.record().scheduled = begin + schedule[next];
      s.record().waited = next_waited;
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
  drive(m.multi, m.clock, streams, config, admit);
  return collect(streams, cpu0, m.sockets.take_round());
}

RoundResult Engine::run_users(const Expectation& expect, Transport transport,
                              const ClientConfig& config, std::size_t users, Clock::duration think,
                              Clock::duration duration) {
  check_shape(transport, config);
  if (transport == Transport::ws)
    throw std::invalid_argument("ws does not run user sessions: its streams are not libcurl's");
  Impl& m = *impl_;
  curl_multi_setopt(m.multi, CURLMOPT_MAXCONNECTS, static_cast<long>(users) + spare_connections);
  set_http(m.multi, config);
  const StreamContext ctx{m.multi, &m.sockets, m.clock, &expect, &config, &m.h2_openers};
  std::vector<std::unique_ptr<Stream>> streams;
  constexpr std::size_t none = SIZE_MAX;
  struct User {
    TimePoint next;              // when its next turn is due
    std::size_t current = none;  // its stream running, if any
  };
  m.sockets.take_round();
  const double cpu0 = thread_cpu_us();
  const TimePoint begin = m.clock();
  const TimePoint end = begin + duration;
  // First turns spread over one think time, so that the users are not in lockstep.
  std::vector<User> sessions(users);
  for (std::size_t u = 0; u < users; ++u)
    sessions[u].next = begin + think * static_cast<long>(u) / static_cast<long>(users);
  const Admit admit = [&](TimePoint now) -> std::optional<TimePoint> {
    std::optional<TimePoint> due;
    for (User& u : sessions) {
      if (u.current != none && streams[u.current]->finished()) {
        u.next = streams[u.current]->record().end.value_or(now) + think;
        u.current = none;
      }
      if (u.current != none || u.next >= end) continue;
      if (u.next <= now) {
        streams.push_back(make_stream(ctx, transport));
        streams.back()->record().scheduled = u.next;
        streams.back()->start();
        u.current = streams.size() - 1;
      } else {
        due = due ? std::min(*due, u.next) : u.next;
      }
    }
    return due;
  };
  drive(m.multi, m.clock, streams, config, admit);
  return collect(streams, cpu0, m.sockets.take_round());
}

namespace {
/**
 * Drives a multi handle through curl_multi_socket_action: libcurl names the sockets it wants
 * watched (CURLMOPT_SOCKETFUNCTION) and when it wants a timeout (CURLMOPT_TIMERFUNCTION); epoll
 * waits for both. Installed for the soak only, removed at its end.
 */
class SocketLoop {
 public:
  explicit SocketLoop(CURLM* multi) : multi_(multi), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &SocketLoop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &SocketLoop::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);  // handles added before
  }
  ~SocketLoop() {
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
    ::close(epoll_);
  }
  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  /** Waits for socket activity, libcurl's timeout or `until`, and lets libcurl act on it. */
  void wait(TimePoint until, ClockFn clock) {
    TimePoint limit = until;
    if (curl_timeout_) limit = std::min(limit, *curl_timeout_);
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(limit - clock()).count();
    std::array<epoll_event, 256> events;
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                             static_cast<int>(std::clamp<long long>(ms, 0, max_poll_wait_ms)));
    int running = 0;
    for (int i = 0; i < n; ++i) {
      int mask = 0;
      if (events[static_cast<std::size_t>(i)].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events[static_cast<std::size_t>(i)].events & (EPOLLERR | EPOLLHUP))
        mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, events[static_cast<std::size_t>(i)].data.fd, mask, &running);
    }
    if (curl_timeout_ && *curl_timeout_ <= clock()) {
      curl_timeout_.reset();
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

 private:
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* loop = static_cast<SocketLoop*>(self);
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(loop->epoll_, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (epoll_ctl(loop->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0)
      epoll_ctl(loop->epoll_, EPOLL_CTL_ADD, fd, &ev);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<SocketLoop*>(self);
    if (timeout_ms < 0)
      loop->curl_timeout_.reset();
    else
      loop->curl_timeout_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  CURLM* multi_;
  int epoll_;
  std::optional<TimePoint> curl_timeout_;
};
}  // namespace

SoakResult Engine::run_soak(std::span<const SoakGroup> groups, Clock::duration ramp,
                            Clock::duration duration, Clock::duration tick_every,
                            const std::function<void(Clock::duration)>& tick) {
  constexpr auto scan_every = std::chrono::milliseconds(10);
  Impl& m = *impl_;
  std::vector<StreamContext> contexts;
  std::size_t total = 0;
  for (const SoakGroup& g : groups) {
    if (g.transport == Transport::long_poll && !has_cursor(g.config.shape))
      throw std::invalid_argument("long-poll takes a cursor shape (delta, events)");
    if (g.transport == Transport::ws)
      throw std::invalid_argument("ws does not run in a soak: its streams are not libcurl's");
    contexts.push_back({m.multi, &m.sockets, m.clock, g.expect, &g.config, &m.h2_openers});
    total += g.count;
  }
  // Room for every stream's connection twice over: past MAXCONNECTS libcurl prunes its cache
  // (a walk of every connection) each time a transfer ends.
  curl_multi_setopt(m.multi, CURLMOPT_MAXCONNECTS,
                    2 * static_cast<long>(total) + spare_connections);
  SoakResult result;
  result.groups.resize(groups.size());

  struct Slot {
    std::size_t group = 0;
    std::unique_ptr<Stream> stream;
  };
  // Groups interleaved, so that the ramp mixes them.
  std::vector<Slot> slots;
  slots.reserve(total);
  for (std::size_t k = 0; slots.size() < total; ++k)
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (k < groups[g].count) slots.push_back({g, make_stream(contexts[g], groups[g].transport)});

  const auto account = [&](const Slot& slot) {
    const StreamRecord& r = slot.stream->record();
    SoakGroupResult& out = result.groups[slot.group];
    out.events += r.events;
    out.requests += r.requests;
    if (r.error) {
      ++out.streams_failed;
      ++out.errors[static_cast<std::size_t>(*r.error)];
      if (out.first_error.empty())
        out.first_error = std::string(to_string(*r.error)) + ": " + r.error_detail;
      return;
    }
    ++out.streams_ok;
    const SoakGroup& g = groups[slot.group];
    const StreamFigures f = stream_figures(r, g.expect->clock.content_offsets(), g.config.speed);
    out.lag_ms.insert(out.lag_ms.end(), f.lag_ms.begin(), f.lag_ms.end());
  };
  const auto replace = [&](Slot& slot) {
    account(slot);
    slot.stream = make_stream(contexts[slot.group], groups[slot.group].transport);
    slot.stream->start();
  };
  const auto stopped = [&] {
    for (const SoakGroup& g : groups)
      if (g.config.stop && g.config.stop->load(std::memory_order_relaxed)) return true;
    return false;
  };

  m.sockets.take_round();
  const double cpu0 = thread_cpu_us();
  const TimePoint begin = m.clock();
  for (std::size_t i = 0; i < slots.size(); ++i)
    slots[i].stream->start_at(begin + ramp * static_cast<long>(i) / static_cast<long>(total));
  const TimePoint end = begin + ramp + duration;
  TimePoint next_tick = begin + tick_every;
  TimePoint next_scan = begin;
  std::unordered_map<Stream*, std::size_t> slot_of;
  for (std::size_t i = 0; i < slots.size(); ++i) slot_of[slots[i].stream.get()] = i;

  // libcurl's socket interface, not curl_multi_perform: perform visits every transfer (and
  // polls its socket) on every call, which at 10,000 streams costs more than the streams do;
  // socket_action touches only the sockets epoll reports.
  SocketLoop loop(m.multi);
  for (;;) {
    loop.wait(std::min({next_scan, next_tick, end}), m.clock);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m.multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Stream* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(m.multi, msg->easy_handle);
      s->on_done(code);  // may add the handle again
      if (s->finished()) {
        const auto it = slot_of.find(s);
        Slot& slot = slots[it->second];
        slot_of.erase(it);
        replace(slot);
        slot_of[slot.stream.get()] = static_cast<std::size_t>(&slot - slots.data());
      }
    }
    TimePoint now = m.clock();
    if (now >= end || stopped()) break;
    if (now >= next_tick) {
      tick(now - begin);
      next_tick += tick_every;
      now = m.clock();
    }
    if (now >= next_scan) {
      next_scan = now + scan_every;
      for (Slot& slot : slots) {
        Stream* s = slot.stream.get();
        if (now >= s->deadline())
          s->on_deadline();
        else if (s->wake_at() && *s->wake_at() <= now)
          s->on_timer();
        else if (const auto at = s->kick_at(); at && *at <= now)
          s->kick();
        if (s->finished()) {
          slot_of.erase(s);
          replace(slot);
          slot_of[slot.stream.get()] = static_cast<std::size_t>(&slot - slots.data());
        }
      }
    }
  }
  for (const Slot& slot : slots)
    if (!slot.stream->finished()) ++result.groups[slot.group].streams_cut;
  result.client_cpu_us = thread_cpu_us() - cpu0;
  slots.clear();  // removes the transfers still in flight
  m.sockets.take_round();
  return result;
}

}  // namespace ssebench::bench
