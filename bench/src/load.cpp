#include "ssebench/bench/load.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <stdexcept>
#include <thread>

namespace ssebench::bench {

std::size_t share_of(std::size_t total, std::size_t i, std::size_t n) {
  return total / n + (i < total % n ? 1 : 0);
}

RoundResult merge_rounds(std::vector<RoundResult> parts) {
  RoundResult out;
  std::size_t n = 0;
  for (const RoundResult& p : parts) n += p.streams.size();
  out.streams.reserve(n);
  TimePoint first = TimePoint::max(), last = TimePoint::min();
  for (RoundResult& p : parts) {
    out.client_cpu_us += p.client_cpu_us;
    out.tcp += p.tcp;
    if (!out.server) out.server = p.server;
    for (StreamRecord& r : p.streams) {
      first = std::min(first, r.t0);
      last = std::max(last, r.end.value_or(r.t0));
      out.streams.push_back(std::move(r));
    }
  }
  if (n > 0) out.wall_s = std::chrono::duration<double>(last - first).count();
  return out;
}

LoadRunner::LoadRunner(std::size_t threads, Shard shard) : shard_(shard) {
  if (threads == 0) throw std::invalid_argument("at least one client thread");
  if (shard.count == 0 || shard.index >= shard.count)
    throw std::invalid_argument("a shard i/N needs 0 <= i < N");
  for (std::size_t i = 0; i < threads; ++i) engines_.push_back(std::make_unique<Engine>());
}

namespace {
/** Runs work(i) for every engine, engine 0 on the calling thread, the others on threads of
 *  their own; the first exception is rethrown once all have ended. */
RoundResult on_threads(std::size_t n, const std::function<RoundResult(std::size_t)>& work) {
  if (n == 1) return work(0);
  std::vector<RoundResult> parts(n);
  std::vector<std::exception_ptr> errors(n);
  const auto run = [&](std::size_t i) {
    try {
      parts[i] = work(i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < n; ++i) threads.emplace_back(run, i);
  run(0);
  threads.clear();  // joins
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return merge_rounds(std::move(parts));
}
}  // namespace

RoundResult LoadRunner::run_round(const Expectation& expect, Transport transport,
                                  const ClientConfig& config, std::size_t concurrency) {
  const std::size_t mine = share_of(concurrency, shard_.index, shard_.count);
  return on_threads(engines_.size(), [&](std::size_t i) {
    const std::size_t n = share_of(mine, i, engines_.size());
    return n > 0 ? engines_[i]->run_round(expect, transport, config, n) : RoundResult{};
  });
}

RoundResult LoadRunner::run_open(const Expectation& expect, Transport transport,
                                 const ClientConfig& config, const OpenLoop& load) {
  const std::vector<std::chrono::microseconds> all = arrival_offsets(load.arrivals, load.duration);
  // Stream k of the case: shard k mod S, then thread (its rank in the shard) mod T.
  const std::size_t threads = engines_.size();
  std::vector<std::vector<std::chrono::microseconds>> schedule(threads);
  std::vector<std::vector<bool>> counted(threads);
  for (std::size_t k = shard_.index, rank = 0; k < all.size(); k += shard_.count, ++rank) {
    schedule[rank % threads].push_back(all[k]);
    counted[rank % threads].push_back(all[k] >= load.warmup &&
                                      all[k] < load.duration - load.cooldown);
  }
  const std::size_t cap = share_of(load.max_concurrency, shard_.index, shard_.count);
  if (load.max_concurrency > 0 && cap == 0)
    throw std::invalid_argument("--max-concurrency below the number of shards");
  return on_threads(threads, [&](std::size_t i) {
    if (schedule[i].empty()) return RoundResult{};
    std::size_t my_cap = load.max_concurrency > 0 ? share_of(cap, i, threads) : 0;
    if (load.max_concurrency > 0 && my_cap == 0) my_cap = 1;
    RoundResult r = engines_[i]->run_open(expect, transport, config, schedule[i], my_cap);
    // Records come arrival by arrival, the same number for each (a ws connection's turns).
    const std::size_t per = std::max<std::size_t>(1, r.streams.size() / schedule[i].size());
    for (std::size_t k = 0; k < r.streams.size(); ++k)
      r.streams[k].counted = counted[i][std::min(k / per, counted[i].size() - 1)];
    return r;
  });
}

RoundResult LoadRunner::run_users(const Expectation& expect, Transport transport,
                                  const ClientConfig& config, const UserLoad& load) {
  const std::size_t mine = share_of(load.users, shard_.index, shard_.count);
  return on_threads(engines_.size(), [&](std::size_t i) {
    const std::size_t n = share_of(mine, i, engines_.size());
    if (n == 0) return RoundResult{};
    RoundResult r = engines_[i]->run_users(expect, transport, config, n, load.think, load.duration);
    // The first user's first turn is due at the session's start.
    TimePoint begin = TimePoint::max();
    for (const StreamRecord& s : r.streams) begin = std::min(begin, s.scheduled.value_or(s.t0));
    for (StreamRecord& s : r.streams) {
      const auto at = s.scheduled.value_or(s.t0) - begin;
      s.counted = at >= load.warmup && at < load.duration - load.cooldown;
    }
    return r;
  });
}

}  // namespace ssebench::bench
