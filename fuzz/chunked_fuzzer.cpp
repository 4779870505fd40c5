// chunked_fuzzer: the incremental chunked decoder must give the same body, state, error and
// chunk count whether the raw bytes come in one piece or split at the points the input chooses
// (split.hpp). Then a round trip: the payload chunk-encoded at those split points (sizes in
// hex of varying case, an extension on odd chunks, a trailer) must decode back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "split.hpp"
#include "ssebench/bench/chunked.hpp"

namespace {

using ssebench::bench::ChunkedDecoder;

struct Outcome {
  std::string body;
  bool ok = true;  // the last feed's answer
  bool done = false;
  bool failed = false;
  std::string error;
  std::size_t chunks = 0;
};

template <typename Pieces>
Outcome run(const Pieces& pieces) {
  Outcome out;
  ChunkedDecoder decoder;
  for (const auto& piece : pieces) out.ok = decoder.feed(piece, out.body);
  out.done = decoder.done();
  out.failed = decoder.failed();
  out.error = decoder.error();
  out.chunks = decoder.chunks();
  return out;
}

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "chunked_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

std::string hex(std::size_t n, bool upper) {
  char buf[32];
  std::snprintf(buf, sizeof buf, upper ? "%zX" : "%zx", n);
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto split = ssebench::fuzz::split_input(data, size);

  // Differential: arbitrary bytes, whole vs split.
  const Outcome whole = run(std::vector<std::string_view>{split.payload});
  const Outcome pieces = run(split.pieces);
  if (whole.failed != !whole.ok) die("feed()'s answer disagrees with failed()");
  if (whole.done && whole.failed) die("done and failed");
  if (pieces.body != whole.body) die("split body differs from one piece");
  if (pieces.done != whole.done) die("split done() differs from one piece");
  if (pieces.failed != whole.failed) die("split failed() differs from one piece");
  if (pieces.error != whole.error) die("split error differs from one piece", pieces.error);
  if (pieces.chunks != whole.chunks) die("split chunks() differs from one piece");
  if (!split.pieces.empty() && pieces.ok == pieces.failed)
    die("feed()'s answer disagrees with failed() (split)");

  // Round trip: encode the payload at the split points, decode it in one piece and split.
  std::string encoded;
  std::size_t data_chunks = 0;
  for (const auto piece : split.pieces) {
    if (piece.empty()) continue;
    encoded += hex(piece.size(), data_chunks % 2 == 1);
    if (data_chunks % 2 == 1) encoded += ";ext=1";
    encoded += "\r\n";
    encoded += piece;
    encoded += "\r\n";
    ++data_chunks;
  }
  encoded += "0\r\nx-trailer: 1\r\n\r\n";
  std::vector<std::string_view> encoded_pieces;
  std::string_view rest = encoded;
  for (std::size_t k = 0; !rest.empty(); ++k) {
    const std::size_t len = split.pieces.empty() ? rest.size() : 1 + (k * 7) % 13;
    encoded_pieces.push_back(rest.substr(0, len < rest.size() ? len : rest.size()));
    rest.remove_prefix(encoded_pieces.back().size());
  }
  for (const Outcome& o : {run(std::vector<std::string_view>{encoded}), run(encoded_pieces)}) {
    if (!o.done || o.failed) die("a valid encoding did not decode", o.error);
    if (o.body != split.payload) die("round trip changed the body");
    if (o.chunks != data_chunks) die("round trip miscounted chunks");
  }
  return 0;
}
