#pragma once
// The types a connection's I/O objects are made of.
#include <chrono>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace ssebench::server {

/**
 * A connection's executor: the strand it was accepted on, named by its own type rather than as
 * an any_io_executor. Every I/O object (socket, timer) and every pending operation keeps a copy
 * of its executor, and a strand is 24 bytes where any_io_executor is 56: a held user has a
 * socket, three timers in Beast's stream, its session's timers and three pending waits.
 */
using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor>;
using TcpSocket = TcpStream::socket_type;
using Timer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace ssebench::server
