#include "ssebench/server/config.hpp"

#include <cmath>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>

#include "ssebench/flags.hpp"

namespace ssebench::server {

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

namespace {

/** Milliseconds as a seconds flag prints them: 0, 0.05, 15. */
std::string seconds(std::uint64_t ms) {
  return fmt::format("{}", static_cast<double>(ms) / 1000.0);
}

/**
 * A duration in seconds, fractions allowed ("0.05", "15"), held in milliseconds: 0 (off) or
 * from 0.001 to a year (flags::max_duration_ms); a positive value under a millisecond would
 * round to "off" and is refused instead.
 */
std::uint64_t seconds_ms(std::string_view flag, std::string_view text) {
  const double s = flags::real(flag, text, 0, static_cast<double>(flags::max_duration_ms) / 1000.0);
  const auto ms = static_cast<std::uint64_t>(std::llround(s * 1000.0));
  if (s > 0 && ms == 0)
    throw flags::bad_value(flag, text, "0 (off) or at least 0.001 (a millisecond)");
  return ms;
}

}  // namespace

std::string usage(const char* program) {
  const Config d;
  return fmt::format(
      "usage: {} [options]\n"
      "Replays recorded OpenAI streams (SSE, REST, polling, long polling) at their recorded pace.\n"
      "Prints 'listening on http://ADDR:PORT' as the first line on stdout.\n\n"
      "  --bind ADDR                    address to listen on (default {})\n"
      "  --port N                       port, 0 = pick one (default {})\n"
      "  --reuse-port                   SO_REUSEPORT: several servers share one --port, the\n"
      "                                 kernel spreads connections over them (default: off)\n"
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
      "  --x-accel-buffering-no         SSE answers carry 'X-Accel-Buffering: no' (nginx then\n"
      "                                 passes them unbuffered; default: not sent, as OpenAI)\n"
      "  --sse-heartbeat SECONDS        an SSE comment (':' and a blank line, 3 bytes) after\n"
      "                                 SECONDS of silence on a stream (fractions: 0.05), real\n"
      "                                 time at any speed; 0 = none (default {})\n"
      "  --sse-heartbeat-ms N           the same in milliseconds\n"
      "  --ws-ping SECONDS              a WebSocket ping after SECONDS without a write on a\n"
      "                                 WebSocket connection; 0 = none (default {})\n"
      "  --ws-ping-ms N                 the same in milliseconds\n"
      "  --tls-port N                   also serve HTTPS and wss (ALPN h2, http/1.1) on this "
      "port,\n"
      "                                 0 = pick one; prints 'listening on https://ADDR:PORT' as\n"
      "                                 the second line (default: no TLS)\n"
      "  --tls-cert PEM                 the server certificate (needed with --tls-port)\n"
      "  --tls-key PEM                  its private key (needed with --tls-port)\n"
      "  --tls-keylog FILE              append TLS secrets in NSS key log format (default: none)\n"
      "  --tls-handshake-timeout-ms N   a TLS handshake not done within this: close (default {})\n"
      "  --help                         this text\n",
      program, d.bind_address, d.port, d.threads, d.recordings.string(), d.speed,
      d.header_limit_bytes, d.body_limit_bytes, d.idle_timeout_ms, d.request_timeout_ms,
      d.write_timeout_ms, d.stream_lifetime_limit_ms, d.close_linger_ms, d.max_connections,
      d.max_jobs, d.job_retention_ms, d.long_poll_max_wait_ms, d.cors_origins,
      d.snapshot_limit_bytes, seconds(d.sse_heartbeat_ms), seconds(d.ws_ping_ms),
      d.tls_handshake_timeout_ms);
}

namespace {

/** A value that must not be empty (an address, a folder, a list). */
std::string non_empty(std::string_view flag, std::string_view text) {
  if (text.empty()) throw flags::bad_value(flag, text, "must not be empty");
  return std::string(text);
}

}  // namespace

ParsedArgs parse_args(int argc, char** argv) {
  ParsedArgs result;
  Config c;
  const char* program = argc > 0 ? argv[0] : "ssebench-mock-server";
  bool help = argc == 2 && std::string_view(argv[1]) == "-h";  // as getopt took it
  using flags::duration_ms;
  using flags::integer;
  flags::Parser p;
  p.toggle("help", [&] { help = true; });
  p.value("bind", [&](std::string_view v) { c.bind_address = non_empty("bind", v); });
  p.toggle("reuse-port", [&] { c.reuse_port = true; });
  p.value("port", [&](std::string_view v) {  // unsigned: the message names the range then
    c.port = static_cast<std::uint16_t>(integer<unsigned>("port", v, 0, 65535));
  });
  p.value("threads",
          [&](std::string_view v) { c.threads = integer<unsigned>("threads", v, 1, 256); });
  p.value("recordings", [&](std::string_view v) { c.recordings = non_empty("recordings", v); });
  p.value("speed", [&](std::string_view v) { c.speed = flags::real("speed", v); });
  p.value("header-limit-bytes", [&](std::string_view v) {
    c.header_limit_bytes = integer<std::size_t>("header-limit-bytes", v, 64);
  });
  p.value("body-limit-bytes", [&](std::string_view v) {
    c.body_limit_bytes = integer<std::size_t>("body-limit-bytes", v);
  });
  p.value("idle-timeout-ms",
          [&](std::string_view v) { c.idle_timeout_ms = duration_ms("idle-timeout-ms", v, 1); });
  p.value("request-timeout-ms", [&](std::string_view v) {
    c.request_timeout_ms = duration_ms("request-timeout-ms", v, 1);
  });
  p.value("write-timeout-ms",
          [&](std::string_view v) { c.write_timeout_ms = duration_ms("write-timeout-ms", v, 1); });
  p.value("stream-lifetime-limit-ms", [&](std::string_view v) {
    c.stream_lifetime_limit_ms = duration_ms("stream-lifetime-limit-ms", v, 1);
  });
  p.value("close-linger-ms",
          [&](std::string_view v) { c.close_linger_ms = duration_ms("close-linger-ms", v); });
  p.value("max-connections", [&](std::string_view v) {
    c.max_connections = integer<std::size_t>("max-connections", v, 1);
  });
  p.value("max-jobs",
          [&](std::string_view v) { c.max_jobs = integer<std::size_t>("max-jobs", v); });
  p.value("job-retention-ms",
          [&](std::string_view v) { c.job_retention_ms = duration_ms("job-retention-ms", v); });
  p.value("long-poll-max-wait-ms", [&](std::string_view v) {
    c.long_poll_max_wait_ms = duration_ms("long-poll-max-wait-ms", v);
  });
  p.value("cors-origins",
          [&](std::string_view v) { c.cors_origins = non_empty("cors-origins", v); });
  p.toggle("no-model-aliases", [&] { c.model_aliases = false; });
  p.value("snapshot-limit-bytes", [&](std::string_view v) {
    c.snapshot_limit_bytes = integer<std::size_t>("snapshot-limit-bytes", v, 1);
  });
  p.toggle("x-accel-buffering-no", [&] { c.x_accel_buffering_no = true; });
  // Two spellings of each: seconds (as the options of issue 19 name them) and milliseconds (as
  // every other duration here); the last one given wins.
  p.value("sse-heartbeat",
          [&](std::string_view v) { c.sse_heartbeat_ms = seconds_ms("sse-heartbeat", v); });
  p.value("sse-heartbeat-ms",
          [&](std::string_view v) { c.sse_heartbeat_ms = duration_ms("sse-heartbeat-ms", v); });
  p.value("ws-ping", [&](std::string_view v) { c.ws_ping_ms = seconds_ms("ws-ping", v); });
  p.value("ws-ping-ms", [&](std::string_view v) { c.ws_ping_ms = duration_ms("ws-ping-ms", v); });
  p.value("tls-port", [&](std::string_view v) {
    c.tls_port = static_cast<std::uint16_t>(integer<unsigned>("tls-port", v, 0, 65535));
  });
  p.value("tls-cert", [&](std::string_view v) { c.tls_cert = non_empty("tls-cert", v); });
  p.value("tls-key", [&](std::string_view v) { c.tls_key = non_empty("tls-key", v); });
  p.value("tls-keylog", [&](std::string_view v) { c.tls_keylog = non_empty("tls-keylog", v); });
  p.value("tls-handshake-timeout-ms", [&](std::string_view v) {
    c.tls_handshake_timeout_ms = duration_ms("tls-handshake-timeout-ms", v, 1);
  });
  try {
    if (!help) p.parse(argc, argv);
    // TLS needs its certificate and key, and they mean nothing without the TLS port.
    if (c.tls_port && (c.tls_cert.empty() || c.tls_key.empty()))
      throw flags::Error("--tls-port needs --tls-cert and --tls-key");
    if (!c.tls_port && (!c.tls_cert.empty() || !c.tls_key.empty() || !c.tls_keylog.empty()))
      throw flags::Error("--tls-cert, --tls-key and --tls-keylog need --tls-port");
  } catch (const flags::Error& e) {
    // The line flags::fail prints, kept here for parse_args' callers (main prints it).
    result.message = fmt::format("{}: {} (see --help)",
                                 std::filesystem::path(program).filename().string(), e.what());
    result.exit_code = 2;
    return result;
  }
  if (help) {
    result.message = usage(program);
    return result;
  }
  result.config = std::move(c);
  return result;
}

}  // namespace ssebench::server
