#include "ssebench/tls_files.hpp"

#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <gtest/gtest.h>

#include "../temp_dir.hpp"

namespace {

using ssebench::make_throwaway_tls;
using ssebench::test::TempDir;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert read_cert(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

/** Whether `leaf` verifies against `ca` alone, as a TLS client that trusts only the CA does. */
bool verifies(X509* ca, X509* leaf) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST(TlsFiles, WritesACaAndALeafItSigned) {
  TempDir dir;
  const auto files = make_throwaway_tls(dir.path() / "tls", {"10.1.2.3", "proxy.test", "fd00::7"});
  EXPECT_EQ(files.ca_cert, dir.path() / "tls" / "ca.pem");
  EXPECT_EQ(files.server_cert, dir.path() / "tls" / "server.pem");
  EXPECT_EQ(files.server_key, dir.path() / "tls" / "server.key");
  const Cert ca = read_cert(files.ca_cert);
  const Cert leaf = read_cert(files.server_cert);
  ASSERT_TRUE(ca && leaf);
  EXPECT_TRUE(verifies(ca.get(), leaf.get()));
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  // The SAN: the defaults and every extra name, IPs as IP entries.
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "proxy.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "example.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "10.1.2.3", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "fd00::7", 0), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "10.1.2.3", 0, 0, nullptr), 0);  // not a DNS entry
  // ECDSA P-256, and a short life.
  EVP_PKEY* key = X509_get0_pubkey(leaf.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  int days = 0, secs = 0;
  ASSERT_EQ(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf.get()), X509_get0_notAfter(leaf.get())),
      1);
  EXPECT_LE(days, ssebench::throwaway_tls_valid_days + 1);
}

TEST(TlsFiles, KeyIsPrivateAndMatchesTheLeaf) {
  TempDir dir;
  const auto files = make_throwaway_tls(dir.path());
  struct stat st {};
  ASSERT_EQ(::stat(files.server_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::FILE* f = std::fopen(files.server_key.c_str(), "r");
  ASSERT_NE(f, nullptr);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(key, nullptr);
  const Cert leaf = read_cert(files.server_cert);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key), 1);
  EVP_PKEY_free(key);
  EXPECT_EQ(dir.files(), (std::vector<std::string>{"ca.pem", "server.key", "server.pem"}));
}

TEST(TlsFiles, EachRunGetsItsOwnCa) {
  TempDir a, b;
  const Cert ca_a = read_cert(make_throwaway_tls(a.path()).ca_cert);
  const Cert leaf_b = read_cert(make_throwaway_tls(b.path()).server_cert);
  EXPECT_FALSE(verifies(ca_a.get(), leaf_b.get()));
}

TEST(TlsFiles, RefusesANameThatIsNotOne) {
  TempDir dir;
  EXPECT_THROW(make_throwaway_tls(dir.path(), {""}), std::runtime_error);
  EXPECT_THROW(make_throwaway_tls(dir.path(), {"a,DNS:evil"}), std::runtime_error);
  EXPECT_TRUE(dir.files().empty());  // nothing written
}

}  // namespace
