#pragma once
/**
 * A throwaway certificate authority and server certificate for one run: the server serves HTTPS
 * and wss with them, the client trusts only that CA. Generated fresh (never committed), short
 * validity, ECDSA P-256.
 */
#include <filesystem>
#include <string>
#include <vector>

namespace ssebench {

/** The files make_throwaway_tls wrote. */
struct TlsFiles {
  std::filesystem::path ca_cert;      // ca.pem: the CA a client trusts (CURLOPT_CAINFO)
  std::filesystem::path server_cert;  // server.pem: the leaf, signed by the CA
  std::filesystem::path server_key;   // server.key: the leaf's private key (mode 0600)
};

/** How long the certificates are valid from now: a run is never longer. */
inline constexpr int throwaway_tls_valid_days = 2;

/**
 * Writes ca.pem, server.pem and server.key into `dir` (created if missing). The leaf's SAN holds
 * DNS:localhost, IP:127.0.0.1, IP:::1 and each of `extra_names`: an IPv4/IPv6 literal as an IP
 * entry, anything else as a DNS name. Throws std::runtime_error (one line: what failed) when a
 * name is empty, OpenSSL fails or a file cannot be written.
 */
TlsFiles make_throwaway_tls(const std::filesystem::path& dir,
                            const std::vector<std::string>& extra_names = {});

}  // namespace ssebench
