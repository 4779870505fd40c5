#include "request_rules.hpp"

#include <cctype>

#include <fmt/format.h>
#include <boost/beast/core/string.hpp>

namespace ssebench::server::h1 {
namespace {

namespace beast = boost::beast;

Refusal bad_request(std::string message) {
  return {http::status::bad_request, std::move(message), "bad_request"};
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 9110 §5.6.2
bool is_tchar(char c) {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 9110 §5.5: field-vchar / SP / HTAB; obs-text (0x80-0xFF) is accepted as the RFC allows.
bool is_field_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

// RFC 3986 §2.3, §2.2
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

/** reg-name or IPv4address: unreserved / pct-encoded / sub-delims. */
bool valid_reg_name(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c)) {
      return false;
    }
  }
  return true;
}

/** The host of a valid authority (empty when the authority is empty or invalid). */
std::string_view host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[')
    return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_recognized(http::verb m) {
  switch (m) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::post:
    case http::verb::delete_:
    case http::verb::options:
    // Known to HTTP (RFC 9110 §9, RFC 5789) though no path here takes them: the router's 405.
    case http::verb::put:
    case http::verb::patch:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

/** An absolute-form target's authority and its origin-form rest, or a refusal. */
std::optional<Refusal> absolute_form(std::string_view target, std::string& authority,
                                     std::string& origin) {
  const auto colon = target.find(':');
  const std::string_view scheme = target.substr(0, colon);
  bool scheme_ok = colon != std::string_view::npos && !scheme.empty() && is_alpha(scheme[0]);
  for (char c : scheme)
    scheme_ok = scheme_ok && (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.');
  if (!scheme_ok) {
    return bad_request(fmt::format(
        "Invalid request target '{}': expected an absolute path ('/v1/...') or an absolute URI "
        "('http://host/v1/...'); the authority form is for CONNECT only.",
        target));
  }
  if (!beast::iequals(scheme, "http") && !beast::iequals(scheme, "https")) {
    return bad_request(
        fmt::format("Invalid request target: the scheme '{}' is not served here.", scheme));
  }
  std::string_view rest = target.substr(colon + 1);
  if (!rest.starts_with("//"))
    return bad_request(
        "Invalid request target: an http URI needs an authority ('http://host/...').");
  rest.remove_prefix(2);
  const auto end = rest.find_first_of("/?#");
  const std::string_view auth = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (auth.find('@') != std::string_view::npos)
    return bad_request("Invalid request target: userinfo ('user@') is not allowed in an http URI.");
  if (!valid_authority(auth) || host_of(auth).empty())
    return bad_request(fmt::format("Invalid request target: '{}' is not a valid host.", auth));
  if (rest.starts_with('#')) return bad_request("Invalid request target: a fragment is not sent.");
  authority = auth;
  // Appended, not "/" + rest: GCC 12's -Wrestrict misfires on that at -O2.
  origin.clear();
  if (rest.empty() || rest.front() != '/') origin += '/';
  origin += rest;
  return std::nullopt;
}

}  // namespace

bool valid_authority(std::string_view a) {
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : a.substr(1, close - 1))
      if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;
    const std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = a.find(':');
    if (!valid_reg_name(a.substr(0, colon))) return false;
    if (colon != std::string_view::npos) port = a.substr(colon + 1);
  }
  for (char c : port)
    if (!is_digit(c)) return false;
  return true;
}

HeadScan scan_head(std::string_view bytes, std::size_t limit) {
  HeadScan out;
  const auto refuse = [&](Refusal r) {
    out.kind = HeadScan::Kind::refused;
    out.refusal = std::move(r);
    return out;
  };
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  while (bytes.substr(out.skip).starts_with("\r\n")) out.skip += 2;
  const std::string_view head = bytes.substr(out.skip);
  std::size_t pos = 0;
  bool first = true;
  for (;;) {
    const auto lf = head.find('\n', pos);
    if (lf == std::string_view::npos) {
      if (head.size() <= limit) return out;  // need more
      if (first) {
        return refuse({http::status::uri_too_long,
                       fmt::format("Request line too long: the limit is {} bytes.", limit),
                       "uri_too_long"});
      }
      return refuse({http::status::request_header_fields_too_large,
                     fmt::format("Request header fields too large: the limit is {} bytes.", limit),
                     "request_header_fields_too_large"});
    }
    if (lf + 1 > limit && first) {
      return refuse({http::status::uri_too_long,
                     fmt::format("Request line too long: the limit is {} bytes.", limit),
                     "uri_too_long"});
    }
    if (lf + 1 > limit) {
      return refuse({http::status::request_header_fields_too_large,
                     fmt::format("Request header fields too large: the limit is {} bytes.", limit),
                     "request_header_fields_too_large"});
    }
    if (lf == 0 || head[lf - 1] != '\r')
      return refuse(bad_request("Malformed HTTP request: a line ends in a bare LF, not CRLF."));
    const std::string_view line = head.substr(pos, lf - 1 - pos);
    pos = lf + 1;
    if (line.find('\r') != std::string_view::npos)
      return refuse(bad_request("Malformed HTTP request: a bare CR."));
    if (first) {
      first = false;  // the request line: Beast checks its method, target and version
      const std::string_view v = line.substr(line.rfind(' ') + 1);
      if (v.size() == 8 && v.starts_with("HTTP/") && is_digit(v[5]) && v[6] == '.' &&
          is_digit(v[7])) {
        if (v[5] != '1') {
          return refuse({http::status::http_version_not_supported,
                         fmt::format("{} is not supported here: HTTP/1.0 and HTTP/1.1 (or HTTP/2 "
                                     "with prior knowledge) are.",
                                     v),
                         "http_version_not_supported"});
        }
        if (v[7] > '1') out.minor_at = line.size() - 1;
      }
      continue;
    }
    if (line.empty()) {
      out.kind = HeadScan::Kind::complete;
      return out;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return refuse(bad_request(
          "Malformed HTTP request: a header line starts with whitespace (obs-fold, or whitespace "
          "before the first field; RFC 9112 §5.2, §2.2)."));
    }
    std::size_t i = 0;
    while (i < line.size() && is_tchar(line[i])) ++i;
    if (i == line.size() || line[i] != ':') {
      if (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        return refuse(
            bad_request("Malformed HTTP request: whitespace between a field name and its colon "
                        "(RFC 9112 §5.1)."));
      return refuse(bad_request("Malformed HTTP request: a field name that is not a token."));
    }
    if (i == 0) return refuse(bad_request("Malformed HTTP request: an empty field name."));
    for (char c : line.substr(i + 1)) {
      if (!is_field_value_char(c))
        return refuse(bad_request("Malformed HTTP request: a control character in a field value."));
    }
  }
}

std::optional<Refusal> check_header(Request& req) {
  const unsigned v = req.version();
  if (v < 10 || v >= 20) {
    return Refusal{http::status::http_version_not_supported,
                   fmt::format("HTTP/{}.{} is not supported here: HTTP/1.0 and HTTP/1.1 (or HTTP/2 "
                               "with prior knowledge) are.",
                               v / 10, v % 10),
                   "http_version_not_supported"};
  }
  if (!is_recognized(req.method())) {
    return Refusal{
        http::status::not_implemented,
        fmt::format("Method {} is not implemented.", std::string_view(req.method_string())),
        "method_not_implemented"};
  }

  // Host: RFC 9112 §3.2.
  const std::size_t hosts = req.count(http::field::host);
  if (hosts > 1) return bad_request("More than one Host header field.");
  if (hosts == 0 && v >= 11) return bad_request("An HTTP/1.1 request needs a Host header field.");
  if (hosts == 1 && !valid_authority(trim(req[http::field::host])))
    return bad_request("Invalid Host header field value.");

  // The target's form: RFC 9112 §3.2.
  const std::string_view target = req.target();
  if (target == "*") {
    if (req.method() != http::verb::options)
      return bad_request("The request target '*' is for OPTIONS only.");
  } else if (target.empty() || target.front() != '/') {
    std::string authority, origin;
    if (auto refusal = absolute_form(target, authority, origin)) return refusal;
    req.target(origin);
    req.set(http::field::host, authority);  // §3.2.2: the target's authority, not Host
  }

  // The body's length: RFC 9112 §6.1, §6.3.
  if (req.count(http::field::transfer_encoding) > 0) {
    if (v < 11) {
      return bad_request(
          "Transfer-Encoding in an HTTP/1.0 request: its framing cannot be trusted (RFC 9112 "
          "§6.1).");
    }
    if (req.count(http::field::content_length) > 0)
      return bad_request("Both Transfer-Encoding and Content-Length (RFC 9112 §6.3).");
    std::size_t codings = 0, chunked = 0;
    std::string_view last, unknown;
    const auto [te_first, te_last] = req.equal_range(http::field::transfer_encoding);
    for (auto f = te_first; f != te_last; ++f) {
      std::string_view list = f->value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        item = trim(item.substr(0, item.find(';')));
        if (item.empty()) continue;
        ++codings;
        last = item;
        if (beast::iequals(item, "chunked")) {
          ++chunked;
        } else if (unknown.empty()) {
          unknown = item;
        }
      }
    }
    if (codings == 0 || !beast::iequals(last, "chunked") || chunked > 1) {
      return bad_request(
          "Transfer-Encoding must end with chunked, once, for the body's length to be known (RFC "
          "9112 §6.3).");
    }
    if (!unknown.empty()) {
      return Refusal{http::status::not_implemented,
                     fmt::format("Transfer coding '{}' is not implemented.", unknown),
                     "transfer_coding_not_implemented"};
    }
  }

  // Expect: RFC 9110 §10.1.1; HTTP/1.0 expectations are ignored.
  if (v >= 11) {
    const auto [first, last] = req.equal_range(http::field::expect);
    for (auto f = first; f != last; ++f) {
      if (!beast::iequals(trim(f->value()), "100-continue")) {
        return Refusal{http::status::expectation_failed,
                       fmt::format("Expectation '{}' cannot be met; only 100-continue is.",
                                   std::string_view(f->value())),
                       "expectation_failed"};
      }
    }
  }
  return std::nullopt;
}

std::string allow_with_head(std::string_view allow) {
  std::string out;
  bool get = false, head = false;
  for (std::string_view list = allow; !list.empty();) {
    const auto comma = list.find(',');
    const std::string_view m = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    get = get || m == "GET";
    head = head || m == "HEAD";
  }
  if (!get || head) return std::string(allow);
  const auto at = allow.find("GET") + 3;
  return std::string(allow.substr(0, at)) + ", HEAD" + std::string(allow.substr(at));
}

bool expects_continue(const Request& req) {
  return req.version() >= 11 && req.count(http::field::expect) > 0;  // check_header vetted it
}

}  // namespace ssebench::server::h1
