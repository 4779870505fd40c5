#include "ssebench/bench/engine.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "socket_tracker.hpp"
#include "stream.hpp"

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
  SocketTracker sockets;  // outlives `multi`: its close callback runs in curl_multi_cleanup
  CURLM* multi = nullptr;
};

Engine::Engine(ClockFn clock) : impl_(std::make_unique<Impl>(clock)) {}
Engine::~Engine() = default;

std::size_t Engine::open_sockets() const {
  return impl_->sockets.open_sockets();
}

RoundResult Engine::run_round(const Expectation& expect, Transport transport,
                              const ClientConfig& config, std::size_t concurrency) {
  if (transport == Transport::long_poll && !has_cursor(config.shape))
    throw std::invalid_argument(fmt::format(
        "long-poll takes a cursor shape (delta, events), not {}", to_string(config.shape)));
  Impl& m = *impl_;
  curl_multi_setopt(m.multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(concurrency) + spare_connections);
  const StreamContext ctx{m.multi, &m.sockets, m.clock, &expect, &config};
  std::vector<std::unique_ptr<Stream>> streams;
  streams.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) {
    switch (transport) {
      case Transport::sse:
        streams.push_back(make_sse_stream(ctx));
        break;
      case Transport::rest:
        streams.push_back(make_rest_stream(ctx));
        break;
      default:
        streams.push_back(make_job_stream(ctx, transport));
        break;
    }
  }

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

  std::size_t open = concurrency;
  while (open > 0) {
    if (config.stop && config.stop->load(std::memory_order_relaxed)) {
      for (auto& s : streams)
        if (!s->finished()) s->on_interrupt();
      break;
    }
    int running = 0;
    curl_multi_perform(m.multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m.multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Stream* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode result = msg->data.result;
      curl_multi_remove_handle(m.multi, msg->easy_handle);
      s->on_done(result);  // may add the handle again
    }
    const TimePoint now = m.clock();
    TimePoint next = now + std::chrono::milliseconds(max_poll_wait_ms);
    bool sent = false;
    open = 0;
    for (auto& s : streams) {
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
      ++open;
      next = std::min(next, s->deadline());
      if (s->wake_at()) next = std::min(next, *s->wake_at());
    }
    if (open == 0 || sent) continue;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    curl_multi_poll(m.multi, nullptr, 0,
                    static_cast<int>(std::clamp<long long>(wait, 0, max_poll_wait_ms)), nullptr);
  }

  RoundResult round;
  round.client_cpu_us = thread_cpu_us() - cpu0;
  round.tcp = m.sockets.take_round();
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

}  // namespace ssebench::bench
