#pragma once
/**
 * Everything ssebench-record can be told, with its default. `--help` prints the defaults from a
 * default-built Config, so the two can never disagree.
 */
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ssebench/recording.hpp"

namespace ssebench::recorder {

struct Config {
  std::string base_url;  // required: the API base, e.g. https://api.openai.com/v1
  std::string api_key_env = "OPENAI_API_KEY";  // variable holding the key; unset = no key sent
  Api api = Api::chat_completions;             // --api chat|responses: which endpoint
  std::filesystem::path body_file;             // request body from a file (JSON object)
  std::string model;                           // the body's model (overrides the file's)
  std::string prompt;                          // the user message / input, without a body file
  std::optional<bool> stream;        // --stream / --no-stream; default: the file's, else true
  bool include_usage = true;         // chat stream built from flags: stream_options.include_usage
  std::filesystem::path out;         // required: FILE.jsonl (a set: FILE.1.jsonl … FILE.N.jsonl)
  unsigned repeat = 1;               // runs of the request; 2+ writes a set (recordings/README.md)
  std::uint64_t pause_ms = 0;        // between the runs of a set
  bool keep_errors = false;          // a non-2xx answer (or a chat stream ending in an error event)
                                     // is kept as an error recording instead of failing
  std::vector<std::string> headers;  // extra request headers, "Name: value"
  std::vector<std::string> redact_headers;    // response headers redacted beyond the default list
  std::uint64_t connect_timeout_ms = 10'000;  // DNS + TCP + TLS
  std::uint64_t timeout_ms = 600'000;         // one whole request, first byte to last
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // a response larger than this is an error
};

/** Response headers whose values are always replaced by "[redacted]" (secrets, cookies, the
 *  account's organization and project). Matched without regard to case. */
inline const std::vector<std::string> default_redacted_headers = {
    "authorization",  "proxy-authorization", "cookie",  "set-cookie",    "openai-organization",
    "openai-project", "x-api-key",           "api-key", "x-goog-api-key"};

/** What the command line asked for: a Config to run, or text to print and an exit status. */
struct ParsedArgs {
  std::optional<Config> config;  // set when the recorder should run
  std::string message;           // --help text or the one-line error
  int exit_code = 0;             // when config is empty: 0 after --help, 2 on a bad option
};

/** Parses argv with core's flags::Parser (`--name=VALUE` and `--name VALUE`). */
ParsedArgs parse_args(int argc, char** argv);

/** The --help text, defaults taken from a default-built Config. */
std::string usage(const char* program);

}  // namespace ssebench::recorder
