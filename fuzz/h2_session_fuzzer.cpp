// h2_session_fuzzer: arbitrary bytes as what an HTTP/2 client sends after the connection preface,
// fed to the server's real HTTP/2 session (mock_server/src/h2_session.cpp: nghttp2's server
// session, the application layer, the per-stream timers) over one end of a socket pair, in one
// thread: serve_h2() gets the preface as the bytes the HTTP/1.1 session had read (as it does when
// it hands a connection over), the input follows on the socket, everything ready runs, then the
// client half-closes.
// Checks: no crash, leak or UB; the session ends after the client's EOF (no handler left
// pending); the gauges it moves (connections_open, streams_active, requests_held) are back at 0;
// the server's bytes are whole frames starting with its SETTINGS; every header block decodes
// (HPACK) to a response with :status first and 3 digits, no connection-specific field, no
// content-length on a 204; a JSON answer that ends (END_STREAM) parses.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "h2_session.hpp"
#include "session_fixture.hpp"

namespace {

using ssebench::fuzz::SessionFixture;
constexpr const char* name = "h2_session_fuzzer";
/** SSEBENCH_FUZZ_VERBOSE=1: the server's frames on stderr (to look at one input). */
const bool verbose = std::getenv("SSEBENCH_FUZZ_VERBOSE") != nullptr;

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  ssebench::fuzz::die(name, what, detail);
}

std::uint32_t be(const std::uint8_t* p, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

struct StreamSeen {
  bool json = false;
  std::string body;
};

/** The server's bytes, frame by frame (RFC 9113 §4.1, §6). */
class ServerFrames {
 public:
  ServerFrames() {
    if (nghttp2_hd_inflate_new(&inflater_) != 0) die("nghttp2_hd_inflate_new failed");
  }
  ~ServerFrames() { nghttp2_hd_inflate_del(inflater_); }
  ServerFrames(const ServerFrames&) = delete;
  ServerFrames& operator=(const ServerFrames&) = delete;

  void check(std::string_view out) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
    std::size_t pos = 0;
    bool first = true;
    while (pos < out.size()) {
      if (out.size() - pos < 9) die("the server's bytes end inside a frame header");
      const std::uint32_t len = be(p + pos, 3);
      const std::uint8_t type = p[pos + 3], flags = p[pos + 4];
      const std::uint32_t sid = be(p + pos + 5, 4) & 0x7fffffffu;
      if (out.size() - pos - 9 < len) die("the server's bytes end inside a frame");
      if (first && (type != NGHTTP2_SETTINGS || sid != 0 || (flags & NGHTTP2_FLAG_ACK)))
        die("the server's first frame is not its SETTINGS");
      first = false;
      if (verbose)
        std::fprintf(stderr, "frame type %u flags 0x%02x stream %u length %u\n", type, flags, sid,
                     len);
      frame(type, flags, sid, std::string_view(out.data() + pos + 9, len));
      pos += 9 + len;
    }
    if (continuing_) die("the server's bytes end inside a header block");
  }

 private:
  void frame(std::uint8_t type, std::uint8_t flags, std::uint32_t sid, std::string_view payload) {
    if (continuing_ && (type != NGHTTP2_CONTINUATION || sid != block_stream_))
      die("a header block interrupted by another frame");
    if (type == NGHTTP2_HEADERS) {
      if (sid == 0 || sid % 2 == 0) die("the server sent HEADERS on a stream it may not");
      std::size_t skip = 0, pad = 0;
      if (flags & NGHTTP2_FLAG_PADDED) {
        if (payload.empty()) die("a padded HEADERS frame without its pad length");
        pad = static_cast<std::uint8_t>(payload[0]);
        skip = 1;
      }
      if (flags & NGHTTP2_FLAG_PRIORITY) skip += 5;
      if (skip + pad > payload.size()) die("HEADERS padding longer than the frame");
      block_ = payload.substr(skip, payload.size() - skip - pad);
      block_stream_ = sid;
      block_end_stream_ = flags & NGHTTP2_FLAG_END_STREAM;
      continuing_ = !(flags & NGHTTP2_FLAG_END_HEADERS);
      if (!continuing_) header_block();
    } else if (type == NGHTTP2_CONTINUATION) {
      if (!continuing_) die("CONTINUATION without a header block open");
      block_.append(payload);
      continuing_ = !(flags & NGHTTP2_FLAG_END_HEADERS);
      if (!continuing_) header_block();
    } else if (type == NGHTTP2_DATA) {
      if (sid == 0) die("DATA on stream 0");
      const auto it = streams_.find(sid);
      if (it == streams_.end()) die("DATA before the stream's HEADERS");
      std::string_view data = payload;
      if (flags & NGHTTP2_FLAG_PADDED) {
        if (data.empty() || static_cast<std::uint8_t>(data[0]) >= data.size())
          die("bad DATA padding");
        data = data.substr(1, data.size() - 1 - static_cast<std::uint8_t>(data[0]));
      }
      it->second.body.append(data);
      if (verbose) std::fprintf(stderr, "  %.*s\n", static_cast<int>(data.size()), data.data());
      if (flags & NGHTTP2_FLAG_END_STREAM) end_stream(sid);
    } else if (type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK)) {
      if (payload.size() % 6) die("a SETTINGS frame whose length is not a multiple of 6");
    } else if (type == NGHTTP2_GOAWAY) {
      if (sid != 0 || payload.size() < 8) die("a malformed GOAWAY");
      if (verbose)
        std::fprintf(stderr, "  GOAWAY error %u: %.*s\n",
                     be(reinterpret_cast<const std::uint8_t*>(payload.data()) + 4, 4),
                     static_cast<int>(payload.size() - 8), payload.data() + 8);
    } else if (type == NGHTTP2_RST_STREAM) {
      if (sid == 0 || payload.size() != 4) die("a malformed RST_STREAM");
    }
  }

  void header_block() {
    std::string data(block_);
    auto* in = reinterpret_cast<std::uint8_t*>(data.data());
    std::size_t left = data.size();
    bool first = true;
    StreamSeen& seen = streams_[block_stream_];
    std::string status;
    for (;;) {
      nghttp2_nv nv;
      int flags = 0;
      const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, 1);
      if (n < 0) die("the server's header block does not decode (HPACK)");
      in += n;
      left -= static_cast<std::size_t>(n);
      if (flags & NGHTTP2_HD_INFLATE_EMIT) {
        const std::string_view k(reinterpret_cast<const char*>(nv.name), nv.namelen);
        const std::string_view v(reinterpret_cast<const char*>(nv.value), nv.valuelen);
        if (verbose)
          std::fprintf(stderr, "  %.*s: %.*s\n", static_cast<int>(k.size()), k.data(),
                       static_cast<int>(v.size()), v.data());
        if (first) {
          if (k != ":status" || v.size() != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' ||
              v[1] > '9' || v[2] < '0' || v[2] > '9')
            die("a response whose first field is not a 3-digit :status", k);
          status = v;
        } else if (k.starts_with(':')) {
          die("a pseudo-header after :status", k);
        }
        first = false;
        for (const char c : k)
          if (c >= 'A' && c <= 'Z') die("an upper-case field name", k);
        if (k == "connection" || k == "keep-alive" || k == "proxy-connection" ||
            k == "transfer-encoding" || k == "upgrade" || (k == "te" && v != "trailers"))
          die("a connection-specific field in an HTTP/2 response", k);
        if (k == "content-length" && status == "204") die("content-length on a 204");
        if (k == "content-type" && v.starts_with("application/json")) seen.json = true;
      }
      if (flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        break;
      }
      if (n == 0 && left == 0) die("a header block that ends inside a field");
    }
    if (first) die("an empty header block");
    if (block_end_stream_) end_stream(block_stream_);
  }

  void end_stream(std::uint32_t sid) {
    StreamSeen& s = streams_[sid];
    if (s.json) {
      boost::json::error_code ec;
      (void)boost::json::parse(s.body, ec);
      if (ec) die("a JSON answer that does not parse", s.body.substr(0, 300));
    }
    streams_.erase(sid);
  }

  nghttp2_hd_inflater* inflater_ = nullptr;
  std::map<std::uint32_t, StreamSeen> streams_;
  std::string block_;
  std::uint32_t block_stream_ = 0;
  bool block_end_stream_ = false;
  bool continuing_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static SessionFixture f(name);
  auto [socket, client] = f.socket_pair();
  ssebench::server::serve_h2(
      ssebench::server::Connection(ssebench::server::TcpStream(std::move(socket))), f.state,
      std::string(ssebench::server::h2_preface));
  std::string out;
  f.send_and_settle(client, std::string_view(reinterpret_cast<const char*>(data), size), out);
  f.finish(client, out, std::chrono::milliseconds(3'000));
  ServerFrames frames;
  frames.check(out);
  return 0;
}
