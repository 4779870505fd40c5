#pragma once
/**
 * The cases of a run: one CaseSpec record per case, every dimension a field; the name (for
 * people and Google Benchmark's filter) is built from the record and never parsed back, and the
 * record's JSON fields go into every benchmark.json entry of its case.
 */
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssebench/bench/harness_config.hpp"
#include "ssebench/bench/proxy.hpp"
#include "ssebench/bench/transport.hpp"
#include "ssebench/recording.hpp"

namespace ssebench::bench {

/** How a case's streams start: closed rounds of C at once, open-loop arrivals, user sessions. */
enum class LoadKind { closed, open, users };
/** "closed", "open", "users". */
std::string_view to_string(LoadKind k);

struct CaseSpec {
  Transport transport = Transport::sse;  // the base transport
  std::string recording{};               // recording id
  LoadKind load = LoadKind::closed;
  std::size_t concurrency = 1;              // closed: streams per round
  double rate = 0;                          // open: arrivals per second
  std::size_t max_concurrency = 0;          // open: streams at once, 0 = no cap
  std::size_t users = 0;                    // users: the number of users
  long interval_ms = 0;                     // poll: the poll interval; 0 for the others
  std::optional<PollShape> shape{};         // poll and long-poll: what their answers carry
  HttpVersion http = HttpVersion::http1_1;  // ws: 1.1, its upgrade
  std::size_t turns = 1;                    // ws: turns per connection
  std::size_t host_conns = 0;               // connection cap, 0 = none
  std::string link = "none";                // the link profile (harness_link.hpp); none = loopback
  TlsMode tls = TlsMode::off;               // TLS towards the server, and its session resumption
  ProxyKind proxy = ProxyKind::none;        // the reverse proxy (proxy.hpp) between them
  ClientKind client = ClientKind::harness;  // who plays the streams (harness_config.hpp)

  /**
   * "TRANSPORT/RECORDING/LOAD[/interval_ms:I][/shape:S][/http:2][/turns:N][/host_conns:N]
   * [/link:L][/tls:T][/proxy:P][/client:K]", LOAD being c:C, rate:R[/max_conc:M] or users:N; the
   * parts at their plain value (HTTP/1.1, one turn, no cap, link none, tls off, proxy none, client
   * harness) are left out, so plain cases keep the names they always had.
   */
  std::string name() const;
  /** Streams at once that a connection cap can hold back: closed C, open the cap (0 = none),
   *  users N. */
  std::size_t at_once() const;
};

/** A top-level JSON field: its key and its value as JSON text ("\"sse\"", "100", "null"). */
struct JsonField {
  std::string key;
  std::string json;
  bool operator==(const JsonField&) const = default;
};

/**
 * The record as benchmark.json fields, in this order: transport, recording, load, concurrency,
 * rate, max_concurrency, users, interval_ms, shape, http, turns, host_conns, link, tls, proxy,
 * client. A dimension the case does not have is null (closed: rate null; sse: shape null).
 */
std::vector<JsonField> case_fields(const CaseSpec& spec);

/** The cases of a configuration, in the order they run, and why any were left out. */
struct CaseList {
  std::vector<CaseSpec> cases;
  std::vector<std::string> skipped;  // one line each: "rest/ID: ..., skipped"
};

/**
 * Every case of `config` over `recordings` (config.models' recordings, in that order): for each
 * link (the outermost loop: one profile switch per link), TLS mode, transport, recording, load (the
 * closed concurrency levels; or the rates, then the users, which replace them), interval (poll),
 * shape (poll every listed shape, long-poll the cursor ones) and variant (the libcurl transports
 * each HTTP version and, over HTTP/1.1, each host cap below the load; ws each number of turns).
 * rest needs the recording's successful stream:false answer, the others its streamed events.
 * Within a link, the whole list through each proxy in turn (config.proxies' order), through each
 * in each TLS mode, and in each mode by each client (config.clients' order: one browser start
 * serves every browser case). A case a browser cannot play is skipped with one line why: open
 * and user loads, links (the browser runs outside their namespaces), shards, connection caps (it
 * has its own six per origin), HTTP/2 in cleartext (browsers never speak h2c) and HTTP/1.1 over
 * TLS (they always offer h2 by ALPN), HTTP/1.0; browser-eventsource plays sse only.
 */
CaseList enumerate_cases(const HarnessConfig& config, std::span<const Recording* const> recordings);

/**
 * How long `spec` should take, in seconds, from its plan alone: per measured round the
 * recording's length at --speed (times the ws turns, times the waves a connection cap makes), a
 * poll interval for the last poll, and the stagger; open-loop and user loads their --duration
 * plus one stream; times --rounds. The warm-up (speed 0) and set-up are not in it: the progress
 * lines scale the plan by what the finished cases took against theirs.
 */
double planned_s(const CaseSpec& spec, const Recording& recording, const HarnessConfig& config);

/** Whether Google Benchmark's --benchmark_filter (a regex, '-' negates) selects `name`. */
bool selected(const std::string& filter, const std::string& name);

}  // namespace ssebench::bench
