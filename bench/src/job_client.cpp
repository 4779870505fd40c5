// poll, poll-full and long-poll: a background job (POST /v1/responses, "background": true), then
// GET /v1/responses/{id} for what is new (poll: ?starting_after=C; poll-full: the whole state,
// deduplicated by sequence number; long-poll: ?starting_after=C&wait_ms=W). An event is received
// when the answer that carries it has been read completely.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "stream.hpp"

namespace ssebench::bench {

namespace {

namespace json = boost::json;

class JobStream final : public Stream {
 public:
  JobStream(const StreamContext& ctx, Transport transport) : Stream(ctx), transport_(transport) {}

 private:
  void first_request() override { send("/v1/responses", &expect().job_body); }

  void next_request() override {
    std::string path = "/v1/responses/" + id_;
    if (transport_ == Transport::poll)
      path += fmt::format("?starting_after={}", cursor_);
    else if (transport_ == Transport::long_poll)
      path +=
          fmt::format("?starting_after={}&wait_ms={}", cursor_, config().long_poll_wait.count());
    send(path, nullptr);
  }

  void on_body(std::string_view bytes, TimePoint) override { body_.append(bytes); }

  void on_response(TimePoint last_read) override {
    json::error_code ec;
    json::value v = json::parse(body_, ec);
    body_.clear();
    if (ec || !v.is_object())
      return fail(ErrorKind::bad_response, "the answer is not a JSON object");
    const json::object& o = v.as_object();
    if (id_.empty()) {
      const json::value* id = o.if_contains("id");
      if (!id || !id->is_string() || id->as_string().empty())
        return fail(ErrorKind::bad_response, "the job has no id");
      id_ = std::string(id->as_string());
      return plan_next(last_read);
    }
    const json::value* status = o.if_contains("status");
    const json::value* cursor = o.if_contains("cursor");
    const json::value* total = o.if_contains("events_total");
    const json::value* events = o.if_contains("events");
    if (!status || !status->is_string() || !cursor || !cursor->is_int64() || !total ||
        !total->is_int64() || !events || !events->is_array())
      return fail(ErrorKind::bad_response,
                  "the job state lacks status, cursor, events_total or events");
    const json::array& list = events->as_array();
    const std::int64_t first_seq = cursor->as_int64() - static_cast<std::int64_t>(list.size()) + 1;
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::int64_t seq = first_seq + static_cast<std::int64_t>(i);
      if (seq <= cursor_) continue;  // poll-full: already seen
      ++fresh;
      ++record_.events;
      const std::optional<DeltaText> d = delta_text_of(expect().recording->api, list[i]);
      if (!d || d->text.empty()) continue;
      record_.transcript[d->choice] += d->text;
      const ReplayClock& clock = expect().clock;  // job events are numbered 0…E−1
      if (seq >= 0 && static_cast<std::uint64_t>(seq) < clock.job_events() &&
          clock.content_ordinal(static_cast<std::uint64_t>(seq)) >= 0)
        record_.content.push_back({last_read, static_cast<std::size_t>(clock.content_ordinal(
                                                  static_cast<std::uint64_t>(seq)))});
    }
    if (fresh == 0) ++record_.empty_polls;
    cursor_ = std::max(cursor_, cursor->as_int64());

    const json::string& s = status->as_string();
    const bool ended = s == "completed" || s == "failed";
    if (ended && cursor_ >= total->as_int64()) {
      check_transcript();
      const std::uint64_t want = expect().clock.job_events();
      if (record_.events != want)
        record_.fail(ErrorKind::missing_events,
                     fmt::format("{} job events, the recording has {}", record_.events, want));
      return finish();
    }
    if (!ended && s != "in_progress" && s != "queued")
      return fail(ErrorKind::bad_response, fmt::format("job status {}", std::string_view(s)));
    plan_next(last_read);
  }

  void plan_next(TimePoint now) {
    if (transport_ == Transport::long_poll) return next_request();
    const auto interval = config().interval;
    if (config().schedule == PollSchedule::after_response) return schedule(now + interval);
    // Fixed rate: slot k at t0 + k·interval; an answer that came late moves to the next slot.
    TimePoint at = record_.t0 + ++slot_ * interval;
    if (at <= now) {
      slot_ = (now - record_.t0) / interval + 1;
      at = record_.t0 + slot_ * interval;
    }
    schedule(at);
  }

  Transport transport_;
  std::string id_;
  std::int64_t cursor_ = 0;
  std::int64_t slot_ = 0;
  std::string body_;
};

}  // namespace

std::unique_ptr<Stream> make_job_stream(const StreamContext& ctx, Transport transport) {
  return std::make_unique<JobStream>(ctx, transport);
}

}  // namespace ssebench::bench
