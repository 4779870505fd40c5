#pragma once
/** Parsing a command-line or query value: the whole text, or nothing. */
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace ssebench {

/** A decimal integer in [min, max] making up all of `s` (no sign, no spaces), else false. */
template <class T>
bool parse_uint(std::string_view s, T& out, T min = 0, T max = std::numeric_limits<T>::max()) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v < min || v > max)
    return false;
  out = static_cast<T>(v);
  return true;
}

/** The same as an optional: a non-negative integer, the whole of `s`. */
inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  if (!parse_uint(s, v)) return std::nullopt;
  return v;
}

}  // namespace ssebench
