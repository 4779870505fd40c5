#include "ssebench/bench/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ssebench/replay_clock.hpp"

namespace ssebench::bench {

namespace {
double ms_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}
}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::http_status:
      return "http_status";
    case ErrorKind::curl:
      return "curl";
    case ErrorKind::text_mismatch:
      return "text_mismatch";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::missing_events:
      return "missing_events";
    case ErrorKind::bad_response:
      return "bad_response";
    case ErrorKind::truncated:
      return "truncated";
    case ErrorKind::interrupted:
      return "interrupted";
  }
  return "unknown";
}

void StreamRecord::fail(ErrorKind kind, std::string detail) {
  if (error) return;
  error = kind;
  error_detail = std::move(detail);
}

StreamFigures stream_figures(const StreamRecord& record,
                             std::span<const std::chrono::microseconds> content_offsets,
                             double speed) {
  StreamFigures f;
  if (record.first_byte) f.ttfb_ms = ms_between(record.t0, *record.first_byte);
  if (record.dispatched) f.queue_ms = ms_between(record.t0, *record.dispatched);
  const TimePoint from = record.scheduled.value_or(record.t0);
  if (record.scheduled) f.dispatch_lag_ms = ms_between(*record.scheduled, record.t0);
  if (record.scheduled && !record.waited) f.harness_lag_ms = f.dispatch_lag_ms;
  if (record.content.empty()) return f;
  f.ttft_ms = ms_between(from, record.content.front().recv);
  f.ttlt_ms = ms_between(from, record.content.back().recv);
  f.lag_ms.reserve(record.content.size());
  for (std::size_t i = 0; i < record.content.size(); ++i) {
    const ContentReceipt& c = record.content[i];
    if (c.ordinal < content_offsets.size()) {
      // The same scaling the server paces by, so a lag never mixes two rounding rules.
      const double offset_ms =
          std::chrono::duration<double, std::milli>(scaled(content_offsets[c.ordinal], speed))
              .count();
      f.lag_ms.push_back(ms_between(from, c.recv) - offset_ms);
    }
    if (i > 0) f.itl_ms.push_back(ms_between(record.content[i - 1].recv, c.recv));
  }
  return f;
}

double percentile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return 0;
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min = samples.front();
  s.p10 = percentile(samples, 0.10);
  s.p25 = percentile(samples, 0.25);
  s.p50 = percentile(samples, 0.50);
  s.p75 = percentile(samples, 0.75);
  s.p95 = percentile(samples, 0.95);
  s.p90 = percentile(samples, 0.90);
  s.p99 = percentile(samples, 0.99);
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.count);
  return s;
}

TcpCounters& TcpCounters::operator+=(const TcpCounters& o) {
  bytes_out += o.bytes_out;
  bytes_in += o.bytes_in;
  segs_out += o.segs_out;
  segs_in += o.segs_in;
  retransmits += o.retransmits;
  return *this;
}

CaseAggregate::CaseAggregate(std::vector<std::chrono::microseconds> content_offsets,
                             std::uint64_t tokens, double speed)
    : offsets_(std::move(content_offsets)), tokens_(tokens), speed_(speed) {}

void CaseAggregate::add(const RoundResult& round) {
  ++rounds_;
  wall_s_ += round.wall_s;
  client_cpu_us_ += round.client_cpu_us;
  tcp_ += round.tcp;
  if (round.server) {
    ++server_rounds_;
    server_cpu_us_ += round.server->cpu_us;
    server_plain_out_ += round.server->plaintext_bytes_out;
    server_plain_in_ += round.server->plaintext_bytes_in;
    lateness_p50_sum_ += round.server->lateness_us_p50;
    lateness_p99_max_ = std::max(lateness_p99_max_, round.server->lateness_us_p99);
    lateness_max_ = std::max(lateness_max_, round.server->lateness_us_max);
  }
  if (round.browser) {
    ++browser_rounds_;
    browser_.renderer_cpu_us += round.browser->renderer_cpu_us;
    browser_.network_cpu_us += round.browser->network_cpu_us;
    browser_.browser_cpu_us += round.browser->browser_cpu_us;
    browser_.main_thread_busy_ms += round.browser->main_thread_busy_ms;
    browser_.long_tasks += round.browser->long_tasks;
    browser_.preflights += round.browser->preflights;
    preflight_rounds_ += round.browser->preflights_counted ? 1 : 0;
  }
  run_ += round.streams.size();
  for (const StreamRecord& s : round.streams) {
    if (!s.counted) continue;
    ++streams_;
    if (s.error) {
      ++failed_;
      ++errors_[static_cast<std::size_t>(*s.error)];
      if (first_error_.empty())
        first_error_ = std::string(to_string(*s.error)) + ": " + s.error_detail;
    }
    events_ += s.events;
    content_events_ += s.content.size();
    requests_ += s.requests;
    connections_ += s.connections;
    empty_polls_ += s.empty_polls;
    h2_kicks_ += s.h2_kicks;
    http_out_ += s.http_bytes_out;
    http_in_ += s.http_bytes_in;
    http_header_in_ += s.http_header_bytes_in;
    body_out_ += s.body_bytes_out;
    body_in_ += s.body_bytes_in;
    for (const TlsHandshake& h : s.tls_handshakes) {
      handshake_.push_back(h.ms);
      resumed_ += h.resumed ? 1 : 0;
    }
    StreamFigures f = stream_figures(s, offsets_, speed_);
    if (f.ttfb_ms) ttfb_.push_back(*f.ttfb_ms);
    if (f.queue_ms) queue_.push_back(*f.queue_ms);
    if (f.ttft_ms) ttft_.push_back(*f.ttft_ms);
    if (f.ttlt_ms) ttlt_.push_back(*f.ttlt_ms);
    if (f.dispatch_lag_ms) dispatch_lag_.push_back(*f.dispatch_lag_ms);
    if (f.harness_lag_ms) harness_lag_.push_back(*f.harness_lag_ms);
    lag_.insert(lag_.end(), f.lag_ms.begin(), f.lag_ms.end());
    itl_.insert(itl_.end(), f.itl_ms.begin(), f.itl_ms.end());
  }
}

std::vector<std::pair<std::string, double>> CaseAggregate::counters() const {
  std::vector<std::pair<std::string, double>> c;
  const auto put = [&c](std::string name, double v) { c.emplace_back(std::move(name), v); };
  const auto stats = [&](const std::string& name, const std::vector<double>& samples,
                         bool full) -> std::optional<Summary> {
    if (samples.empty()) return std::nullopt;  // no sample, no figure (not a zero)
    const Summary s = summarize(samples);
    put(name + "_p50", s.p50);
    if (full) put(name + "_p90", s.p90);
    put(name + "_p99", s.p99);
    if (full) put(name + "_max", s.max);
    put(name + "_mean", s.mean);
    return s;
  };
  const double n = static_cast<double>(std::max<std::size_t>(streams_, 1));
  const double tokens = n * static_cast<double>(std::max<std::uint64_t>(tokens_, 1));
  const auto per = [&](const std::string& name, double total) {
    put(name + "_per_stream", total / n);
    put(name + "_per_token", total / tokens);
  };
  // The round's CPU and TCP counters cover every stream it ran, those of the warm-up and
  // cool-down windows too: per stream run.
  const double ran = static_cast<double>(std::max<std::size_t>(run_, 1));
  const double ran_tokens = ran * static_cast<double>(std::max<std::uint64_t>(tokens_, 1));
  const auto per_run = [&](const std::string& name, double total) {
    put(name + "_per_stream", total / ran);
    put(name + "_per_token", total / ran_tokens);
  };

  put("streams", static_cast<double>(streams_));
  // Counted or not (warm-up, cool-down windows): what the *_per_stream of CPU and TCP are over.
  put("streams_run", static_cast<double>(run_));
  put("streams_ok", static_cast<double>(streams_ - failed_));
  put("errors", static_cast<double>(failed_));
  for (std::size_t k = 0; k < error_kind_count; ++k)
    put("errors_" + std::string(to_string(static_cast<ErrorKind>(k))),
        static_cast<double>(errors_[k]));
  put("tokens_per_stream", static_cast<double>(tokens_));
  put("events_per_stream", static_cast<double>(events_) / n);
  put("content_events_per_stream", static_cast<double>(content_events_) / n);

  stats("ttfb_ms", ttfb_, false);
  // Waiting for a connection (the browser profile's queue) and connecting, before the request.
  stats("queue_ms", queue_, true);
  const std::optional<Summary> ttft = stats("ttft_ms", ttft_, true);
  stats("ttlt_ms", ttlt_, false);
  if (const auto lag = stats("lag_ms", lag_, true)) {
    put("lag_ms_min", lag->min);  // below half a loopback round trip: a clock bug
    // With min, p50, p90, p99 and max: the lag's CDF, for charts without per-sample data.
    put("lag_ms_p10", lag->p10);
    put("lag_ms_p25", lag->p25);
    put("lag_ms_p75", lag->p75);
    put("lag_ms_p95", lag->p95);
  }
  stats("itl_ms", itl_, false);
  // Open-loop cases: how late the harness started streams (t0 - scheduled start).
  stats("dispatch_lag_ms", dispatch_lag_, true);
  // Of the streams that did not wait for --max-concurrency: the harness's own lateness.
  stats("harness_lag_ms", harness_lag_, true);

  put("requests_per_stream", static_cast<double>(requests_) / n);
  put("connections_per_stream", static_cast<double>(connections_) / n);
  put("empty_polls_per_stream", static_cast<double>(empty_polls_) / n);
  // Answers libcurl 7.88 held back over HTTP/2 until kicked: each one's lag carries the wait.
  put("h2_kicks", static_cast<double>(h2_kicks_));

  per_run("client_cpu_us", client_cpu_us_);
  if (server_rounds_ > 0) {
    per_run("server_cpu_us", server_cpu_us_);
    put("server_lateness_us_p50", lateness_p50_sum_ / static_cast<double>(server_rounds_));
    put("server_lateness_us_p99", lateness_p99_max_);
    put("server_lateness_us_max", lateness_max_);
  }

  per("http_bytes_out", static_cast<double>(http_out_));
  per("http_bytes_in", static_cast<double>(http_in_));
  // Status lines and headers of every answer: the rest of http_bytes_in is bodies and framing.
  per("http_header_bytes_in", static_cast<double>(http_header_in_));
  per_run("tcp_payload_bytes_out", static_cast<double>(tcp_.bytes_out));
  per_run("tcp_payload_bytes_in", static_cast<double>(tcp_.bytes_in));
  // A browser's sockets are out of reach: its payload is the server's count, its segments unknown.
  if (browser_rounds_ == 0) {
    per_run("segments_out", static_cast<double>(tcp_.segs_out));
    per_run("segments_in", static_cast<double>(tcp_.segs_in));
    per_run("wire_bytes_out",
            static_cast<double>(tcp_.bytes_out + wire_header_bytes_per_segment * tcp_.segs_out));
    per_run("wire_bytes_in",
            static_cast<double>(tcp_.bytes_in + wire_header_bytes_per_segment * tcp_.segs_in));
  }
  // What is not body in the TCP payload: request lines or HEADERS frames, header fields (HPACK
  // over HTTP/2), chunk framing or DATA frame headers, and HTTP/2's connection frames.
  const double reqs = static_cast<double>(std::max<std::size_t>(requests_, 1));
  const auto header_in = static_cast<double>(tcp_.bytes_in - std::min(tcp_.bytes_in, body_in_));
  const auto header_out = static_cast<double>(tcp_.bytes_out - std::min(tcp_.bytes_out, body_out_));
  put("body_bytes_in_per_request", static_cast<double>(body_in_) / reqs);
  put("body_bytes_out_per_request", static_cast<double>(body_out_) / reqs);
  // TCP counters cover uncounted streams too (warm-up, cool-down): no header figure then.
  if (run_ == streams_) {
    put("header_bytes_in_per_request", header_in / reqs);
    put("header_bytes_out_per_request", header_out / reqs);
    if (tcp_.bytes_in > 0) put("header_share_in", header_in / static_cast<double>(tcp_.bytes_in));
    if (tcp_.bytes_out > 0)
      put("header_share_out", header_out / static_cast<double>(tcp_.bytes_out));
  }
  if (tls_) {
    // Handshakes happen where connections open: with keep-alive the warm-up opens them, and the
    // measured rounds have none (ws opens one per connection of turns).
    // A browser's handshakes are out of reach (it reports none): no handshake figure then.
    const std::optional<Summary> hs = stats("tls_handshake_ms", handshake_, false);
    if (browser_rounds_ == 0)
      put("tls_handshakes_per_stream", static_cast<double>(handshake_.size()) / n);
    if (!handshake_.empty())
      put("tls_resumed_share",
          static_cast<double>(resumed_) / static_cast<double>(handshake_.size()));
    if (hs && ttft && ttft->p50 > 0) put("tls_handshake_share_of_ttft", hs->p50 / ttft->p50);
    // TLS's records (header, tag, content type), its handshakes, tickets and alerts: the TCP
    // payload less the plaintext the server's sessions counted over the same rounds.
    if (server_rounds_ == rounds_ && run_ == streams_) {
      put("tls_overhead_bytes_in_per_token",
          (static_cast<double>(tcp_.bytes_in) - static_cast<double>(server_plain_out_)) / tokens);
      put("tls_overhead_bytes_out_per_token",
          (static_cast<double>(tcp_.bytes_out) - static_cast<double>(server_plain_in_)) / tokens);
    }
  }
  if (browser_rounds_ > 0) {
    // client_cpu_us is their sum; apart, where a browser spends it.
    per_run("browser_renderer_cpu_us", browser_.renderer_cpu_us);
    per_run("browser_network_cpu_us", browser_.network_cpu_us);
    per_run("browser_process_cpu_us", browser_.browser_cpu_us);
    put("browser_main_thread_busy_ms_per_stream", browser_.main_thread_busy_ms / ran);
    put("browser_main_thread_busy_us_per_token", browser_.main_thread_busy_ms * 1000 / ran_tokens);
    put("browser_long_tasks", static_cast<double>(browser_.long_tasks));
    // Counted only on request (the driver's --count-preflights: DevTools' Network domain costs
    // the browser CPU): no figure unless every round counted them.
    if (preflight_rounds_ == browser_rounds_)
      put("browser_preflights_per_stream", static_cast<double>(browser_.preflights) / ran);
  } else {
    // A total, not a ratio: any retransmit on loopback is a finding in itself.
    put("tcp_retransmits", static_cast<double>(tcp_.retransmits));
  }
  put("round_wall_s_mean", wall_s_ / static_cast<double>(std::max<std::size_t>(rounds_, 1)));
  return c;
}

std::vector<std::pair<std::string, Histogram>> CaseAggregate::histograms() const {
  std::vector<std::pair<std::string, Histogram>> out;
  const auto add = [&out](std::string name, const std::vector<double>& samples) {
    if (samples.empty()) return;
    Histogram h;
    for (double v : samples) h.add_ms(v);
    out.emplace_back(std::move(name), std::move(h));
  };
  add("ttfb_ms", ttfb_);
  add("queue_ms", queue_);
  add("ttft_ms", ttft_);
  add("ttlt_ms", ttlt_);
  add("lag_ms", lag_);
  add("itl_ms", itl_);
  add("dispatch_lag_ms", dispatch_lag_);
  add("harness_lag_ms", harness_lag_);
  add("tls_handshake_ms", handshake_);
  return out;
}

}  // namespace ssebench::bench
