#include "ssebench/bench/transport.hpp"

#include <boost/json.hpp>
#include <stdexcept>

namespace ssebench::bench {

namespace json = boost::json;

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::sse:
      return "sse";
    case Transport::rest:
      return "rest";
    case Transport::poll:
      return "poll";
    case Transport::poll_full:
      return "poll-full";
    case Transport::long_poll:
      return "long-poll";
  }
  return "unknown";
}

std::optional<Transport> parse_transport(std::string_view name) {
  for (Transport t : all_transports)
    if (to_string(t) == name) return t;
  return std::nullopt;
}

bool has_interval(Transport t) {
  return t == Transport::poll || t == Transport::poll_full;
}

Expectation make_expectation(std::shared_ptr<const Recording> recording) {
  if (!recording) throw std::invalid_argument("make_expectation: no recording");
  // The clock refers into the recording, which the shared_ptr keeps where it is.
  Expectation x(std::move(recording));
  const Recording& r = *x.recording;
  x.transcript = r.transcript();
  x.rest_transcript = x.transcript;
  if (r.events.empty() && r.nonstream)
    x.rest_transcript = nonstream_transcript(r.api, r.nonstream->body).value_or(Transcript{});
  json::error_code ec;
  json::value body = json::parse(r.request.body, ec);
  if (ec || !body.is_object())
    throw std::runtime_error(r.id + ": the recorded request body is not a JSON object");
  body.as_object()["model"] = r.id;  // the server picks the recording by this id
  body.as_object()["stream"] = true;
  x.sse_body = json::serialize(body);
  body.as_object()["stream"] = false;
  body.as_object().erase("stream_options");  // only valid with stream: true
  x.rest_body = json::serialize(body);
  x.job_body = json::serialize(json::object{{"model", r.id}, {"background", true}});
  return x;
}

}  // namespace ssebench::bench
