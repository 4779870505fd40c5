#pragma once
// Text helpers for recording files (internal to ssebench::core).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ssebench::detail {

/** Position of the first byte that does not start or continue a valid UTF-8 sequence. */
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

/**
 * `text` in double quotes for an error message: control characters escaped, cut to about
 * `max_bytes` (at a character boundary) with "..." so one bad line stays one short line.
 */
std::string in_quotes(std::string_view text, std::size_t max_bytes = 40);

}  // namespace ssebench::detail
