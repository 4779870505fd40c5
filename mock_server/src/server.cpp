#include "ssebench/server/server.hpp"

#include <sys/resource.h>

#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include "connection.hpp"
#include "http_session.hpp"
#include "session_errors.hpp"
#include "ssebench/server/api.hpp"
#include "tls.hpp"

namespace ssebench::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

/** Accepts connections and serves each, on its own strand: over HTTP/1.1 (http_session.cpp), or
 *  with `tls` set, after a TLS handshake (tls.cpp). */
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  /** After a failed accept (EMFILE...), wait this long before the next one. */
  static constexpr milliseconds accept_backoff{10};

  Listener(net::io_context& ioc, const tcp::endpoint& endpoint, std::shared_ptr<State> state,
           std::shared_ptr<TlsContext> tls = nullptr, bool reuse_port = false)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        backoff_(acceptor_.get_executor()),
        state_(std::move(state)),
        tls_(std::move(tls)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    if (reuse_port)
      acceptor_.set_option(net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void run() {
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
  }

  void stop() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->backoff_.cancel();
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, TcpSocket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      fail(ec, "accept");
      backoff_.expires_after(accept_backoff);
      backoff_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->do_accept();
      });
      return;
    }
    Stats& stats = state_->stats;
    stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    if (static_cast<std::size_t>(stats.connections_open.load(std::memory_order_relaxed)) >=
        state_->config.max_connections) {
      stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // one event, one segment, at once
      if (tls_)
        serve_tls(std::move(socket), tls_, state_);
      else
        serve_http(Connection(TcpStream(std::move(socket))), state_);
    }
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  std::shared_ptr<State> state_;
  std::shared_ptr<TlsContext> tls_;  // null: the plain port
};

std::string url_of(std::string_view scheme, const std::string& address, std::uint16_t port) {
  return address.find(':') == std::string::npos
             ? fmt::format("{}://{}:{}", scheme, address, port)
             : fmt::format("{}://[{}]:{}", scheme, address, port);
}

}  // namespace

struct Server::Impl {
  Config config;
  std::shared_ptr<TlsContext> tls;  // outlives the io_context: its sessions' SSL objects use it
  net::io_context ioc;
  std::shared_ptr<State> state;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<Listener> tls_listener;
  std::optional<net::signal_set> signals;

  Impl(const Config& c, const std::vector<std::shared_ptr<const Recording>>& recordings)
      : config(c),
        tls(c.tls_port ? make_tls_context(c.tls_cert, c.tls_key, c.tls_keylog) : nullptr),
        ioc(static_cast<int>(c.threads)),
        state(std::make_shared<State>(c, recordings)),
        listener(std::make_shared<Listener>(
            ioc, tcp::endpoint(net::ip::make_address(c.bind_address), c.port), state, nullptr,
            c.reuse_port)) {
    if (tls) {
      tls_listener = std::make_shared<Listener>(
          ioc, tcp::endpoint(net::ip::make_address(c.bind_address), *c.tls_port), state, tls,
          c.reuse_port);
      tls_listener->run();
    }
    listener->run();
  }
};

Server::Server(const Config& config,
               const std::vector<std::shared_ptr<const Recording>>& recordings)
    : impl_(std::make_unique<Impl>(config, recordings)) {}

Server::~Server() {
  stop();
  // Destroying the io_context destroys pending handlers, which frees every session.
}

std::uint16_t Server::port() const {
  return impl_->listener->port();
}

std::string Server::url() const {
  return url_of("http", impl_->config.bind_address, port());
}

std::uint16_t Server::tls_port() const {
  return impl_->tls_listener ? impl_->tls_listener->port() : 0;
}

std::string Server::tls_url() const {
  return impl_->tls_listener ? url_of("https", impl_->config.bind_address, tls_port()) : "";
}

void Server::handle_signals() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](beast::error_code ec, int) {
    if (!ec) stop();
  });
}

void Server::run() {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->config.threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  impl_->listener->stop();
  if (impl_->tls_listener) impl_->tls_listener->stop();
  if (impl_->signals) {
    beast::error_code ignored;
    impl_->signals->cancel(ignored);
  }
  impl_->ioc.stop();
}

const Stats& Server::stats() const {
  return impl_->state->stats;
}

const std::vector<std::string>& Server::load_errors() const {
  return impl_->state->load_errors;
}

const std::vector<std::string>& Server::set_errors() const {
  return impl_->state->set_errors;
}

std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

}  // namespace ssebench::server
