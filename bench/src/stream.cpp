#include "stream.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>

#include "socket_tracker.hpp"

namespace ssebench::bench {

namespace {
/** Bytes of a non-2xx body kept for the error message. */
constexpr std::size_t error_body_limit = 200;

bool iequals_prefix(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), line.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

/** Longest recording duration / speed a deadline counts: a tiny --speed must not overflow it. */
constexpr std::chrono::hours max_scaled_duration{24 * 365};
/** HTTP/2: an answer begun and quiet this long is kicked (Stream::kick). On loopback a JSON
 *  answer's bytes follow each other within microseconds; SSE's quiet between events costs one
 *  kick per this much of it. */
constexpr std::chrono::milliseconds h2_kick_after{50};
}  // namespace

Stream::Stream(const StreamContext& ctx) : ctx_(ctx) {
  if (ctx_.http1) {
    conn_ = ctx_.http1;
    conn_->attach(this);
    return;
  }
  easy_ = curl_easy_init();
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  // HTTP/2: wait for the one connection of the multi handle rather than open another.
  if (config().http == HttpVersion::http2) curl_easy_setopt(easy_, CURLOPT_PIPEWAIT, 1L);
  // Raw bytes as they crossed the socket: the chunk framing is decoded here (ChunkedDecoder).
  curl_easy_setopt(easy_, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy_, CURLOPT_PROXY, "");  // loopback only, whatever the environment says
  if (config().tls != TlsMode::off) {
    // Verified against the run's CA (and the name or address in the URL), never unverified.
    curl_easy_setopt(easy_, CURLOPT_CAINFO, config().ca_file.c_str());
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 2L);
    if (config().tls == TlsMode::noresume)
      curl_easy_setopt(easy_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    else if (ctx_.share && !ctx_.pool)
      curl_easy_setopt(easy_, CURLOPT_SHARE, ctx_.share);
  }
  if (ctx_.pool) curl_easy_setopt(easy_, CURLOPT_SHARE, ctx_.pool);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Stream::header_cb);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Stream::write_cb);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_PREREQFUNCTION, &Stream::prereq_cb);
  curl_easy_setopt(easy_, CURLOPT_PREREQDATA, this);
  if (!config().keep_alive) {
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
  }
  headers_ =
      curl_slist_append(headers_, fmt::format("x-ssebench-speed: {}", config().speed).c_str());
  if (config().epoch_us)
    headers_ = curl_slist_append(
        headers_, fmt::format("x-ssebench-epoch-us: {}", *config().epoch_us).c_str());
  headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  for (const std::string& r : config().resolve) resolve_ = curl_slist_append(resolve_, r.c_str());
  if (resolve_) curl_easy_setopt(easy_, CURLOPT_RESOLVE, resolve_);
  if (!config().source.empty()) {
    interface_ = "host!" + config().source;  // an address, never an interface's name
    curl_easy_setopt(easy_, CURLOPT_INTERFACE, interface_.c_str());
  }
  ctx_.sockets->attach(easy_);
}

Stream::~Stream() {
  if (conn_ && conn_->sink() == this) {  // not yet the user's next stream's
    if (in_flight_) conn_->abort();
    conn_->attach(nullptr);
  }
  if (in_flight_ && easy_) curl_multi_remove_handle(ctx_.multi, easy_);
  leave_openers();
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(post_headers_);
  curl_slist_free_all(resolve_);
}

void Stream::start() {
  started_ = true;
  const ClientConfig& c = config();
  record_.content.reserve(
      expect().clock.content_offsets().size());  // no growth on the per-event path
  record_.t0 = now();
  if (c.epoch_us) record_.scheduled = epoch_on_clock(*c.epoch_us, record_.t0);
  deadline_ = stream_deadline(record_.t0, expect(), c);
  first_request();
}

TimePoint stream_deadline(TimePoint t0, const Expectation& expect, const ClientConfig& c) {
  // The replay's end as the server paces it (core's scaling), capped so a tiny --speed or a
  // large factor cannot overflow the time point.
  const auto end =
      std::min<std::chrono::nanoseconds>(expect.clock.end(c.speed), max_scaled_duration);
  const auto budget = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double, std::nano>(end) * c.deadline_factor);
  return t0 + budget + c.deadline_slack + c.interval;
}

void Stream::send(const std::string& path, const std::string* body) {
  status_ = 0;
  chunked_ = false;
  decoder_ = ChunkedDecoder{};
  error_body_.clear();
  last_read_.reset();
  if (conn_) {
    if (body) record_.body_bytes_out += body->size();
    if (!record_.dispatched) record_.dispatched = now();  // handed to the socket
    in_flight_ = true;
    return conn_->send(http1_request(path, body));  // may end it at once (connect failed)
  }
  const std::string url = config().base_url + path;
  curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  if (body) {
    if (!post_headers_) {
      post_headers_ =
          curl_slist_append(nullptr, fmt::format("x-ssebench-speed: {}", config().speed).c_str());
      if (config().epoch_us)
        post_headers_ = curl_slist_append(
            post_headers_, fmt::format("x-ssebench-epoch-us: {}", *config().epoch_us).c_str());
      post_headers_ = curl_slist_append(post_headers_, "Expect:");
      post_headers_ = curl_slist_append(post_headers_, "Content-Type: application/json");
    }
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, post_headers_);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body->data());
    record_.body_bytes_out += body->size();
  } else {
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, http_version());
  in_flight_ = true;
  if (const CURLMcode rc = curl_multi_add_handle(ctx_.multi, easy_); rc != CURLM_OK) {
    in_flight_ = false;
    fail(ErrorKind::curl, curl_multi_strerror(rc));
  }
}

// libcurl 7.88 fails a prior-knowledge transfer that reuses an open HTTP/2 connection (error
// 16, "Error in the HTTP2 framing layer"; curl/curl#10643, fixed in 7.89). So only a transfer
// that opens the connection asks for prior knowledge: one at a time, when libcurl holds no
// socket. The others ask for CURL_HTTP_VERSION_2_0, which multiplexes over that connection
// (PIPEWAIT, one connection per host); were they to open one themselves, it would be
// HTTP/1.1 with Upgrade: h2c, which the server does not take, and on_done fails the stream.
long Stream::http_version() {
  if (config().http == HttpVersion::http1_1) return CURL_HTTP_VERSION_1_1;
  if (config().http == HttpVersion::http1_0) return CURL_HTTP_VERSION_1_0;
  // Over TLS, HTTP/2 as browsers get it: offered by ALPN, the server choosing (on_done checks
  // that it did); the prior-knowledge workaround below is cleartext's only.
  if (config().tls != TlsMode::off) return CURL_HTTP_VERSION_2TLS;
  const bool opens =
      !config().keep_alive || (ctx_.sockets->open_sockets() == 0 && *ctx_.h2_openers == 0);
  if (!opens) return CURL_HTTP_VERSION_2_0;
  h2_opener_ = true;
  ++*ctx_.h2_openers;
  return CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
}

void Stream::leave_openers() {
  if (!h2_opener_) return;
  h2_opener_ = false;
  --*ctx_.h2_openers;
}

std::size_t Stream::header_cb(char* data, std::size_t size, std::size_t n, void* self) {
  static_cast<Stream*>(self)->take_head_line({data, size * n});
  return size * n;
}

void Stream::take_head_line(std::string_view line) {
  if (!record_.first_byte) record_.first_byte = now();
  quiet_since_ = now();
  record_.http_bytes_in += line.size();
  record_.http_header_bytes_in += line.size();
  if (line.starts_with("HTTP/")) {
    if (config().tls != TlsMode::off) tls_resumed_ = session_reused();
    const auto sp = line.find(' ');
    status_ =
        sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    chunked_ = false;
  } else if (iequals_prefix(line, "transfer-encoding:")) {
    std::string value(line.substr(18));
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (value.find("chunked") != std::string::npos) chunked_ = true;
  }
}

int Stream::prereq_cb(void* self, char*, char*, int, int) {
  auto* s = static_cast<Stream*>(self);
  if (!s->record_.dispatched) s->record_.dispatched = s->now();
  return CURL_PREREQFUNC_OK;
}

std::size_t Stream::write_cb(char* data, std::size_t size, std::size_t n, void* self) {
  return static_cast<Stream*>(self)->take_body({data, size * n}) ? size * n : 0;
}

bool Stream::take_body(std::string_view body) {
  // One clock reading per read, before parsing: every event these bytes complete was received now.
  const TimePoint at = now();
  last_read_ = at;
  quiet_since_ = at;
  record_.http_bytes_in += body.size();
  if (chunked_) {
    decoded_.clear();
    if (!decoder_.feed(body, decoded_)) {
      record_.fail(ErrorKind::bad_response, "bad chunked framing: " + decoder_.error());
      return false;  // aborts the transfer
    }
    body = decoded_;
  }
  record_.body_bytes_in += body.size();
  if (status_ >= 200 && status_ < 300) {
    if (!finished_) on_body(body, at);
    if (record_.error) return false;  // the body is bad (an event that is not JSON): abort
  } else if (error_body_.size() < error_body_limit) {
    error_body_.append(body.substr(0, error_body_limit - error_body_.size()));
  }
  return true;
}

std::string Stream::http1_request(const std::string& path, const std::string* body) const {
  const Http1Target& t = conn_->target();
  std::string r =
      fmt::format("{} {}{} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\nx-ssebench-speed: {}\r\n",
                  body ? "POST" : "GET", t.prefix, path, t.host, config().speed);
  if (config().epoch_us) r += fmt::format("x-ssebench-epoch-us: {}\r\n", *config().epoch_us);
  if (!body) return r += "\r\n";
  r += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", body->size());
  return r += *body;
}

void Stream::on_answered(std::string_view error) {
  in_flight_ = false;
  record_.http_bytes_out += conn_->take_bytes_out();
  record_.connections += conn_->take_connects();
  answered(error, false);
}

void Stream::on_done(CURLcode result) {
  in_flight_ = false;
  leave_openers();
  long request_bytes = 0;
  long connects = 0;
  curl_easy_getinfo(easy_, CURLINFO_REQUEST_SIZE, &request_bytes);
  curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects);
  record_.http_bytes_out += static_cast<std::uint64_t>(request_bytes);
  record_.connections += static_cast<std::size_t>(connects);
  if (config().tls != TlsMode::off && connects > 0) {
    // A connection this request opened: TCP connected to the TLS handshake done (µs from the
    // transfer's start, both); a reused connection has no handshake of its own.
    curl_off_t connected = 0, handshaken = 0;
    curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connected);
    curl_easy_getinfo(easy_, CURLINFO_APPCONNECT_TIME_T, &handshaken);
    if (handshaken > 0)
      record_.tls_handshakes.push_back(
          {static_cast<double>(handshaken - connected) / 1e3, tls_resumed_});
  }
  tls_resumed_ = false;
  long version = 0;
  const bool wrong_version =
      config().http == HttpVersion::http2 &&
      curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
      version != CURL_HTTP_VERSION_2_0;
  answered(result == CURLE_OK ? std::string_view{} : curl_easy_strerror(result), wrong_version);
}

void Stream::answered(std::string_view transfer_error, bool wrong_version) {
  ++record_.requests;
  if (finished_) return;
  if (record_.error) return finish();  // failed inside a callback
  // An answer that had begun and was cut (the server died, a chunk was cut short) is truncated;
  // no answer at all is the transfer's error.
  if (!transfer_error.empty())
    return fail(status_ > 0 ? ErrorKind::truncated : ErrorKind::curl,
                fmt::format("{}{}", status_ > 0 ? "the answer was cut: " : "", transfer_error));
  if (wrong_version)
    return fail(ErrorKind::bad_response, "asked for HTTP/2, answered over HTTP/1.x");
  if (status_ < 200 || status_ >= 300)
    return fail(ErrorKind::http_status, fmt::format("HTTP {}: {}", status_, error_body_));
  if (chunked_ && !decoder_.done())
    return fail(ErrorKind::truncated, "the chunked body ended before its last chunk");
  on_response(last_read_.value_or(now()));
}

// libcurl 7.88's HTTP/2 receive path (before the 8.x rework of lib/http2.c) can read an
// answer's last DATA frames and END_STREAM off the socket while another transfer is being
// served, and then not wake the transfer they belong to: its bytes wait in libcurl, the
// socket stays quiet, and the transfer hangs until its deadline. Seen with many streams of
// large answers ending together (long-poll, shape=events, c:100: one stream stuck at 32768
// of 46153 body bytes, all of them and END_STREAM acknowledged by the client's TCP).
// Pausing and unpausing the transfer is libcurl's own way to have it read what it holds
// (curl_easy_pause expires the transfer and forces a read check on its connection); it sends
// nothing on the wire when the stream's window is unchanged.
std::optional<TimePoint> Stream::kick_at() const {
  if (config().http != HttpVersion::http2 || !in_flight_ || status_ == 0) return std::nullopt;
  return quiet_since_ + h2_kick_after;
}

void Stream::kick() {
  quiet_since_ = now();
  ++record_.h2_kicks;
  curl_easy_pause(easy_, CURLPAUSE_RECV);
  curl_easy_pause(easy_, CURLPAUSE_CONT);
}

bool Stream::session_reused() const {
  curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(easy_, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
      info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
    return false;
  return SSL_session_reused(static_cast<SSL*>(info->internals)) == 1;
}

void Stream::on_timer() {
  wake_at_.reset();
  if (!started_)
    start();
  else if (!finished_)
    next_request();
}

bool Stream::on_tick(TimePoint now, TimePoint& next) {
  if (finished_) return false;
  if (now >= deadline_) {
    on_deadline();
    return false;
  }
  bool sent = false;
  if (wake_at_ && *wake_at_ <= now) {
    on_timer();
    sent = true;
  }
  if (finished_) return sent;
  if (const auto at = kick_at()) {  // libcurl 7.88's stalled HTTP/2 answer (stream.hpp)
    if (*at <= now) {
      kick();
      sent = true;  // what the kick read is handled without waiting
    } else {
      next = std::min(next, *at);
    }
  }
  next = std::min(next, deadline_);
  if (wake_at_) next = std::min(next, *wake_at_);
  return sent;
}

void Stream::abandon() {
  if (!in_flight_) return;
  in_flight_ = false;
  if (conn_) {
    conn_->abort();
    record_.http_bytes_out += conn_->take_bytes_out();
    record_.connections += conn_->take_connects();
    return;
  }
  curl_multi_remove_handle(ctx_.multi, easy_);
  leave_openers();
}

void Stream::on_deadline() {
  abandon();
  fail(ErrorKind::timeout,
       fmt::format("no end after {} requests, {} events", record_.requests, record_.events));
}

void Stream::on_interrupt() {
  if (!started_) record_.t0 = now();  // a staggered start that never came
  abandon();
  fail(ErrorKind::interrupted,
       fmt::format("interrupted after {} requests, {} events", record_.requests, record_.events));
}

void Stream::finish() {
  if (finished_) return;
  finished_ = true;
  wake_at_.reset();
  record_.end = last_read_.value_or(now());
}

void Stream::fail(ErrorKind kind, std::string detail) {
  record_.fail(kind, std::move(detail));
  finish();
}

void Stream::check_transcript(const Transcript& want) {
  bench::check_transcript(record_, want, expect().clock.content_offsets().size());
}

void check_transcript(StreamRecord& record, const Transcript& want, std::size_t content_events) {
  if (record.transcript != want) {
    std::string detail = "the text differs from the recording";
    for (const auto& [choice, text] : want) {
      const auto it = record.transcript.find(choice);
      const std::string got = it == record.transcript.end() ? std::string{} : it->second;
      if (got == text) continue;
      const auto diff = std::mismatch(got.begin(), got.end(), text.begin(), text.end());
      detail = fmt::format("choice {}: text differs at byte {} (got {} bytes, want {})", choice,
                           diff.first - got.begin(), got.size(), text.size());
      break;
    }
    record.fail(ErrorKind::text_mismatch, detail);
  } else if (record.content.size() != content_events) {
    record.fail(ErrorKind::missing_events, fmt::format("{} content events, the recording has {}",
                                                       record.content.size(), content_events));
  }
}

}  // namespace ssebench::bench
