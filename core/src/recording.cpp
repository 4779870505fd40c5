#include "ssebench/recording.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <limits>
#include <system_error>
#include <variant>

#include "delta_text.hpp"
#include "sse_framing.hpp"
#include "utf8.hpp"

namespace ssebench {

namespace json = boost::json;
using detail::in_quotes;

std::string_view to_string(Api api) {
  switch (api) {
    case Api::chat_completions:
      return "chat.completions";
    case Api::responses:
      return "responses";
  }
  return "?";
}

std::optional<std::chrono::microseconds> Recording::first_content_offset() const {
  for (const auto& e : events) {
    if (e.content) return e.offset;
  }
  return std::nullopt;
}

std::chrono::microseconds Recording::last_offset() const {
  return events.empty() ? std::chrono::microseconds{0} : events.back().offset;
}

Transcript Recording::transcript() const {
  Transcript out;
  for (const auto& e : events) {
    if (e.content) out[e.choice] += e.text;
  }
  return out;
}

namespace {

constexpr std::array<std::string_view, 8> chat_kinds = {"role",   "content", "refusal", "tool_args",
                                                        "finish", "usage",   "done",    "error"};

// One fault in the file: thrown inside the parser, turned into LoadResult::error at its edge.
struct Fault {
  std::size_t line = 0;  // 1-based file line; 0 for the file as a whole
  std::string what;
};

[[noreturn]] void fail(std::size_t line, std::string what) {
  throw Fault{line, std::move(what)};
}

std::string_view view(const json::string& s) {
  return {s.data(), s.size()};
}

// Parses one JSON text; on failure says what and at which 1-based column of `text`.
std::variant<json::value, std::string> parse_json(std::string_view text) {
  json::stream_parser parser;
  boost::system::error_code ec;
  const std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) return fmt::format("{} at column {}", ec.message(), used + 1);
  return parser.release();
}

bool is_http_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Reads the fields of one JSON object of the header, naming them by their dotted path.
class Fields {
 public:
  Fields(const json::object& obj, std::string prefix, std::size_t line)
      : obj_(obj), prefix_(std::move(prefix)), line_(line) {}

  std::string name(std::string_view key) const { return prefix_ + std::string(key); }

  bool has(std::string_view key) const { return obj_.if_contains(key) != nullptr; }

  const json::value& required(std::string_view key) const {
    const auto* v = obj_.if_contains(key);
    if (v == nullptr) fail(line_, fmt::format("missing field \"{}\"", name(key)));
    return *v;
  }

  std::string string(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_string()) fail(line_, fmt::format("field \"{}\" must be a string", name(key)));
    return std::string(view(v.get_string()));
  }

  std::int64_t integer(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_int64()) fail(line_, fmt::format("field \"{}\" must be an integer", name(key)));
    return v.get_int64();
  }

  std::int64_t non_negative(std::string_view key) const {
    const auto n = integer(key);
    if (n < 0) fail(line_, fmt::format("field \"{}\" must not be negative ({})", name(key), n));
    return n;
  }

  // A time from the request's start: bounded so that it converts to nanoseconds and scales.
  std::chrono::microseconds offset(std::string_view key, std::int64_t max_us) const {
    const auto n = non_negative(key);
    if (n > max_us)
      fail(line_, fmt::format("field \"{}\" is {}, over the limit of {} us", name(key), n, max_us));
    return std::chrono::microseconds(n);
  }

  int status(std::string_view key) const {
    const auto n = integer(key);
    if (n < 100 || n > 599) {
      fail(line_,
           fmt::format("field \"{}\" must be an HTTP status (100-599), not {}", name(key), n));
    }
    return static_cast<int>(n);
  }

  Fields object(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_object()) fail(line_, fmt::format("field \"{}\" must be an object", name(key)));
    return Fields(v.get_object(), name(key) + ".", line_);
  }

  // A string that must itself hold one JSON text (request and response bodies).
  std::string json_text(std::string_view key) const {
    auto text = string(key);
    const auto parsed = parse_json(text);
    if (const auto* err = std::get_if<std::string>(&parsed)) {
      fail(line_, fmt::format("field \"{}\" is not JSON ({})", name(key), *err));
    }
    return text;
  }

  std::vector<Header> headers(std::string_view key) const {
    const auto& v = required(key);
    const auto pairs_error =
        fmt::format("field \"{}\" must be an array of [name, value] pairs", name(key));
    if (!v.is_array()) fail(line_, pairs_error);
    std::vector<Header> out;
    const auto& arr = v.get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto* pair = arr[i].if_array();
      if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() ||
          !(*pair)[1].is_string()) {
        fail(line_,
             fmt::format("field \"{}[{}]\" must be a [name, value] pair of strings", name(key), i));
      }
      Header h{std::string(view((*pair)[0].get_string())),
               std::string(view((*pair)[1].get_string()))};
      if (!is_http_token(h.name)) {
        fail(line_, fmt::format("field \"{}[{}]\": header name {} is not an HTTP token", name(key),
                                i, in_quotes(h.name)));
      }
      if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        fail(line_,
             fmt::format("field \"{}[{}]\": header value contains CR, LF or NUL", name(key), i));
      }
      out.push_back(std::move(h));
    }
    return out;
  }

  const json::object& raw() const { return obj_; }

 private:
  const json::object& obj_;
  std::string prefix_;
  std::size_t line_;
};

json::value parse_line(std::string_view line, std::size_t line_no) {
  auto parsed = parse_json(line);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    fail(line_no, fmt::format("not JSON ({})", *err));
  }
  return std::move(std::get<json::value>(parsed));
}

Provenance read_provenance(const Fields& f) {
  Provenance p;
  p.source = f.string("source");
  if (p.source != "recorded" && p.source != "converted" && p.source != "synthesized" &&
      p.source != "synthetic") {
    fail(1, fmt::format("unknown provenance.source {} (expected recorded, converted, "
                        "synthesized or synthetic)",
                        in_quotes(p.source)));
  }
  // A synthetic recording (a scenario) is no capture's: what made it must be named, so that
  // its bytes can be made again.
  if (p.source == "synthetic") {
    const auto generator = f.object("generator");
    generator.string("script");
    generator.string("scenario");
    generator.non_negative("seed");
  }
  const auto timing = f.object("timing");
  p.timing = timing.string("kind");
  if (p.timing == "synthesized") {
    p.profile = timing.string("profile");
    p.seed = static_cast<std::uint64_t>(timing.non_negative("seed"));
  } else if (p.timing != "recorded") {
    fail(1, fmt::format("unknown provenance.timing.kind {} (expected recorded or synthesized)",
                        in_quotes(p.timing)));
  }
  p.json = json::serialize(f.raw());
  return p;
}

// Line 1. Fills everything but the events; returns the declared event count.
std::size_t read_header(const json::value& value, Recording& rec, const RecordingLimits& limits) {
  if (!value.is_object()) fail(1, "header must be a JSON object");
  const Fields f(value.get_object(), "", 1);
  // format and version first: a file of another kind or version gets that message, not a
  // complaint about fields it was never meant to have.
  const auto format = f.string("format");
  if (format != recording_format_name) {
    fail(1, fmt::format("unknown format {} (expected \"{}\")", in_quotes(format),
                        recording_format_name));
  }
  const auto version = f.integer("version");
  if (version != recording_format_version) {
    fail(1, fmt::format("unsupported version {} (this build reads version {})", version,
                        recording_format_version));
  }
  const auto api = f.string("api");
  if (api == "chat.completions") {
    rec.api = Api::chat_completions;
  } else if (api == "responses") {
    rec.api = Api::responses;
  } else {
    fail(1, fmt::format("unknown api {} (expected \"chat.completions\" or \"responses\")",
                        in_quotes(api)));
  }
  rec.model = f.string("model");
  rec.provenance = read_provenance(f.object("provenance"));

  const auto request = f.object("request");
  rec.request.method = request.string("method");
  rec.request.path = request.string("path");
  rec.request.body = request.json_text("body");

  const auto response = f.object("response");
  rec.response.status = response.status("status");
  rec.response.headers = response.headers("headers");
  rec.response.headers_offset = response.offset("headers_offset_us", limits.max_offset_us);

  if (f.has("nonstream")) {
    const auto ns = f.object("nonstream");
    NonStreamBody body;
    body.offset = ns.offset("offset_us", limits.max_offset_us);
    body.status = ns.status("status");
    body.headers = ns.headers("headers");
    body.body = ns.json_text("body");
    rec.nonstream = std::move(body);
  }
  if (f.has("set")) {
    const auto set = f.object("set");
    RecordingSet member;
    member.id = set.string("id");
    if (member.id.empty()) fail(1, "field \"set.id\" must not be empty");
    member.of = static_cast<std::uint64_t>(set.non_negative("of"));
    if (member.of < 1 || member.of > limits.max_set_size) {
      fail(1, fmt::format("field \"set.of\" is {}, not 1 to {}", member.of, limits.max_set_size));
    }
    member.index = static_cast<std::uint64_t>(set.non_negative("index"));
    if (member.index < 1 || member.index > member.of) {
      fail(1,
           fmt::format("field \"set.index\" is {}, not 1 to set.of ({})", member.index, member.of));
    }
    rec.set = std::move(member);
  }
  if (f.has("usage")) {
    rec.completion_tokens =
        static_cast<std::uint64_t>(f.object("usage").non_negative("completion_tokens"));
  }
  const auto events = static_cast<std::uint64_t>(f.non_negative("events"));
  if (events > limits.max_events) {
    fail(1, fmt::format("field \"events\" is {}, over the limit of {} events", events,
                        limits.max_events));
  }
  return static_cast<std::size_t>(events);
}

bool is_known_kind(Api api, std::string_view kind) {
  if (api == Api::responses) {
    return kind == "done" || kind == "error" ||
           (kind.size() > 9 && kind.substr(0, 9) == "response.");
  }
  return std::find(chat_kinds.begin(), chat_kinds.end(), kind) != chat_kinds.end();
}

std::string_view string_member(const json::value& v, std::string_view key) {
  const auto* obj = v.if_object();
  const auto* m = obj != nullptr ? obj->if_contains(key) : nullptr;
  return m != nullptr && m->is_string() ? view(m->get_string()) : std::string_view{};
}

// The model a payload names: chat chunks carry `model`, Responses events `response.model`.
std::string_view payload_model(Api api, const json::value& payload) {
  if (api == Api::chat_completions) return string_member(payload, "model");
  const auto* obj = payload.if_object();
  const auto* response = obj != nullptr ? obj->if_contains("response") : nullptr;
  return response != nullptr ? string_member(*response, "model") : std::string_view{};
}

// Checks that the kind agrees with the payload and fills the text fields.
void read_payload(Event& e, Api api, const std::string& model, std::string_view event_name,
                  std::size_t line) {
  const auto data = e.data();
  if (data == "[DONE]") {
    if (e.kind != "done")
      fail(line, fmt::format("payload is [DONE] but kind is {}", in_quotes(e.kind)));
    return;
  }
  if (e.kind == "done") fail(line, "kind \"done\" but the payload is not [DONE]");
  auto parsed = parse_json(data);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    fail(line, fmt::format("payload is not JSON ({})", *err));
  }
  const auto& payload = std::get<json::value>(parsed);

  if (api == Api::responses) {
    const auto* type = payload.is_object() ? payload.get_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      fail(line, fmt::format("kind {} but the payload has no string \"type\"", in_quotes(e.kind)));
    }
    if (view(type->get_string()) != e.kind) {
      fail(line, fmt::format("kind {} differs from the payload's type {}", in_quotes(e.kind),
                             in_quotes(view(type->get_string()))));
    }
    if (!event_name.empty() && event_name != e.kind) {
      fail(line, fmt::format("\"event:\" line {} differs from the payload's type {}",
                             in_quotes(event_name), in_quotes(e.kind)));
    }
  } else {
    const bool has_error = payload.is_object() && payload.get_object().contains("error");
    if (has_error && e.kind != "error") {
      fail(line,
           fmt::format("payload is an {{\"error\":...}} object but kind is {}", in_quotes(e.kind)));
    }
    if (!has_error && e.kind == "error") {
      fail(line, "kind \"error\" but the payload has no \"error\" member");
    }
  }
  if (const auto named = payload_model(api, payload); !named.empty() && named != model) {
    fail(line,
         fmt::format("payload names model {}, the header {}", in_quotes(named), in_quotes(model)));
  }

  auto texts = detail::delta_texts(api, payload);
  if (texts.size() > 1) {
    fail(line,
         fmt::format("payload carries text for {} choices (one event, one choice)", texts.size()));
  }
  if (!texts.empty() && !is_content_kind(e.kind)) {
    fail(line, fmt::format("kind {} but the payload carries text {}", in_quotes(e.kind),
                           in_quotes(texts.front().text)));
  }
  if (!texts.empty()) {
    e.content = true;
    e.choice = texts.front().choice;
    e.text = std::move(texts.front().text);
  } else if (api == Api::chat_completions) {
    // Non-content chat chunks still belong to a choice (role, finish of choice 2 ...).
    const auto* obj = payload.if_object();
    const auto* choices = obj != nullptr ? obj->if_contains("choices") : nullptr;
    if (choices != nullptr && choices->is_array() && !choices->get_array().empty()) {
      const auto& first = choices->get_array().front();
      const auto* index = first.is_object() ? first.get_object().if_contains("index") : nullptr;
      if (index != nullptr && index->is_int64()) e.choice = static_cast<int>(index->get_int64());
    }
  }
}

// The optional `read` index: every event has one or none does, and it never decreases.
std::optional<std::uint64_t> read_index(const Fields& f, const Recording& rec, std::size_t line) {
  const bool first = rec.events.empty();
  const bool had = !first && rec.events.back().read.has_value();
  if (!f.has("read")) {
    if (had) fail(line, "missing field \"read\" (the events before have one: every event or none)");
    return std::nullopt;
  }
  if (!first && !had) {
    fail(line, "field \"read\" here but not on the events before (every event or none)");
  }
  const auto read = static_cast<std::uint64_t>(f.non_negative("read"));
  if (had && read < *rec.events.back().read) {
    fail(line, fmt::format("read goes backwards ({} after {})", read, *rec.events.back().read));
  }
  return read;
}

Event read_event(const json::value& value, const Recording& rec, std::int64_t previous_t_us,
                 const RecordingLimits& limits, std::size_t line) {
  if (!value.is_object()) fail(line, "event must be a JSON object");
  const Fields f(value.get_object(), "", line);
  Event e;
  const auto t_us = f.integer("t_us");
  if (t_us < 0) fail(line, fmt::format("t_us is negative ({})", t_us));
  if (t_us < previous_t_us) {
    fail(line, fmt::format("t_us goes backwards ({} after {})", t_us, previous_t_us));
  }
  if (t_us > limits.max_offset_us) {
    fail(line, fmt::format("t_us is {}, over the limit of {} us", t_us, limits.max_offset_us));
  }
  if (t_us < rec.response.headers_offset.count()) {
    fail(line, fmt::format("t_us {} is before the response headers (headers_offset_us {})", t_us,
                           rec.response.headers_offset.count()));
  }
  e.offset = std::chrono::microseconds(t_us);
  e.read = read_index(f, rec, line);
  e.kind = f.string("kind");
  if (!is_known_kind(rec.api, e.kind)) {
    fail(line, rec.api == Api::responses
                   ? fmt::format("unknown kind {} (expected a Responses event type "
                                 "\"response.*\", \"error\" or \"done\")",
                                 in_quotes(e.kind))
                   : fmt::format("unknown kind {} (expected one of role, content, refusal, "
                                 "tool_args, finish, usage, done, error)",
                                 in_quotes(e.kind)));
  }
  const auto& bytes = f.required("bytes");
  if (!bytes.is_string()) fail(line, "field \"bytes\" must be a string");
  if (bytes.get_string().size() > limits.max_event_bytes) {
    fail(line, fmt::format("event is {} bytes, over the limit of {}", bytes.get_string().size(),
                           limits.max_event_bytes));
  }
  e.bytes = std::string(view(bytes.get_string()));
  const auto framed = detail::frame_sse_event(e.bytes);
  if (const auto* err = std::get_if<std::string>(&framed)) {
    fail(line, fmt::format("bytes are not one SSE event: {}", *err));
  }
  const auto& framing = std::get<detail::SseFraming>(framed);
  e.data_pos = framing.data_pos;
  e.data_len = framing.data_len;
  read_payload(e, rec.api, rec.model, framing.event_name, line);
  return e;
}

std::shared_ptr<const Recording> parse(std::string_view text, const std::filesystem::path& name,
                                       const RecordingLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    fail(0, fmt::format("{} bytes, over the limit of {}", text.size(), limits.max_file_bytes));
  }
  if (text.empty()) fail(0, "empty file");
  if (const auto bad = detail::first_invalid_utf8(text)) {
    const auto line_start = text.rfind('\n', *bad);
    const auto line =
        1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + *bad, '\n'));
    const auto column = line_start == std::string_view::npos ? *bad + 1 : *bad - line_start;
    fail(line, fmt::format("not UTF-8 (byte 0x{:02x} at column {})",
                           static_cast<unsigned char>(text[*bad]), column));
  }

  auto rec = std::make_shared<Recording>();
  rec->id = name.stem().string();
  rec->file = name;
  std::size_t declared_events = 0;
  std::int64_t previous_t_us = 0;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      fail(line_no, "blank line (not allowed: every line is the header or one event)");
    }
    const auto value = parse_line(line, line_no);
    if (line_no == 1) {
      declared_events = read_header(value, *rec, limits);
      rec->events.reserve(declared_events);
      continue;
    }
    if (rec->events.size() == limits.max_events) {
      fail(line_no, fmt::format("more than {} events (the limit)", limits.max_events));
    }
    rec->events.push_back(read_event(value, *rec, previous_t_us, limits, line_no));
    previous_t_us = rec->events.back().offset.count();
  }
  if (rec->events.size() != declared_events) {
    fail(0, fmt::format("the header declares {} events, the file has {}", declared_events,
                        rec->events.size()));
  }
  if (rec->events.empty() && !rec->nonstream) {
    fail(0, "no events and no \"nonstream\" body (nothing to replay)");
  }

  for (const auto& e : rec->events) {
    if (e.content) ++rec->content_events;
  }
  if (!rec->completion_tokens) rec->completion_tokens = rec->content_events;
  for (auto it = rec->events.rbegin(); it != rec->events.rend(); ++it) {
    if (it->is_done()) continue;
    rec->ends_in_error = it->kind == "error" || it->kind == "response.failed";
    break;
  }
  return rec;
}

std::string format_fault(const std::filesystem::path& name, const Fault& fault) {
  return fault.line == 0 ? fmt::format("{}: {}", name.string(), fault.what)
                         : fmt::format("{}:{}: {}", name.string(), fault.line, fault.what);
}

}  // namespace

LoadResult parse_recording(std::string_view text, const std::filesystem::path& name,
                           const RecordingLimits& limits) {
  LoadResult result;
  try {
    result.recording = parse(text, name, limits);
  } catch (const Fault& fault) {
    result.error = format_fault(name, fault);
  }
  return result;
}

LoadResult load_recording(const std::filesystem::path& file, const RecordingLimits& limits) {
  LoadResult result;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    result.error = fmt::format("{}: cannot read ({})", file.string(), ec.message());
    return result;
  }
  if (size > limits.max_file_bytes) {
    result.error = format_fault(
        file, Fault{0, fmt::format("{} bytes, over the limit of {}", size, limits.max_file_bytes)});
    return result;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.error = fmt::format("{}: cannot open", file.string());
    return result;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size)) || in.peek() != EOF) {
    result.error = fmt::format("{}: cannot read (changed while reading)", file.string());
    return result;
  }
  return parse_recording(text, file, limits);
}

FolderLoad load_folder(const std::filesystem::path& folder, const RecordingLimits& limits) {
  FolderLoad out;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".jsonl" && it->is_regular_file(type_ec)) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    out.errors.push_back(fmt::format("{}: cannot list folder ({})", folder.string(), ec.message()));
    return out;
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  for (const auto& file : files) {
    auto result = load_recording(file, limits);
    if (result) {
      out.recordings.push_back(std::move(result.recording));
    } else {
      out.errors.push_back(std::move(result.error));
    }
  }
  return out;
}

}  // namespace ssebench
