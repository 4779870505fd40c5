#pragma once
// How the sessions (HTTP/1.1, HTTP/2, WebSocket) report I/O errors; private to the server.
#include <cstdio>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

namespace ssebench::server {

/** Errors that only mean the peer went away or we cancelled: not worth a line on stderr. */
inline bool is_quiet(boost::beast::error_code ec) {
  namespace net = boost::asio;
  namespace http = boost::beast::http;
  namespace websocket = boost::beast::websocket;
  return ec == net::error::operation_aborted || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::bad_descriptor || ec == boost::beast::error::timeout ||
         ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == net::error::not_connected || ec == websocket::error::closed ||
         ec == websocket::error::message_too_big ||  // the client's error: closed with 1009
         ec == net::ssl::error::stream_truncated;    // a TLS client closed without close_notify
}

/** One line on stderr, "ssebench-mock-server: WHAT: error", unless `ec` is none or quiet. */
inline void fail(boost::beast::error_code ec, const char* what) {
  if (!ec || is_quiet(ec)) return;
  std::fprintf(stderr, "ssebench-mock-server: %s: %s\n", what, ec.message().c_str());
}

}  // namespace ssebench::server
