#pragma once
/**
 * An incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation").
 *
 * Bytes arrive in arbitrary pieces: an event may be split across reads, one read may hold
 * several events, and a `\r` ending one read may be followed by the `\n` of the same line end
 * in the next. Lines end in `\n`, `\r\n` or `\r`. Lines starting with `:` are comments;
 * several `data:` lines are joined with `\n`; a field without a colon has an empty value.
 * An event is dispatched at the blank line that ends it, only if it carried data.
 */
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ssebench::bench {

/** One complete event. */
struct SseEvent {
  std::string type;                    // value of the last `event:` field; empty means "message"
  std::string data;                    // `data:` lines joined with '\n'
  std::string id;                      // the last event id seen so far (it persists across events)
  std::optional<std::uint64_t> retry;  // `retry:` of this event, when valid
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  explicit SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

  /** Feeds the next bytes; calls the callback once per event completed by them. */
  void feed(std::string_view bytes);

  /** Comment lines seen so far (`:` lines, e.g. keep-alives). */
  std::size_t comments() const { return comments_; }
  /** Events dispatched so far. */
  std::size_t events() const { return events_; }
  /** True while a partial line or an undispatched event is buffered. */
  bool pending() const { return !line_.empty() || has_fields_; }

 private:
  void on_line(std::string_view line);
  void dispatch();

  Callback on_event_;
  std::string line_;       // bytes of the current, unfinished line
  bool after_cr_ = false;  // the last byte was '\r': a leading '\n' next belongs to it
  bool bom_checked_ = false;
  bool has_fields_ = false;  // a field was seen since the last dispatch
  bool has_data_ = false;
  SseEvent event_;  // the event being built
  std::string last_id_;
  std::size_t comments_ = 0;
  std::size_t events_ = 0;
};

}  // namespace ssebench::bench
