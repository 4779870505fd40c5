#pragma once
// RFC 9112 / RFC 9110's rules for an HTTP/1.x request, private to the HTTP/1 session: what Beast's
// parser accepts but a server must refuse (obs-fold, a missing or doubled Host, a transfer coding
// it cannot decode, ...), and the target forms Beast leaves to the server (absolute, authority,
// asterisk). Pure functions over bytes and the parsed header, so they are tested without sockets.
// mock_server/README.md "HTTP/1.x conformance" lists every rule with its section and its test.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ssebench/server/api.hpp"

namespace ssebench::server::h1 {

/** A request the server answers with an error and then closes the connection. */
struct Refusal {
  http::status status = http::status::bad_request;
  std::string message;
  std::string code = "bad_request";
};

/** The raw request head (request line + fields + empty line) as it arrives. */
struct HeadScan {
  enum class Kind { complete, need_more, refused } kind = Kind::need_more;
  std::size_t skip = 0;  // empty lines before the request line (RFC 9112 §2.2: ignored)
  /** HTTP/1.x with x > 1 is HTTP/1.1 (RFC 9110 §2.5) but Beast refuses it: where, after `skip`,
   *  the minor digit is, to be made a 1 before Beast parses the line; npos when not needed. */
  std::size_t minor_at = std::string_view::npos;
  Refusal refusal;  // when refused
};

/**
 * Checks the raw bytes of a request head before Beast parses it: bare CR or LF, whitespace
 * before the first field or before a colon, obs-fold, bad field names or values (400); a request
 * line longer than `limit` (414); a head longer than `limit` (431).
 */
HeadScan scan_head(std::string_view bytes, std::size_t limit);

/**
 * Checks a parsed header before its body is read: version (505), method (501), Host (400), the
 * target's form (400; an absolute-form target is rewritten to origin-form and its authority
 * replaces Host), the body's framing (400, 501) and Expect (417).
 */
std::optional<Refusal> check_header(Request& req);

/** Whether the client's Expect asks for a 100 Continue (never for HTTP/1.0, RFC 9110 §10.1.1). */
bool expects_continue(const Request& req);

/** The methods the server implements somewhere, for `OPTIONS *`'s Allow. */
inline constexpr std::string_view server_methods = "GET, HEAD, POST, DELETE, OPTIONS";

/** An Allow list with HEAD after GET, where GET is in it and HEAD is not. */
std::string allow_with_head(std::string_view allow);

/** uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2); empty is valid. */
bool valid_authority(std::string_view authority);

}  // namespace ssebench::server::h1
