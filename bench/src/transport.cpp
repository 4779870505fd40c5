#include "ssebench/bench/transport.hpp"

#include <boost/json.hpp>
#include <iterator>
#include <map>
#include <stdexcept>

#include "stream.hpp"

namespace ssebench::bench {

namespace json = boost::json;

namespace {
// The one table of transports. ws's connections are made by its driver (ws_client.cpp).
constexpr TransportRow table[] = {
    {Transport::sse, "sse", false, Shapes::none, Loop::curl, &make_sse_stream},
    {Transport::rest, "rest", false, Shapes::none, Loop::curl, &make_rest_stream},
    {Transport::poll, "poll", true, Shapes::every, Loop::curl, &make_job_stream},
    {Transport::long_poll, "long-poll", false, Shapes::cursor, Loop::curl, &make_job_stream},
    {Transport::ws, "ws", false, Shapes::none, Loop::asio, nullptr},
};
static_assert(std::size(table) == std::size(all_transports), "a row for every transport");
}  // namespace

std::span<const TransportRow> transport_table() {
  return table;
}

const TransportRow& row_of(Transport t) {
  for (const TransportRow& r : table)
    if (r.transport == t) return r;
  throw std::invalid_argument("a transport without a row");
}

std::string_view to_string(Transport t) {
  for (const TransportRow& r : table)
    if (r.transport == t) return r.name;
  return "unknown";
}

std::optional<Transport> parse_transport(std::string_view name) {
  for (const TransportRow& r : table)
    if (r.name == name) return r.transport;
  return std::nullopt;
}

bool has_interval(Transport t) {
  return row_of(t).has_interval;
}

bool is_polled(Transport t) {
  return row_of(t).shapes != Shapes::none;
}

std::string_view to_string(HttpVersion v) {
  return v == HttpVersion::http2 ? "2" : v == HttpVersion::http1_0 ? "1.0" : "1.1";
}

std::string_view to_string(TlsMode m) {
  return m == TlsMode::on ? "on" : m == TlsMode::noresume ? "noresume" : "off";
}

std::optional<TlsMode> parse_tls_mode(std::string_view name) {
  for (TlsMode m : {TlsMode::off, TlsMode::on, TlsMode::noresume})
    if (to_string(m) == name) return m;
  return std::nullopt;
}

std::optional<HttpVersion> parse_http_version(std::string_view name) {
  for (HttpVersion v : {HttpVersion::http1_1, HttpVersion::http2, HttpVersion::http1_0})
    if (to_string(v) == name) return v;
  return std::nullopt;
}

std::vector<PollShape> shapes_for(Transport t, std::span<const PollShape> listed) {
  std::vector<PollShape> out;
  const Shapes rule = row_of(t).shapes;
  for (PollShape s : listed)
    if (rule == Shapes::every || (rule == Shapes::cursor && has_cursor(s))) out.push_back(s);
  return out;
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
  std::map<int, std::size_t> text_length;  // by choice, as the content events add up
  for (const Event& e : r.events)
    if (e.content) x.content_text_end.push_back(text_length[e.choice] += e.text.size());
  json::error_code ec;
  json::value body = json::parse(r.request.body, ec);
  if (ec || !body.is_object())
    throw std::runtime_error(r.id + ": the recorded request body is not a JSON object");
  body.as_object()["model"] = r.id;  // the server picks the recording by this id
  body.as_object()["stream"] = true;
  x.sse_body = json::serialize(body);
  json::object ws = body.as_object();
  ws.erase("stream");  // implicit over a WebSocket
  ws["type"] = r.api == Api::responses ? "response.create" : "chat.completions.create";
  x.ws_message = json::serialize(ws);
  body.as_object()["stream"] = false;
  body.as_object().erase("stream_options");  // only valid with stream: true
  x.rest_body = json::serialize(body);
  x.job_body = json::serialize(json::object{{"model", r.id}, {"background", true}});
  // A recording's api decides its endpoint; the other one answers 400 (wrong_api).
  x.job_path = r.api == Api::responses ? "/v1/responses" : "/v1/chat/completions";
  return x;
}

TimePoint epoch_on_clock(std::int64_t epoch_us, TimePoint now) {
  using std::chrono::system_clock;
  const auto at = system_clock::time_point(std::chrono::microseconds(epoch_us));
  return now + std::chrono::duration_cast<Clock::duration>(at - system_clock::now());
}

}  // namespace ssebench::bench
