#pragma once
/**
 * UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, nothing above U+10FFFF): one check
 * for the recording loader, which refuses a file that is not UTF-8, and for the server, which
 * echoes a client's bytes in its JSON answers.
 */
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ssebench {

/** Position of the first byte that does not start or continue a valid UTF-8 sequence. */
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

/** `text` with each byte that starts no valid sequence replaced by U+FFFD: valid UTF-8. */
std::string valid_utf8(std::string_view text);

/**
 * `text` as a JSON string literal that is valid UTF-8 whatever the bytes (Boost.JSON writes a
 * string's bytes as given, so invalid ones would make invalid JSON): they become U+FFFD.
 */
std::string json_string(std::string_view text);

}  // namespace ssebench
