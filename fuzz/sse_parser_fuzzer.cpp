// sse_parser_fuzzer: the incremental SSE parser must give the same events (type, data, id,
// retry), comment count and pending state whether the bytes come in one piece or split at the
// points the input chooses (split.hpp), and must never crash or hit UB.
//
// SSEBENCH_FUZZ_SSE_NO_EMPTY_FEEDS=1 drops the empty pieces: feed("") between a "\r" and its "\n"
// is a known bug (fuzz/README.md, "Findings"); the switch lets a run look past it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "split.hpp"
#include "ssebench/bench/sse_parser.hpp"

namespace {

using ssebench::bench::SseEvent;
using ssebench::bench::SseParser;

struct Outcome {
  std::vector<SseEvent> events;
  std::size_t comments = 0;
  std::size_t dispatched = 0;
  bool pending = false;
};

template <typename Pieces>
Outcome run(const Pieces& pieces) {
  Outcome out;
  SseParser parser([&out](const SseEvent& e) { out.events.push_back(e); });
  for (const auto& piece : pieces) parser.feed(piece);
  out.comments = parser.comments();
  out.dispatched = parser.events();
  out.pending = parser.pending();
  return out;
}

bool same(const SseEvent& a, const SseEvent& b) {
  return a.type == b.type && a.data == b.data && a.id == b.id && a.retry == b.retry;
}

[[noreturn]] void differ(const char* what, std::size_t pieces) {
  std::fprintf(stderr, "sse_parser_fuzzer: split into %zu pieces: %s differs from one piece\n",
               pieces, what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool no_empty_feeds = [] {
    const char* v = std::getenv("SSEBENCH_FUZZ_SSE_NO_EMPTY_FEEDS");
    return v != nullptr && std::string_view(v) == "1";
  }();
  auto split = ssebench::fuzz::split_input(data, size);
  if (no_empty_feeds) std::erase(split.pieces, std::string_view{});
  const Outcome whole = run(std::vector<std::string_view>{split.payload});
  const Outcome pieces = run(split.pieces);

  if (whole.dispatched != whole.events.size()) differ("events() vs callbacks (whole)", 1);
  if (pieces.events.size() != whole.events.size())
    differ("the number of events", split.pieces.size());
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    if (!same(whole.events[i], pieces.events[i])) differ("an event", split.pieces.size());
  }
  if (pieces.comments != whole.comments) differ("comments()", split.pieces.size());
  if (pieces.dispatched != whole.dispatched) differ("events()", split.pieces.size());
  if (pieces.pending != whole.pending) differ("pending()", split.pieces.size());
  return 0;
}
