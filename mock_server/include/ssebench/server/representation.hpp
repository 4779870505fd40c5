#pragma once
/**
 * Every polled representation of one recording, precomputed at start-up: the object a background
 * job shows after each of its events (as the official openai SDK accumulates it from the stream),
 * the delta texts, where the recorded response id sits in the event bytes, and the input items.
 * Pure functions over a Recording and its ReplayClock: no sockets, no Beast. A poll answer is
 * then string concatenation, never a JSON build.
 */
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/recording.hpp"
#include "ssebench/replay_clock.hpp"

namespace ssebench::server {

/** What every job answer of one recording is built from; computed once at start-up, immutable. */
struct Representation {
  std::string object;  // "response" (Responses API) or "chat.completion"
  /** tails[k], k = 0..E (E = clock.job_events()): the object accumulated from job events 0..k-1,
   *  serialized as JSON object MEMBERS without the outer braces and without the keys "id" and
   *  "status" (e.g. `"object":"response","created_at":1,...,"output":[...]`). A server answers
   *  `{"id":"JOB","status":"S",` + tails[k] + `}`. Never empty (it always has "object"). */
  std::vector<std::string> tails;
  /** The openai shape's object before the job ends: no output (same member form as tails). */
  std::string pending_tail;
  /** Per job event seq (0..E-1): its user-visible delta text (ssebench::delta_text rule) already
   *  JSON-escaped without quotes (empty when none), and its choice index. */
  std::vector<std::string> delta_escaped;
  std::vector<int> delta_choice;
  bool multi_choice = false;  // chat recording with more than one choice index
  /** The recorded response id (Responses: response.created's response.id; chat: the chunks' id),
   *  empty if none; and per RECORDING event index (events.size() entries), the byte offsets in
   *  Event::bytes where that id string occurs (only inside JSON string values, never in keys). */
  std::string recorded_id;
  std::size_t recorded_id_escaped_size = 0;  // its JSON-escaped length: what id_positions skip
  std::vector<std::vector<std::size_t>> id_positions;
  /** GET /v1/responses/{id}/input_items body members:
   *  `"object":"list","data":[...],"first_id":...,"last_id":...,"has_more":false`, built from the
   *  recorded request body's `input` (a string input becomes one user message item
   *  {"id":"msg_in_0","type":"message","role":"user","content":[{"type":"input_text","text":...}]};
   *  array items are kept, given "id":"msg_in_<i>" when they have none, and "type":"message"
   *  when they have a role). Empty list for chat. */
  std::string input_items;

  /** Memory held: the sum of the string sizes, plus the id positions. */
  std::size_t bytes() const;
};

/** Builds it; throws std::runtime_error with a one-line message naming the recording when the
 *  representation (bytes()) would take more than `budget_bytes`. Checked as the tails are built,
 *  so a huge recording fails fast without allocating them all. */
Representation build_representation(const ReplayClock& clock, std::size_t budget_bytes);

/** Event bytes (a recording event at `event_index`) with every occurrence of the recorded id
 *  replaced by `job_id` (background streams carry the job's id). Returns the bytes unchanged
 *  (a copy) when there are none. */
std::string with_job_id(const Representation& r, const Recording& rec, std::size_t event_index,
                        std::string_view job_id);

/** The same, appended to `out` (whose capacity a stream reuses event after event: no allocation
 *  once it has grown), with the job id given already JSON-escaped (json_escaped()). */
void append_with_job_id(std::string& out, const Representation& r, const Recording& rec,
                        std::size_t event_index, std::string_view escaped_job_id);

/** A string's JSON escaping without the quotes. */
std::string json_escaped(std::string_view s);

}  // namespace ssebench::server
