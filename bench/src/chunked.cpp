#include "ssebench/bench/chunked.hpp"

#include <algorithm>

namespace ssebench::bench {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool ChunkedDecoder::fail(std::string what) {
  state_ = State::failed;
  error_ = std::move(what);
  return false;
}

bool ChunkedDecoder::feed(std::string_view raw, std::string& out) {
  return step(raw, &out);
}

bool ChunkedDecoder::scan(std::string_view raw) {
  return step(raw, nullptr);
}

bool ChunkedDecoder::step(std::string_view raw, std::string* out) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    switch (state_) {
      case State::size: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (++digits_ > max_size_digits) return fail("chunk size has too many digits");
          size_ = size_ * 16 + static_cast<std::size_t>(v);
          ++i;
        } else if (digits_ == 0) {
          return fail("chunk size expected");
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::extension;
          line_bytes_ = 0;
          ++i;
        } else if (c == '\r') {
          state_ = State::size_lf;
          ++i;
        } else {
          return fail("bad character in chunk size");
        }
        break;
      }
      case State::extension:
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (++line_bytes_ > max_line_bytes) {
          return fail("chunk extension too long");
        }
        ++i;
        break;
      case State::size_lf:
        if (c != '\n') return fail("CRLF expected after chunk size");
        ++i;
        if (size_ == 0) {
          state_ = State::trailer;
          line_bytes_ = 0;
        } else {
          state_ = State::data;
          remaining_ = size_;
          ++chunks_;
        }
        break;
      case State::data: {
        const std::size_t n = std::min(remaining_, raw.size() - i);
        if (out) out->append(raw.substr(i, n));
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::data_cr;
        break;
      }
      case State::data_cr:
        if (c != '\r') return fail("CRLF expected after chunk data");
        state_ = State::data_lf;
        ++i;
        break;
      case State::data_lf:
        if (c != '\n') return fail("CRLF expected after chunk data");
        state_ = State::size;
        size_ = 0;
        digits_ = 0;
        ++i;
        break;
      case State::trailer:
        // Trailer fields end with an empty line; each is skipped.
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (++line_bytes_ > max_line_bytes) {
          return fail("trailer line too long");
        }
        ++i;
        break;
      case State::trailer_lf:
        if (c != '\n') return fail("CRLF expected in trailer");
        ++i;
        state_ = line_bytes_ == 0 ? State::done : State::trailer;
        line_bytes_ = 0;
        break;
      case State::done:
        return true;
      case State::failed:
        return false;
    }
  }
  return state_ != State::failed;
}

}  // namespace ssebench::bench
