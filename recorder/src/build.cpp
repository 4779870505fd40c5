// From flags to a request, and from a capture to a recording the loader accepts.
#include <curl/curl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

#include "ssebench/recorder/recorder.hpp"

namespace ssebench::recorder {

namespace json = boost::json;

namespace {

/** Bytes of an error body quoted in a message. */
constexpr std::size_t quoted_body_limit = 200;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** One line of at most `limit` bytes: control characters become spaces. */
std::string one_line(std::string_view s, std::size_t limit = quoted_body_limit) {
  std::string out(s.substr(0, limit));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (s.size() > limit) out += "...";
  return out;
}

std::optional<json::value> parse(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

const json::value* member(const json::value* v, std::string_view key) {
  const auto* obj = v ? v->if_object() : nullptr;
  return obj ? obj->if_contains(key) : nullptr;
}

std::string string_at(const json::value* v, std::string_view key) {
  const json::value* m = member(v, key);
  return m && m->is_string() ? std::string(m->get_string()) : std::string{};
}

/** The URL without user info, query or fragment, and its host[:port], for provenance. */
struct UrlParts {
  std::string clean;
  std::string host;
};
std::optional<UrlParts> url_parts(const std::string& url) {
  CURLU* u = curl_url();
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    curl_url_cleanup(u);
    return std::nullopt;
  }
  auto part = [&](CURLUPart what) {
    char* p = nullptr;
    std::string out;
    if (curl_url_get(u, what, &p, 0) == CURLUE_OK && p) out = p;
    curl_free(p);
    return out;
  };
  UrlParts out;
  const std::string scheme = part(CURLUPART_SCHEME);
  out.host = part(CURLUPART_HOST);
  if (const std::string port = part(CURLUPART_PORT); !port.empty()) out.host += ":" + port;
  out.clean = scheme + "://" + out.host + part(CURLUPART_PATH);
  curl_url_cleanup(u);
  return out;
}

json::array headers_json(const std::vector<Header>& headers) {
  json::array out;
  for (const Header& h : headers)
    out.push_back(json::array{json::string(h.name), json::string(h.value)});
  return out;
}

/** Where the loader's "FILE:LINE: what" points, as the recorder's user sees it. */
std::string loader_message(const std::string& error, const std::filesystem::path& file) {
  const std::string prefix = file.string() + ":";
  if (!error.starts_with(prefix)) return error;
  std::string_view rest = std::string_view(error).substr(prefix.size());
  std::size_t line = 0;
  std::size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits])))
    line = line * 10 + static_cast<std::size_t>(rest[digits++] - '0');
  if (digits == 0 || digits + 2 > rest.size() || rest.substr(digits, 2) != ": ") {
    const auto start = rest.find_first_not_of(' ');
    return start == std::string_view::npos ? error : std::string(rest.substr(start));
  }
  const std::string_view what = rest.substr(digits + 2);
  if (line == 1) return fmt::format("the recording's header: {}", what);
  return fmt::format("event {}: {}", line - 1, what);
}

std::string seconds(std::chrono::microseconds us) {
  return fmt::format("{:.3f} s", static_cast<double>(us.count()) / 1e6);
}

}  // namespace

// ---- the request ------------------------------------------------------------------------------

std::variant<RequestSpec, std::string> build_request(const Config& config) {
  RequestSpec r;
  r.api = config.api;
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!url_parts(base)) return fmt::format("--base-url {}: not a URL", config.base_url);
  const std::string_view endpoint = r.api == Api::responses ? "/responses" : "/chat/completions";
  r.url = base + std::string(endpoint);
  r.shown_url = url_parts(r.url) ? url_parts(r.url)->clean : r.url;
  r.path = "/v1" + std::string(endpoint);  // the server's route, whatever the base's prefix

  json::object body;
  if (!config.body_file.empty()) {
    std::ifstream in(config.body_file, std::ios::binary);
    if (!in) return fmt::format("{}: cannot open", config.body_file.string());
    std::stringstream text;
    text << in.rdbuf();
    std::string bytes = text.str();
    while (!bytes.empty() && std::isspace(static_cast<unsigned char>(bytes.back())))
      bytes.pop_back();
    json::error_code ec;
    json::value v = json::parse(bytes, ec);
    if (ec || !v.is_object())
      return fmt::format("{}: not a JSON object{}", config.body_file.string(),
                         ec ? " (" + ec.message() + ")" : "");
    body = std::move(v.as_object());
    const json::value* stream = body.if_contains("stream");
    if (stream && !stream->is_bool() && !stream->is_null())
      return fmt::format("{}: \"stream\" is not a boolean", config.body_file.string());
    r.stream = stream && stream->is_bool() ? stream->get_bool() : false;
    // The file's bytes are sent unchanged unless a flag changes the body.
    bool changed = false;
    if (!config.model.empty()) {
      body["model"] = config.model;
      changed = true;
    }
    if (config.stream && *config.stream != r.stream) {
      r.stream = *config.stream;
      body["stream"] = r.stream;
      if (!r.stream) body.erase("stream_options");  // only valid with stream: true
      changed = true;
    }
    r.body = changed ? json::serialize(body) : bytes;
  } else {
    r.stream = config.stream.value_or(true);
    body["model"] = config.model;
    if (r.api == Api::chat_completions) {
      body["messages"] = json::array{json::object{{"role", "user"}, {"content", config.prompt}}};
    } else {
      body["input"] = config.prompt;
    }
    body["stream"] = r.stream;
    if (r.stream && r.api == Api::chat_completions && config.include_usage)
      body["stream_options"] = json::object{{"include_usage", true}};
    r.body = json::serialize(body);
  }
  const json::value* model = body.if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty())
    return "the request body has no model (give --model)";
  r.model = std::string(model->get_string());
  return r;
}

// ---- SSE events -------------------------------------------------------------------------------

bool EventSplitter::feed(std::string_view bytes, std::chrono::microseconds offset,
                         std::uint64_t read) {
  if (const auto cr = bytes.find('\r'); cr != std::string_view::npos) {
    error_ = fmt::format(
        "invalid SSE: CR line end at byte {} of the body (a recording holds LF line ends, as "
        "OpenAI sends)",
        position_ + cr);
    return false;
  }
  position_ += bytes.size();
  pending_.append(bytes);
  std::size_t start = 0;
  // A leading "\n" left by dropped blank lines is not an event; an event ends at "\n\n".
  for (;;) {
    while (start < pending_.size() && pending_[start] == '\n') ++start;
    const std::size_t end = pending_.find("\n\n", start);
    if (end == std::string::npos) break;
    std::string block = pending_.substr(start, end + 2 - start);
    start = end + 2;
    bool comments_only = true;
    for (std::size_t pos = 0; pos + 1 < block.size();) {
      const std::size_t eol = block.find('\n', pos);
      if (block[pos] != ':') comments_only = false;
      pos = eol + 1;
    }
    if (comments_only) {
      ++dropped_comments_;
      continue;
    }
    events_.push_back({std::move(block), offset, read});
  }
  pending_.erase(0, start);
  return true;
}

// ---- kinds and headers ------------------------------------------------------------------------

std::string chat_kind(std::string_view payload) {
  const std::optional<json::value> v = parse(payload);
  if (!v) return "content";  // not JSON: the loader says so
  if (member(&*v, "error")) return "error";
  const json::value* choices = member(&*v, "choices");
  const json::array* list = choices ? choices->if_array() : nullptr;
  if (!list || list->empty()) {
    const json::value* usage = member(&*v, "usage");
    return usage && !usage->is_null() ? "usage" : "content";
  }
  const json::value& choice = list->front();
  const json::value* delta = member(&choice, "delta");
  auto non_empty = [&](std::string_view key) {
    const json::value* m = member(delta, key);
    return m && m->is_string() && !m->get_string().empty();
  };
  if (non_empty("content")) return "content";
  if (non_empty("refusal")) return "refusal";
  if (const json::value* tools = member(delta, "tool_calls"); tools && !tools->is_null())
    return "tool_args";
  if (const json::value* finish = member(&choice, "finish_reason"); finish && !finish->is_null())
    return "finish";
  if (const json::value* role = member(delta, "role"); role && !role->is_null()) return "role";
  return "content";  // an empty delta: no text, so not a content event (METRICS.md)
}

std::vector<Header> redact(const std::vector<Header>& headers,
                           const std::vector<std::string>& extra,
                           std::vector<std::string>& redacted) {
  std::vector<std::string> names;
  for (const auto& n : default_redacted_headers) names.push_back(lower(n));
  for (const auto& n : extra) names.push_back(lower(n));
  std::vector<Header> out = headers;
  for (Header& h : out) {
    const std::string name = lower(h.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    h.value = "[redacted]";
    if (std::find(redacted.begin(), redacted.end(), name) == redacted.end())
      redacted.push_back(name);
  }
  return out;
}

// ---- the recording ----------------------------------------------------------------------------

std::variant<Built, Failure> build_recording(const Capture& capture, const RequestSpec& request,
                                             const Config& config,
                                             const std::optional<RecordingSet>& set,
                                             const std::filesystem::path& file,
                                             std::string_view api_key) {
  const bool ok_status = capture.status >= 200 && capture.status < 300;
  Built built;
  if (!ok_status) {
    const std::optional<json::value> error = parse(capture.body);
    std::string message = string_at(member(error ? &*error : nullptr, "error"), "message");
    if (message.empty()) message = capture.body;
    if (!config.keep_errors) {
      const bool no_key = api_key.empty() && (capture.status == 401 || capture.status == 403);
      return Failure{
          fmt::format("HTTP {} from {}: {}{}", capture.status, request.shown_url, one_line(message),
                      no_key ? fmt::format(" (no API key sent: ${} is not set)", config.api_key_env)
                             : std::string{}),
          true};
    }
    if (!error)
      return Failure{
          fmt::format("HTTP {} from {}, and its body is not JSON, so it cannot be kept "
                      "as an error recording: {}",
                      capture.status, request.shown_url, one_line(capture.body))};
    built.error_recording = true;
  }

  // What the stream says about itself: the model it names, its usage, whether it ended.
  const bool streamed = request.stream && ok_status;
  std::string model;
  std::optional<std::int64_t> completion_tokens;
  json::array event_lines;
  if (streamed) {
    if (capture.events.empty()) return Failure{"the stream had no events"};
    std::string content_type;
    for (const Header& h : capture.headers)
      if (lower(h.name) == "content-type") content_type = lower(h.value);
    if (!content_type.starts_with("text/event-stream"))
      return Failure{fmt::format("asked for a stream, got content-type \"{}\"", content_type)};
    for (const ReceivedEvent& e : capture.events) {
      // The payload of the event's data line (the loader checks the framing).
      std::string_view payload;
      std::string event_name;
      for (std::size_t pos = 0; pos < e.bytes.size();) {
        const std::size_t eol = e.bytes.find('\n', pos);
        const std::string_view line = std::string_view(e.bytes).substr(pos, eol - pos);
        if (line.starts_with("data:")) payload = line.substr(line.starts_with("data: ") ? 6 : 5);
        if (line.starts_with("event:"))
          event_name = std::string(line.substr(line.starts_with("event: ") ? 7 : 6));
        pos = eol + 1;
      }
      const std::optional<json::value> v = payload == "[DONE]" ? std::nullopt : parse(payload);
      std::string kind;
      if (payload == "[DONE]") {
        kind = "done";
      } else if (request.api == Api::chat_completions) {
        kind = chat_kind(payload);
      } else {
        kind = string_at(v ? &*v : nullptr, "type");
        if (kind.empty()) kind = event_name;
      }
      if (v && model.empty()) {
        model = request.api == Api::chat_completions ? string_at(&*v, "model")
                                                     : string_at(member(&*v, "response"), "model");
      }
      // Chat: the usage chunk; Responses: the final response's usage.
      const json::value* usage = request.api == Api::chat_completions
                                     ? member(v ? &*v : nullptr, "usage")
                                     : member(member(v ? &*v : nullptr, "response"), "usage");
      const char* tokens_key =
          request.api == Api::chat_completions ? "completion_tokens" : "output_tokens";
      if (const json::value* t = member(usage, tokens_key); t && t->is_int64())
        completion_tokens = t->get_int64();
      event_lines.push_back(json::object{
          {"t_us", e.offset.count()}, {"read", e.read}, {"kind", kind}, {"bytes", e.bytes}});
    }
    const std::string last_kind(event_lines.back().as_object().at("kind").as_string());
    if (request.api == Api::chat_completions && last_kind != "done") {
      const bool error_end = last_kind == "error";
      if (!(error_end && config.keep_errors)) {
        return Failure{
            fmt::format("the stream ended without data: [DONE] after {} events{}",
                        capture.events.size(), error_end ? " (its last event is an error)" : ""),
            error_end};
      }
      built.error_recording = true;
    }
    if (request.api == Api::responses && last_kind != "done" && last_kind != "response.completed" &&
        last_kind != "response.failed" && last_kind != "response.incomplete" &&
        last_kind != "error") {
      return Failure{fmt::format(
          "the stream ended without its final event (response.completed, .failed, .incomplete "
          "or error) after {} events; the last is {}",
          capture.events.size(), last_kind.empty() ? "untyped" : last_kind)};
    }
  } else {
    const std::optional<json::value> v = parse(capture.body);
    if (!v) {
      return Failure{fmt::format("the answer is not JSON: {}", one_line(capture.body))};
    }
    model = string_at(&*v, "model");
    const json::value* usage = member(&*v, "usage");
    for (const char* key : {"completion_tokens", "output_tokens"})
      if (const json::value* t = member(usage, key); t && t->is_int64())
        completion_tokens = t->get_int64();
  }
  if (model.empty()) model = request.model;

  // Provenance: where, when, with what, and what was left out.
  std::vector<std::string> redacted;
  const std::vector<Header> headers = redact(capture.headers, config.redact_headers, redacted);
  const auto parts = url_parts(request.url);
  json::object provenance{
      {"source", "recorded"},
      {"timing", json::object{{"kind", "recorded"}}},
      {"date", capture.date},
      {"host", parts ? parts->host : std::string{}},
      {"url", parts ? parts->clean : std::string{}},
      {"client", client_name()},
      {"t0", "libcurl about to send the request on an open connection (steady clock)"},
      {"connect_us", capture.connect_us},
      {"redacted", json::value_from(redacted)},
      {"dropped_comments", capture.dropped_comments},
  };
  std::string notes = fmt::format(
      "Recorded by ssebench-record: every event's bytes as received; t_us is when the read that "
      "brought its last byte returned, and read is which of the response body's {} reads that "
      "was. Response headers as received, except the values of {} (replaced by [redacted]); the "
      "API key is never written.",
      capture.reads, fmt::join(default_redacted_headers, ", "));
  if (!config.redact_headers.empty())
    notes += fmt::format(" Also redacted on request: {}.", fmt::join(config.redact_headers, ", "));
  if (capture.dropped_comments)
    notes += fmt::format(
        " {} SSE comment block(s) were received and not kept (the format holds "
        "events only).",
        capture.dropped_comments);
  if (built.error_recording)
    notes += ok_status ? " The stream ended in an error event without [DONE] (kept with "
                         "--keep-errors)."
                       : fmt::format(" HTTP {}: kept with --keep-errors as a stream:false answer.",
                                     capture.status);
  provenance["notes"] = notes;

  json::object header{
      {"format", recording_format_name},
      {"version", recording_format_version},
      {"api", to_string(request.api)},
      {"model", model},
      {"provenance", std::move(provenance)},
      {"request", json::object{{"method", "POST"}, {"path", request.path}, {"body", request.body}}},
  };
  if (streamed) {
    header["response"] = json::object{{"status", capture.status},
                                      {"headers", headers_json(headers)},
                                      {"headers_offset_us", capture.headers_offset.count()}};
  } else {
    // No events: the response is a placeholder (recordings/README.md), the answer is nonstream.
    header["response"] = json::object{
        {"status", capture.status}, {"headers", headers_json(headers)}, {"headers_offset_us", 0}};
    header["nonstream"] = json::object{{"offset_us", capture.body_offset.count()},
                                       {"status", capture.status},
                                       {"headers", headers_json(headers)},
                                       {"body", capture.body}};
  }
  if (completion_tokens && *completion_tokens >= 0)
    header["usage"] = json::object{{"completion_tokens", *completion_tokens}};
  if (set) header["set"] = json::object{{"id", set->id}, {"index", set->index}, {"of", set->of}};
  header["events"] = event_lines.size();

  std::string text = json::serialize(header) + "\n";
  for (const auto& line : event_lines) text += json::serialize(line) + "\n";
  // Defence in depth: a key echoed anywhere (an error body quoting it) is not written.
  if (api_key.size() >= 8) {
    for (std::size_t at = text.find(api_key); at != std::string::npos; at = text.find(api_key, at))
      text.replace(at, api_key.size(), "[redacted]");
  }

  const LoadResult loaded = parse_recording(text, file);
  if (!loaded) {
    return Failure{fmt::format("the answer does not make a valid recording: {}",
                               loader_message(loaded.error, file))};
  }
  const Recording& rec = *loaded.recording;
  built.summary = streamed
                      ? fmt::format("{} events, {} content, {} reads, {}", rec.events.size(),
                                    rec.content_events, capture.reads, seconds(rec.last_offset()))
                      : fmt::format("HTTP {} stream:false answer, {} bytes, {}", capture.status,
                                    capture.body.size(), seconds(rec.nonstream->offset));
  built.text = std::move(text);
  return built;
}

}  // namespace ssebench::recorder
