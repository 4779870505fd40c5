// rest: the recorded request with "stream": false; one JSON body once generation has ended.
#include "stream.hpp"

namespace ssebench::bench {

namespace {

class RestStream final : public Stream {
 public:
  using Stream::Stream;

 private:
  void first_request() override { send(expect().recording->request.path, &expect().rest_body); }

  void on_body(std::string_view bytes, TimePoint) override { body_.append(bytes); }

  void on_response(TimePoint last_read) override {
    std::optional<Transcript> text = nonstream_transcript(expect().recording->api, body_);
    if (!text) {
      fail(ErrorKind::bad_response, "the body is not a completion object");
      return;
    }
    // Every token arrives with the one body: each content event is received when it is read.
    record_.events = 1;
    record_.transcript = std::move(*text);
    for (std::size_t k = 0; k < expect().clock.content_offsets().size(); ++k)
      record_.content.push_back({last_read, k});
    check_transcript(expect().rest_transcript);
    finish();
  }

  std::string body_;
};

}  // namespace

std::unique_ptr<Stream> make_rest_stream(const StreamContext& ctx) {
  return std::make_unique<RestStream>(ctx);
}

}  // namespace ssebench::bench
