// The libcurl side: one request, its headers and every read of its body, on the steady clock.
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include "ssebench/bench/chunked.hpp"
#include "ssebench/recorder/recorder.hpp"

namespace ssebench::recorder {

namespace {

using SteadyClock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string utc_now() {
  // The date only names the recording; every offset is on the steady clock.
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

}  // namespace

struct Client::Impl {
  const Config& config;
  std::string api_key;  // in memory only: sent as a header, never written
  CURL* easy = nullptr;

  // The request in flight.
  bool streamed = false;
  SteadyClock::time_point t0{};
  bool t0_set = false;
  Capture capture;
  bool chunked = false;
  std::size_t body_bytes = 0;  // decoded body bytes so far, against max_body_bytes
  bench::ChunkedDecoder decoder;
  std::string decoded;
  EventSplitter splitter;
  std::string failure;  // set inside a callback: the transfer is aborted

  explicit Impl(const Config& c) : config(c) {
    static const CurlGlobal global;
    if (const char* key = std::getenv(config.api_key_env.c_str())) api_key = key;
    easy = curl_easy_init();
  }
  ~Impl() { curl_easy_cleanup(easy); }

  std::chrono::microseconds since_t0(SteadyClock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(now - t0);
  }

  static int on_prereq(void* self, char*, char*, int, int) {
    auto* s = static_cast<Impl*>(self);
    s->t0 = SteadyClock::now();
    s->t0_set = true;
    return CURL_PREREQFUNC_OK;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) {
    auto* s = static_cast<Impl*>(self);
    const std::size_t bytes = size * n;
    const auto now = SteadyClock::now();
    std::string_view line(data, bytes);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      // A new status line: an interim 1xx answer before it is forgotten.
      const auto sp = line.find(' ');
      s->capture.status =
          sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
      s->capture.headers.clear();
      s->chunked = false;
    } else if (line.empty()) {
      if (s->capture.status >= 200) s->capture.headers_offset = s->since_t0(now);
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      const std::string_view name = line.substr(0, colon);
      if (iequals(name, "transfer-encoding")) {
        std::string v(value);
        std::transform(v.begin(), v.end(), v.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (v.find("chunked") != std::string::npos) s->chunked = true;
      }
      s->capture.headers.push_back({std::string(name), std::string(value)});
    }
    return bytes;
  }

  // One call per read of the connection: libcurl's transfer decoding is off, so the bytes are
  // those of one recv() (one TLS read over HTTPS), chunk framing included.
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) {
    auto* s = static_cast<Impl*>(self);
    const std::size_t bytes = size * n;
    const auto offset = s->since_t0(SteadyClock::now());  // one clock reading per read
    const std::uint64_t read = s->capture.reads++;
    std::string_view body(data, bytes);
    if (s->chunked) {
      s->decoded.clear();
      if (!s->decoder.feed(body, s->decoded)) {
        s->failure = "bad chunked framing: " + s->decoder.error();
        return 0;  // aborts the transfer
      }
      body = s->decoded;
    }
    if (body.empty()) return bytes;
    s->body_bytes += body.size();
    if (s->body_bytes > s->config.max_body_bytes) {
      s->failure =
          fmt::format("the answer is over --max-body-bytes ({})", s->config.max_body_bytes);
      return 0;
    }
    const bool ok_status = s->capture.status >= 200 && s->capture.status < 300;
    if (s->streamed && ok_status) {
      if (!s->splitter.feed(body, offset, read)) {
        s->failure = s->splitter.error();
        return 0;
      }
    } else {
      s->capture.body.append(body);
      s->capture.body_offset = offset;
    }
    return bytes;
  }
};

Client::Client(const Config& config) : impl_(std::make_unique<Impl>(config)) {}

Client::~Client() = default;

std::variant<Capture, Failure> Client::run(const RequestSpec& request) {
  Impl& s = *impl_;
  s.streamed = request.stream;
  s.t0_set = false;
  s.capture = Capture{};
  s.capture.date = utc_now();
  s.chunked = false;
  s.body_bytes = 0;
  s.decoder = bench::ChunkedDecoder{};
  s.splitter = EventSplitter{};
  s.failure.clear();

  CURL* easy = s.easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  // Raw bytes as they crossed the socket, one callback per read; chunks are decoded here.
  curl_easy_setopt(easy, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");  // loopback: never proxied
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.config.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(s.config.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, client_name().c_str());
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &Impl::on_prereq);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, &s);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (request.stream) headers = curl_slist_append(headers, "Accept: text/event-stream");
  if (!s.api_key.empty()) {
    const std::string auth = "Authorization: Bearer " + s.api_key;
    headers = curl_slist_append(headers, auth.c_str());
  }
  for (const std::string& h : s.config.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(easy);
  curl_slist_free_all(headers);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));

  Capture& c = s.capture;
  curl_off_t pretransfer_us = 0;
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  c.connect_us = static_cast<std::uint64_t>(pretransfer_us);
  c.events = std::move(s.splitter.events());
  c.dropped_comments = s.splitter.dropped_comments();

  if (!s.failure.empty()) return Failure{s.failure};
  // The connection closed before the last chunk (libcurl: a partial file): say which framing.
  if (s.chunked && !s.decoder.done() && (rc == CURLE_OK || rc == CURLE_PARTIAL_FILE))
    return Failure{"the chunked body ended before its last chunk"};
  if (rc != CURLE_OK) {
    const bool unreachable = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
                             rc == CURLE_COULDNT_RESOLVE_PROXY || !s.t0_set;
    if (unreachable) {
      return Failure{fmt::format("cannot reach {}: {}", request.shown_url, curl_easy_strerror(rc))};
    }
    return Failure{fmt::format("{} after {} events from {}: {}",
                               rc == CURLE_OPERATION_TIMEDOUT ? "timed out" : "transfer failed",
                               c.events.size(), request.shown_url, curl_easy_strerror(rc))};
  }
  if (s.splitter.pending() > 0) {
    return Failure{fmt::format(
        "invalid SSE: the stream ended inside an event ({} bytes after the last blank line)",
        s.splitter.pending())};
  }
  return std::move(c);
}

std::string client_name() {
  return fmt::format("ssebench-record/{} libcurl/{}", SSEBENCH_VERSION,
                     curl_version_info(CURLVERSION_NOW)->version);
}

}  // namespace ssebench::recorder
