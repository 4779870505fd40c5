// tls_fuzzer: arbitrary bytes as what a client sends to the server's TLS port (a ClientHello and
// the records after it), fed to a server-side SSL object of the server's SSL_CTX through memory
// BIOs, in one thread. The context is the server's own (make_tls_context, mock_server/src/tls.cpp:
// TLS 1.2 and 1.3, ALPN h2 then http/1.1 chosen by its select callback, no overlap: the
// no_application_protocol alert, no ALPN from the client: accepted; session ids and tickets on)
// with a throwaway certificate from core's make_throwaway_tls, made once per process. The
// input (after byte 0) also goes through the port's first look, classify_first_bytes.
// Byte 0 of the input: the size of the first piece fed (0: all at once); the rest follows in one
// more piece, so that a record cut between two reads is in reach.
// Checks: no crash, leak or UB in the path; classify_first_bytes never changes a decided answer
// on more bytes and calls a handshake record TLS; the handshake never completes on bytes alone (a
// client must answer the server's key share); an ALPN choice is h2 when the client offered h2,
// else http/1.1 when it offered that, never anything else; a client whose ALPN list holds
// neither gets no ServerHello, and a no_application_protocol alert (120) goes only to such a
// client; the server's bytes are whole TLS records.
// OpenSSL itself is not instrumented (Debian's libssl3): libFuzzer sees coverage only in this
// file and the project's code, so the search is mostly mutation of the seeds (real
// ClientHellos from `openssl s_client`, fuzz/make_seeds.py).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ssebench/tls_files.hpp"
#include "tls.hpp"

namespace {

constexpr const char* name = "tls_fuzzer";

[[noreturn]] void die(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "%s: %s%s%.*s\n", name, what, detail.empty() ? "" : ": ",
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/** What the client's ClientHello offered, seen by the client-hello callback. */
struct Offered {
  bool seen = false;  // the callback ran: a ClientHello was parsed
  bool alpn = false;  // it had an ALPN extension
  bool h2 = false, http11 = false;
};
Offered offered;

/** The client's ALPN list (RFC 7301 §3.1: a 2-byte length, then length-prefixed names). */
int on_client_hello(SSL* ssl, int*, void*) {
  offered.seen = true;
  const unsigned char* ext = nullptr;
  std::size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                &len) != 1)
    return SSL_CLIENT_HELLO_SUCCESS;
  offered.alpn = true;
  if (len < 2) return SSL_CLIENT_HELLO_SUCCESS;
  std::size_t list = (std::size_t{ext[0]} << 8) | ext[1];
  if (list > len - 2) return SSL_CLIENT_HELLO_SUCCESS;  // OpenSSL refuses it
  for (std::size_t i = 2; i < 2 + list;) {
    const std::size_t n = ext[i];
    if (i + 1 + n > 2 + list) break;
    const std::string_view proto(reinterpret_cast<const char*>(ext + i + 1), n);
    offered.h2 |= proto == "h2";
    offered.http11 |= proto == "http/1.1";
    i += 1 + n;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

/**
 * The server's own context (make_tls_context, mock_server/src/tls.cpp) with a throwaway
 * certificate from core's make_throwaway_tls, written to a temporary folder that is removed once
 * loaded; plus the fuzzer's client-hello callback, which only looks.
 */
std::shared_ptr<ssebench::server::TlsContext> make_context() {
  char dir_template[] = "/tmp/tls_fuzzer.XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir) die("cannot make a temporary folder");
  std::shared_ptr<ssebench::server::TlsContext> tls;
  try {
    const auto files = ssebench::make_throwaway_tls(dir);
    tls = ssebench::server::make_tls_context(files.server_cert, files.server_key);
  } catch (const std::exception& e) {
    std::filesystem::remove_all(dir);
    die("cannot make the server's TLS context", e.what());
  }
  std::filesystem::remove_all(dir);
  SSL_CTX_set_client_hello_cb(tls->ssl.native_handle(), &on_client_hello, nullptr);
  return tls;
}

/** Frees the context at exit, so that LeakSanitizer sees only what an input leaked. */
struct Context {
  std::shared_ptr<ssebench::server::TlsContext> tls = make_context();
  SSL_CTX* ctx = tls->ssl.native_handle();
};

/**
 * The TLS port's first look (classify_first_bytes): each longer prefix of the input keeps the
 * answer a shorter one gave, once it is not `unknown`; a TLS record is told by its first bytes.
 */
void check_classify(std::string_view input) {
  using ssebench::server::FirstBytes;
  FirstBytes decided = FirstBytes::unknown;
  for (std::size_t n = 0; n <= std::min<std::size_t>(input.size(), 40); ++n) {
    const FirstBytes k = ssebench::server::classify_first_bytes(input.substr(0, n));
    if (n == 0 && k != FirstBytes::unknown) die("no bytes classified as something");
    if (decided != FirstBytes::unknown && k != decided)
      die("classify_first_bytes changed its answer on more bytes");
    if (k != FirstBytes::unknown) decided = k;
    const bool record = n >= 2 && input[0] == 0x16 && input[1] == 0x03;
    if (record && k != FirstBytes::tls) die("a handshake record not classified as TLS");
  }
}

/** Moves what the server wrote into `out`. */
void drain(BIO* wbio, std::string& out) {
  char buf[16384];
  for (;;) {
    const int n = BIO_read(wbio, buf, sizeof buf);
    if (n <= 0) return;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

/** What the server wrote, read as TLS records (RFC 8446 §5.1). */
struct Records {
  bool alert_no_alpn = false;  // a plaintext fatal alert no_application_protocol (120)
  bool server_hello = false;   // a plaintext handshake record starting with a ServerHello
};

Records check_records(std::string_view out) {
  Records r;
  std::size_t pos = 0;
  while (pos < out.size()) {
    if (out.size() - pos < 5) die("the server's bytes end inside a record header");
    const auto* h = reinterpret_cast<const std::uint8_t*>(out.data() + pos);
    const std::size_t len = (std::size_t{h[3]} << 8) | h[4];
    if (h[0] < 20 || h[0] > 23) die("a record of an unknown content type");
    // An alert before the version is agreed carries the client's record version (OpenSSL).
    if (h[0] != 21 && h[1] != 3) die("a record whose version is not 3.x");
    if (len > 16384 + 256) die("a record longer than TLS allows");
    if (out.size() - pos - 5 < len) die("the server's bytes end inside a record");
    if (h[0] == 21 && len == 2 && h[5] == 2 && h[6] == 120) r.alert_no_alpn = true;
    if (h[0] == 22 && len >= 1 && h[5] == 2) r.server_hello = true;
    pos += 5 + len;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Context context;
  offered = {};
  check_classify(std::string_view(reinterpret_cast<const char*>(data), size).substr(size ? 1 : 0));
  SSL* ssl = SSL_new(context.ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (!ssl || !rbio || !wbio) die("cannot make an SSL object and its BIOs");
  BIO_set_mem_eof_return(rbio, -1);  // no more bytes yet, not EOF: the server waits
  SSL_set_bio(ssl, rbio, wbio);      // the SSL object owns both
  SSL_set_accept_state(ssl);

  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t first = input.empty() ? 0 : static_cast<std::uint8_t>(input[0]);
  if (!input.empty()) input.remove_prefix(1);
  if (first == 0 || first > input.size()) first = input.size();
  std::string out;
  bool failed = false;
  for (const std::string_view piece : {input.substr(0, first), input.substr(first)}) {
    if (failed) break;
    if (!piece.empty() && BIO_write(rbio, piece.data(), static_cast<int>(piece.size())) !=
                              static_cast<int>(piece.size()))
      die("BIO_write failed");
    const int rv = SSL_do_handshake(ssl);
    drain(wbio, out);
    if (rv == 1) die("the handshake completed on the client's bytes alone");
    const int err = SSL_get_error(ssl, rv);
    if (err != SSL_ERROR_WANT_READ) failed = true;  // SSL_ERROR_SSL: the client's bytes are bad
  }
  ERR_clear_error();

  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  const std::string_view chosen(reinterpret_cast<const char*>(alpn), alpn ? alpn_len : 0);
  if (!chosen.empty()) {
    if (!offered.alpn) die("an ALPN choice without the client's ALPN extension");
    if (chosen != "h2" && chosen != "http/1.1")
      die("ALPN chose something the server does not speak");
    if (offered.h2 && chosen != "h2") die("the client offered h2, the server chose", chosen);
    if (!offered.h2 && chosen == "h2") die("the server chose h2, which the client did not offer");
    if (!offered.h2 && !offered.http11) die("ALPN chose a protocol the client did not offer");
  }
  const Records records = check_records(out);
  if (std::getenv("SSEBENCH_FUZZ_VERBOSE"))
    std::fprintf(stderr,
                 "offered alpn %d h2 %d http/1.1 %d; chose '%.*s'; %zu bytes out, "
                 "ServerHello %d, alert 120 %d\n",
                 offered.alpn, offered.h2, offered.http11, static_cast<int>(chosen.size()),
                 chosen.data(), out.size(), records.server_hello, records.alert_no_alpn);
  const bool no_overlap = offered.alpn && !offered.h2 && !offered.http11;
  if (records.alert_no_alpn && !no_overlap)
    die("a no_application_protocol alert, but the client offered h2 or http/1.1 (or no ALPN)");
  if (offered.seen && no_overlap && (records.server_hello || !chosen.empty()))
    die("no ALPN overlap, yet the handshake went on");
  SSL_free(ssl);
  return 0;
}
