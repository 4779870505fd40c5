#pragma once
/**
 * What a poll answer carries (mock_server/README.md, "Shapes"); the server serves each and the
 * harness asks for each, so both take it from here:
 * openai   — status only until the job ends, then the whole object (OpenAI background mode);
 * snapshot — the object with all output so far (the realistic full-state design);
 * delta    — the text new since `starting_after`, and the cursor;
 * events   — the raw job-event payloads since `starting_after`, and the cursor.
 */
#include <optional>
#include <string_view>

namespace ssebench {

enum class PollShape { openai, snapshot, delta, events };
inline constexpr PollShape all_poll_shapes[] = {PollShape::openai, PollShape::snapshot,
                                                PollShape::delta, PollShape::events};

/** "openai", "snapshot", "delta", "events": the `shape=` query values. */
constexpr std::string_view to_string(PollShape s) {
  switch (s) {
    case PollShape::openai:
      return "openai";
    case PollShape::snapshot:
      return "snapshot";
    case PollShape::delta:
      return "delta";
    case PollShape::events:
      return "events";
  }
  return "?";
}

constexpr std::optional<PollShape> parse_poll_shape(std::string_view name) {
  for (PollShape s : all_poll_shapes)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

/** delta and events carry a cursor: only they take starting_after, and so long polls. */
constexpr bool has_cursor(PollShape s) {
  return s == PollShape::delta || s == PollShape::events;
}

}  // namespace ssebench
