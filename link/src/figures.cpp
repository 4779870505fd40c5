#include "ssebench/link/figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ssebench::link {

void Samples::add_ns(std::int64_t ns) {
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
  if (v_.size() < capacity) {
    v_.push_back(ns);
    return;
  }
  const std::uint64_t j = rng_.next() % count_;
  if (j < capacity) v_[j] = ns;
}

std::int64_t Samples::quantile_ns(double q) const {
  if (v_.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v_.size())));
  const std::size_t k = std::min(v_.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(k), v_.end());
  return v_[k];
}

void Samples::clear() {
  v_.clear();
  count_ = 0;
  max_ns_ = 0;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string Figures::json() const {
  const auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
  const auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::string out =
      fmt::format(R"({{"profile":"{}","window_s":{:.3f})", json_escape(profile), window_s);
  const auto side = [&](std::string_view name, const PipeCounts& c, const Samples& q) {
    out += fmt::format(
        R"(,"{0}_packets":{1},"{0}_bytes":{2},"{0}_delivered":{3},"{0}_drops_loss":{4},)"
        R"("{0}_drops_queue":{5},"{0}_queue_delay_ms_p50":{6:.3f},"{0}_queue_delay_ms_p99":{7:.3f})",
        name, c.packets, c.bytes, c.delivered, c.drops_loss, c.drops_queue, ms(q.quantile_ns(0.5)),
        ms(q.quantile_ns(0.99)));
  };
  side("down", down, down_queue_delay);
  side("up", up, up_queue_delay);
  const std::uint64_t n = packets();
  out += fmt::format(
      R"(,"cpu_us_per_packet":{:.3f},"lateness_us_p50":{:.1f},"lateness_us_p99":{:.1f},)"
      R"("lateness_us_max":{:.1f},"link_behind":{}}})",
      n == 0 ? 0.0 : cpu_s * 1e6 / static_cast<double>(n), us(lateness.quantile_ns(0.5)),
      us(lateness.quantile_ns(0.99)), us(lateness.max_ns()), behind() ? 1 : 0);
  return out;
}

}  // namespace ssebench::link
