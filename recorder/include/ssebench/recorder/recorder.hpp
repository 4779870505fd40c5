#pragma once
/**
 * ssebench-record: one request to an OpenAI-style endpoint, captured as the client saw it, then
 * written as a recording (recordings/README.md) that the mock server replays.
 *
 * Offset 0 is the moment libcurl is about to send the request on an established connection
 * (CURLOPT_PREREQFUNCTION), on std::chrono::steady_clock: DNS, TCP and TLS set-up are not in the
 * offsets (provenance.connect_us says how long they took), as the server's clock starts when it
 * has read the request. Each event's offset is the time of the read that brought its last byte.
 */
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ssebench/recorder/config.hpp"
#include "ssebench/recording.hpp"

namespace ssebench::recorder {

/** The request to send, built once from the Config (the API key is not in it). */
struct RequestSpec {
  std::string url;        // BASE/chat/completions or BASE/responses
  std::string shown_url;  // url without user info, query or fragment: messages, provenance
  std::string path;       // what the recording names: /v1/chat/completions or /v1/responses
  std::string body;       // exact bytes sent
  std::string model;      // the body's model
  bool stream = true;
  Api api = Api::chat_completions;
};

/** Builds the request from the flags or the body file; a one-line error otherwise. */
std::variant<RequestSpec, std::string> build_request(const Config& config);

/** One SSE event as received. */
struct ReceivedEvent {
  std::string bytes;  // exact bytes, framing included
  std::chrono::microseconds offset{0};
  std::uint64_t read = 0;
};

/**
 * Cuts a body into SSE events at each blank line, keeping the exact bytes. Blocks made only of
 * comment lines (`:` keep-alives) are dropped and counted: the format holds events only. A CR
 * anywhere is an error (the format holds LF line ends, what OpenAI sends).
 */
class EventSplitter {
 public:
  /** Feeds the next body bytes, read at `offset` in read `read`; false on error (see error()). */
  bool feed(std::string_view bytes, std::chrono::microseconds offset, std::uint64_t read);

  std::vector<ReceivedEvent>& events() { return events_; }
  std::size_t dropped_comments() const { return dropped_comments_; }
  /** Bytes after the last blank line (an event not finished). */
  std::size_t pending() const { return pending_.size(); }
  const std::string& error() const { return error_; }

 private:
  std::string pending_;
  std::uint64_t position_ = 0;  // body bytes fed so far, for messages
  std::vector<ReceivedEvent> events_;
  std::size_t dropped_comments_ = 0;
  std::string error_;
};

/** What one request brought back. */
struct Capture {
  long status = 0;
  std::vector<Header> headers;  // as received, order and duplicates kept, not yet redacted
  std::chrono::microseconds headers_offset{0};
  std::vector<ReceivedEvent> events;  // streamed 2xx answers
  std::size_t dropped_comments = 0;
  std::string body;                          // a non-streamed answer, or a non-2xx body
  std::chrono::microseconds body_offset{0};  // its last byte
  std::uint64_t reads = 0;                   // reads of the response body
  std::uint64_t connect_us = 0;              // DNS + TCP + TLS before offset 0 (0: reused)
  std::string date;                          // UTC, ISO 8601, when the request went out
};

/** A failed run: one line, and whether --keep-errors would have kept what came back. */
struct Failure {
  std::string message;
  bool keepable = false;  // a non-2xx answer, or a chat stream ending in an error event
};

/** Reuses one libcurl handle (and its connection) across the runs of a set. */
class Client {
 public:
  explicit Client(const Config& config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /** Sends the request and captures the answer, whatever its status; a Failure when no whole
   *  answer came back (unreachable, timeout, cut off, too large). */
  std::variant<Capture, Failure> run(const RequestSpec& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/** The kind of a chat chunk (recordings/README.md): content, refusal, tool_args, finish, … */
std::string chat_kind(std::string_view payload);

/** Headers with every name in the default list or `extra` (any case) valued "[redacted]"; the
 *  names redacted, lowercased, in `redacted`. */
std::vector<Header> redact(const std::vector<Header>& headers,
                           const std::vector<std::string>& extra,
                           std::vector<std::string>& redacted);

/**
 * The recording text of a capture, validated by the loader the server uses (`file` names it in
 * messages); a Failure when the capture does not make a recording: a non-2xx answer (unless
 * config.keep_errors), a stream without [DONE] or its Responses end, bytes that are not SSE.
 * `api_key`: replaced by "[redacted]" wherever it appears.
 */
struct Built {
  std::string text;
  bool error_recording = false;  // kept by --keep-errors
  std::string summary;           // "12 events, 8 content, 0.570 s"
};
std::variant<Built, Failure> build_recording(const Capture& capture, const RequestSpec& request,
                                             const Config& config,
                                             const std::optional<RecordingSet>& set,
                                             const std::filesystem::path& file,
                                             std::string_view api_key = {});

/** The whole command: runs, checks, writes (to temporary names, renamed at the end); the exit
 *  status. Prints one line per file written on stdout, one line on stderr on failure. */
int record(const Config& config);

/** "ssebench-record/VERSION libcurl/VERSION". */
std::string client_name();

}  // namespace ssebench::recorder
