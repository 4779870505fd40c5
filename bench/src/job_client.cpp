// poll and long-poll: a background job (POST {"model":ID,"background":true} to the recording's
// endpoint, /v1/chat/completions or /v1/responses), then GET {endpoint}/{id}?shape=S for its
// state in one of the four poll shapes (mock_server/README.md, "Background jobs"):
//   events, delta — what is new since the cursor (&starting_after=C once a cursor was seen);
//                   long-poll adds &wait_ms=W;
//   snapshot      — all output so far; the new text is what extends the text held;
//   openai        — status only until the job ends, then the whole object.
// An event is received when the answer that carries it has been read completely.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "stream.hpp"

namespace ssebench::bench {

namespace {

namespace json = boost::json;

enum class JobStatus { queued, in_progress, completed, failed, cancelled };

std::optional<JobStatus> parse_status(std::string_view s) {
  if (s == "queued") return JobStatus::queued;
  if (s == "in_progress") return JobStatus::in_progress;
  if (s == "completed") return JobStatus::completed;
  if (s == "failed") return JobStatus::failed;
  if (s == "cancelled") return JobStatus::cancelled;
  return std::nullopt;
}

/** completed and failed end a job the harness reads; cancelled is handled (as a failure) apart. */
bool ended(JobStatus s) {
  return s == JobStatus::completed || s == JobStatus::failed;
}

class JobStream final : public Stream {
 public:
  explicit JobStream(const StreamContext& ctx)
      : Stream(ctx), transport_(ctx.transport), shape_(config().shape) {}

 private:
  void first_request() override { send(expect().job_path, &expect().job_body); }

  void next_request() override {
    std::string path = fmt::format("{}/{}?shape={}", expect().job_path, id_, to_string(shape_));
    if (has_cursor(shape_) && cursor_) path += fmt::format("&starting_after={}", *cursor_);
    if (transport_ == Transport::long_poll)
      path += fmt::format("&wait_ms={}", config().long_poll_wait.count());
    send(path, nullptr);
  }

  void on_body(std::string_view bytes, TimePoint) override { body_.append(bytes); }

  void on_response(TimePoint last_read) override {
    std::string body = std::move(body_);
    body_.clear();
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object())
      return fail(ErrorKind::bad_response, "the answer is not a JSON object");
    const json::object& o = v.as_object();
    const json::value* id = o.if_contains("id");
    if (!id || !id->is_string() || id->as_string().empty())
      return fail(ErrorKind::bad_response, "the answer has no id");
    if (id_.empty()) {  // the job was created; its state is read by the polls
      id_ = std::string(id->as_string());
      return plan_next(last_read);
    }
    if (id->as_string() != id_)
      return fail(ErrorKind::bad_response, fmt::format("an answer for {} carries id {}", id_,
                                                       std::string_view(id->as_string())));
    const json::value* status_value = o.if_contains("status");
    if (!status_value || !status_value->is_string())
      return fail(ErrorKind::bad_response, "the answer has no status");
    const std::string_view status_text = status_value->as_string();
    const std::optional<JobStatus> status = parse_status(status_text);
    if (!status) return fail(ErrorKind::bad_response, fmt::format("job status {}", status_text));
    if (*status == JobStatus::cancelled)  // the harness never cancels
      return fail(ErrorKind::bad_response, "the job was cancelled");

    bool fresh = false;  // the answer carried something new
    bool done = false;   // the job has ended and everything it holds has been read
    std::string error;
    switch (shape_) {
      case PollShape::events:
        error = on_events(o, last_read, fresh);
        break;
      case PollShape::delta:
        error = on_delta(o, last_read, fresh);
        break;
      case PollShape::snapshot:
        error = on_snapshot(v, last_read, fresh);
        break;
      case PollShape::openai:
        error = on_openai(v, *status, last_read, fresh);
        break;
    }
    if (!error.empty()) return fail(ErrorKind::bad_response, std::move(error));
    if (!fresh) ++record_.empty_polls;

    if (ended(*status)) {
      // Cursor shapes: the job's last event must have been read; the others hold it all now.
      const std::uint64_t total = expect().clock.job_events();
      done = !has_cursor(shape_) || total == 0 ||
             (cursor_ && static_cast<std::uint64_t>(*cursor_) + 1 >= total);
    }
    if (done) {
      check_transcript();
      if (has_cursor(shape_) && record_.events != expect().clock.job_events())
        record_.fail(ErrorKind::missing_events,
                     fmt::format("{} job events, the recording has {}", record_.events,
                                 expect().clock.job_events()));
      return finish();
    }
    plan_next(last_read);
  }

  /**
   * The cursor of a delta or events answer that carries `n` job events: they must be the ones
   * after the cursor given (all from 0 without one). Returns an error, or empty.
   */
  std::string take_cursor(const json::object& o, std::uint64_t n, std::int64_t& first) {
    const json::value* c = o.if_contains("cursor");
    if (!c) return "the answer has no cursor";
    first = cursor_ ? *cursor_ + 1 : 0;
    if (c->is_null()) {
      if (cursor_ || n > 0)
        return fmt::format("a null cursor after starting_after={} with {} events",
                           cursor_ ? fmt::format("{}", *cursor_) : "none", n);
      return {};
    }
    if (!c->is_int64()) return "the cursor is not an integer";
    const std::int64_t want = first + static_cast<std::int64_t>(n) - 1;
    const std::int64_t got = c->as_int64();
    if (n == 0 && !cursor_) return fmt::format("cursor {} without any event", got);
    if (got != (n == 0 ? *cursor_ : want))
      return fmt::format("cursor {} after starting_after={} with {} events", got,
                         cursor_ ? fmt::format("{}", *cursor_) : "none", n);
    if (static_cast<std::uint64_t>(got) >= expect().clock.job_events())
      return fmt::format("cursor {} beyond the recording's {} job events", got,
                         expect().clock.job_events());
    cursor_ = got;
    return {};
  }

  /** Job events first…first+n−1 arrived at `at`: one receipt per content event among them. */
  void receive_events(std::int64_t first, std::uint64_t n, TimePoint at) {
    const ReplayClock& clock = expect().clock;
    for (std::uint64_t i = 0; i < n; ++i) {
      ++record_.events;
      const long ordinal = clock.content_ordinal(static_cast<std::uint64_t>(first) + i);
      if (ordinal >= 0) record_.content.push_back({at, static_cast<std::size_t>(ordinal)});
    }
  }

  std::string on_events(const json::object& o, TimePoint at, bool& fresh) {
    const json::value* events = o.if_contains("events");
    if (!events || !events->is_array()) return "the events answer has no events array";
    const json::value* total = o.if_contains("events_total");
    if (!total || !total->is_int64() ||
        static_cast<std::uint64_t>(total->as_int64()) != expect().clock.job_events())
      return fmt::format("events_total {}, the recording has {} job events",
                         total ? json::serialize(*total) : "missing", expect().clock.job_events());
    const json::array& list = events->as_array();
    std::int64_t first = 0;
    if (std::string e = take_cursor(o, list.size(), first); !e.empty()) return e;
    const Api api = expect().recording->api;
    for (std::size_t i = 0; i < list.size(); ++i) {
      // A Responses payload numbers itself: it must be the job event the cursor says it is.
      const json::object* p = list[i].if_object();
      const json::value* n = p ? p->if_contains("sequence_number") : nullptr;
      const std::int64_t seq = first + static_cast<std::int64_t>(i);
      if (api == Api::responses && n && !(n->is_int64() && n->as_int64() == seq))
        return fmt::format("job event {} carries sequence_number {}", seq, json::serialize(*n));
      if (const std::optional<DeltaText> d = delta_text_of(api, list[i]))
        record_.transcript[d->choice] += d->text;
    }
    receive_events(first, list.size(), at);
    fresh = !list.empty();
    return {};
  }

  std::string on_delta(const json::object& o, TimePoint at, bool& fresh) {
    const std::optional<std::int64_t> before = cursor_;
    // The number of events is the cursor's step; check it against itself in take_cursor.
    const json::value* c = o.if_contains("cursor");
    std::uint64_t n = 0;
    if (c && c->is_int64()) {
      const std::int64_t from = before ? *before : -1;
      if (c->as_int64() < from)
        return fmt::format("cursor {} after starting_after={}", c->as_int64(), from);
      n = static_cast<std::uint64_t>(c->as_int64() - from);
    }
    std::int64_t first = 0;
    if (std::string e = take_cursor(o, n, first); !e.empty()) return e;
    receive_events(first, n, at);

    const json::value* delta = o.if_contains("delta");
    const json::value* deltas = o.if_contains("deltas");
    std::size_t added = 0;
    if (delta && deltas) return "the delta answer carries both delta and deltas";
    if (delta) {
      if (!delta->is_string()) return "delta is not a string";
      added += delta->as_string().size();
      record_.transcript[0] += std::string_view(delta->as_string());
    } else if (deltas) {
      if (!deltas->is_object()) return "deltas is not an object";
      for (const auto& [key, text] : deltas->as_object()) {
        int choice = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), choice);
        if (ec != std::errc{} || end != key.data() + key.size() || !text.is_string())
          return fmt::format("deltas[{}] is not a choice's text", std::string_view(key));
        added += text.as_string().size();
        record_.transcript[choice] += std::string_view(text.as_string());
      }
    } else {
      return "the delta answer has neither delta nor deltas";
    }
    if (n == 0 && added > 0) return "new text without a new job event";
    // A choice that got no text so far is not in the recording's transcript either.
    std::erase_if(record_.transcript, [](const auto& kv) { return kv.second.empty(); });
    fresh = n > 0;
    return {};
  }

  std::string on_snapshot(const json::value& body, TimePoint at, bool& fresh) {
    std::optional<Transcript> text = nonstream_transcript_of(expect().recording->api, body);
    if (!text) return "the snapshot is not a completion object";
    for (const auto& [choice, held] : record_.transcript) {
      const auto it = text->find(choice);
      if (it == text->end() || !it->second.starts_with(held))
        return fmt::format("choice {}: the snapshot's text does not extend the {} bytes before",
                           choice, held.size());
    }
    fresh = *text != record_.transcript;
    record_.transcript = std::move(*text);
    receive_by_length(at);
    return {};
  }

  std::string on_openai(const json::value& body, JobStatus status, TimePoint at, bool& fresh) {
    const json::object& o = body.as_object();
    if (!ended(status)) {
      // Until the job ends the object carries no output: choices: [] (chat), output: [].
      const char* field = expect().recording->api == Api::responses ? "output" : "choices";
      const json::value* out = o.if_contains(field);
      if (out && !(out->is_array() && out->as_array().empty()))
        return fmt::format("a {} answer carries {}",
                           status == JobStatus::queued ? "queued" : "in_progress", field);
      return {};
    }
    std::optional<Transcript> text = nonstream_transcript_of(expect().recording->api, body);
    if (!text) return "the final answer is not a completion object";
    record_.transcript = std::move(*text);
    fresh = true;
    receive_by_length(at);
    return {};
  }

  /**
   * Snapshot and openai carry no event numbers: a content event has arrived once its choice's
   * text reaches the length it has after that event (Expectation::content_text_end).
   */
  void receive_by_length(TimePoint at) {
    const Recording& r = *expect().recording;
    if (by_choice_.empty()) {  // the content ordinals of each choice, in order
      std::size_t ordinal = 0;
      for (const Event& e : r.events)
        if (e.content) by_choice_[e.choice].ordinals.push_back(ordinal++);
    }
    const std::size_t from = record_.content.size();
    for (auto& [choice, pending] : by_choice_) {
      const auto it = record_.transcript.find(choice);
      const std::size_t length = it == record_.transcript.end() ? 0 : it->second.size();
      while (pending.next < pending.ordinals.size() &&
             expect().content_text_end[pending.ordinals[pending.next]] <= length) {
        record_.content.push_back({at, pending.ordinals[pending.next]});
        ++pending.next;
        ++record_.events;  // the only events these shapes can tell apart
      }
    }
    // Choices interleave in the recording: keep one answer's receipts in recorded order.
    std::sort(
        record_.content.begin() + static_cast<std::ptrdiff_t>(from), record_.content.end(),
        [](const ContentReceipt& a, const ContentReceipt& b) { return a.ordinal < b.ordinal; });
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

  struct Pending {
    std::vector<std::size_t> ordinals;  // content ordinals of one choice
    std::size_t next = 0;               // the first not yet received
  };

  Transport transport_;
  PollShape shape_;
  std::string id_;
  std::optional<std::int64_t> cursor_;  // the last job event read (delta, events)
  std::int64_t slot_ = 0;
  std::string body_;
  std::map<int, Pending> by_choice_;  // snapshot, openai
};

}  // namespace

std::unique_ptr<Stream> make_job_stream(const StreamContext& ctx) {
  return std::make_unique<JobStream>(ctx);
}

}  // namespace ssebench::bench
