#pragma once
// The WebSocket session (OpenAI's Responses API WebSocket mode, and ssebench's chat variant):
// the HTTP/1.1 session hands a connection over once it has read an upgrade on a WebSocket path.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "ssebench/server/api.hpp"

namespace ssebench::server {

/** The path of an upgrade the WebSocket session serves; false for every other request. */
bool is_ws_upgrade(const Request& req);

/**
 * Accepts the upgrade `req` (whose `upgrade_bytes` the HTTP parser consumed; `already_read`:
 * what the HTTP session had read after it) on `conn` and serves turns until the client leaves
 * or a limit closes the connection.
 */
void run_ws_session(Connection&& conn, Request&& req, std::size_t upgrade_bytes,
                    std::string already_read, std::shared_ptr<State> state);

}  // namespace ssebench::server
