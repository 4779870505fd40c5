#pragma once
// The soak's own HTTP/1.1 client (ClientConfig::client = HttpClient::epoll): one kept-alive
// cleartext connection a user, its sockets on the libcurl driver's epoll beside libcurl's.
// 100,000 users polling every 5 s ask 20,000 requests a second; libcurl spends ~60 µs of the
// client's CPU on each (its per-transfer setup, a liveness poll() of the reused connection, an
// epoll_ctl to watch it and another to stop), which on a machine the servers share leaves the
// polls behind their schedule. A poll is one small GET and one small answer: this client writes
// the request libcurl would (the same bytes) and reads the answer's head and body framing, and
// the Stream above it (stream.cpp) reads the rest as it reads libcurl's. Private to the engine.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ssebench/bench/chunked.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

/** Where a connection's answers go: the Stream using it. */
class Http1Sink {
 public:
  /** A line of the answer's head with its CRLF, the status line first (as libcurl's header
   *  callback gets them). */
  virtual void on_head_line(std::string_view line) = 0;
  /** Body bytes as framed on the wire (chunked or not); false aborts the answer. */
  virtual bool on_body_bytes(std::string_view bytes) = 0;
  /** The answer ended: whole (`error` empty), or not, with why. */
  virtual void on_answered(std::string_view error) = 0;

 protected:
  ~Http1Sink() = default;
};

/** The epoll the connections' sockets are watched on (the libcurl driver's, in a soak), and
 *  how many connections are open. */
struct Http1Loop {
  int epoll = -1;
  std::size_t open = 0;
  /** Tags an epoll event's data as a connection's (data.u64), not a libcurl socket's (data.fd). */
  static constexpr std::uint64_t tag = std::uint64_t{1} << 63;
};

/** Where a ClientConfig's requests go, when this client can send them: cleartext HTTP/1.1
 *  kept alive, to an IPv4 address given in base_url or by a ClientConfig::resolve entry. */
struct Http1Target {
  sockaddr_in server{};
  std::optional<sockaddr_in> source;  // ClientConfig::source
  std::string host;                   // the Host header: base_url's authority
  std::string prefix;                 // base_url's path, before every request's
};
std::optional<Http1Target> http1_target(const ClientConfig& config);

/**
 * A user's connection: kept across the user's streams (one after the other, each attached while
 * it runs), as one device keeps its connection, and opened again when the server closed it.
 */
class Http1Conn {
 public:
  Http1Conn(Http1Loop& loop, Http1Target target) : loop_(loop), target_(std::move(target)) {}
  ~Http1Conn() { close(); }
  Http1Conn(const Http1Conn&) = delete;
  Http1Conn& operator=(const Http1Conn&) = delete;

  /** The stream whose requests it sends now; nullptr between streams. */
  void attach(Http1Sink* sink) { sink_ = sink; }
  Http1Sink* sink() const { return sink_; }
  /** Sends `request` (head and body), connecting first if no connection is open; the answer
   *  comes to the sink. Only when no request is in flight, with a sink attached. */
  void send(std::string request);
  /** What epoll reported for this connection's socket. */
  void on_events(std::uint32_t events);
  /** Abandons the request in flight (deadline, interrupt) and closes the connection. */
  void abort() { close(); }

  const Http1Target& target() const { return target_; }
  /** Bytes of requests written, and connections opened, since the last call. */
  std::uint64_t take_bytes_out() { return std::exchange(bytes_out_, 0); }
  std::size_t take_connects() { return std::exchange(connects_, 0); }

 private:
  enum class State { idle, head, body };
  enum class Framing { length, chunked, close };

  void start(std::string request);
  bool connect();
  /** A kept-alive connection the server closed while it was idle, seen only as the request
   *  went out or its answer was awaited: the request once more on a fresh connection, as
   *  libcurl does, when nothing of the answer came and it was not a retry already. */
  bool retry();
  void watch(std::uint32_t events);
  void write_out();
  void read_in();
  /** Parses the head `in_` holds, then its body; false once the answer ended (or failed) and
   *  the sink was told. */
  bool parse();
  /** Body bytes, straight from a read once the head is parsed; false as parse(). */
  bool body(std::string_view data);
  bool parse_head(std::size_t end);
  void answered(std::string_view error);
  void close();

  Http1Loop& loop_;
  Http1Target target_;
  Http1Sink* sink_ = nullptr;
  int fd_ = -1;
  bool connecting_ = false;
  bool reused_ = false;  // the request in flight went out on a connection that had served one
  bool retried_ = false;
  State state_ = State::idle;
  std::string request_;  // the request in flight (kept to resend once on a stale connection)
  std::size_t written_ = 0;
  std::string in_;      // bytes of the head read and not yet parsed
  bool begun_ = false;  // the answer in flight has begun (a byte of it was read)
  Framing framing_ = Framing::length;
  std::uint64_t remaining_ = 0;  // Framing::length
  ChunkedDecoder chunks_;        // Framing::chunked: where the body ends (scanned only)
  bool close_after_ = false;
  std::uint32_t watched_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::size_t connects_ = 0;
};

}  // namespace ssebench::bench
