#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include "connection.hpp"
#include "h2_session.hpp"
#include "http_session.hpp"
#include "session_errors.hpp"

namespace ssebench::server {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

namespace {

/** ALPN protocols the server speaks, in its order of preference (wire format). */
constexpr unsigned char alpn_protocols[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
/** Bytes asked of the socket for the first look at a connection. */
constexpr std::size_t first_read_bytes = 4096;
/** Bytes enough to tell an HTTP method from anything else (the longest method is short). */
constexpr std::size_t classify_limit_bytes = 32;

// The client's list against ours, ours first: h2 when the client offers it. No overlap: the
// handshake fails with the no_application_protocol alert (RFC 7301 §3.2).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, alpn_protocols, sizeof alpn_protocols, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

/** Where the SSL_CTX keeps its TlsContext (not app data: Asio's context owns that slot). */
int tls_context_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void write_keylog_line(const SSL* ssl, const char* line) {
  auto* tls =
      static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_context_index()));
  if (!tls || !tls->keylog) return;
  const std::lock_guard<std::mutex> lock(tls->keylog_mutex);
  std::fprintf(tls->keylog, "%s\n", line);
  std::fflush(tls->keylog);  // tshark may read it while the run goes on
}

[[noreturn]] void tls_setup_error(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error("TLS: " + file.string() + ": " + why);
}

/** OpenSSL's reason for the first queued error, for one-line messages. */
std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (ERR_SYSTEM_ERROR(e)) return std::strerror(ERR_GET_REASON(e));  // e.g. no such file
  const char* r = e ? ERR_reason_error_string(e) : nullptr;
  return r ? r : "unknown error";
}

bool is_method_char(char c) {
  return c >= 'A' && c <= 'Z';
}

}  // namespace

TlsContext::TlsContext() : ssl(ssl::context::tls_server) {}

TlsContext::~TlsContext() {
  if (keylog) std::fclose(keylog);
}

std::shared_ptr<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                             const std::filesystem::path& key,
                                             const std::filesystem::path& keylog) {
  auto tls = std::make_shared<TlsContext>();
  SSL_CTX* ctx = tls->ssl.native_handle();
  tls->ssl.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    tls_setup_error(cert, "cannot load the certificate (" + openssl_reason() + ")");
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    tls_setup_error(key, "cannot load the private key (" + openssl_reason() + ")");
  if (SSL_CTX_check_private_key(ctx) != 1)
    tls_setup_error(key, "the key does not match " + cert.string());
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  // Resumption: TLS 1.3 tickets (and 1.2 tickets or session ids) on, as web servers have them.
  static constexpr unsigned char sid_context[] = "ssebench";
  SSL_CTX_set_session_id_context(ctx, sid_context, sizeof sid_context - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_ex_data(ctx, tls_context_index(), tls.get());
  if (!keylog.empty()) {
    tls->keylog = std::fopen(keylog.c_str(), "a");
    if (!tls->keylog) tls_setup_error(keylog, "cannot open the key log");
    SSL_CTX_set_keylog_callback(ctx, &write_keylog_line);
  }
  return tls;
}

FirstBytes classify_first_bytes(std::string_view bytes) {
  if (bytes.empty()) return FirstBytes::unknown;
  // A TLS record: type 22 (handshake), then the legacy version's major byte 3.
  if (bytes[0] == 0x16)
    // One byte cannot tell yet (tls_fuzzer: "\x16" was tls, "\x16\x96" other).
    return bytes.size() < 2   ? FirstBytes::unknown
           : bytes[1] == 0x03 ? FirstBytes::tls
                              : FirstBytes::other;
  // An HTTP/1.x request line starts with a method token and a space ("PRI " for HTTP/2's
  // preface); methods are upper-case here.
  std::size_t i = 0;
  while (i < bytes.size() && i < classify_limit_bytes && is_method_char(bytes[i])) ++i;
  if (i == bytes.size() && i < classify_limit_bytes) return FirstBytes::unknown;
  return i > 0 && i < bytes.size() && bytes[i] == ' ' ? FirstBytes::plain_http : FirstBytes::other;
}

namespace {

/**
 * A TLS connection before its session: a first look at its bytes (a TLS record, or an HTTP
 * request sent to the wrong port), then the handshake, all within tls_handshake_timeout_ms.
 */
class TlsHandshake : public std::enable_shared_from_this<TlsHandshake> {
 public:
  TlsHandshake(TcpSocket&& socket, std::shared_ptr<TlsContext> tls, std::shared_ptr<State> state)
      : tcp_(std::move(socket)), tls_(std::move(tls)), state_(std::move(state)) {
    stats().connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~TlsHandshake() { stats().connections_open.fetch_sub(1, std::memory_order_relaxed); }

  void run() {
    tcp_.expires_after(milliseconds(state_->config.tls_handshake_timeout_ms));
    net::dispatch(tcp_.get_executor(),
                  beast::bind_front_handler(&TlsHandshake::do_peek, shared_from_this()));
  }

 private:
  Stats& stats() { return state_->stats; }

  void do_peek() {
    tcp_.async_read_some(buffer_.prepare(first_read_bytes),
                         beast::bind_front_handler(&TlsHandshake::on_peek, shared_from_this()));
  }

  void on_peek(beast::error_code ec, std::size_t n) {
    stats().tls_wire_bytes_in.fetch_add(n, std::memory_order_relaxed);
    if (ec) return failed(ec);
    buffer_.commit(n);
    const std::string_view first(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
    switch (classify_first_bytes(first)) {
      case FirstBytes::unknown:
        return do_peek();
      case FirstBytes::plain_http:
        stats().tls_fail_plain_http.fetch_add(1, std::memory_order_relaxed);
        return do_refuse_plain();
      case FirstBytes::other:
        stats().tls_fail_protocol.fetch_add(1, std::memory_order_relaxed);
        return close();
      case FirstBytes::tls:
        return do_handshake();
    }
  }

  // Like nginx's "plain HTTP request was sent to HTTPS port": a 400 in clear text, then close.
  void do_refuse_plain() {
    net::async_write(
        tcp_, net::buffer(plain_http_to_tls_response.data(), plain_http_to_tls_response.size()),
        [self = shared_from_this()](beast::error_code, std::size_t n) {
          self->stats().tls_wire_bytes_out.fetch_add(n, std::memory_order_relaxed);
          beast::error_code ignored;
          self->tcp_.socket().shutdown(tcp::socket::shutdown_send, ignored);
          self->do_drain();
        });
  }

  // What the client still sends is read (within the timeout already set) so that the close
  // does not reset the connection before the client has read the 400.
  void do_drain() {
    buffer_.clear();
    tcp_.async_read_some(buffer_.prepare(first_read_bytes),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           if (!ec) return self->do_drain();
                           self->close();
                         });
  }

  void do_handshake() {
    conn_.emplace(TlsStream(WireStream(std::move(tcp_), stats()), tls_->ssl));
    conn_->tls().async_handshake(
        ssl::stream_base::server, buffer_.data(),
        beast::bind_front_handler(&TlsHandshake::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec, std::size_t) {
    if (ec) return failed(ec);
    conn_->expires_never();
    SSL* ssl = conn_->tls().native_handle();
    stats().tls_handshakes.fetch_add(1, std::memory_order_relaxed);
    if (SSL_session_reused(ssl)) stats().tls_resumed.fetch_add(1, std::memory_order_relaxed);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    const std::string_view chosen(reinterpret_cast<const char*>(alpn), alpn ? alpn_len : 0);
    if (chosen == "h2") {
      stats().tls_alpn_h2.fetch_add(1, std::memory_order_relaxed);
      return serve_h2(std::move(*conn_), state_, {});
    }
    (chosen.empty() ? stats().tls_alpn_none : stats().tls_alpn_http1_1)
        .fetch_add(1, std::memory_order_relaxed);
    serve_http(std::move(*conn_), state_);
  }

  void failed(beast::error_code ec) {
    std::atomic<std::uint64_t>* kind = &stats().tls_fail_protocol;
    if (ec == beast::error::timeout)
      kind = &stats().tls_fail_timeout;
    else if (ec == net::error::eof || ec == ssl::error::stream_truncated ||
             ec == net::error::connection_reset || ec == net::error::broken_pipe)
      kind = &stats().tls_fail_truncated;
    else if (ec.category() == net::error::get_ssl_category() &&
             ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                 SSL_R_NO_APPLICATION_PROTOCOL)
      kind = &stats().tls_fail_no_alpn;
    kind->fetch_add(1, std::memory_order_relaxed);
    close();
  }

  void close() {
    beast::error_code ignored;
    TcpSocket& s = conn_ ? conn_->socket() : tcp_.socket();
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
  }

  TcpStream tcp_;  // until the handshake starts, then conn_'s
  std::optional<Connection> conn_;
  std::shared_ptr<TlsContext> tls_;
  std::shared_ptr<State> state_;
  beast::flat_buffer buffer_;  // the first bytes: handed to the TLS engine
};

}  // namespace

void serve_tls(TcpSocket&& socket, std::shared_ptr<TlsContext> tls, std::shared_ptr<State> state) {
  std::make_shared<TlsHandshake>(std::move(socket), std::move(tls), std::move(state))->run();
}

}  // namespace ssebench::server
