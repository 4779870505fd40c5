// The libcurl driver: every HTTP transport's streams on one multi handle, driven by the calling
// thread (curl_multi_poll/perform; in a soak, curl_multi_socket_action over epoll).
#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <vector>

#include "driver.hpp"
#include "socket_tracker.hpp"
#include "stream.hpp"

namespace ssebench::bench {

namespace {
/** Spare cached connections beyond the round's concurrency. */
constexpr long spare_connections = 16;

/** libcurl's global state, initialised once for the process. */
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

int wait_ms(TimePoint until, TimePoint now) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, max_wait.count()));
}

/**
 * HTTP/2: the round's streams multiplexed over one connection (a browser tab's one connection
 * per origin); beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS (and libcurl's
 * CURLMOPT_MAX_CONCURRENT_STREAMS, 100) streams wait for a free one, as in a browser. Without
 * keep-alive every request has its own connection, as over HTTP/1.1.
 */
void set_http(CURLM* multi, const ClientConfig& config) {
  const bool mux = config.http == HttpVersion::http2;
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, mux ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
  // HTTP/2: one multiplexed connection, as a browser tab per origin. HTTP/1.1: the configured
  // cap (the browser profile's 6), else none.
  const long cap = mux && config.keep_alive ? 1L : static_cast<long>(config.max_host_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
}

/**
 * Drives a multi handle through curl_multi_socket_action: libcurl names the sockets it wants
 * watched (CURLMOPT_SOCKETFUNCTION) and when it wants a timeout (CURLMOPT_TIMERFUNCTION); epoll
 * waits for both. Installed for the soak only, removed at its end.
 */
class SocketLoop {
 public:
  explicit SocketLoop(CURLM* multi) : multi_(multi), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &SocketLoop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &SocketLoop::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);  // handles added before
  }
  ~SocketLoop() {
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
    ::close(epoll_);
  }
  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  /** Waits for socket activity, libcurl's timeout or `until`, and lets libcurl act on it (or
   *  the stream whose own connection it is: those streams are added to `handled`). */
  void wait(TimePoint until, ClockFn clock, std::vector<Stream*>& handled) {
    TimePoint limit = until;
    if (curl_timeout_) limit = std::min(limit, *curl_timeout_);
    std::array<epoll_event, 256> events;
    const int n =
        epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms(limit, clock()));
    int running = 0;
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      if (ev.data.u64 & Http1Loop::tag) {
        auto* conn = reinterpret_cast<Http1Conn*>(ev.data.u64 & ~Http1Loop::tag);
        conn->on_events(ev.events);
        if (Http1Sink* s = conn->sink()) handled.push_back(static_cast<Stream*>(s));
        continue;
      }
      int mask = 0;
      if (events[static_cast<std::size_t>(i)].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events[static_cast<std::size_t>(i)].events & (EPOLLERR | EPOLLHUP))
        mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, events[static_cast<std::size_t>(i)].data.fd, mask, &running);
    }
    if (curl_timeout_ && *curl_timeout_ <= clock()) {
      curl_timeout_.reset();
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

  Http1Loop& http1() { return http1_; }
  const Http1Loop& http1() const { return http1_; }

 private:
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* loop = static_cast<SocketLoop*>(self);
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(loop->epoll_, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (epoll_ctl(loop->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0)
      epoll_ctl(loop->epoll_, EPOLL_CTL_ADD, fd, &ev);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<SocketLoop*>(self);
    if (timeout_ms < 0)
      loop->curl_timeout_.reset();
    else
      loop->curl_timeout_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  CURLM* multi_;
  int epoll_;
  std::optional<TimePoint> curl_timeout_;
  Http1Loop http1_{epoll_};  // the streams' own connections (ClientConfig::client), beside
};

class CurlDriver final : public Driver {
 public:
  explicit CurlDriver(ClockFn clock) : clock_(clock) {
    static CurlGlobal global;
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    // TLS sessions shared by this thread's transfers (TlsMode::on); one thread, so no locks.
    share_ = curl_share_init();
    if (!share_) throw std::runtime_error("curl_share_init failed");
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  // Streams still held by the caller remove their handles first; cleanup closes the cached
  // connections through the tracker.
  ~CurlDriver() override {
    conns_.clear();
    soak_.reset();
    curl_multi_cleanup(multi_);
    close_pools();
    curl_share_cleanup(share_);
  }

  void prepare(const ClientConfig& config, std::size_t streams) override {
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(streams) + spare_connections);
    set_http(multi_, config);
  }

  // Room for every stream's connection twice over: past MAXCONNECTS libcurl prunes its cache
  // (a walk of every connection) each time a transfer ends. libcurl's socket interface, not
  // curl_multi_perform: perform visits every transfer (and polls its socket) on every call,
  // which at 10,000 streams costs more than the streams do; socket_action touches only the
  // sockets epoll reports.
  void begin_soak(std::size_t streams) override {
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      2 * static_cast<long>(streams) + spare_connections);
    soak_ = std::make_unique<SocketLoop>(multi_);
    collect_touched_ = true;
  }
  // The soak's streams are gone by now (their handles left the pools' share handles), so the
  // pools close their connections here, through the tracker.
  void end_soak() override {
    conns_.clear();  // closes them
    soak_.reset();
    collect_touched_ = false;
    take_touched();
    close_pools();
  }

  std::unique_ptr<Session> make(const SessionSpec& spec) override {
    StreamContext ctx{multi_,      &sockets_,      clock_,       spec.expect,
                      spec.config, spec.transport, &h2_openers_, share_};
    if (soak_ && spec.pool && spec.config->client == HttpClient::epoll)
      ctx.http1 = conn(*spec.pool, *spec.config);
    if (!ctx.http1 && spec.pool) ctx.pool = pool(*spec.pool, spec.config->tls == TlsMode::on);
    return row_of(spec.transport).make_stream(ctx);
  }

  void step() override {
    if (!soak_) {
      int running = 0;
      curl_multi_perform(multi_, &running);
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Stream* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode result = msg->data.result;
      curl_multi_remove_handle(multi_, msg->easy_handle);
      s->on_done(result);  // may add the handle again, or schedule the next request
      touched(s);
    }
  }

  void wait(TimePoint until) override {
    if (soak_) {
      handled_.clear();
      soak_->wait(until, clock_, handled_);
      for (Stream* s : handled_) touched(s);
      return;
    }
    curl_multi_poll(multi_, nullptr, 0, wait_ms(until, clock_()), nullptr);
  }

  TcpCounters take_round() override { return sockets_.take_round(); }

  std::size_t open_sockets() const {
    return sockets_.open_sockets() + (soak_ ? soak_->http1().open : 0);
  }

 private:
  /**
   * A pool's share handle, made on first use: its connection cache, and its TLS sessions when
   * they are resumed. The soak gives each user (slot) a pool of its own, so that a user reuses
   * only its own keep-alive connection, as one phone or browser would: from a shared cache a
   * poll user would take whichever connection sat idle, and 100,000 users polling every 30 s
   * held 2,166 connections open, not 100,000. It also keeps libcurl 7.88's walks short:
   * curl_multi_remove_handle walks the whole cache of a transfer's connection each time a
   * transfer that kept its connection ends (close_connect_only, in lib/multi.c), which over one
   * cache of 15,000 held users polling every 5 s cost more than a core. A share handle costs
   * ~5.8 KB (its cache's closure handle and hash), ~7.3 KB with TLS sessions. HTTP/1.1 only:
   * HTTP/2's one connection per multi handle (h2_openers) assumes one cache.
   */
  CURLSH* pool(std::size_t i, bool tls_sessions) {
    if (pools_.size() <= i) pools_.resize(i + 1, nullptr);
    if (!pools_[i]) {
      CURLSH* sh = curl_share_init();
      if (!sh) throw std::runtime_error("curl_share_init failed");
      curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
      if (tls_sessions) curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
      pools_[i] = sh;
    }
    return pools_[i];
  }
  /** A soak user's own connection (ClientConfig::client epoll), made on first use; nullptr
   *  when the epoll client cannot send the config's requests (http1_target). */
  Http1Conn* conn(std::size_t i, const ClientConfig& config) {
    if (conns_.size() <= i) conns_.resize(i + 1);
    if (!conns_[i]) {
      std::optional<Http1Target> target = http1_target(config);
      if (!target) return nullptr;
      conns_[i] = std::make_unique<Http1Conn>(soak_->http1(), std::move(*target));
    }
    return conns_[i].get();
  }
  void close_pools() {
    for (CURLSH* sh : pools_)
      if (sh) curl_share_cleanup(sh);
    pools_.clear();
  }

  ClockFn clock_;
  std::size_t h2_openers_ = 0;  // StreamContext::h2_openers
  SocketTracker sockets_;       // outlives `multi_`: its close callback runs in curl_multi_cleanup
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;     // outlives the streams' handles, which use it
  std::vector<CURLSH*> pools_;  // by SessionSpec::pool; outlive their streams' handles too
  std::unique_ptr<SocketLoop> soak_;
  std::vector<std::unique_ptr<Http1Conn>> conns_;  // by SessionSpec::pool, on soak_'s epoll
  std::vector<Stream*> handled_;                   // SocketLoop::wait's, reused
};
}  // namespace

std::unique_ptr<Driver> make_curl_driver(ClockFn clock) {
  return std::make_unique<CurlDriver>(clock);
}

std::size_t open_sockets(const Driver& curl_driver) {
  return dynamic_cast<const CurlDriver&>(curl_driver).open_sockets();
}

}  // namespace ssebench::bench
