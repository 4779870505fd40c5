#pragma once
// The TLS port, private to the server: the SSL_CTX every TLS connection uses (certificate, ALPN,
// session tickets, key log) and the step before a session: the handshake. A fuzzer builds the
// same SSL_CTX (make_tls_context) and feeds bytes to an SSL object over memory BIOs.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "executor.hpp"
#include "ssebench/server/api.hpp"

namespace ssebench::server {

/** The server's TLS context and what its callbacks need. */
struct TlsContext {
  TlsContext();
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context ssl;
  std::FILE* keylog = nullptr;  // NSS key log lines go here (when asked for)
  std::mutex keylog_mutex;      // connections on several threads write lines
};

/**
 * TLS 1.2 and 1.3, ALPN h2 then http/1.1 (the server's preference; no overlap: the
 * no_application_protocol alert; no ALPN from the client: accepted, HTTP/1.1), session tickets
 * on. `keylog` empty: no key log. Throws std::runtime_error, one line naming the file, when the
 * certificate or key cannot be loaded, do not match, or the key log cannot be opened.
 */
std::shared_ptr<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                             const std::filesystem::path& key,
                                             const std::filesystem::path& keylog = {});

/** What a TLS port's first bytes are. */
enum class FirstBytes {
  tls,         // a TLS handshake record (0x16): go on with the handshake
  plain_http,  // an HTTP/1.x request line or the HTTP/2 preface: answered 400, closed
  other,       // anything else: closed
  unknown,     // too few bytes to tell yet
};
FirstBytes classify_first_bytes(std::string_view bytes);

/** The 400 a plain HTTP request to the TLS port gets before the close. */
inline constexpr std::string_view plain_http_to_tls_response =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n"
    "Connection: close\r\n\r\nThis port speaks TLS: use an https URL.\n";

/** Handshakes on `socket` (within Config::tls_handshake_timeout_ms), then serves it: HTTP/2 when
 *  ALPN chose h2, else HTTP/1.1 (with WebSocket upgrades). A failed handshake is counted by kind
 *  and closed. */
void serve_tls(TcpSocket&& socket, std::shared_ptr<TlsContext> tls, std::shared_ptr<State> state);

}  // namespace ssebench::server
