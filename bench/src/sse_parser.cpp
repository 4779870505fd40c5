#include "ssebench/bench/sse_parser.hpp"

#include <algorithm>
#include <charconv>

namespace ssebench::bench {

namespace {
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
}

void SseParser::feed(std::string_view bytes) {
  // An empty read carries nothing, and must not forget a "\r" waiting for its "\n" (a read of
  // chunk framing alone decodes to nothing; found by fuzz/sse_parser_fuzzer).
  if (bytes.empty()) return;
  if (!bom_checked_) {
    // The stream may start with a BOM, possibly split across reads.
    std::string probe = line_ + std::string(bytes.substr(0, utf8_bom.size()));
    if (probe.size() < utf8_bom.size() && utf8_bom.starts_with(probe)) {
      line_ = probe;
      return;
    }
    bom_checked_ = true;
    if (probe.starts_with(utf8_bom)) {
      bytes.remove_prefix(utf8_bom.size() - line_.size());
      line_.clear();
    }
  }
  std::size_t i = 0;
  if (after_cr_ && !bytes.empty() && bytes.front() == '\n') i = 1;  // the rest of a "\r\n"
  after_cr_ = false;
  while (i < bytes.size()) {
    const std::size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(i));
      return;
    }
    if (line_.empty()) {
      on_line(bytes.substr(i, end - i));
    } else {
      // A line split across reads; cleared, not moved from, so its buffer serves the next one.
      line_.append(bytes.substr(i, end - i));
      on_line(line_);
      line_.clear();
    }
    i = end + 1;
    if (bytes[end] == '\r') {
      if (i == bytes.size()) {
        after_cr_ = true;
      } else if (bytes[i] == '\n') {
        ++i;
      }
    }
  }
}

void SseParser::on_line(std::string_view line) {
  if (line.empty()) {
    dispatch();
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  std::string_view name = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  has_fields_ = true;
  if (name == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_.type.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (name == "retry") {
    std::uint64_t ms = 0;
    const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (digits && std::from_chars(value.data(), value.data() + value.size(), ms).ec == std::errc{})
      event_.retry = ms;
  }
  // Any other field name is ignored, as the specification says.
}

void SseParser::dispatch() {
  if (has_data_) {
    event_.id = last_id_;
    ++events_;
    on_event_(event_);
  }
  // Cleared field by field, not reassigned: the strings keep their buffers for the next event.
  event_.type.clear();
  event_.data.clear();
  event_.retry.reset();
  has_fields_ = false;
  has_data_ = false;
}

}  // namespace ssebench::bench
