#include "ssebench/server/replay.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "ssebench/utf8.hpp"

namespace ssebench::server {

namespace {

int count_choices(const Recording& r) {
  std::set<int> seen;
  for (const Event& e : r.events)
    if (e.content) seen.insert(e.choice);
  return std::max<int>(1, static_cast<int>(seen.size()));
}

}  // namespace

Replay::Replay(std::shared_ptr<const Recording> r, std::size_t budget_bytes)
    : recording(std::move(r)),
      clock(*recording),
      representation(build_representation(clock, budget_bytes)),
      id_json(json_string(recording->id)),
      model_json(json_string(recording->model)),
      choices(count_choices(*recording)) {}

std::string_view to_string(JobStatus s) {
  switch (s) {
    case JobStatus::queued:
      return "queued";
    case JobStatus::in_progress:
      return "in_progress";
    case JobStatus::completed:
      return "completed";
    case JobStatus::failed:
      return "failed";
    case JobStatus::cancelled:
      return "cancelled";
  }
  return "in_progress";
}

std::string Job::name() const {
  return (api() == Api::responses ? "resp_bg_" : "chatcmpl_bg_") + std::to_string(id);
}

bool Job::cancel(Clock::time_point now) const {
  if (now >= start + replay->clock.end(speed)) return false;
  Clock::rep expected = not_cancelled;
  return cancelled_.compare_exchange_strong(expected, now.time_since_epoch().count());
}

std::optional<Clock::time_point> Job::cancelled_at() const {
  const Clock::rep at = cancelled_.load(std::memory_order_acquire);
  if (at == not_cancelled) return std::nullopt;
  return Clock::time_point(Clock::duration(at));
}

Clock::time_point Job::cut(Clock::time_point now) const {
  const auto at = cancelled_at();
  return at && *at < now ? *at : now;
}

Clock::time_point Job::event_time(std::uint64_t seq) const {
  return start + replay->clock.due_at(seq, speed);
}

Clock::time_point Job::end_time() const {
  const Clock::time_point end = start + replay->clock.end(speed);
  const auto at = cancelled_at();
  return at && *at < end ? *at : end;
}

std::uint64_t Job::due(Clock::time_point now) const {
  const Clock::time_point t = cut(now);
  if (t < start) return 0;
  return replay->clock.due(t - start, speed);
}

JobStatus Job::status(Clock::time_point now) const {
  if (const auto at = cancelled_at(); at && *at <= now) return JobStatus::cancelled;
  if (now >= end_time())
    return replay->recording->ends_in_error ? JobStatus::failed : JobStatus::completed;
  return due(now) == 0 ? JobStatus::queued : JobStatus::in_progress;
}

Clock::time_point Job::next_change(std::optional<std::uint64_t> after) const {
  const std::uint64_t next = after ? *after + 1 : 0;
  if (next < replay->clock.job_events()) return std::min(event_time(next), end_time());
  return end_time();
}

namespace {

/** `{"id":"NAME","status":"S",` — every answer starts so. */
void open_object(std::string& out, const Job& job, JobStatus status) {
  out += R"({"id":")";
  out += job.name();
  out += R"(","status":")";
  out += to_string(status);
  out += "\",";
}

void append_cursor(std::string& out, std::uint64_t first, std::uint64_t due,
                   std::optional<std::uint64_t> after) {
  out += R"("cursor":)";
  if (due > first)
    out += std::to_string(due - 1);
  else if (after)
    out += std::to_string(*after);
  else
    out += "null";
}

std::string tail_body(const Job& job, JobStatus status, const std::string& tail) {
  std::string out;
  out.reserve(48 + tail.size());
  open_object(out, job, status);
  out += tail;
  out += '}';
  return out;
}

std::string delta_body(const Job& job, JobStatus status, std::uint64_t first, std::uint64_t due,
                       std::optional<std::uint64_t> after) {
  const Representation& r = job.replay->representation;
  std::string out;
  open_object(out, job, status);
  out += job.api() == Api::responses ? R"("object":"response.delta",)"
                                     : R"("object":"chat.completion.delta",)";
  append_cursor(out, first, due, after);
  if (!r.multi_choice) {
    out += R"(,"delta":")";
    for (std::uint64_t seq = first; seq < due; ++seq) out += r.delta_escaped[seq];
    out += "\"}";
    return out;
  }
  // Several choices: new text by choice index, choices without new text left out.
  std::map<int, std::string> by_choice;
  for (std::uint64_t seq = first; seq < due; ++seq)
    if (!r.delta_escaped[seq].empty()) by_choice[r.delta_choice[seq]] += r.delta_escaped[seq];
  out += R"(,"deltas":{)";
  bool comma = false;
  for (const auto& [choice, text] : by_choice) {
    if (comma) out += ',';
    comma = true;
    out += '"';
    out += std::to_string(choice);
    out += R"(":")";
    out += text;
    out += '"';
  }
  out += "}}";
  return out;
}

std::string events_body(const Job& job, JobStatus status, std::uint64_t first, std::uint64_t due,
                        std::optional<std::uint64_t> after) {
  const Replay& replay = *job.replay;
  std::size_t payload_bytes = 0;
  for (std::uint64_t seq = first; seq < due; ++seq)
    payload_bytes += replay.clock.job_event(seq).data_len + 1;
  std::string out;
  out.reserve(200 + replay.id_json.size() + replay.model_json.size() + payload_bytes);
  open_object(out, job, status);
  out += job.api() == Api::responses ? R"("object":"response",)" : R"("object":"chat.completion",)";
  out += R"("model":)";
  out += replay.model_json;
  out += R"(,"recording":)";
  out += replay.id_json;
  out += ',';
  append_cursor(out, first, due, after);
  out += R"(,"events_total":)";
  out += std::to_string(replay.clock.job_events());
  out += R"(,"events":[)";
  for (std::uint64_t seq = first; seq < due; ++seq) {
    if (seq != first) out += ',';
    out += replay.clock.job_event(seq).data();
  }
  out += "]}";
  return out;
}

}  // namespace

std::string job_body(const Job& job, PollShape shape, Clock::time_point now,
                     std::optional<std::uint64_t> after) {
  const Representation& r = job.replay->representation;
  const JobStatus status = job.status(now);
  const std::uint64_t due = job.due(now);
  const std::uint64_t first = after ? std::min(*after + 1, due) : 0;
  switch (shape) {
    case PollShape::openai:
      return tail_body(job, status, is_terminal(status) ? r.tails[due] : r.pending_tail);
    case PollShape::snapshot:
      return tail_body(job, status, r.tails[due]);
    case PollShape::delta:
      return delta_body(job, status, first, due, after);
    case PollShape::events:
      return events_body(job, status, first, due, after);
  }
  return {};
}

}  // namespace ssebench::server
