#pragma once
// Checks that a recorded event's bytes are exactly one SSE event (internal to ssebench::core).
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace ssebench::detail {

/** Where the parts of one well-formed SSE event sit inside its bytes. */
struct SseFraming {
  std::size_t data_pos = 0;  // payload of the single `data:` line
  std::size_t data_len = 0;
  std::string_view event_name;  // value of the `event:` line; empty without one
};

/**
 * Splits `bytes` as one SSE event: optional `event: NAME\n`, exactly one `data: PAYLOAD\n`, then
 * a blank line, LF line ends only. On failure returns what is wrong, for
 * "bytes are not one SSE event: <what>".
 */
std::variant<SseFraming, std::string> frame_sse_event(std::string_view bytes);

}  // namespace ssebench::detail
