#pragma once
/**
 * A TCP socket that counts the bytes it reads and writes, as the next layer of a
 * boost::beast::websocket::stream: the WebSocket session (server) and the ws client (harness)
 * both report what crossed the socket API — the upgrade handshake, frame headers, masks,
 * payloads, control frames — byte for byte, as the HTTP paths do.
 */
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace ssebench {

class CountingSocket {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;

  /** `already_read`: bytes read from the socket before it came here (the HTTP session's
   *  buffer after the upgrade request), served first and counted as read. */
  explicit CountingSocket(socket_type&& s, std::string already_read = {})
      : socket_(std::move(s)), already_read_(std::move(already_read)) {}
  template <typename Executor>
  explicit CountingSocket(const Executor& ex) : socket_(ex) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  const socket_type& next_layer() const noexcept { return socket_; }

  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t bytes_out() const { return bytes_out_; }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (!already_read_.empty()) {
      const std::size_t n = boost::asio::buffer_copy(buffers, boost::asio::buffer(already_read_));
      already_read_.erase(0, n);
      bytes_in_ += n;
      boost::asio::post(socket_.get_executor(), [n, h = std::forward<Handler>(handler)]() mutable {
        std::move(h)(boost::system::error_code{}, n);
      });
      return;
    }
    socket_.async_read_some(buffers, [this, h = std::forward<Handler>(handler)](
                                         boost::system::error_code ec, std::size_t n) mutable {
      bytes_in_ += n;
      std::move(h)(ec, n);
    });
  }

  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    socket_.async_write_some(buffers, [this, h = std::forward<Handler>(handler)](
                                          boost::system::error_code ec, std::size_t n) mutable {
      bytes_out_ += n;
      std::move(h)(ec, n);
    });
  }

 private:
  socket_type socket_;
  std::string already_read_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

// The WebSocket close handshake's TCP teardown, found by ADL: that of the socket underneath.
inline void teardown(boost::beast::role_type role, CountingSocket& s,
                     boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, s.next_layer(), ec);
}

template <typename Handler>
void async_teardown(boost::beast::role_type role, CountingSocket& s, Handler&& handler) {
  boost::beast::websocket::async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

}  // namespace ssebench
