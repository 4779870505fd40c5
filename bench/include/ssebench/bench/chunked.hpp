#pragma once
/**
 * An incremental HTTP/1.1 chunked transfer-coding decoder (RFC 9112 §7.1).
 *
 * The clients turn libcurl's transfer decoding off so that the bytes they count are the bytes
 * that crossed the socket; this decoder then recovers the body from the raw chunked stream,
 * however it was split across reads.
 */
#include <cstddef>
#include <string>
#include <string_view>

namespace ssebench::bench {

class ChunkedDecoder {
 public:
  /** Limit on the hex digits of one chunk size (16 digits = 64 bits). */
  static constexpr std::size_t max_size_digits = 16;
  /** Limit on one chunk-extension or trailer line, in bytes. */
  static constexpr std::size_t max_line_bytes = 8 * 1024;

  /**
   * Decodes `raw` and appends the body bytes it holds to `out`. Returns false on malformed
   * input (then error() says what); bytes after the end of the message are ignored.
   */
  bool feed(std::string_view raw, std::string& out);
  /** As feed, keeping none of the body: only where the message ends (done()) or that it is
   *  malformed. */
  bool scan(std::string_view raw);

  /** The last chunk and its trailers have been read. */
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }
  const std::string& error() const { return error_; }
  /** Chunks with data seen so far (the last, empty chunk excluded). */
  std::size_t chunks() const { return chunks_; }

 private:
  enum class State {
    size,
    extension,
    size_lf,
    data,
    data_cr,
    data_lf,
    trailer,
    trailer_lf,
    done,
    failed
  };
  bool fail(std::string what);
  bool step(std::string_view raw, std::string* out);  // out: nullptr keeps no body

  State state_ = State::size;
  std::size_t size_ = 0;        // size of the current chunk
  std::size_t digits_ = 0;      // hex digits read of it
  std::size_t remaining_ = 0;   // data bytes of the current chunk still to come
  std::size_t line_bytes_ = 0;  // bytes of the current extension or trailer line
  std::size_t chunks_ = 0;
  std::string error_;
};

}  // namespace ssebench::bench
