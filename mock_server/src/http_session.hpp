#pragma once
// The HTTP/1.1 session, private to the server: every accepted connection starts here, and goes on
// over HTTP/2 (h2_session.hpp) when its first bytes are the preface, or over a WebSocket
// (ws_session.hpp) once it has read an upgrade on a WebSocket path.
#include <memory>

#include "connection.hpp"
#include "ssebench/server/api.hpp"

namespace ssebench::server {

/** Serves the connection, one request at a time, until it ends or a limit closes it. */
void serve_http(Connection&& conn, std::shared_ptr<State> state);

}  // namespace ssebench::server
