// sse: the recorded request with "stream": true, read as text/event-stream.
#include <fmt/format.h>

#include "ssebench/bench/sse_parser.hpp"
#include "stream.hpp"

namespace ssebench::bench {

namespace {

class SseStream final : public Stream {
 public:
  explicit SseStream(const StreamContext& ctx)
      : Stream(ctx), parser_([this](const SseEvent& e) { on_event(e); }) {}

 private:
  void first_request() override { send(expect().recording->request.path, &expect().sse_body); }

  void on_body(std::string_view bytes, TimePoint now) override {
    now_ = now;
    parser_.feed(bytes);
  }

  void on_event(const SseEvent& e) {
    ++record_.events;
    if (e.data == "[DONE]") return;
    bool not_json = false;
    const std::optional<DeltaText> d = delta_text(expect().recording->api, e.data, not_json);
    if (not_json) {
      record_.fail(ErrorKind::bad_response,
                   fmt::format("event {} is not a JSON object: {:.60}", record_.events, e.data));
      return;
    }
    if (!d || d->text.empty()) return;
    record_.content.push_back({now_, ordinal_++});
    record_.transcript[d->choice] += d->text;
  }

  void on_response(TimePoint) override {
    if (parser_.pending()) {
      fail(ErrorKind::bad_response, "the stream ended inside an event");
      return;
    }
    const std::size_t want = expect().recording->events.size();
    check_transcript();
    if (record_.events != want)
      record_.fail(ErrorKind::missing_events,
                   fmt::format("{} events, the recording has {}", record_.events, want));
    finish();
  }

  SseParser parser_;
  TimePoint now_{};
  std::size_t ordinal_ = 0;
};

}  // namespace

std::unique_ptr<Stream> make_sse_stream(const StreamContext& ctx) {
  return std::make_unique<SseStream>(ctx);
}

}  // namespace ssebench::bench
