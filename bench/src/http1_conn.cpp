#include "http1_conn.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace ssebench::bench {

namespace {
/** An answer's head longer than this is refused (the server's are a few hundred bytes). */
constexpr std::size_t max_head_bytes = 64 * 1024;
/** One read's buffer, on the stack: a poll's answer fits whole. */
constexpr std::size_t read_bytes = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/** Whether a comma-separated header value lists `token` (case-insensitive). */
bool lists(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<sockaddr_in> ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) return std::nullopt;
  return a;
}
}  // namespace

std::optional<Http1Target> http1_target(const ClientConfig& config) {
  if (config.tls != TlsMode::off || config.http != HttpVersion::http1_1 || !config.keep_alive)
    return std::nullopt;
  constexpr std::string_view scheme = "http://";
  std::string_view url = config.base_url;
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  const std::string_view authority = url.substr(0, url.find('/'));
  Http1Target t;
  t.prefix = std::string(url.substr(authority.size()));
  const auto colon = authority.rfind(':');
  if (authority.empty() || authority.front() == '[') return std::nullopt;  // IPv6: libcurl's
  const std::string host(authority.substr(0, colon));
  std::uint16_t port = 80;
  if (colon != std::string_view::npos) {
    const std::string_view digits = authority.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0) return std::nullopt;
  }
  // The Host header libcurl writes: the port only when it is not the scheme's.
  t.host = port == 80 ? host : fmt::format("{}:{}", host, port);
  std::string address = host;
  const std::string prefix = fmt::format("{}:{}:", host, port);
  for (const std::string& r : config.resolve)
    if (r.starts_with(prefix)) address = r.substr(prefix.size());
  const auto server = ipv4(address, port);
  if (!server) return std::nullopt;
  t.server = *server;
  if (!config.source.empty()) {
    t.source = ipv4(config.source, 0);
    if (!t.source) return std::nullopt;
  }
  return t;
}

void Http1Conn::send(std::string request) {
  retried_ = false;
  start(std::move(request));
}

void Http1Conn::start(std::string request) {
  request_ = std::move(request);
  written_ = 0;
  begun_ = false;
  in_.clear();
  state_ = State::head;
  reused_ = fd_ >= 0;
  if (fd_ < 0 && !connect()) return;
  if (!connecting_) write_out();
}

bool Http1Conn::connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    answered(fmt::format("socket: {}", std::strerror(errno)));
    return false;
  }
  ++loop_.open;
  ++connects_;
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The port is chosen at connect, per destination, not reserved by bind for every one.
  if (target_.source) setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (target_.source &&
      ::bind(fd_, reinterpret_cast<const sockaddr*>(&*target_.source), sizeof(sockaddr_in)) != 0) {
    answered(fmt::format("bind: {}", std::strerror(errno)));
    return false;
  }
  const int rc =
      ::connect(fd_, reinterpret_cast<const sockaddr*>(&target_.server), sizeof(sockaddr_in));
  if (rc != 0 && errno != EINPROGRESS) {
    answered(fmt::format("connect: {}", std::strerror(errno)));
    return false;
  }
  connecting_ = rc != 0;
  epoll_event ev{};
  ev.events = connecting_ ? EPOLLOUT : EPOLLIN;
  ev.data.u64 = reinterpret_cast<std::uintptr_t>(this) | Http1Loop::tag;
  if (epoll_ctl(loop_.epoll, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    answered(fmt::format("epoll_ctl: {}", std::strerror(errno)));
    return false;
  }
  watched_ = ev.events;
  return true;
}

void Http1Conn::watch(std::uint32_t events) {
  if (fd_ < 0 || events == watched_) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = reinterpret_cast<std::uintptr_t>(this) | Http1Loop::tag;
  epoll_ctl(loop_.epoll, EPOLL_CTL_MOD, fd_, &ev);
  watched_ = events;
}

void Http1Conn::on_events(std::uint32_t events) {
  if (fd_ < 0) return;
  if (connecting_) {
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) return answered(fmt::format("connect: {}", std::strerror(error)));
    if (!(events & EPOLLOUT)) return;
    connecting_ = false;
    return write_out();
  }
  if ((events & EPOLLOUT) && state_ != State::idle && written_ < request_.size())
    return write_out();  // the answer cannot have begun before the request is out
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_in();
}

void Http1Conn::write_out() {
  while (written_ < request_.size()) {
    const ssize_t n =
        ::send(fd_, request_.data() + written_, request_.size() - written_, MSG_NOSIGNAL);
    if (n > 0) {
      written_ += static_cast<std::size_t>(n);
      bytes_out_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(EPOLLIN | EPOLLOUT);
    if (retry()) return;
    return answered(fmt::format("send: {}", std::strerror(errno)));
  }
  watch(EPOLLIN);
}

void Http1Conn::read_in() {
  char buf[read_bytes];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      if (state_ == State::idle) return close();  // bytes nobody asked for: not to be trusted
      begun_ = true;
      const std::string_view data(buf, static_cast<std::size_t>(n));
      if (state_ == State::body) {
        if (!body(data)) return;
      } else {
        in_.append(data);
        if (!parse()) return;
      }
      if (static_cast<std::size_t>(n) < sizeof buf) return;  // level-triggered: epoll says more
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    const std::string why = n == 0 ? "the server closed the connection" : std::strerror(errno);
    if (state_ == State::idle) return close();  // an idle keep-alive connection closed
    if (state_ == State::body && framing_ == Framing::close && n == 0) return answered({});
    if (retry()) return;
    return answered(fmt::format("{} before the answer ended", why));
  }
}

bool Http1Conn::retry() {
  if (begun_ || !reused_ || retried_) return false;
  std::string request = std::move(request_);
  close();
  retried_ = true;
  start(std::move(request));
  return true;
}

bool Http1Conn::parse() {
  while (state_ == State::head) {
    const auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() > max_head_bytes) {
        answered("the answer's head is too long");
        return false;
      }
      return true;
    }
    if (!parse_head(end + 4)) return false;
  }
  if (state_ != State::body) return false;
  if (in_.empty()) return true;
  // Views in_ until the sink has read it; answered() (which clears in_) comes last.
  if (!body(in_)) return false;
  in_.clear();
  return true;
}

bool Http1Conn::body(std::string_view data) {
  bool whole = false;
  switch (framing_) {
    case Framing::length: {
      const std::size_t take = static_cast<std::size_t>(
          std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(data.size())));
      if (take < data.size()) close_after_ = true;  // bytes past the answer: not reused
      data = data.substr(0, take);
      remaining_ -= take;
      whole = remaining_ == 0;
      break;
    }
    case Framing::chunked:
      chunks_.scan(data);
      whole = chunks_.done();
      if (chunks_.failed()) close_after_ = true;
      break;
    case Framing::close:
      break;
  }
  if (!sink_->on_body_bytes(data)) {
    answered("the reader refused the body");
    return false;
  }
  if (framing_ == Framing::chunked && chunks_.failed()) {
    answered("bad chunked framing: " + chunks_.error());
    return false;
  }
  if (!whole) return true;
  answered({});
  return false;
}

bool Http1Conn::parse_head(std::size_t end) {
  // Views in_ (no copy): every answered() below returns at once; in_ loses the head after.
  std::string_view rest(in_.data(), end);
  int status = 0;
  bool chunked = false;
  std::optional<std::uint64_t> length;
  bool first = true;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol + 2);
    rest.remove_prefix(line.size());
    sink_->on_head_line(line);
    const std::string_view text = line.substr(0, line.size() - 2);
    if (first) {
      first = false;
      // HTTP/1.x SSS reason
      if (text.size() < 12 || !text.starts_with("HTTP/1.") || text[8] != ' ') {
        answered("a malformed status line");
        return false;
      }
      const auto [p, ec] = std::from_chars(text.data() + 9, text.data() + 12, status);
      if (ec != std::errc{} || p != text.data() + 12 || status < 100) {
        answered("a malformed status line");
        return false;
      }
      if (text[7] == '0') close_after_ = true;  // HTTP/1.0: the server's keep-alive is not ours
      continue;
    }
    if (text.empty()) break;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      answered("a header line without a colon");
      return false;
    }
    const std::string_view name = text.substr(0, colon);
    const std::string_view value = trim(text.substr(colon + 1));
    if (iequals(name, "content-length")) {
      std::uint64_t n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || p != value.data() + value.size() || (length && *length != n)) {
        answered("a bad content-length");
        return false;
      }
      length = n;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = lists(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (lists(value, "close")) close_after_ = true;
    }
  }
  in_.erase(0, end);
  if (status < 200) return true;  // an interim answer (1xx): the real head follows
  state_ = State::body;
  if (chunked) {
    framing_ = Framing::chunked;
    chunks_ = ChunkedDecoder{};
  } else if (status == 204 || status == 304 || length) {
    framing_ = Framing::length;
    remaining_ = status == 204 || status == 304 ? 0 : *length;
  } else {
    framing_ = Framing::close;
    close_after_ = true;
  }
  if (framing_ == Framing::length && remaining_ == 0) {
    if (!in_.empty()) close_after_ = true;
    answered({});
    return false;
  }
  return true;
}

void Http1Conn::answered(std::string_view error) {
  const bool drop = !error.empty() || close_after_;
  state_ = State::idle;
  request_.clear();
  written_ = 0;
  in_.clear();
  if (drop) close();
  if (sink_)
    sink_->on_answered(error);  // may send the next request: nothing of this one is touched after
}

void Http1Conn::close() {
  if (fd_ >= 0) {
    epoll_ctl(loop_.epoll, EPOLL_CTL_DEL, fd_, nullptr);
    ::close(fd_);
    --loop_.open;
    fd_ = -1;
  }
  connecting_ = false;
  close_after_ = false;
  watched_ = 0;
  state_ = State::idle;
  in_.clear();
}

}  // namespace ssebench::bench
