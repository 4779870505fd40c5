#include "delta_text.hpp"

#include <array>
#include <boost/json.hpp>

namespace ssebench {

namespace json = boost::json;

namespace {

// A string member, or empty when absent, null or not a string.
std::string_view string_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  const auto& s = v->get_string();
  return {s.data(), s.size()};
}

const json::object* object_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

const json::array* array_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

// A choice's `index`, or its position when the index is missing.
int choice_index(const json::object& choice, std::size_t position) {
  const auto* v = choice.if_contains("index");
  if (v != nullptr && v->is_int64()) return static_cast<int>(v->get_int64());
  if (v != nullptr && v->is_uint64()) return static_cast<int>(v->get_uint64());
  return static_cast<int>(position);
}

// Chat: content, then refusal, then each tool call's arguments; the same order in a streamed
// delta and in a stream:false message, so the two transcripts compare equal.
std::string chat_message_text(const json::object& message) {
  std::string text(string_at(message, "content"));
  text += string_at(message, "refusal");
  if (const auto* calls = array_at(message, "tool_calls")) {
    for (const auto& call : *calls) {
      if (const auto* c = call.if_object()) {
        if (const auto* fn = object_at(*c, "function")) text += string_at(*fn, "arguments");
      }
    }
  }
  return text;
}

constexpr std::array<std::string_view, 4> responses_delta_types = {
    "response.output_text.delta",
    "response.refusal.delta",
    "response.function_call_arguments.delta",
    "response.reasoning_summary_text.delta",
};

/** Stack space for one event payload's JSON tree (a chat chunk takes about 1 KiB). */
constexpr std::size_t payload_buffer_bytes = 4096;

std::optional<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

}  // namespace

namespace detail {

std::vector<DeltaText> delta_texts(Api api, const json::value& payload) {
  std::vector<DeltaText> out;
  const auto* obj = payload.if_object();
  if (obj == nullptr) return out;
  if (api == Api::responses) {
    const auto type = string_at(*obj, "type");
    for (const auto t : responses_delta_types) {
      if (type == t) {
        const auto delta = string_at(*obj, "delta");
        if (!delta.empty()) out.push_back({0, std::string(delta)});
        break;
      }
    }
    return out;
  }
  const auto* choices = array_at(*obj, "choices");
  if (choices == nullptr) return out;
  for (std::size_t i = 0; i < choices->size(); ++i) {
    const auto* choice = (*choices)[i].if_object();
    if (choice == nullptr) continue;
    const auto* delta = object_at(*choice, "delta");
    if (delta == nullptr) continue;
    auto text = chat_message_text(*delta);
    if (!text.empty()) out.push_back({choice_index(*choice, i), std::move(text)});
  }
  return out;
}

}  // namespace detail

bool is_content_kind(std::string_view kind) {
  if (kind == "content" || kind == "refusal" || kind == "tool_args") return true;
  for (const auto t : responses_delta_types) {
    if (kind == t) return true;
  }
  return false;
}

std::optional<DeltaText> delta_text(Api api, std::string_view payload_json) {
  bool not_json = false;
  return delta_text(api, payload_json, not_json);
}

std::optional<DeltaText> delta_text(Api api, std::string_view payload_json, bool& not_json) {
  // A client calls this per event: the payload's JSON tree goes into a stack buffer (the heap
  // only past it), so parsing allocates nothing for a typical chunk.
  std::array<unsigned char, payload_buffer_bytes> buffer;
  json::monotonic_resource resource(buffer.data(), buffer.size());
  boost::system::error_code ec;
  const json::value payload = json::parse(payload_json, ec, &resource);
  not_json = ec || !payload.is_object();
  if (not_json) return std::nullopt;
  return delta_text_of(api, payload);
}

std::optional<DeltaText> delta_text_of(Api api, const json::value& payload) {
  auto texts = detail::delta_texts(api, payload);
  if (texts.empty()) return std::nullopt;
  return std::move(texts.front());
}

std::optional<Transcript> nonstream_transcript(Api api, std::string_view body_json) {
  const auto body = parse_json(body_json);
  if (!body) return std::nullopt;
  return nonstream_transcript_of(api, *body);
}

std::optional<Transcript> nonstream_transcript_of(Api api, const json::value& body) {
  if (!body.is_object()) return std::nullopt;
  Transcript out;
  const json::object* obj = &body.get_object();
  if (api == Api::chat_completions) {
    const auto* choices = array_at(*obj, "choices");
    if (choices == nullptr) return std::nullopt;
    for (std::size_t i = 0; i < choices->size(); ++i) {
      const auto* choice = (*choices)[i].if_object();
      if (choice == nullptr) continue;
      const auto* message = object_at(*choice, "message");
      if (message == nullptr) continue;
      auto text = chat_message_text(*message);
      if (!text.empty()) out[choice_index(*choice, i)] += text;
    }
    return out;
  }
  // Responses: a response object, or an event that wraps one (`response.completed`).
  if (obj->if_contains("output") == nullptr) {
    if (const auto* inner = object_at(*obj, "response")) obj = inner;
  }
  const auto* output = array_at(*obj, "output");
  if (output == nullptr) return std::nullopt;
  std::string text;
  for (const auto& item_value : *output) {
    const auto* item = item_value.if_object();
    if (item == nullptr) continue;
    const auto type = string_at(*item, "type");
    if (type == "message") {
      if (const auto* parts = array_at(*item, "content")) {
        for (const auto& part_value : *parts) {
          const auto* part = part_value.if_object();
          if (part == nullptr) continue;
          const auto part_type = string_at(*part, "type");
          if (part_type == "output_text") text += string_at(*part, "text");
          if (part_type == "refusal") text += string_at(*part, "refusal");
        }
      }
    } else if (type == "function_call") {
      text += string_at(*item, "arguments");
    } else if (type == "reasoning") {
      if (const auto* summary = array_at(*item, "summary")) {
        for (const auto& part_value : *summary) {
          if (const auto* part = part_value.if_object()) text += string_at(*part, "text");
        }
      }
    }
  }
  if (!text.empty()) out[0] = std::move(text);
  return out;
}

}  // namespace ssebench
