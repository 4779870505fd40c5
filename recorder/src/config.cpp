#include "ssebench/recorder/config.hpp"

#include <getopt.h>

#include <charconv>
#include <limits>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ssebench/parse.hpp"

namespace ssebench::recorder {
namespace {

/** Longest duration an option may give (a day): a recording's offsets stop there too. */
constexpr std::uint64_t max_duration_ms = 24ULL * 3600 * 1000;
/** Most runs of one set (the loader's limit on set.of). */
constexpr unsigned max_repeat = 10'000;

enum Opt : int {
  opt_help = 'h',
  opt_base_url = 1000,
  opt_api_key_env,
  opt_api,
  opt_body_file,
  opt_model,
  opt_prompt,
  opt_stream,
  opt_no_stream,
  opt_no_usage,
  opt_out,
  opt_repeat,
  opt_pause,
  opt_keep_errors,
  opt_header,
  opt_redact_header,
  opt_connect_timeout,
  opt_timeout,
  opt_max_body,
};

const option long_options[] = {
    {"help", no_argument, nullptr, opt_help},
    {"base-url", required_argument, nullptr, opt_base_url},
    {"api-key-env", required_argument, nullptr, opt_api_key_env},
    {"api", required_argument, nullptr, opt_api},
    {"body-file", required_argument, nullptr, opt_body_file},
    {"model", required_argument, nullptr, opt_model},
    {"prompt", required_argument, nullptr, opt_prompt},
    {"stream", no_argument, nullptr, opt_stream},
    {"no-stream", no_argument, nullptr, opt_no_stream},
    {"no-usage", no_argument, nullptr, opt_no_usage},
    {"out", required_argument, nullptr, opt_out},
    {"repeat", required_argument, nullptr, opt_repeat},
    {"pause-ms", required_argument, nullptr, opt_pause},
    {"keep-errors", no_argument, nullptr, opt_keep_errors},
    {"header", required_argument, nullptr, opt_header},
    {"redact-header", required_argument, nullptr, opt_redact_header},
    {"connect-timeout-ms", required_argument, nullptr, opt_connect_timeout},
    {"timeout-ms", required_argument, nullptr, opt_timeout},
    {"max-body-bytes", required_argument, nullptr, opt_max_body},
    {nullptr, 0, nullptr, 0},
};

/** "Name: value" with a token name (no CR/LF anywhere). */
bool is_header_line(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (s.find_first_of("\r\n") != std::string_view::npos) return false;
  return s.substr(0, colon).find_first_of(" \t") == std::string_view::npos;
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
  Config config;
  // Messages start with the program's name, as the recorder's own errors do.
  const std::string name =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "ssebench-record";
  const char* program = name.c_str();
  optind = 0;  // GNU: restart scanning (parse_args may be called more than once)
  opterr = 0;  // errors are reported here, as one line
  auto bad = [&](std::string what) {
    result.message = fmt::format("{}: {} (see --help)", program, what);
    result.exit_code = 2;
    return result;
  };
  bool stream_flag = false;
  for (;;) {
    int index = 0;
    const int c = getopt_long(argc, argv, ":h", long_options, &index);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    bool ok = true;
    switch (c) {
      case opt_help:
        result.message = usage(program);
        result.exit_code = 0;
        return result;
      case opt_base_url:
        config.base_url = arg;
        ok = !arg.empty();
        break;
      case opt_api_key_env:
        config.api_key_env = arg;
        ok = !arg.empty();
        break;
      case opt_api:
        ok = arg == "chat" || arg == "responses";
        config.api = arg == "responses" ? Api::responses : Api::chat_completions;
        break;
      case opt_body_file:
        config.body_file = std::string(arg);
        ok = !arg.empty();
        break;
      case opt_model:
        config.model = arg;
        ok = !arg.empty();
        break;
      case opt_prompt:
        config.prompt = arg;
        break;
      case opt_stream:
      case opt_no_stream:
        if (stream_flag) return bad("--stream and --no-stream: give one");
        stream_flag = true;
        config.stream = c == opt_stream;
        break;
      case opt_no_usage:
        config.include_usage = false;
        break;
      case opt_out:
        config.out = std::string(arg);
        ok = arg.size() > 6 && arg.ends_with(".jsonl");
        break;
      case opt_repeat:
        ok = parse_uint<unsigned>(arg, config.repeat, 1, max_repeat);
        break;
      case opt_pause:
        ok = parse_uint<std::uint64_t>(arg, config.pause_ms, 0, max_duration_ms);
        break;
      case opt_keep_errors:
        config.keep_errors = true;
        break;
      case opt_header:
        config.headers.emplace_back(arg);
        ok = is_header_line(arg);
        break;
      case opt_redact_header:
        config.redact_headers.emplace_back(arg);
        ok = !arg.empty();
        break;
      case opt_connect_timeout:
        ok = parse_uint<std::uint64_t>(arg, config.connect_timeout_ms, 1, max_duration_ms);
        break;
      case opt_timeout:
        ok = parse_uint<std::uint64_t>(arg, config.timeout_ms, 1, max_duration_ms);
        break;
      case opt_max_body:
        ok = parse_uint<std::size_t>(arg, config.max_body_bytes, 1);
        break;
      case ':':
        return bad(fmt::format("option '{}' needs a value", argv[optind - 1]));
      default:
        return bad(fmt::format("unknown option '{}'", argv[optind - 1]));
    }
    if (!ok) return bad(fmt::format("bad value '{}' for --{}", arg, long_options[index].name));
  }
  if (optind < argc) return bad(fmt::format("unexpected argument '{}'", argv[optind]));
  if (config.base_url.empty()) return bad("--base-url is required");
  if (config.out.empty()) return bad("--out is required");
  if (config.body_file.empty()) {
    if (config.model.empty()) return bad("give --body-file, or --model and --prompt");
    if (config.prompt.empty()) return bad("--prompt is required without --body-file");
  } else if (!config.prompt.empty()) {
    return bad("--prompt and --body-file: the prompt is in the body");
  }
  result.config = std::move(config);
  return result;
}

}  // namespace ssebench::recorder
