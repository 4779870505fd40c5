#include "sse_framing.hpp"

#include <fmt/format.h>

#include "utf8.hpp"

namespace ssebench::detail {

namespace {

// The value of an SSE field line `NAME:VALUE` (one optional space after the colon), if the line
// is that field.
bool field_value(std::string_view line, std::string_view name, std::string_view& value) {
  if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
      line[name.size()] != ':') {
    return false;
  }
  value = line.substr(name.size() + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return true;
}

}  // namespace

std::variant<SseFraming, std::string> frame_sse_event(std::string_view bytes) {
  if (bytes.empty()) return std::string("empty");
  if (const auto cr = bytes.find('\r'); cr != std::string_view::npos) {
    return fmt::format("CR line end at byte {} (LF only, as OpenAI sends)", cr);
  }
  if (bytes.size() < 2 || bytes.substr(bytes.size() - 2) != "\n\n") {
    return std::string("missing the blank line that ends the event");
  }
  SseFraming framing;
  bool have_data = false;
  bool have_event = false;
  // Every line but the final blank one; each ends at a '\n'.
  const std::string_view body = bytes.substr(0, bytes.size() - 1);
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t end = body.find('\n', pos);
    const std::string_view line = body.substr(pos, end - pos);
    std::string_view value;
    if (line.empty()) {
      return fmt::format("blank line at byte {} ends it early (more than one event)", pos);
    } else if (field_value(line, "data", value)) {
      if (have_data) return std::string("two \"data:\" lines");
      have_data = true;
      framing.data_pos = static_cast<std::size_t>(value.data() - bytes.data());
      framing.data_len = value.size();
    } else if (field_value(line, "event", value)) {
      if (have_event) return std::string("two \"event:\" lines");
      have_event = true;
      framing.event_name = value;
    } else {
      return fmt::format("unknown field line {}", in_quotes(line));
    }
    pos = end + 1;
  }
  if (!have_data) return std::string("no \"data:\" line");
  return framing;
}

}  // namespace ssebench::detail
