#include "ssebench/recorder/config.hpp"

#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ssebench/flags.hpp"

namespace ssebench::recorder {
namespace {

/** Longest duration a flag may give (a day): a recording's offsets stop there too. */
constexpr std::uint64_t max_duration_ms = 24ULL * 3600 * 1000;
/** Most runs of one set (the loader's limit on set.of). */
constexpr unsigned max_repeat = 10'000;

/** "Name: value" with a token name (no CR/LF anywhere). */
bool is_header_line(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (s.find_first_of("\r\n") != std::string_view::npos) return false;
  return s.substr(0, colon).find_first_of(" \t") == std::string_view::npos;
}

/** `text`, when `ok`; else the flag's bad value, saying what it must be. */
std::string checked(std::string_view flag, std::string_view text, bool ok, std::string_view what) {
  if (!ok) throw flags::bad_value(flag, text, what);
  return std::string(text);
}

std::uint64_t duration(std::string_view flag, std::string_view text, std::uint64_t min) {
  return flags::integer<std::uint64_t>(flag, text, min, max_duration_ms);
}

}  // namespace

std::string usage(const char* program) {
  const Config d;
  return fmt::format(
      "usage: {} --base-url URL --out FILE.jsonl (--body-file FILE | --model M --prompt TEXT) "
      "[options]\n"
      "Records one OpenAI-style request (Chat Completions or Responses, streamed or not) as an\n"
      "ssebench recording: every SSE event's exact bytes, its receive offset and socket read.\n\n"
      "  --base-url URL            API base, e.g. https://api.openai.com/v1 (required)\n"
      "  --api-key-env NAME        variable holding the API key, sent as a Bearer token and\n"
      "                            never written (default {}; unset: no key)\n"
      "  --api chat|responses      POST BASE/chat/completions or BASE/responses (default chat)\n"
      "  --body-file FILE          the request body (a JSON object), sent as is\n"
      "  --model M                 the body's model (replaces the file's)\n"
      "  --prompt TEXT             without --body-file: the user message (chat) or input\n"
      "  --stream, --no-stream     stream or not (default: the file's \"stream\", else stream)\n"
      "  --no-usage                chat stream from flags: no stream_options.include_usage\n"
      "  --out FILE.jsonl          where to write (required); its stem is the recording id\n"
      "  --repeat N                record N runs as a set FILE.1.jsonl ... FILE.N.jsonl\n"
      "                            (default {})\n"
      "  --pause-ms N              pause between runs of a set (default {})\n"
      "  --keep-errors             keep a non-2xx answer (or a chat stream ending in an error\n"
      "                            event) as an error recording instead of failing\n"
      "  --header 'NAME: VALUE'    an extra request header (repeatable)\n"
      "  --redact-header NAME      also redact this response header (repeatable; always:\n"
      "                            {})\n"
      "  --connect-timeout-ms N    DNS + TCP + TLS limit (default {})\n"
      "  --timeout-ms N            one request's limit, start to last byte (default {})\n"
      "  --max-body-bytes N        larger responses are an error (default {})\n"
      "  --help                    this text\n"
      "Exit status: 0 written, 1 nothing written (one line on stderr says why), 2 bad option.\n",
      program, d.api_key_env, d.repeat, d.pause_ms, fmt::join(default_redacted_headers, ", "),
      d.connect_timeout_ms, d.timeout_ms, d.max_body_bytes);
}

ParsedArgs parse_args(int argc, char** argv) {
  ParsedArgs result;
  Config c;
  // Messages start with the program's name, as the recorder's own errors do.
  const std::string name =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "ssebench-record";
  const char* program = name.c_str();
  auto bad = [&](std::string_view what) {
    result.message = fmt::format("{}: {} (see --help)", program, what);  // flags::fail's line
    result.exit_code = 2;
    return result;
  };
  bool help = argc == 2 && std::string_view(argv[1]) == "-h";  // as getopt took it
  bool stream_flag = false;
  const auto set_stream = [&](bool stream) {
    if (stream_flag) throw flags::Error("--stream and --no-stream: give one");
    stream_flag = true;
    c.stream = stream;
  };
  constexpr std::string_view not_empty = "must not be empty";
  flags::Parser p;
  p.toggle("help", [&] { help = true; });
  p.value("base-url",
          [&](std::string_view v) { c.base_url = checked("base-url", v, !v.empty(), not_empty); });
  p.value("api-key-env", [&](std::string_view v) {
    c.api_key_env = checked("api-key-env", v, !v.empty(), not_empty);
  });
  p.value("api", [&](std::string_view v) {
    checked("api", v, v == "chat" || v == "responses", "chat or responses");
    c.api = v == "responses" ? Api::responses : Api::chat_completions;
  });
  p.value("body-file", [&](std::string_view v) {
    c.body_file = checked("body-file", v, !v.empty(), not_empty);
  });
  p.value("model",
          [&](std::string_view v) { c.model = checked("model", v, !v.empty(), not_empty); });
  p.value("prompt", [&](std::string_view v) { c.prompt = v; });
  p.toggle("stream", [&] { set_stream(true); });
  p.toggle("no-stream", [&] { set_stream(false); });
  p.toggle("no-usage", [&] { c.include_usage = false; });
  p.value("out", [&](std::string_view v) {
    c.out = checked("out", v, v.size() > 6 && v.ends_with(".jsonl"), "a FILE.jsonl path");
  });
  p.value("repeat", [&](std::string_view v) {
    c.repeat = flags::integer<unsigned>("repeat", v, 1, max_repeat);
  });
  p.value("pause-ms", [&](std::string_view v) { c.pause_ms = duration("pause-ms", v, 0); });
  p.toggle("keep-errors", [&] { c.keep_errors = true; });
  p.value("header", [&](std::string_view v) {
    c.headers.push_back(checked("header", v, is_header_line(v), "'NAME: VALUE' on one line"));
  });
  p.value("redact-header", [&](std::string_view v) {
    c.redact_headers.push_back(checked("redact-header", v, !v.empty(), not_empty));
  });
  p.value("connect-timeout-ms",
          [&](std::string_view v) { c.connect_timeout_ms = duration("connect-timeout-ms", v, 1); });
  p.value("timeout-ms", [&](std::string_view v) { c.timeout_ms = duration("timeout-ms", v, 1); });
  p.value("max-body-bytes", [&](std::string_view v) {
    c.max_body_bytes = flags::integer<std::size_t>("max-body-bytes", v, 1);
  });
  try {
    if (!help) p.parse(argc, argv);
  } catch (const flags::Error& e) {
    return bad(e.what());
  }
  if (help) {
    result.message = usage(program);
    return result;
  }
  if (c.base_url.empty()) return bad("--base-url is required");
  if (c.out.empty()) return bad("--out is required");
  if (c.body_file.empty()) {
    if (c.model.empty()) return bad("give --body-file, or --model and --prompt");
    if (c.prompt.empty()) return bad("--prompt is required without --body-file");
  } else if (!c.prompt.empty()) {
    return bad("--prompt and --body-file: the prompt is in the body");
  }
  result.config = std::move(c);
  return result;
}

}  // namespace ssebench::recorder
