#include "ssebench/link/pipe.hpp"

#include <algorithm>
#include <cmath>

namespace ssebench::link {

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Pipe::Pipe(Direction d, std::uint64_t seed, Nanos start)
    : d_(std::move(d)), rng_(seed), start_(start), link_free_at_(start), last_release_(start) {}

Nanos Pipe::opportunity_at(std::uint64_t k) const {
  const Trace& t = *d_.trace;
  const std::uint64_t n = t.ms.size();
  const std::uint64_t ms = (k / n) * t.period_ms() + t.ms[k % n];
  return start_ + std::chrono::milliseconds(ms);
}

std::uint64_t Pipe::first_opportunity_at_or_after(Nanos t) const {
  const Trace& tr = *d_.trace;
  const std::uint64_t n = tr.ms.size();
  if (t <= start_) return 0;
  const auto since = t - start_;
  const std::uint64_t period_ns = tr.period_ms() * 1'000'000;
  const std::uint64_t cycle = static_cast<std::uint64_t>(since.count()) / period_ns;
  const std::uint64_t offset_ns = static_cast<std::uint64_t>(since.count()) - cycle * period_ns;
  // The first timestamp whose time is at or after the offset: ceil(offset) in whole ms.
  const std::uint64_t offset_ms = (offset_ns + 999'999) / 1'000'000;
  const auto it = std::lower_bound(tr.ms.begin(), tr.ms.end(), offset_ms);
  std::uint64_t k = cycle * n + static_cast<std::uint64_t>(it - tr.ms.begin());
  // The previous cycle's last timestamps fall on this cycle's start: they may be the first.
  while (k > 0 && opportunity_at(k - 1) >= t) --k;
  return k;
}

Nanos Pipe::depart(std::uint32_t size, Nanos now) {
  if (d_.trace) {
    // Byte accounting as mm-link's: the packet takes what is left of the current opportunity,
    // then whole ones, and leaves at the opportunity that carries its last byte. An opportunity
    // already past when the packet arrives went unused and is lost.
    if (opp_left_ == 0) ++opp_, opp_left_ = opportunity_bytes;
    if (opportunity_at(opp_) < now) {
      opp_ = first_opportunity_at_or_after(now);
      opp_left_ = opportunity_bytes;
    }
    std::uint32_t remaining = size;
    while (remaining > opp_left_) {
      remaining -= opp_left_;
      ++opp_;
      opp_left_ = opportunity_bytes;
    }
    opp_left_ -= remaining;
    return opportunity_at(opp_);
  }
  if (d_.rate_bps > 0) {
    const auto serialize = Nanos(std::llround(size * 8.0 * 1e9 / d_.rate_bps));
    link_free_at_ = std::max(link_free_at_, now) + serialize;
    return link_free_at_;
  }
  return now;
}

bool Pipe::lose() {
  if (d_.ge.on()) {
    const double u = rng_.uniform();
    ge_bad_ = ge_bad_ ? !(u < d_.ge.r) : u < d_.ge.p;
    return rng_.uniform() < (ge_bad_ ? d_.ge.loss_bad : d_.ge.loss_good);
  }
  return d_.loss > 0 && rng_.uniform() < d_.loss;
}

Verdict Pipe::offer(Packet p, Nanos now, Nanos* queue_delay) {
  ++counts_.packets;
  counts_.bytes += p.size;
  if (d_.has_bottleneck()) {
    while (!backlog_.empty() && backlog_.front().first <= now) {
      backlog_bytes_ -= backlog_.front().second;
      backlog_.pop_front();
    }
    if ((d_.queue_packets > 0 && backlog_.size() >= d_.queue_packets) ||
        (d_.queue_bytes > 0 && backlog_bytes_ + p.size > d_.queue_bytes)) {
      ++counts_.drops_queue;
      return Verdict::queue_full;
    }
  }
  const Nanos departs = depart(p.size, now);
  if (d_.has_bottleneck()) {
    backlog_.emplace_back(departs, p.size);
    backlog_bytes_ += p.size;
  }
  if (lose()) {
    ++counts_.drops_loss;
    return Verdict::lost;
  }
  Nanos release = departs + std::chrono::microseconds(d_.delay_us);
  if (d_.jitter_us > 0) {
    const double j = (rng_.uniform() * 2 - 1) * static_cast<double>(d_.jitter_us) * 1e3;
    release = std::max(departs, release + Nanos(std::llround(j)));
  }
  if (!d_.reorder) release = std::max(release, last_release_);
  last_release_ = std::max(last_release_, release);
  if (queue_delay != nullptr)
    *queue_delay = std::max(Nanos{0}, release - now - std::chrono::microseconds(d_.delay_us));
  held_.push(Held{release, seq_++, p, now});
  return Verdict::queued;
}

std::optional<Nanos> Pipe::next_release() const {
  if (held_.empty()) return std::nullopt;
  return held_.top().release_at;
}

std::optional<Due> Pipe::pop(Nanos now) {
  if (held_.empty() || held_.top().release_at > now) return std::nullopt;
  const Held h = held_.top();
  held_.pop();
  ++counts_.delivered;
  return Due{h.packet, h.release_at, h.arrived_at};
}

}  // namespace ssebench::link
