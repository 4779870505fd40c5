#include "ssebench/tls_files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace ssebench {
namespace {

/** A freshly made certificate starts this far in the past: clocks of client and server differ. */
constexpr long backdate_s = 300;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

/** OpenSSL failed at `what`: one line with OpenSSL's first queued reason. */
[[noreturn]] void openssl_error(const char* what) {
  char reason[256] = "unknown error";
  if (const unsigned long e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error(std::string("throwaway TLS: ") + what + ": " + reason);
}

bool is_ip(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Key new_p256_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) openssl_error("EC key generation");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) openssl_error("certificate extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) openssl_error("certificate extension");
}

/** A certificate for `key` named `cn`, not yet signed; `issuer` null: self-issued. */
Cert new_cert(EVP_PKEY* key, const char* cn, X509* issuer) {
  Cert cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), 2)) openssl_error("X509_new");
  std::unique_ptr<BIGNUM, Free> serial(BN_new());
  if (!serial || !BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    openssl_error("serial number");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -backdate_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * throwaway_tls_valid_days);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ssebench throwaway"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  if (!X509_set_pubkey(cert.get(), key)) openssl_error("X509_set_pubkey");
  return cert;
}

/** Writes `fn(file)` to `path` through a temporary file: never a half-written one. */
template <class Fn>
void write_pem(const std::filesystem::path& path, mode_t mode, Fn fn) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::runtime_error("throwaway TLS: " + tmp.string() + ": " +
                             std::generic_category().message(errno));
  ::fchmod(fd, mode);  // the file may have existed with a wider mode
  std::unique_ptr<std::FILE, Free> file(::fdopen(fd, "w"));
  if (!file) {
    ::close(fd);
    throw std::runtime_error("throwaway TLS: fdopen " + tmp.string());
  }
  const bool ok = fn(file.get()) == 1 && std::fflush(file.get()) == 0;
  file.reset();
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    openssl_error(("writing " + path.string()).c_str());
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("throwaway TLS: " + path.string() + ": " + ec.message());
  }
}

}  // namespace

TlsFiles make_throwaway_tls(const std::filesystem::path& dir,
                            const std::vector<std::string>& extra_names) {
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const std::string& name : extra_names) {
    if (name.empty() || name.find_first_of(", \t\r\n") != std::string::npos)
      throw std::runtime_error("throwaway TLS: bad extra name '" + name + "'");
    san += (is_ip(name) ? ",IP:" : ",DNS:") + name;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("throwaway TLS: " + dir.string() + ": " + ec.message());

  const Key ca_key = new_p256_key();
  const Cert ca = new_cert(ca_key.get(), "ssebench throwaway CA", nullptr);
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(ca.get(), ca_key.get(), EVP_sha256())) openssl_error("signing the CA");

  const Key leaf_key = new_p256_key();
  const Cert leaf = new_cert(leaf_key.get(), "localhost", ca.get());
  add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(leaf.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
  if (!X509_sign(leaf.get(), ca_key.get(), EVP_sha256())) openssl_error("signing the leaf");

  TlsFiles files{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  write_pem(files.server_key, 0600, [&](std::FILE* f) {
    return PEM_write_PrivateKey(f, leaf_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_pem(files.ca_cert, 0644, [&](std::FILE* f) { return PEM_write_X509(f, ca.get()); });
  write_pem(files.server_cert, 0644, [&](std::FILE* f) { return PEM_write_X509(f, leaf.get()); });
  return files;
}

}  // namespace ssebench
