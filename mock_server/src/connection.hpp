#pragma once
// A session's byte stream, private to the server: a plain TCP stream or TLS over one, chosen at
// run time, so that the HTTP/1.1, HTTP/2 and WebSocket sessions stay untemplated and serve both
// the plain and the TLS port. Every byte a session writes goes through here (so TLS encrypts
// it); socket options, TCP_INFO and the lifetime limits use the TCP socket underneath.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "executor.hpp"
#include "ssebench/server/stats.hpp"

namespace ssebench::server {

/**
 * The TCP stream under TLS: it counts the bytes on the wire (TLS records, handshakes, alerts)
 * into Stats::tls_wire_bytes_*, beside the sessions' plaintext counters.
 */
class WireStream {
 public:
  using executor_type = TcpStream::executor_type;
  using lowest_layer_type = TcpStream::socket_type;

  WireStream(TcpStream&& tcp, Stats& stats) : tcp_(std::move(tcp)), stats_(&stats) {}

  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return tcp_.socket(); }
  const lowest_layer_type& lowest_layer() const noexcept { return tcp_.socket(); }
  TcpStream& tcp() noexcept { return tcp_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          tcp_.async_read_some(b, [this, h = std::move(handler)](boost::system::error_code ec,
                                                                 std::size_t n) mutable {
            stats_->tls_wire_bytes_in.fetch_add(n, std::memory_order_relaxed);
            std::move(h)(ec, n);
          });
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          tcp_.async_write_some(b, [this, h = std::move(handler)](boost::system::error_code ec,
                                                                  std::size_t n) mutable {
            stats_->tls_wire_bytes_out.fetch_add(n, std::memory_order_relaxed);
            std::move(h)(ec, n);
          });
        },
        token, buffers);
  }

 private:
  TcpStream tcp_;
  Stats* stats_;
};

using TlsStream = boost::beast::ssl_stream<WireStream>;

/**
 * Plain TCP or TLS. Reads and writes dispatch at run time; the bytes they carry are the
 * plaintext (application) bytes, counted in bytes_in()/bytes_out(). `already_read` bytes (read
 * by an earlier session, not yet consumed) are served first. expires_after/expires_never are
 * Beast's tcp_stream timeouts on the TCP stream (under TLS too). On the plain stream a write
 * with no timeout set goes straight to the socket, as the sessions' hot path did before TLS.
 */
class Connection {
 public:
  using executor_type = TcpStream::executor_type;
  using socket_type = TcpSocket;

  explicit Connection(TcpStream&& tcp) : stream_(std::move(tcp)) {}
  explicit Connection(TlsStream&& tls) : stream_(std::move(tls)) {}
  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = delete;  // TlsStream is not move-assignable

  bool is_tls() const { return std::holds_alternative<TlsStream>(stream_); }
  /** The TLS stream; only when is_tls(). */
  TlsStream& tls() { return std::get<TlsStream>(stream_); }

  executor_type get_executor() noexcept { return tcp().get_executor(); }
  TcpStream& tcp() noexcept {
    if (auto* t = std::get_if<TlsStream>(&stream_)) return t->next_layer().tcp();
    return std::get<TcpStream>(stream_);
  }
  socket_type& socket() noexcept { return tcp().socket(); }

  template <class Duration>
  void expires_after(Duration d) {
    timed_ = true;
    tcp().expires_after(d);
  }
  void expires_never() {
    timed_ = false;
    tcp().expires_never();
  }

  void set_already_read(std::string bytes) { already_read_ = std::move(bytes); }
  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t bytes_out() const { return bytes_out_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) { this->initiate_read(std::move(handler), b); },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) { this->initiate_write(std::move(handler), b); },
        token, buffers);
  }

  /**
   * Ends the sending side: TLS sends close_notify and waits (at most `linger`) for the client's,
   * then the socket closes; plain TCP shuts down its sending side at once. `handler()` is called
   * when done, errors ignored (best effort).
   */
  template <class Handler>
  void async_shutdown(std::chrono::milliseconds linger, Handler&& handler) {
    if (auto* t = std::get_if<TlsStream>(&stream_)) {
      expires_after(linger);
      t->async_shutdown(
          [this, h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
            close();
            std::move(h)();
          });
      return;
    }
    boost::system::error_code ignored;
    socket().shutdown(socket_type::shutdown_send, ignored);
    boost::asio::post(get_executor(), std::forward<Handler>(handler));
  }

  /** Closes the TCP socket now: every pending operation fails. */
  void close() {
    boost::system::error_code ignored;
    socket().shutdown(socket_type::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  template <class Handler, class Buffers>
  void initiate_read(Handler&& handler, const Buffers& b) {
    if (!already_read_.empty()) {
      const std::size_t n = boost::asio::buffer_copy(b, boost::asio::buffer(already_read_));
      already_read_.erase(0, n);
      bytes_in_ += n;
      boost::asio::post(get_executor(), [n, h = std::move(handler)]() mutable {
        std::move(h)(boost::system::error_code{}, n);
      });
      return;
    }
    auto done = [this, h = std::move(handler)](boost::system::error_code ec,
                                               std::size_t n) mutable {
      bytes_in_ += n;
      std::move(h)(ec, n);
    };
    if (auto* t = std::get_if<TlsStream>(&stream_)) return t->async_read_some(b, std::move(done));
    std::get<TcpStream>(stream_).async_read_some(b, std::move(done));
  }

  template <class Handler, class Buffers>
  void initiate_write(Handler&& handler, const Buffers& b) {
    auto done = [this, h = std::move(handler)](boost::system::error_code ec,
                                               std::size_t n) mutable {
      bytes_out_ += n;
      std::move(h)(ec, n);
    };
    if (auto* t = std::get_if<TlsStream>(&stream_)) return t->async_write_some(b, std::move(done));
    auto& tcp = std::get<TcpStream>(stream_);
    if (!timed_) return tcp.socket().async_write_some(b, std::move(done));
    tcp.async_write_some(b, std::move(done));
  }

  std::variant<TcpStream, TlsStream> stream_;
  std::string already_read_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  bool timed_ = false;  // a tcp_stream timeout is set: writes go through it
};

/** A WebSocket's teardown waits this long at most for the TLS client's close_notify. */
inline constexpr long teardown_linger_ms = 1'000;

// Beast's hooks, found by ADL. A WebSocket's close handshake ends with teardown: plain TCP as
// Beast does it (shut down sending, drain the client until its EOF, close: no reset while the
// client still has bytes in flight); TLS with close_notify (best effort), then the close.
inline void teardown(boost::beast::role_type role, Connection& c, boost::system::error_code& ec) {
  if (!c.is_tls()) return boost::beast::websocket::teardown(role, c.socket(), ec);
  c.close();
  ec = {};
}

template <class Handler>
void async_teardown(boost::beast::role_type role, Connection& c, Handler&& handler) {
  if (!c.is_tls())
    return boost::beast::websocket::async_teardown(role, c.socket(),
                                                   std::forward<Handler>(handler));
  c.async_shutdown(std::chrono::milliseconds(teardown_linger_ms),
                   [h = std::forward<Handler>(handler)]() mutable {
                     std::move(h)(boost::system::error_code{});
                   });
}

/** A WebSocket's timeout closes the socket (beast::close_socket). */
inline void beast_close_socket(Connection& c) {
  c.close();
}

}  // namespace ssebench::server
