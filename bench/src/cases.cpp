#include "ssebench/bench/cases.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <regex>

namespace ssebench::bench {

std::string_view to_string(LoadKind k) {
  switch (k) {
    case LoadKind::closed:
      return "closed";
    case LoadKind::open:
      return "open";
    case LoadKind::users:
      return "users";
  }
  return "?";
}

std::string CaseSpec::name() const {
  std::string s = fmt::format("{}/{}/", to_string(transport), recording);
  switch (load) {
    case LoadKind::closed:
      s += fmt::format("c:{}", concurrency);
      break;
    case LoadKind::open:
      s += fmt::format("rate:{}", rate);
      if (max_concurrency > 0) s += fmt::format("/max_conc:{}", max_concurrency);
      break;
    case LoadKind::users:
      s += fmt::format("users:{}", users);
      break;
  }
  if (interval_ms > 0) s += fmt::format("/interval_ms:{}", interval_ms);
  if (shape) s += fmt::format("/shape:{}", to_string(*shape));
  if (http != HttpVersion::http1_1) s += fmt::format("/http:{}", to_string(http));
  if (turns > 1) s += fmt::format("/turns:{}", turns);
  if (host_conns > 0) s += fmt::format("/host_conns:{}", host_conns);
  if (link != "none") s += fmt::format("/link:{}", link);
  if (tls != TlsMode::off) s += fmt::format("/tls:{}", to_string(tls));
  if (proxy != ProxyKind::none) s += fmt::format("/proxy:{}", to_string(proxy));
  if (client != ClientKind::harness) s += fmt::format("/client:{}", to_string(client));
  return s;
}

std::size_t CaseSpec::at_once() const {
  switch (load) {
    case LoadKind::closed:
      return concurrency;
    case LoadKind::open:
      return max_concurrency;
    case LoadKind::users:
      return users;
  }
  return 0;
}

namespace {

/** A JSON string, escaped as Boost.JSON writes it. */
std::string json_string(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

std::string json_number(auto v) {
  return fmt::format("{}", v);
}

/** `v` when the case has the dimension, else null. */
std::string or_null(bool has, std::string json) {
  return has ? std::move(json) : "null";
}

}  // namespace

std::vector<JsonField> case_fields(const CaseSpec& c) {
  const bool closed = c.load == LoadKind::closed, open = c.load == LoadKind::open,
             users = c.load == LoadKind::users, ws = c.transport == Transport::ws;
  return {
      {"transport", json_string(to_string(c.transport))},
      {"recording", json_string(c.recording)},
      {"load", json_string(to_string(c.load))},
      {"concurrency", or_null(closed, json_number(c.concurrency))},
      {"rate", or_null(open, json_number(c.rate))},
      {"max_concurrency", or_null(open, json_number(c.max_concurrency))},
      {"users", or_null(users, json_number(c.users))},
      {"interval_ms", or_null(has_interval(c.transport), json_number(c.interval_ms))},
      {"shape", or_null(c.shape.has_value(), c.shape ? json_string(to_string(*c.shape)) : "")},
      {"http", json_string(to_string(c.http))},
      {"turns", or_null(ws, json_number(c.turns))},
      {"host_conns", json_number(c.host_conns)},
      {"link", json_string(c.link)},
      {"tls", json_string(to_string(c.tls))},
      {"proxy", json_string(to_string(c.proxy))},
      {"client", json_string(to_string(c.client))},
  };
}

namespace {

/** How a case runs beyond its load, interval and shape: the last parts of its name. */
struct Variant {
  HttpVersion http = HttpVersion::http1_1;
  std::size_t host_conns = 0;
  std::size_t turns = 1;
};

/**
 * The variants a transport runs with `at_once` streams at once: ws its turns (over HTTP/1.1, its
 * upgrade); the libcurl transports each HTTP version, and over HTTP/1.1 the connection caps
 * below `at_once` (at or above it a cap would change nothing; HTTP/2 has one connection anyway).
 */
std::vector<Variant> variants_for(Transport t, std::size_t at_once, const HarnessConfig& config) {
  std::vector<Variant> out;
  if (t == Transport::ws) {
    for (std::size_t n : config.ws_turns) out.push_back(Variant{.turns = n});
    return out;
  }
  for (HttpVersion h : config.http) {
    if (h != HttpVersion::http1_1) {
      out.push_back(Variant{.http = h});
      continue;
    }
    for (std::size_t cap : config.host_connections)
      if (cap == 0 || at_once > cap) out.push_back(Variant{.host_conns = cap});
  }
  return out;
}

/** The loads of a case: closed rounds at each concurrency; or the open-loop rates and the user
 *  sessions, which replace them. */
std::vector<CaseSpec> loads_of(const HarnessConfig& config) {
  std::vector<CaseSpec> out;
  if (config.rates.empty() && config.users.empty()) {
    for (std::size_t c : config.concurrency)
      out.push_back(CaseSpec{.load = LoadKind::closed, .concurrency = c});
    return out;
  }
  for (double r : config.rates)
    out.push_back(CaseSpec{.load = LoadKind::open,
                           .concurrency = 0,
                           .rate = r,
                           .max_concurrency = config.max_concurrency});
  for (std::size_t n : config.users)
    out.push_back(CaseSpec{.load = LoadKind::users, .concurrency = 0, .users = n});
  return out;
}

/** Why `recording` cannot run over `t`, or empty. */
std::string unfit(Transport t, const Recording& recording) {
  if (t == Transport::rest) {
    const auto& answer = recording.nonstream;
    if (!answer || answer->status < 200 || answer->status >= 300)
      return fmt::format("rest/{}: the recording has no successful stream:false answer, skipped",
                         recording.id);
    return "";
  }
  if (recording.events.empty())
    return fmt::format("{}/{}: the recording has no streamed events, skipped", to_string(t),
                       recording.id);
  return "";
}

/** Why a browser client cannot play `c` (its other dimensions set), or empty. */
std::string browser_unfit(const CaseSpec& c, const HarnessConfig& config) {
  const std::string_view who = to_string(c.client);
  if (c.client == ClientKind::browser_eventsource && c.transport != Transport::sse)
    return fmt::format("{}: EventSource plays sse only", who);
  if (c.load != LoadKind::closed)
    return fmt::format("{}: closed rounds only (no --rate, no --users)", who);
  if (c.link != "none")
    return fmt::format("{}: loopback only (the browser runs outside the link's namespaces)", who);
  if (config.shard.count > 1) return fmt::format("{}: whole rounds only (no --shard)", who);
  if (c.host_conns > 0)
    return fmt::format("{}: no connection cap (the browser keeps its own six per origin)", who);
  if (c.http == HttpVersion::http1_0) return fmt::format("{}: browsers do not speak HTTP/1.0", who);
  if (c.transport != Transport::ws && c.http == HttpVersion::http2 && c.tls == TlsMode::off)
    return fmt::format("{}: browsers never speak HTTP/2 in cleartext (h2c); --tls=on has it", who);
  if (c.transport != Transport::ws && c.http == HttpVersion::http1_1 && c.tls != TlsMode::off)
    return fmt::format("{}: over TLS browsers always offer h2 by ALPN: the http:2 case has it",
                       who);
  return "";
}

}  // namespace

CaseList enumerate_cases(const HarnessConfig& config,
                         std::span<const Recording* const> recordings) {
  CaseList out;
  const std::vector<CaseSpec> loads = loads_of(config);
  for (Transport t : config.transports) {
    // sse, rest and ws have no shape: one pass with none.
    std::vector<std::optional<PollShape>> shapes;
    for (PollShape s : shapes_for(t, config.poll_shapes)) shapes.emplace_back(s);
    if (!is_polled(t)) shapes.emplace_back(std::nullopt);
    if (shapes.empty()) {
      out.skipped.push_back(fmt::format(
          "{}: no cursor shape (delta, events) in --poll-shapes, skipped", to_string(t)));
      continue;
    }
    std::vector<long> intervals = has_interval(t) ? config.intervals_ms : std::vector<long>{0};
    // The crossover's intervals: plain delta polls at the highest closed concurrency only,
    // among the others in ascending order.
    const auto sweep_only = [&](long i) {
      return std::find(config.intervals_ms.begin(), config.intervals_ms.end(), i) ==
             config.intervals_ms.end();
    };
    if (has_interval(t)) {
      const std::size_t given = intervals.size();
      for (long i : config.crossover_intervals_ms)
        if (sweep_only(i) && std::find(intervals.begin(), intervals.end(), i) == intervals.end())
          intervals.push_back(i);
      if (intervals.size() > given) std::sort(intervals.begin(), intervals.end());
    }
    const std::size_t top_concurrency =
        config.concurrency.empty()
            ? 0
            : *std::max_element(config.concurrency.begin(), config.concurrency.end());
    for (const Recording* recording : recordings) {
      if (std::string why = unfit(t, *recording); !why.empty()) {
        out.skipped.push_back(std::move(why));
        continue;
      }
      for (const CaseSpec& load : loads) {
        // Open-loop without a cap: every cap can hold streams back.
        const std::size_t at_once =
            load.load == LoadKind::open && load.max_concurrency == 0 ? SIZE_MAX : load.at_once();
        for (long interval : intervals) {
          const bool sweep = has_interval(t) && sweep_only(interval);
          if (sweep && (load.load != LoadKind::closed || load.concurrency != top_concurrency))
            continue;
          // The shape innermost but for the variants: a table lists one setting's shapes together.
          for (const std::optional<PollShape>& shape : shapes) {
            if (sweep && shape != PollShape::delta) continue;
            for (const Variant& v : variants_for(t, at_once, config)) {
              if (sweep && (v.http != HttpVersion::http1_1 || v.host_conns != 0)) continue;
              if (config.http_beside_top_only && t != Transport::ws && !config.http.empty() &&
                  v.http != config.http.front() && load.load == LoadKind::closed &&
                  load.concurrency != top_concurrency)
                continue;
              CaseSpec c = load;
              c.transport = t;
              c.recording = recording->id;
              c.interval_ms = interval;
              c.shape = shape;
              c.http = v.http;
              c.turns = v.turns;
              c.host_conns = v.host_conns;
              out.cases.push_back(std::move(c));
            }
          }
        }
      }
    }
  }
  // Links outermost: the whole list on each link in turn, so a run switches profile once a link;
  // within a link, the whole list through each proxy, through each in each TLS mode, and in each
  // by each client.
  std::vector<CaseSpec> one_link = std::move(out.cases);
  out.cases.clear();
  for (const std::string& link : config.links)
    for (ProxyKind proxy : config.proxies)
      for (TlsMode tls : config.tls)
        for (ClientKind client : config.clients)
          for (CaseSpec c : one_link) {
            c.link = link;
            c.proxy = proxy;
            c.tls = tls;
            c.client = client;
            if (is_browser(client)) {
              if (std::string why = browser_unfit(c, config); !why.empty()) {
                out.skipped.push_back(fmt::format("{}: {}, skipped", c.name(), why));
                continue;
              }
            }
            out.cases.push_back(std::move(c));
          }
  return out;
}

double planned_s(const CaseSpec& spec, const Recording& recording, const HarnessConfig& config) {
  const double stream_s =
      config.speed > 0
          ? std::chrono::duration<double>(recording.last_offset()).count() / config.speed
          : 0;
  double round_s = 0;
  if (spec.load == LoadKind::closed) {
    double waves = 1;
    if (spec.host_conns > 0)
      waves = static_cast<double>((spec.concurrency + spec.host_conns - 1) / spec.host_conns);
    round_s = stream_s * static_cast<double>(spec.turns) * waves +
              static_cast<double>(spec.interval_ms + config.stagger_ms) / 1000;
  } else {
    round_s = config.duration_s + stream_s;
  }
  return round_s * config.rounds;
}

bool selected(const std::string& filter, const std::string& name) {
  if (filter.empty() || filter == "all" || filter == ".") return true;
  const bool negate = filter.front() == '-';
  try {
    const std::regex re(negate ? filter.substr(1) : filter, std::regex::extended);
    return std::regex_search(name, re) != negate;
  } catch (const std::regex_error&) {
    return true;
  }
}

}  // namespace ssebench::bench
