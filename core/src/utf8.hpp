#pragma once
// Text helpers for recording files (internal to ssebench::core); the UTF-8 check is public.
#include <cstddef>
#include <string>
#include <string_view>

#include "ssebench/utf8.hpp"

namespace ssebench::detail {

using ssebench::first_invalid_utf8;

/**
 * `text` in double quotes for an error message: control characters escaped, cut to about
 * `max_bytes` (at a character boundary) with "..." so one bad line stays one short line.
 */
std::string in_quotes(std::string_view text, std::size_t max_bytes = 40);

}  // namespace ssebench::detail
