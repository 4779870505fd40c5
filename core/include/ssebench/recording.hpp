#pragma once
/**
 * The recording: one replayable OpenAI stream, loaded and validated.
 *
 * The file format (JSON lines, version 1) is specified in recordings/README.md. This header is
 * the in-memory model every component shares: the mock server replays it, the harness checks
 * what it received against it, and `ssebench-validate` reports what is wrong with a file.
 */
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::json {
class value;
}

namespace ssebench {

inline constexpr int recording_format_version = 1;
inline constexpr std::string_view recording_format_name = "ssebench-recording";

/** Which OpenAI API the recorded stream came from. */
enum class Api { chat_completions, responses };

std::string_view to_string(Api api);

/** An HTTP header as recorded: order and duplicates are kept. */
struct Header {
  std::string name;
  std::string value;
};

/** The request that produced the recording; the harness sends it as is. */
struct RecordedRequest {
  std::string method;  // "POST"
  std::string path;    // "/v1/chat/completions" or "/v1/responses"
  std::string body;    // exact bytes of the JSON body
};

/** Status line and headers of the streamed response. */
struct RecordedResponse {
  int status = 200;
  std::vector<Header> headers;
  std::chrono::microseconds headers_offset{0};  // when the headers went out, from request start
};

/** The aggregated `stream:false` answer, sent at `offset` from request start. */
struct NonStreamBody {
  std::chrono::microseconds offset{0};
  int status = 200;
  std::vector<Header> headers;
  std::string body;
};

/**
 * One event as it went on the wire.
 *
 * `bytes` is the exact SSE text (`data: {...}\n\n`, or `event: x\ndata: {...}\n\n` for the
 * Responses API). data() is the payload of its single `data:` line, a view into `bytes`.
 */
struct Event {
  std::chrono::microseconds offset{0};  // from the request's start, never decreasing
  std::string kind;                     // see is_content_kind() and recordings/README.md
  std::string bytes;                    // exact wire bytes of the SSE event
  std::size_t data_pos = 0;             // payload position inside `bytes`
  std::size_t data_len = 0;             // payload length
  bool content = false;                 // carries output the user sees (METRICS.md)
  int choice = 0;                       // chat choice index (n>1); 0 for the Responses API
  std::string text;                     // the user-visible delta text of a content event
  /** Recorded only (ssebench-record): the client read, from 0, that brought the event's last
   *  byte; events of one read share it. Every event of a recording has it, or none. */
  std::optional<std::uint64_t> read;

  /** The data payload: "[DONE]" or one JSON value. */
  std::string_view data() const { return std::string_view(bytes).substr(data_pos, data_len); }
  bool is_done() const { return data() == "[DONE]"; }
};

/** Where the recording came from, kept as written for reports. */
struct Provenance {
  std::string source;      // "recorded" | "converted" | "synthesized" | "synthetic"
  std::string timing;      // "recorded" | "synthesized"
  std::string profile;     // timing profile name when synthesized
  std::uint64_t seed = 0;  // generator seed when synthesized
  std::string json;        // the whole provenance object, compact JSON
};

/**
 * Membership of a set of recordings of one request (ssebench-record --repeat N): member `index`
 * of `of` (1-based). The server answers the set's id with its members in turn.
 */
struct RecordingSet {
  std::string id;
  std::uint64_t index = 1;
  std::uint64_t of = 1;
};

/** The text a client must reconstruct, by choice index. */
using Transcript = std::map<int, std::string>;

struct Recording {
  std::string id;  // file stem; a request's "model" field picks the recording by this id
  std::filesystem::path file;
  Api api = Api::chat_completions;
  std::string model;  // the model named inside the chunks (e.g. "gpt-4o-2024-08-06")
  Provenance provenance;
  RecordedRequest request;
  RecordedResponse response;
  std::optional<NonStreamBody> nonstream;
  std::optional<RecordingSet> set;  // when it is one run of a set
  std::vector<Event> events;

  std::uint64_t completion_tokens = 0;  // from the recorded usage, else the content-event count
  std::size_t content_events = 0;
  bool ends_in_error = false;  // last data event is an error / response.failed

  /** Offset of the first content event (time to first token as recorded), if any. */
  std::optional<std::chrono::microseconds> first_content_offset() const;
  /** Offset of the last event; 0 without events. */
  std::chrono::microseconds last_offset() const;
  /** Concatenated content-event text by choice: what a streaming client must rebuild. */
  Transcript transcript() const;
};

/** Limits the loader enforces; every one is named and has a default. */
struct RecordingLimits {
  std::size_t max_file_bytes = 16 * 1024 * 1024;         // a larger file is rejected unread
  std::size_t max_events = 100'000;                      // events per recording
  std::size_t max_event_bytes = 1024 * 1024;             // bytes of one SSE event
  std::int64_t max_offset_us = 24LL * 3600 * 1'000'000;  // an offset (t_us, …) beyond a day
  std::uint64_t max_set_size = 10'000;                   // members of a set (set.of)
};

/** Either a recording or one line that says where and what is wrong. */
struct LoadResult {
  std::shared_ptr<const Recording> recording;  // null on error
  std::string error;  // "<file>:<line>: <what>", or "<file>: <what>" for file-level faults

  explicit operator bool() const { return recording != nullptr; }
};

/** Parses and validates a recording held in memory; `name` is used in messages and as id. */
LoadResult parse_recording(std::string_view text, const std::filesystem::path& name,
                           const RecordingLimits& limits = {});

/** Reads, parses and validates one file. */
LoadResult load_recording(const std::filesystem::path& file, const RecordingLimits& limits = {});

/** Every `*.jsonl` directly in `folder`, sorted by file name. */
struct FolderLoad {
  std::vector<std::shared_ptr<const Recording>> recordings;
  std::vector<std::string> errors;  // one line per bad file
};
FolderLoad load_folder(const std::filesystem::path& folder, const RecordingLimits& limits = {});

/** True for kinds whose events carry user-visible output (METRICS.md "content event"). */
bool is_content_kind(std::string_view kind);

/**
 * The user-visible delta text of one event payload (the JSON after `data: `), and its choice.
 * Chat: delta.content, delta.refusal or tool_calls[].function.arguments; Responses: `delta` of
 * output_text / refusal / function_call_arguments / reasoning_summary_text delta events.
 * Returns nullopt for events that carry none. Shared by the loader and the clients so that both
 * sides reconstruct text by the same rule.
 */
struct DeltaText {
  int choice = 0;
  std::string text;
};
std::optional<DeltaText> delta_text(Api api, std::string_view payload_json);
/** The same, telling apart a payload that is not a JSON object at all (`not_json` set). */
std::optional<DeltaText> delta_text(Api api, std::string_view payload_json, bool& not_json);
/** The same for a payload already parsed (a job event inside a poll answer): no second parse. */
std::optional<DeltaText> delta_text_of(Api api, const boost::json::value& payload);

/**
 * The text a `stream:false` body carries, by choice, in the same shape as Recording::transcript():
 * chat: message.content + message.refusal + every tool call's arguments; Responses: the
 * concatenation of output items' text, refusal, arguments and reasoning summaries (Responses
 * also accepts a `response.completed` event that wraps the object). Choices without text are
 * left out, as in transcript(). nullopt when the body is not JSON or holds no choices / output
 * (an error body).
 */
std::optional<Transcript> nonstream_transcript(Api api, std::string_view body_json);
/** The same for a body already parsed (a polled snapshot): no second parse. */
std::optional<Transcript> nonstream_transcript_of(Api api, const boost::json::value& body);

}  // namespace ssebench
