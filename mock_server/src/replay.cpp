#include "ssebench/server/replay.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

namespace ssebench::server {
namespace {

std::string json_string(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace

Replay::Replay(std::shared_ptr<const Recording> r)
    : recording(std::move(r)),
      id_json(json_string(recording->id)),
      model_json(json_string(recording->model)) {
  for (std::size_t i = 0; i < recording->events.size(); ++i) {
    if (!recording->events[i].is_done()) job_events.push_back(i);
  }
}

std::string_view to_string(JobStatus s) {
  switch (s) {
    case JobStatus::in_progress:
      return "in_progress";
    case JobStatus::completed:
      return "completed";
    case JobStatus::failed:
      return "failed";
  }
  return "in_progress";
}

Clock::time_point Job::event_time(std::uint64_t seq) const {
  return start + scaled(replay->job_event(seq).offset, speed);
}

Clock::time_point Job::end_time() const {
  return start + scaled(replay->recording->last_offset(), speed);
}

std::uint64_t Job::due(Clock::time_point now) const {
  const auto& idx = replay->job_events;
  const auto& events = replay->recording->events;
  // Offsets never decrease, so the due events are a prefix.
  auto it = std::partition_point(idx.begin(), idx.end(), [&](std::size_t i) {
    return start + scaled(events[i].offset, speed) <= now;
  });
  return static_cast<std::uint64_t>(it - idx.begin());
}

JobStatus Job::status(Clock::time_point now) const {
  if (now < end_time()) return JobStatus::in_progress;
  return replay->recording->ends_in_error ? JobStatus::failed : JobStatus::completed;
}

Clock::time_point Job::next_change(std::uint64_t after) const {
  if (after < replay->events_total()) return event_time(after + 1);
  return end_time();
}

std::string job_json(const Job& job, Clock::time_point now, std::optional<std::uint64_t> after) {
  const std::uint64_t due = job.due(now);
  const std::uint64_t first = after ? *after + 1 : 1;
  const std::uint64_t cursor = due >= first ? due : (after ? *after : 0);
  std::string out;
  std::size_t payload_bytes = 0;
  for (std::uint64_t seq = first; seq <= due; ++seq)
    payload_bytes += job.replay->job_event(seq).data_len + 1;
  out.reserve(200 + job.replay->id_json.size() + job.replay->model_json.size() + payload_bytes);
  out += R"({"id":")";
  out += job.name();
  out += R"(","object":"response","status":")";
  out += to_string(job.status(now));
  out += R"(","model":)";
  out += job.replay->model_json;
  out += R"(,"recording":)";
  out += job.replay->id_json;
  out += R"(,"cursor":)";
  out += std::to_string(cursor);
  out += R"(,"events_total":)";
  out += std::to_string(job.replay->events_total());
  out += R"(,"events":[)";
  for (std::uint64_t seq = first; seq <= due; ++seq) {
    if (seq != first) out += ',';
    out += job.replay->job_event(seq).data();
  }
  out += "]}";
  return out;
}

std::string job_created_json(const Job& job, Clock::time_point now) {
  std::string out = R"({"id":")";
  out += job.name();
  out += R"(","object":"response","status":")";
  out += to_string(job.status(now));
  out += R"(","background":true,"model":)";
  out += job.replay->model_json;
  out += R"(,"recording":)";
  out += job.replay->id_json;
  out += R"(,"cursor":0,"events_total":)";
  out += std::to_string(job.replay->events_total());
  out += "}";
  return out;
}

std::string model_json(const Replay& replay) {
  return R"({"id":)" + replay.id_json + R"(,"object":"model","created":0,"owned_by":"ssebench"})";
}

std::string models_json(const ReplayMap& replays) {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& [id, replay] : replays) {
    if (!first) out += ',';
    first = false;
    out += model_json(replay);
  }
  out += "]}";
  return out;
}

std::string error_json(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  auto or_null = [](std::string_view s) {
    return s.empty() ? std::string("null") : json_string(s);
  };
  return R"({"error":{"message":)" + json_string(message) + R"(,"type":)" + json_string(type) +
         R"(,"param":)" + or_null(param) + R"(,"code":)" + or_null(code) + "}}";
}

}  // namespace ssebench::server
