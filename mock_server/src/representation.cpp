#include "ssebench/server/representation.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace ssebench::server {
namespace {

namespace json = boost::json;

// ---- JSON helpers ----------------------------------------------------------------------------

std::string_view string_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return {v->get_string().data(), v->get_string().size()};
}

const json::string* if_string_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// A non-negative integer member (indexes: output_index, content_index, ...).
std::optional<std::size_t> index_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return static_cast<std::size_t>(v->get_uint64());
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::size_t>(v->get_int64());
  return std::nullopt;
}

std::optional<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

// `obj`'s members except "id" and "status" (the server writes those per job), no braces.
std::string members(const json::object& obj) {
  std::string out;
  for (const auto& m : obj) {
    if (m.key() == "id" || m.key() == "status") continue;
    if (!out.empty()) out += ',';
    out += json::serialize(m.key());
    out += ':';
    out += json::serialize(m.value());
  }
  return out;
}

// Element `index` of array member `key` as an object, or null when any step is missing.
json::object* element(json::object* parent, std::string_view key,
                      std::optional<std::size_t> index) {
  if (parent == nullptr || !index) return nullptr;
  auto* v = parent->if_contains(key);
  auto* a = v != nullptr ? v->if_array() : nullptr;
  if (a == nullptr || *index >= a->size()) return nullptr;
  return (*a)[*index].if_object();
}

// Puts `v` at `index` of array member `key` (created when absent): replaces an existing element,
// else appends, as the SDK pushes an added item.
void put(json::object* parent, std::string_view key, std::optional<std::size_t> index,
         const json::value* v) {
  if (parent == nullptr || v == nullptr || !v->is_object()) return;
  auto& slot = (*parent)[key];
  if (!slot.is_array()) slot = json::array();
  auto& a = slot.get_array();
  if (index && *index < a.size()) {
    a[*index] = *v;
  } else {
    a.push_back(*v);
  }
}

void append(json::object* target, std::string_view key, const json::string* delta) {
  if (target == nullptr || delta == nullptr) return;
  auto& slot = (*target)[key];
  if (!slot.is_string()) slot = "";  // null or absent: the SDK starts from ""
  slot.get_string().append(*delta);
}

void set(json::object* target, std::string_view key, const json::string* value) {
  if (target != nullptr && value != nullptr) (*target)[key] = *value;
}

// ---- Responses API ---------------------------------------------------------------------------

// A member of a JSON object as raw text: the key with its quotes, and the value.
struct RawMember {
  std::string key;
  std::string value;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Splits the text of a JSON object (valid JSON: the loader checked it) into its members' raw
// text, so a recorded object is written back byte for byte (a parse and serialize would turn
// `0.985` into `9.85E-1`).
std::vector<RawMember> raw_members(std::string_view text) {
  std::vector<RawMember> out;
  std::size_t i = text.find('{');
  if (i == std::string_view::npos) return out;
  ++i;
  const auto skip_space = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  const auto skip_string = [&] {  // at the opening quote
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') ++i;
    }
    ++i;
  };
  const auto skip_value = [&] {  // up to the ',' or '}' that ends it
    int depth = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '"') {
        skip_string();
        continue;
      }
      if (depth == 0 && (c == ',' || c == '}')) return;
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++i;
    }
  };
  for (;;) {
    skip_space();
    if (i >= text.size() || text[i] != '"') break;
    const std::size_t key = i;
    skip_string();
    const std::size_t key_end = i;
    skip_space();
    if (i >= text.size() || text[i] != ':') break;
    ++i;
    skip_space();
    const std::size_t value = i;
    skip_value();
    std::size_t value_end = i;
    while (value_end > value && is_space(text[value_end - 1])) --value_end;
    out.push_back({std::string(text.substr(key, key_end - key)),
                   std::string(text.substr(value, value_end - value))});
    if (i >= text.size() || text[i] != ',') break;
    ++i;
  }
  return out;
}

// The raw text of member `key` of a JSON object's text, or empty.
std::string raw_member(std::string_view text, std::string_view key) {
  const std::string quoted = json::serialize(json::string_view(key.data(), key.size()));
  for (auto& m : raw_members(text)) {
    if (m.key == quoted) return std::move(m.value);
  }
  return {};
}

// The Response object as the SDK accumulates it from the stream. The object's own members stay
// as recorded; only `output`, which the events build, is serialized.
class ResponsesSnapshot {
 public:
  // k=0: response.created's object (raw text) with no output, else a minimal one.
  explicit ResponsesSnapshot(std::string_view created, std::string_view model) {
    base_ = raw_members(created);
    if (base_.empty()) {
      base_ = {{R"("object")", R"("response")"},
               {R"("created_at")", "0"},
               {R"("model")", json::serialize(json::string_view(model.data(), model.size()))}};
    }
  }

  void apply(const json::object& ev, std::string_view text) {
    const auto type = string_at(ev, "type");
    const auto* response = ev.if_contains("response");
    const bool interim = type == "response.created" || type == "response.in_progress";
    if (interim || type == "response.completed" || type == "response.failed" ||
        type == "response.incomplete") {
      if (response == nullptr || !response->is_object()) return;
      base_ = raw_members(raw_member(text, "response"));
      const auto* out = response->get_object().if_contains("output");
      const bool has_output = out != nullptr && out->is_array();
      // An interim object carries no output: keep what was built.
      if (interim && (!has_output || out->get_array().empty())) {
        raw_output_ = false;
        return;
      }
      output_ = has_output ? out->get_array() : json::array();
      raw_output_ = has_output;
      return;
    }
    const auto oi = index_at(ev, "output_index");
    json::object* item = oi && *oi < output_.size() ? output_[*oi].if_object() : nullptr;
    const auto ci = index_at(ev, "content_index");
    const auto si = index_at(ev, "summary_index");
    const auto* delta = if_string_at(ev, "delta");
    std::optional<json::array> before;  // raw_output_ holds only while nothing changed
    if (raw_output_) before = output_;
    if (type == "response.output_item.added" || type == "response.output_item.done") {
      if (const auto* v = ev.if_contains("item"); oi && v != nullptr && v->is_object()) {
        if (*oi < output_.size()) {
          output_[*oi] = *v;
        } else {
          output_.push_back(*v);
        }
      }
    } else if (type == "response.content_part.added" || type == "response.content_part.done") {
      if (ci) put(item, "content", ci, ev.if_contains("part"));
    } else if (type == "response.output_text.delta") {
      append(element(item, "content", ci), "text", delta);
    } else if (type == "response.output_text.done") {
      set(element(item, "content", ci), "text", if_string_at(ev, "text"));
    } else if (type == "response.refusal.delta") {
      append(element(item, "content", ci), "refusal", delta);
    } else if (type == "response.refusal.done") {
      set(element(item, "content", ci), "refusal", if_string_at(ev, "refusal"));
    } else if (type == "response.function_call_arguments.delta") {
      append(item, "arguments", delta);
    } else if (type == "response.function_call_arguments.done") {
      set(item, "arguments", if_string_at(ev, "arguments"));
    } else if (type == "response.reasoning_summary_part.added" ||
               type == "response.reasoning_summary_part.done") {
      if (si) put(item, "summary", si, ev.if_contains("part"));
    } else if (type == "response.reasoning_summary_text.delta") {
      append(element(item, "summary", si), "text", delta);
    } else if (type == "response.reasoning_summary_text.done") {
      set(element(item, "summary", si), "text", if_string_at(ev, "text"));
    }
    // Any other type (error, keep-alives, new event kinds) leaves the snapshot as it was.
    if (before && output_ != *before) raw_output_ = false;
  }

  // The members; always "object", an "output" array (what nonstream_transcript reads) and
  // "background":true (every answer is a background job's).
  std::string tail() const {
    std::string out;
    const auto add = [&](std::string_view key, std::string_view value) {
      if (!out.empty()) out += ',';
      out += key;
      out += ':';
      out += value;
    };
    const auto has = [&](std::string_view key) {
      return std::any_of(base_.begin(), base_.end(), [&](const auto& m) { return m.key == key; });
    };
    const std::string output = json::serialize(output_);
    if (!has(R"("object")")) add(R"("object")", R"("response")");
    for (const auto& m : base_) {
      if (m.key == R"("id")" || m.key == R"("status")") continue;
      if (m.key == R"("output")") {
        add(m.key, raw_output_ ? std::string_view(m.value) : std::string_view(output));
      } else if (m.key == R"("background")") {
        add(m.key, "true");
      } else {
        add(m.key, m.value);
      }
    }
    if (!has(R"("output")")) add(R"("output")", output);
    if (!has(R"("background")")) add(R"("background")", "true");
    return out;
  }

 private:
  std::vector<RawMember> base_;  // the current response object's members, as recorded
  json::array output_;           // the output built so far
  bool raw_output_ = false;      // output_ is base_'s own output, unchanged: write its bytes
};

// The raw text of the first response.created's `response`, or empty.
std::string created_text(const ReplayClock& clock, const std::vector<json::value>& payloads) {
  for (std::uint64_t seq = 0; seq < payloads.size(); ++seq) {
    const auto* ev = payloads[seq].if_object();
    if (ev == nullptr || string_at(*ev, "type") != "response.created") continue;
    const auto* r = ev->if_contains("response");
    if (r != nullptr && r->is_object()) return raw_member(clock.job_event(seq).data(), "response");
  }
  return {};
}

// ---- Chat completions -----------------------------------------------------------------------

struct ToolCall {
  std::string id;
  std::string type = "function";
  std::string name;
  std::string arguments;
};

struct Choice {
  std::string role = "assistant";
  std::optional<std::string> content;  // null until a chunk carries a string
  std::optional<std::string> refusal;
  std::map<std::size_t, ToolCall> tool_calls;  // merged by their `index`
  json::value finish_reason;                   // null until recorded
};

void append_opt(std::optional<std::string>& target, const json::string* delta) {
  if (delta == nullptr) return;
  if (!target) target.emplace();
  target->append(delta->data(), delta->size());
}

// The chat.completion object as the SDK accumulates it from the chunks.
class ChatSnapshot {
 public:
  ChatSnapshot(json::value created, json::value model)
      : created_(std::move(created)), model_(std::move(model)) {}

  void apply(const json::object& chunk, std::string_view /*text*/) {
    if (const auto* e = chunk.if_contains("error"); e != nullptr && !e->is_null()) error_ = *e;
    if (const auto* v = chunk.if_contains("system_fingerprint"); v != nullptr && !v->is_null())
      system_fingerprint_ = *v;
    if (const auto* v = chunk.if_contains("service_tier"); v != nullptr && !v->is_null())
      service_tier_ = *v;
    if (const auto* v = chunk.if_contains("usage"); v != nullptr && v->is_object()) usage_ = *v;
    const auto* choices = chunk.if_contains("choices");
    if (choices == nullptr || !choices->is_array()) return;
    const auto& array = choices->get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const auto* c = array[i].if_object();
      if (c == nullptr) continue;
      Choice& choice = choices_[index_at(*c, "index").value_or(i)];
      if (const auto* f = c->if_contains("finish_reason"); f != nullptr && !f->is_null())
        choice.finish_reason = *f;
      const auto* d = c->if_contains("delta");
      if (d == nullptr || !d->is_object()) continue;
      const auto& delta = d->get_object();
      if (const auto* role = if_string_at(delta, "role")) choice.role = *role;
      append_opt(choice.content, if_string_at(delta, "content"));
      append_opt(choice.refusal, if_string_at(delta, "refusal"));
      const auto* calls = delta.if_contains("tool_calls");
      if (calls == nullptr || !calls->is_array()) continue;
      const auto& call_array = calls->get_array();
      for (std::size_t j = 0; j < call_array.size(); ++j) {
        const auto* tc = call_array[j].if_object();
        if (tc == nullptr) continue;
        ToolCall& call = choice.tool_calls[index_at(*tc, "index").value_or(j)];
        if (const auto* id = if_string_at(*tc, "id")) call.id = *id;
        if (const auto* type = if_string_at(*tc, "type")) call.type = *type;
        const auto* fn = tc->if_contains("function");
        if (fn == nullptr || !fn->is_object()) continue;
        if (const auto* name = if_string_at(fn->get_object(), "name")) call.name = *name;
        if (const auto* args = if_string_at(fn->get_object(), "arguments"))
          call.arguments.append(args->data(), args->size());
      }
    }
  }

  std::string tail() const { return members(object()); }

 private:
  json::object object() const {
    json::object obj{{"object", "chat.completion"}, {"created", created_}, {"model", model_}};
    if (!system_fingerprint_.is_null()) obj["system_fingerprint"] = system_fingerprint_;
    if (!service_tier_.is_null()) obj["service_tier"] = service_tier_;
    json::array choices;
    for (const auto& [index, c] : choices_) {
      auto text_or_null = [](const std::optional<std::string>& s) {
        return s ? json::value(json::string(*s)) : json::value(nullptr);
      };
      json::object message{{"role", c.role},
                           {"content", text_or_null(c.content)},
                           {"refusal", text_or_null(c.refusal)}};
      if (!c.tool_calls.empty()) {
        json::array calls;
        for (const auto& [i, t] : c.tool_calls) {
          calls.push_back({{"id", t.id},
                           {"type", t.type},
                           {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
        }
        message["tool_calls"] = std::move(calls);
      }
      choices.push_back({{"index", index},
                         {"message", std::move(message)},
                         {"logprobs", nullptr},
                         {"finish_reason", c.finish_reason}});
    }
    obj["choices"] = std::move(choices);
    if (!usage_.is_null()) obj["usage"] = usage_;
    if (!error_.is_null()) obj["error"] = error_;
    return obj;
  }

  json::value created_, model_;  // from the first chunk, so k=0 already shows them
  json::value system_fingerprint_, service_tier_, usage_, error_;  // null: not seen
  std::map<std::size_t, Choice> choices_;
};

ChatSnapshot chat_initial(const Recording& rec, const std::vector<json::value>& payloads) {
  json::value created = 0;
  json::value model = json::string(rec.model);
  for (const auto& p : payloads) {
    const auto* chunk = p.if_object();
    if (chunk == nullptr || !chunk->contains("choices")) continue;  // skip error payloads
    if (const auto* c = chunk->if_contains("created")) created = *c;
    if (const auto* m = chunk->if_contains("model")) model = *m;
    break;
  }
  return ChatSnapshot(std::move(created), std::move(model));
}

// ---- ids and input items ---------------------------------------------------------------------

std::string find_recorded_id(Api api, const std::vector<json::value>& payloads) {
  for (const auto& p : payloads) {
    const auto* obj = p.if_object();
    if (obj == nullptr) continue;
    if (api == Api::chat_completions) {
      if (const auto* id = if_string_at(*obj, "id")) return std::string(id->data(), id->size());
    } else if (string_at(*obj, "type") == "response.created") {
      const auto* r = obj->if_contains("response");
      if (r != nullptr && r->is_object()) return std::string(string_at(r->get_object(), "id"));
    }
  }
  return {};
}

// Offsets in `text` (valid JSON) where `needle` (already escaped) occurs inside a string value;
// keys are skipped (a key is a string followed by ':').
std::vector<std::size_t> string_value_hits(std::string_view text, std::string_view needle) {
  std::vector<std::size_t> hits;
  if (needle.empty()) return hits;
  std::size_t i = 0;
  while ((i = text.find('"', i)) != std::string_view::npos) {
    std::vector<std::size_t> found;
    std::size_t j = i + 1;
    while (j < text.size() && text[j] != '"') {
      if (text.compare(j, needle.size(), needle) == 0) {
        found.push_back(j);
        j += needle.size();
      } else if (text[j] == '\\') {
        j += (j + 1 < text.size() && text[j + 1] == 'u') ? 6 : 2;  // never match inside an escape
      } else {
        ++j;
      }
    }
    std::size_t after = j + 1;
    while (after < text.size() && is_space(text[after])) ++after;
    if (after >= text.size() || text[after] != ':')
      hits.insert(hits.end(), found.begin(), found.end());
    i = j + 1;
  }
  return hits;
}

std::string input_items_members(const Recording& rec) {
  json::array data;
  const auto body = rec.api == Api::responses ? parse_json(rec.request.body) : std::nullopt;
  const auto* input = body && body->is_object() ? body->get_object().if_contains("input") : nullptr;
  if (input != nullptr && input->is_string()) {
    data.push_back({{"id", "msg_in_0"},
                    {"type", "message"},
                    {"role", "user"},
                    {"content", json::array{{{"type", "input_text"}, {"text", *input}}}}});
  } else if (input != nullptr && input->is_array()) {
    const auto& items = input->get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto* item = items[i].if_object();
      if (item == nullptr) {
        data.push_back(items[i]);
        continue;
      }
      // OpenAI lists every input item with an id and a type; the recorded ones may have neither.
      json::object out;
      if (!item->contains("id")) out["id"] = "msg_in_" + std::to_string(i);
      if (!item->contains("type") && item->contains("role")) out["type"] = "message";
      for (const auto& m : *item) out[m.key()] = m.value();
      data.push_back(std::move(out));
    }
  }
  auto id_of = [](const json::value* v) -> json::value {
    const auto* obj = v != nullptr ? v->if_object() : nullptr;
    const auto* id = obj != nullptr ? obj->if_contains("id") : nullptr;
    return id != nullptr ? *id : json::value(nullptr);
  };
  json::object list{{"object", "list"},
                    {"data", data},
                    {"first_id", id_of(data.empty() ? nullptr : &data.front())},
                    {"last_id", id_of(data.empty() ? nullptr : &data.back())},
                    {"has_more", false}};
  return members(list);  // a list has no "id" or "status" of its own to drop
}

}  // namespace

std::size_t Representation::bytes() const {
  std::size_t n = object.size() + pending_tail.size() + recorded_id.size() + input_items.size();
  for (const auto& t : tails) n += t.size();
  for (const auto& d : delta_escaped) n += d.size();
  for (const auto& p : id_positions) n += p.size() * sizeof(std::size_t);
  return n + delta_choice.size() * sizeof(int);
}

Representation build_representation(const ReplayClock& clock, std::size_t budget_bytes) {
  const Recording& rec = clock.recording();
  const std::uint64_t total = clock.job_events();
  Representation r;
  r.object = rec.api == Api::responses ? "response" : "chat.completion";

  // Every job event parsed once; a payload the loader accepted is JSON, but stay safe.
  std::vector<json::value> payloads;
  payloads.reserve(total);
  for (std::uint64_t seq = 0; seq < total; ++seq)
    payloads.push_back(parse_json(clock.job_event(seq).data()).value_or(json::value()));

  r.recorded_id = find_recorded_id(rec.api, payloads);
  const std::string needle = json_escaped(r.recorded_id);
  r.recorded_id_escaped_size = needle.size();
  r.id_positions.resize(rec.events.size());
  for (std::size_t i = 0; i < rec.events.size(); ++i) {
    const Event& e = rec.events[i];
    if (e.is_done()) continue;
    for (std::size_t hit : string_value_hits(e.data(), needle))
      r.id_positions[i].push_back(e.data_pos + hit);
  }
  r.input_items = input_items_members(rec);

  r.delta_escaped.reserve(total);
  r.delta_choice.reserve(total);
  for (std::uint64_t seq = 0; seq < total; ++seq) {
    const auto delta = delta_text_of(rec.api, payloads[seq]);
    r.delta_escaped.push_back(delta ? json_escaped(delta->text) : std::string());
    // Events without text still belong to a choice (the loader's rule: role, finish chunks).
    r.delta_choice.push_back(delta ? delta->choice : clock.job_event(seq).choice);
    if (r.delta_choice.back() != r.delta_choice.front()) r.multi_choice = true;
  }
  r.multi_choice = r.multi_choice && rec.api == Api::chat_completions;

  std::size_t used = r.bytes();
  auto keep = [&](std::string tail, std::uint64_t after) {
    used += tail.size();
    if (used > budget_bytes) {
      throw std::runtime_error(fmt::format(
          "{}: the polled representations take more than the budget of {} bytes (after {} of {} "
          "job events)",
          rec.file.empty() ? rec.id : rec.file.string(), budget_bytes, after, total));
    }
    r.tails.push_back(std::move(tail));
  };
  r.tails.reserve(total + 1);
  auto accumulate = [&](auto snapshot) {
    r.pending_tail = snapshot.tail();
    used += r.pending_tail.size();
    keep(r.pending_tail, 0);
    for (std::uint64_t seq = 0; seq < total; ++seq) {
      if (const auto* obj = payloads[seq].if_object())
        snapshot.apply(*obj, clock.job_event(seq).data());
      keep(snapshot.tail(), seq + 1);
    }
  };
  if (rec.api == Api::responses) {
    accumulate(ResponsesSnapshot(created_text(clock, payloads), rec.model));
  } else {
    accumulate(chat_initial(rec, payloads));
  }
  return r;
}

std::string json_escaped(std::string_view s) {
  std::string q = json::serialize(json::string_view(s.data(), s.size()));
  return q.substr(1, q.size() - 2);
}

std::string with_job_id(const Representation& r, const Recording& rec, std::size_t event_index,
                        std::string_view job_id) {
  std::string out;
  append_with_job_id(out, r, rec, event_index, json_escaped(job_id));
  return out;
}

void append_with_job_id(std::string& out, const Representation& r, const Recording& rec,
                        std::size_t event_index, std::string_view escaped_job_id) {
  const std::string& bytes = rec.events[event_index].bytes;
  const std::size_t start = out.size();
  if (event_index >= r.id_positions.size() || r.id_positions[event_index].empty()) {
    out += bytes;
    return;
  }
  const auto& positions = r.id_positions[event_index];
  out.reserve(start + bytes.size() + positions.size() * escaped_job_id.size());
  std::size_t from = 0;
  for (std::size_t p : positions) {
    out.append(bytes, from, p - from);
    out += escaped_job_id;
    from = p + r.recorded_id_escaped_size;
  }
  out.append(bytes, from);
  // The events that name the response carry the response object: a job's says it runs in the
  // background, as its polls do.
  constexpr std::string_view foreground = R"("background":false)";
  if (rec.api == Api::responses) {
    if (const auto at = out.find(foreground, start); at != std::string::npos)
      out.replace(at, foreground.size(), R"("background":true)");
  }
}

}  // namespace ssebench::server
