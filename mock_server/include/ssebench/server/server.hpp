#pragma once
/**
 * The replay server: binds at construction (so port() is known at once), serves until stop().
 * Beast and Asio stay behind a pimpl so that users of this header compile quickly.
 */
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ssebench/recording.hpp"
#include "ssebench/server/config.hpp"
#include "ssebench/server/stats.hpp"

namespace ssebench::server {

class Server {
 public:
  /** Binds and listens; throws std::system_error when the address cannot be bound, and
   *  std::runtime_error when the TLS certificate, key or key log cannot be used. */
  Server(const Config& config, const std::vector<std::shared_ptr<const Recording>>& recordings);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  /** "http://ADDR:PORT", the base every client URL is built from. */
  std::string url() const;
  /** The TLS port (Config::tls_port), 0 when there is none. */
  std::uint16_t tls_port() const;
  /** "https://ADDR:PORT", empty when there is no TLS port. */
  std::string tls_url() const;
  /** Stops the server on SIGINT or SIGTERM (call before run()). */
  void handle_signals();
  /** Runs the event loop on config.threads threads (this one included) until stop(). */
  void run();
  /** Stops accepting and ends every connection; run() returns. Thread-safe. */
  void stop();
  const Stats& stats() const;
  /** Recordings that loaded but are not served (their polled answers exceed the budget). */
  const std::vector<std::string>& load_errors() const;
  /** Recorded sets not served (a member missing, members that disagree); their members are. */
  const std::vector<std::string>& set_errors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/** Raises the soft RLIMIT_NOFILE to the hard limit (1,000+ streams); returns the new limit. */
std::uint64_t raise_fd_limit();

}  // namespace ssebench::server
