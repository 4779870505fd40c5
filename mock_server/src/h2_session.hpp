#pragma once
// The HTTP/2 session, private to the server: h2c with prior knowledge (the HTTP/1.1 session hands
// over a connection whose first bytes are the HTTP/2 connection preface) or h2 that TLS's ALPN
// chose (tls.cpp).
#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "ssebench/server/api.hpp"

namespace ssebench::server {

/** The client connection preface (RFC 9113 §3.4); with prior knowledge it is the first thing. */
inline constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/**
 * Whether a connection's first bytes are (the start of) the preface. Three bytes tell it from
 * every HTTP/1.1 method ("PRI" is no method; "PROPFIND", "PUT", "POST", "PATCH" differ by then).
 */
bool starts_h2(std::string_view first_bytes);

/** Serves the connection over HTTP/2 until it ends; `already_read` are its bytes read so far. */
void serve_h2(Connection&& conn, std::shared_ptr<State> state, std::string already_read);

}  // namespace ssebench::server
