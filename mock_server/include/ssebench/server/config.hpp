#pragma once
/**
 * Everything the mock server can be told, with its default. `--help` prints these defaults from a
 * default-built Config, so the two can never disagree.
 */
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ssebench::server {

struct Config {
  std::string bind_address = "127.0.0.1";  // IPv4/IPv6 literal to listen on
  std::uint16_t port = 0;                  // 0 = let the kernel pick one
  /** SO_REUSEPORT on the listeners: several server processes share one port, the kernel
   *  spreading connections over them (a process holds at most RLIMIT_NOFILE sockets). */
  bool reuse_port = false;
  unsigned threads = 1;  // threads running the io_context (strand per connection)
  std::filesystem::path recordings = "recordings";  // folder of *.jsonl recordings
  double speed = 1.0;                               // replay speed; 0 = as fast as possible
  std::size_t header_limit_bytes = 8 * 1024;   // request line + headers; over: 431 (414), close
  std::size_t body_limit_bytes = 1024 * 1024;  // request body; over it: 413, then close
  std::uint64_t idle_timeout_ms = 60'000;      // keep-alive connection with no request: closed
  /** From a request's first byte, its line, headers and body must all arrive within this, else
   *  the connection is closed: a client trickling its headers cannot hold a session forever. */
  std::uint64_t request_timeout_ms = 10'000;
  /** A write (an event, a stream's headers, an answer) not completed after this long means the
   *  client stopped reading: the connection is closed. Unsent bytes per connection are one event
   *  or one answer in the process plus what the kernel's send buffer holds. */
  std::uint64_t write_timeout_ms = 30'000;
  std::uint64_t stream_lifetime_limit_ms = 600'000;  // a stream or held request longer: closed
  std::uint64_t close_linger_ms = 1'000;  // after an error that closes: drain the client this long
  std::size_t max_connections = 10'000;   // accepted connections beyond this are closed at once
  /** HTTP/2: streams a client may have open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS);
   *  more are refused with RST_STREAM REFUSED_STREAM. */
  std::uint32_t h2_max_concurrent_streams = 100;
  std::size_t max_jobs = 10'000;            // background jobs held at once; beyond: 429
  std::uint64_t job_retention_ms = 60'000;  // a finished job is forgotten this long after its end
  std::uint64_t long_poll_max_wait_ms = 30'000;  // cap on a long-poll's wait_ms
  /** Origins a browser page may call from (comma-separated, "*" = any, "none"); "auto": "*" when
   *  bound to a loopback address, none otherwise. */
  std::string cors_origins = "auto";
  bool model_aliases = true;  // a real model name ("gpt-4o-mini") picks a recording of that model
  std::size_t snapshot_limit_bytes = 256 * 1024 * 1024;  // a recording's polled answers, in memory
  /** SSE answers carry `X-Accel-Buffering: no`, which tells nginx not to buffer them (off by
   *  default: OpenAI's streams do not send it). */
  bool x_accel_buffering_no = false;
  /** An SSE comment (StreamCursor::heartbeat_bytes, `:\n\n`) whenever a stream has sent nothing
   *  for this long, in real time whatever the replay speed, so that a proxy's read timeout sees
   *  traffic; 0 = never (the default: OpenAI sends none). WebSocket turns get none. */
  std::uint64_t sse_heartbeat_ms = 0;
  /** A WebSocket ping (empty payload) whenever a connection has written nothing for this long,
   *  during a turn or between turns; the client's pongs are counted. 0 = never (the default). */
  std::uint64_t ws_ping_ms = 0;
  /** A second listener serving HTTPS and wss (ALPN: h2, http/1.1) on bind_address; unset = none,
   *  0 = let the kernel pick one. Needs tls_cert and tls_key. */
  std::optional<std::uint16_t> tls_port;
  std::filesystem::path tls_cert;    // PEM: the server's certificate (chain)
  std::filesystem::path tls_key;     // PEM: its private key
  std::filesystem::path tls_keylog;  // NSS key log (SSLKEYLOGFILE format), only when set
  /** From accept, the TLS handshake must be done within this, else the connection is closed. */
  std::uint64_t tls_handshake_timeout_ms = 10'000;
};

/** The origins `config` allows: empty = none, {"*"} = any. */
std::vector<std::string> allowed_origins(const Config& config);

/** What the command line asked for: a Config to run, or text to print and an exit status. */
struct ParsedArgs {
  std::optional<Config> config;  // set when the server should run
  std::string message;           // --help text or the one-line error
  int exit_code = 0;             // when config is empty: 0 after --help, 2 on a bad option
};

/**
 * Parses argv with core's flags::Parser (`--name=VALUE` and `--name VALUE`; every `-ms` value at
 * most flags::max_duration_ms, a year).
 */
ParsedArgs parse_args(int argc, char** argv);

/** The --help text, defaults taken from a default-built Config. */
std::string usage(const char* program);

}  // namespace ssebench::server
