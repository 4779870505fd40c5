#include "ssebench/server/config.hpp"

#include <getopt.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "ssebench/parse.hpp"

namespace ssebench::server {
namespace {

enum Opt : int {
  opt_help = 'h',
  opt_bind = 1000,
  opt_port,
  opt_threads,
  opt_recordings,
  opt_speed,
  opt_header_limit,
  opt_body_limit,
  opt_idle_timeout,
  opt_request_timeout,
  opt_write_timeout,
  opt_stream_lifetime,
  opt_close_linger,
  opt_max_connections,
  opt_max_jobs,
  opt_job_retention,
  opt_long_poll_max_wait,
  opt_cors_origins,
  opt_no_model_aliases,
  opt_snapshot_limit,
};

const option long_options[] = {
    {"help", no_argument, nullptr, opt_help},
    {"bind", required_argument, nullptr, opt_bind},
    {"port", required_argument, nullptr, opt_port},
    {"threads", required_argument, nullptr, opt_threads},
    {"recordings", required_argument, nullptr, opt_recordings},
    {"speed", required_argument, nullptr, opt_speed},
    {"header-limit-bytes", required_argument, nullptr, opt_header_limit},
    {"body-limit-bytes", required_argument, nullptr, opt_body_limit},
    {"idle-timeout-ms", required_argument, nullptr, opt_idle_timeout},
    {"request-timeout-ms", required_argument, nullptr, opt_request_timeout},
    {"write-timeout-ms", required_argument, nullptr, opt_write_timeout},
    {"stream-lifetime-limit-ms", required_argument, nullptr, opt_stream_lifetime},
    {"close-linger-ms", required_argument, nullptr, opt_close_linger},
    {"max-connections", required_argument, nullptr, opt_max_connections},
    {"max-jobs", required_argument, nullptr, opt_max_jobs},
    {"job-retention-ms", required_argument, nullptr, opt_job_retention},
    {"long-poll-max-wait-ms", required_argument, nullptr, opt_long_poll_max_wait},
    {"cors-origins", required_argument, nullptr, opt_cors_origins},
    {"no-model-aliases", no_argument, nullptr, opt_no_model_aliases},
    {"snapshot-limit-bytes", required_argument, nullptr, opt_snapshot_limit},
    {nullptr, 0, nullptr, 0},
};

}  // namespace

std::vector<std::string> allowed_origins(const Config& config) {
  std::string_view list = config.cors_origins;
  if (list == "none") return {};
  if (list == "auto") {
    const std::string& a = config.bind_address;
    const bool loopback = a.starts_with("127.") || a == "::1" || a == "localhost";
    return loopback ? std::vector<std::string>{"*"} : std::vector<std::string>{};
  }
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return out;
}

std::string usage(const char* program) {
  const Config d;
  return fmt::format(
      "usage: {} [options]\n"
      "Replays recorded OpenAI streams (SSE, REST, polling, long polling) at their recorded pace.\n"
      "Prints 'listening on http://ADDR:PORT' as the first line on stdout.\n\n"
      "  --bind ADDR                    address to listen on (default {})\n"
      "  --port N                       port, 0 = pick one (default {})\n"
      "  --threads N                    threads running the event loop (default {})\n"
      "  --recordings DIR               folder of *.jsonl recordings (default {})\n"
      "  --speed S                      replay speed, 0 = as fast as possible; per request:\n"
      "                                 header x-ssebench-speed (default {})\n"
      "  --header-limit-bytes N         request line + headers limit, else 431 (default {})\n"
      "  --body-limit-bytes N           request body limit, else 413 (default {})\n"
      "  --idle-timeout-ms N            idle keep-alive connection timeout (default {})\n"
      "  --request-timeout-ms N         a request's line, headers and body must arrive within\n"
      "                                 this from its first byte, else close (default {})\n"
      "  --write-timeout-ms N           a write the client does not take within this (it stopped\n"
      "                                 reading): close (default {})\n"
      "  --stream-lifetime-limit-ms N   longest stream or held request (default {})\n"
      "  --close-linger-ms N            drain time before closing after an error (default {})\n"
      "  --max-connections N            open connections; more are closed (default {})\n"
      "  --max-jobs N                   background jobs held, else 429 (default {})\n"
      "  --job-retention-ms N           finished jobs are kept this long (default {})\n"
      "  --long-poll-max-wait-ms N      cap on a long poll's wait_ms (default {})\n"
      "  --cors-origins LIST            origins browsers may call from: comma-separated, '*' or\n"
      "                                 'none'; 'auto' = '*' on loopback, else none (default {})\n"
      "  --no-model-aliases             real model names do not pick a recording (default: they "
      "do)\n"
      "  --snapshot-limit-bytes N       memory for one recording's polled answers (default {})\n"
      "  --help                         this text\n",
      program, d.bind_address, d.port, d.threads, d.recordings.string(), d.speed,
      d.header_limit_bytes, d.body_limit_bytes, d.idle_timeout_ms, d.request_timeout_ms,
      d.write_timeout_ms, d.stream_lifetime_limit_ms, d.close_linger_ms, d.max_connections,
      d.max_jobs, d.job_retention_ms, d.long_poll_max_wait_ms, d.cors_origins,
      d.snapshot_limit_bytes);
}

ParsedArgs parse_args(int argc, char** argv) {
  ParsedArgs result;
  Config config;
  const char* program = argc > 0 ? argv[0] : "ssebench-mock-server";
  optind = 0;  // GNU: restart scanning (parse_args may be called more than once)
  opterr = 0;  // errors are reported here, as one line
  auto bad = [&](std::string what) {
    result.message = fmt::format("{}: {} (see --help)", program, what);
    result.exit_code = 2;
    return result;
  };
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
      case opt_bind:
        config.bind_address = arg;
        ok = !arg.empty();
        break;
      case opt_port:
        ok = parse_uint<std::uint16_t>(arg, config.port);
        break;
      case opt_threads:
        ok = parse_uint<unsigned>(arg, config.threads, 1, 256);
        break;
      case opt_recordings:
        config.recordings = std::string(arg);
        ok = !arg.empty();
        break;
      case opt_speed: {
        double v = 0;
        auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
        ok = ec == std::errc{} && p == arg.data() + arg.size() && !arg.empty() &&
             std::isfinite(v) && v >= 0;
        config.speed = v;
        break;
      }
      case opt_header_limit:
        ok = parse_uint<std::size_t>(arg, config.header_limit_bytes, 64);
        break;
      case opt_body_limit:
        ok = parse_uint<std::size_t>(arg, config.body_limit_bytes);
        break;
      case opt_idle_timeout:
        ok = parse_uint<std::uint64_t>(arg, config.idle_timeout_ms, 1, max_duration_ms);
        break;
      case opt_request_timeout:
        ok = parse_uint<std::uint64_t>(arg, config.request_timeout_ms, 1, max_duration_ms);
        break;
      case opt_write_timeout:
        ok = parse_uint<std::uint64_t>(arg, config.write_timeout_ms, 1, max_duration_ms);
        break;
      case opt_stream_lifetime:
        ok = parse_uint<std::uint64_t>(arg, config.stream_lifetime_limit_ms, 1, max_duration_ms);
        break;
      case opt_close_linger:
        ok = parse_uint<std::uint64_t>(arg, config.close_linger_ms, 0, max_duration_ms);
        break;
      case opt_max_connections:
        ok = parse_uint<std::size_t>(arg, config.max_connections, 1);
        break;
      case opt_max_jobs:
        ok = parse_uint<std::size_t>(arg, config.max_jobs);
        break;
      case opt_job_retention:
        ok = parse_uint<std::uint64_t>(arg, config.job_retention_ms, 0, max_duration_ms);
        break;
      case opt_long_poll_max_wait:
        ok = parse_uint<std::uint64_t>(arg, config.long_poll_max_wait_ms, 0, max_duration_ms);
        break;
      case opt_cors_origins:
        config.cors_origins = arg;
        ok = !arg.empty();
        break;
      case opt_no_model_aliases:
        config.model_aliases = false;
        break;
      case opt_snapshot_limit:
        ok = parse_uint<std::size_t>(arg, config.snapshot_limit_bytes, 1);
        break;
      case ':':
        return bad(fmt::format("option '{}' needs a value", argv[optind - 1]));
      default:
        return bad(fmt::format("unknown option '{}'", argv[optind - 1]));
    }
    if (!ok) return bad(fmt::format("bad value '{}' for --{}", arg, long_options[index].name));
  }
  if (optind < argc) return bad(fmt::format("unexpected argument '{}'", argv[optind]));
  result.config = std::move(config);
  return result;
}

}  // namespace ssebench::server
