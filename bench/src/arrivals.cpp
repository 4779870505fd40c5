#include "ssebench/bench/arrivals.hpp"

#include <random>
#include <stdexcept>

namespace ssebench::bench {

std::string_view to_string(ArrivalKind k) {
  switch (k) {
    case ArrivalKind::constant:
      return "constant";
    case ArrivalKind::poisson:
      return "poisson";
    case ArrivalKind::gamma:
      return "gamma";
  }
  return "unknown";
}

std::optional<ArrivalKind> parse_arrival_kind(std::string_view name) {
  for (ArrivalKind k : {ArrivalKind::constant, ArrivalKind::poisson, ArrivalKind::gamma})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

namespace {
const ArrivalSpec& checked(const ArrivalSpec& spec) {
  if (!(spec.rate_per_s > 0)) throw std::invalid_argument("the arrival rate must be > 0");
  if (!(spec.burstiness > 0)) throw std::invalid_argument("the burstiness must be > 0");
  return spec;
}

/** One source of gaps; mt19937_64 and libstdc++'s distributions give the same sequence for a
 *  seed on every run of the same build. */
class Gaps {
 public:
  explicit Gaps(const ArrivalSpec& spec)
      : spec_(checked(spec)),
        rng_(spec_.seed),
        exponential_(spec_.rate_per_s),
        gamma_(spec_.burstiness, 1 / (spec_.rate_per_s * spec_.burstiness)) {}

  double next() {
    switch (spec_.kind) {
      case ArrivalKind::constant:
        return 1 / spec_.rate_per_s;
      case ArrivalKind::poisson:
        return exponential_(rng_);
      case ArrivalKind::gamma:
        return gamma_(rng_);  // mean shape × scale = 1 / rate
    }
    return 0;
  }

 private:
  ArrivalSpec spec_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> exponential_;
  std::gamma_distribution<double> gamma_;
};
}  // namespace

std::vector<double> inter_arrivals_s(const ArrivalSpec& spec, std::size_t count) {
  Gaps gaps(spec);
  std::vector<double> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(gaps.next());
  return out;
}

std::vector<std::chrono::microseconds> arrival_offsets(const ArrivalSpec& spec,
                                                       std::chrono::microseconds window) {
  Gaps gaps(spec);
  std::vector<std::chrono::microseconds> out;
  double at_s = 0;
  for (;;) {
    at_s += gaps.next();
    const auto at = std::chrono::microseconds(static_cast<std::int64_t>(at_s * 1e6));
    if (at >= window) return out;
    out.push_back(at);
  }
}

}  // namespace ssebench::bench
