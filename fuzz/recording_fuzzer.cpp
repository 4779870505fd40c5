// recording_fuzzer: parse_recording on arbitrary bytes. It must never crash, hit UB or leak; an
// error is one line that starts with the name it was given; a success satisfies the invariants
// recording.hpp promises. delta_text and nonstream_transcript (which the clients run on the
// server's bytes) get the same bytes too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ssebench/recording.hpp"

namespace {

constexpr std::string_view name = "fuzz.jsonl";

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "recording_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_recording(const ssebench::Recording& rec) {
  if (rec.id != "fuzz") die("id is not the file stem", rec.id);
  std::chrono::microseconds previous{0};
  std::size_t content = 0;
  for (const auto& e : rec.events) {
    if (e.offset < previous) die("offsets go backwards");
    if (e.offset < rec.response.headers_offset) die("event before the headers");
    previous = e.offset;
    if (e.data_pos > e.bytes.size() || e.data_len > e.bytes.size() - e.data_pos)
      die("data() outside bytes", e.bytes);
    if (e.content) {
      ++content;
      if (e.text.empty()) die("content event without text", e.bytes);
      if (!ssebench::is_content_kind(e.kind)) die("content event of a non-content kind", e.kind);
    }
    if (e.is_done() && e.kind != "done") die("[DONE] of another kind", e.kind);
  }
  if (content != rec.content_events) die("content_events miscounted");
  if (rec.events.empty() && !rec.nonstream) die("nothing to replay was accepted");
  if (rec.last_offset() != (rec.events.empty() ? std::chrono::microseconds{0} : previous))
    die("last_offset() is not the last event's");
  const auto first = rec.first_content_offset();
  if (first.has_value() != (content > 0)) die("first_content_offset() disagrees with content");
  const auto transcript = rec.transcript();
  std::size_t transcript_bytes = 0;
  for (const auto& [choice, text] : transcript) transcript_bytes += text.size();
  std::size_t text_bytes = 0;
  for (const auto& e : rec.events) text_bytes += e.content ? e.text.size() : 0;
  if (transcript_bytes != text_bytes) die("transcript() is not the content events' text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Default limits, then limits small enough for fuzz-sized inputs to reach every limit check.
  ssebench::RecordingLimits tight;
  tight.max_file_bytes = 4096;
  tight.max_events = 4;
  tight.max_event_bytes = 300;
  tight.max_offset_us = 10'000'000;
  for (const auto& limits : {ssebench::RecordingLimits{}, tight}) {
    const auto result = ssebench::parse_recording(text, std::string(name), limits);
    if (result) {
      if (!result.error.empty()) die("a recording and an error", result.error);
      if (result.recording->events.size() > limits.max_events) die("more events than the limit");
      check_recording(*result.recording);
    } else {
      if (result.error.empty()) die("no recording and no error");
      if (!result.error.starts_with(name)) die("error does not start with the name", result.error);
      if (result.error.find_first_of("\r\n") != std::string::npos)
        die("error is more than one line", result.error);
    }
  }

  // The same bytes as one event payload and as a stream:false body, for both APIs.
  for (const auto api : {ssebench::Api::chat_completions, ssebench::Api::responses}) {
    (void)ssebench::delta_text(api, text);
    (void)ssebench::nonstream_transcript(api, text);
  }
  return 0;
}
