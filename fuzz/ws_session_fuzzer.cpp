// ws_session_fuzzer: arbitrary bytes as the WebSocket frames a client sends after a fixed, valid
// upgrade request, fed to the server's real WebSocket session (mock_server/src/ws_session.cpp:
// Beast's websocket::stream over the CountingSocket, the turn queue, the application layer) over
// one end of a socket pair, in one thread: run_ws_session() gets the parsed upgrade, as the
// HTTP/1.1 session hands it over; then everything ready runs and the client half-closes.
// Byte 0 of the input: bit 0 picks the path (0: /v1/responses, 1: /v1/chat/completions); bit 1
// sends the frames in the same read as the upgrade (the HTTP session's already_read, a pipelining
// client) instead of after it on the socket. The rest of the input is the frames.
// Checks: no crash, leak or UB; the session ends after the client's EOF; the gauges are back at
// 0; the server's bytes are a 101 with the right Sec-WebSocket-Accept, then whole frames, FIN set,
// no RSV bits, unmasked (RFC 6455 §5.1), minimal lengths, control frames of at most 125 bytes, a
// text frame valid UTF-8 and JSON (or "[DONE]"), a close frame's code one a server may send,
// nothing after the close frame.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "session_fixture.hpp"
#include "ssebench/utf8.hpp"
#include "ws_session.hpp"

namespace {

using ssebench::fuzz::SessionFixture;
namespace http = boost::beast::http;
constexpr const char* name = "ws_session_fuzzer";
/** SSEBENCH_FUZZ_VERBOSE=1: the server's frames on stderr (to look at one input). */
const bool verbose = std::getenv("SSEBENCH_FUZZ_VERBOSE") != nullptr;

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  ssebench::fuzz::die(name, what, detail);
}

// RFC 6455 §1.3's example key and the accept value it must get.
constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string upgrade_text(std::string_view path) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " +
         std::string(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

ssebench::server::Request parse_upgrade(const std::string& text) {
  http::request_parser<http::string_body> parser;
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text), ec);
  if (ec || !parser.is_done()) die("the fixed upgrade request does not parse", ec.message());
  ssebench::server::Request req = parser.release();
  if (!ssebench::server::is_ws_upgrade(req)) die("the fixed upgrade is not a WebSocket upgrade");
  return req;
}

/**
 * A close code that may go on the wire (RFC 6455 §7.4.1: never 1004-1006 or 1015; 1016-2999 are
 * reserved for the protocol and none is defined; below 1000 unused). A code above 4999 is not
 * refused: the RFC defines none there, and Beast echoes a client's (see fuzz/README.md).
 */
bool valid_close_code(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || code >= 3000;
}

void check_output(std::string_view out) {
  if (out.empty()) return;  // the session may not have written yet when the client left
  const auto head_end = out.find("\r\n\r\n");
  if (head_end == std::string_view::npos) die("the 101 answer is incomplete");
  const std::string_view head = out.substr(0, head_end + 4);
  if (!head.starts_with("HTTP/1.1 101 ")) die("the upgrade was not answered 101", head);
  if (head.find(std::string("Sec-WebSocket-Accept: ") + std::string(accept) + "\r\n") ==
      std::string_view::npos)
    die("the 101 lacks the right Sec-WebSocket-Accept", head);
  const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
  std::size_t pos = head_end + 4;
  bool closed = false;
  while (pos < out.size()) {
    if (closed) die("a frame after the server's close frame");
    if (out.size() - pos < 2) die("the server's bytes end inside a frame header");
    const std::uint8_t b0 = p[pos], b1 = p[pos + 1];
    const unsigned op = b0 & 0x0f;
    if (!(b0 & 0x80)) die("a fragmented server frame (auto_fragment is off)");
    if (b0 & 0x70) die("RSV bits set (no extension was negotiated)");
    if (b1 & 0x80) die("a masked server frame");
    std::uint64_t len = b1 & 0x7f;
    std::size_t hdr = 2;
    if (len == 126) {
      if (out.size() - pos < 4) die("the server's bytes end inside a frame header");
      len = (std::uint64_t{p[pos + 2]} << 8) | p[pos + 3];
      if (len < 126) die("a 16-bit length that fits in 7 bits");
      hdr = 4;
    } else if (len == 127) {
      if (out.size() - pos < 10) die("the server's bytes end inside a frame header");
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | p[pos + i];
      if (len <= 0xffff || (len >> 63)) die("a bad 64-bit length");
      hdr = 10;
    }
    if (out.size() - pos - hdr < len) die("the server's bytes end inside a frame");
    const std::string_view payload = out.substr(pos + hdr, static_cast<std::size_t>(len));
    pos += hdr + static_cast<std::size_t>(len);
    if (verbose)
      std::fprintf(stderr, "opcode %u length %llu: %.*s\n", op,
                   static_cast<unsigned long long>(len), static_cast<int>(payload.size()),
                   payload.data());
    if (op >= 8 && len > 125) die("a control frame over 125 bytes");
    switch (op) {
      case 1: {  // text: an event or an error event
        if (ssebench::first_invalid_utf8(payload)) die("a text frame that is not UTF-8");
        if (payload == "[DONE]") break;
        boost::json::error_code ec;
        const auto v = boost::json::parse(payload, ec);
        if (ec || !v.is_object()) die("a text frame that is not a JSON object", payload);
        break;
      }
      case 8: {  // close
        closed = true;
        if (payload.size() == 1) die("a close frame with a 1-byte payload");
        if (payload.size() >= 2) {
          const unsigned code =
              (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
          if (!valid_close_code(code)) die("a close code a server may not send");
          if (ssebench::first_invalid_utf8(payload.substr(2)))
            die("a close reason that is not UTF-8");
        }
        break;
      }
      case 9:
      case 10:
        break;  // ping, pong (the answer to a client's ping)
      default:
        die("a server frame with an unexpected opcode (binary, continuation or reserved)");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static SessionFixture f(name);
  static const std::string upgrades[2] = {upgrade_text("/v1/responses"),
                                          upgrade_text("/v1/chat/completions")};
  const std::uint8_t mode = size ? data[0] : 0;
  const std::string_view frames =
      size ? std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1) : "";
  const std::string& upgrade = upgrades[mode & 1];
  const bool pipelined = mode & 2;

  auto [socket, client] = f.socket_pair();
  ssebench::server::run_ws_session(
      ssebench::server::Connection(ssebench::server::TcpStream(std::move(socket))),
      parse_upgrade(upgrade), upgrade.size(), pipelined ? std::string(frames) : std::string(),
      f.state);
  std::string out;
  f.send_and_settle(client, pipelined ? std::string_view() : frames, out);
  f.finish(client, out, std::chrono::milliseconds(3'000));
  check_output(out);
  return 0;
}
