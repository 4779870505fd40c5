// What the case enumeration yields: order, names, variants, skips, and each record's fields.
#include "ssebench/bench/cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>

namespace ssebench::bench {
namespace {

/** A recording with streamed events and, when `rest_status` is set, a stream:false answer. */
Recording recording(std::string id, std::optional<int> rest_status = 200, bool events = true) {
  Recording r;
  r.id = std::move(id);
  if (events) {
    Event e;
    e.kind = "content";
    e.content = true;
    e.text = "hi";
    r.events.push_back(e);
  }
  if (rest_status) {
    r.nonstream.emplace();
    r.nonstream->status = *rest_status;
  }
  return r;
}

/** A config with one of everything unless a test widens it. */
HarnessConfig one_of_each() {
  HarnessConfig c;
  c.transports = {Transport::sse};
  c.concurrency = {2};
  c.intervals_ms = {50};
  c.crossover_intervals_ms = {};
  c.http_beside_top_only = false;
  c.ws_turns = {1};
  c.poll_shapes = {PollShape::delta};
  c.http = {HttpVersion::http1_1};
  c.host_connections = {0};
  return c;
}

std::vector<std::string> names(const CaseList& list) {
  std::vector<std::string> out;
  for (const CaseSpec& c : list.cases) out.push_back(c.name());
  return out;
}

CaseList enumerate(const HarnessConfig& c, const std::vector<const Recording*>& rs) {
  return enumerate_cases(c, rs);
}

TEST(Cases, TransportsThenRecordingsThenLoadsThenIntervalsThenShapesThenVariants) {
  const Recording a = recording("a"), b = recording("b");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::poll, Transport::sse};
  c.concurrency = {1, 10};
  c.intervals_ms = {50, 250};
  c.poll_shapes = {PollShape::snapshot, PollShape::delta};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  const CaseList list = enumerate(c, {&a, &b});
  EXPECT_TRUE(list.skipped.empty());
  const std::vector<std::string> want_poll_a_c1 = {
      "poll/a/c:1/interval_ms:50/shape:snapshot",
      "poll/a/c:1/interval_ms:50/shape:snapshot/http:2",
      "poll/a/c:1/interval_ms:50/shape:delta",
      "poll/a/c:1/interval_ms:50/shape:delta/http:2",
      "poll/a/c:1/interval_ms:250/shape:snapshot",
      "poll/a/c:1/interval_ms:250/shape:snapshot/http:2",
      "poll/a/c:1/interval_ms:250/shape:delta",
      "poll/a/c:1/interval_ms:250/shape:delta/http:2",
  };
  const std::vector<std::string> got = names(list);
  ASSERT_EQ(got.size(), 2u /*recordings*/ * 2 /*c*/ * 8 + 2 * 2 * 2 /*sse: c × http*/);
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 8), want_poll_a_c1);
  EXPECT_EQ(got[8], "poll/a/c:10/interval_ms:50/shape:snapshot");
  EXPECT_EQ(got[16], "poll/b/c:1/interval_ms:50/shape:snapshot");
  const std::vector<std::string> want_sse = {
      "sse/a/c:1", "sse/a/c:1/http:2", "sse/a/c:10", "sse/a/c:10/http:2",
      "sse/b/c:1", "sse/b/c:1/http:2", "sse/b/c:10", "sse/b/c:10/http:2"};
  EXPECT_EQ(std::vector<std::string>(got.end() - 8, got.end()), want_sse);
}

TEST(Cases, TheRecordHoldsWhatTheNameSays) {
  const Recording a = recording("chat-gpt-4o-json");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::poll};
  c.concurrency = {100};
  c.intervals_ms = {250};
  c.http = {HttpVersion::http2};
  const CaseList list = enumerate(c, {&a});
  ASSERT_EQ(list.cases.size(), 1u);
  const CaseSpec& s = list.cases[0];
  EXPECT_EQ(s.name(), "poll/chat-gpt-4o-json/c:100/interval_ms:250/shape:delta/http:2");
  EXPECT_EQ(s.transport, Transport::poll);
  EXPECT_EQ(s.recording, "chat-gpt-4o-json");
  EXPECT_EQ(s.load, LoadKind::closed);
  EXPECT_EQ(s.concurrency, 100u);
  EXPECT_EQ(s.interval_ms, 250);
  EXPECT_EQ(s.shape, PollShape::delta);
  EXPECT_EQ(s.http, HttpVersion::http2);
  EXPECT_EQ(s.host_conns, 0u);
  EXPECT_EQ(s.link, "none");
  EXPECT_EQ(s.tls, TlsMode::off);
  EXPECT_EQ(s.proxy, ProxyKind::none);
  EXPECT_EQ(s.client, ClientKind::harness);
}

TEST(Cases, LinksAreTheOutermostLoopAndNamedUnlessNone) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::poll, Transport::sse};
  const std::vector<std::string> one_link = names(enumerate(c, {&a}));
  c.links = {"none", "3g"};
  const CaseList list = enumerate(c, {&a});
  ASSERT_EQ(list.cases.size(), 2 * one_link.size());
  // Every case on none (names as they always were), then every case on 3g: one switch a link.
  for (std::size_t i = 0; i < one_link.size(); ++i) {
    const CaseSpec& none = list.cases[i];
    const CaseSpec& g3 = list.cases[one_link.size() + i];
    EXPECT_EQ(none.name(), one_link[i]);
    EXPECT_EQ(none.link, "none");
    EXPECT_EQ(g3.name(), one_link[i] + "/link:3g");
    EXPECT_EQ(g3.link, "3g");
    const std::vector<JsonField> fields = case_fields(g3);
    const auto link = std::find_if(fields.begin(), fields.end(),
                                   [](const JsonField& f) { return f.key == "link"; });
    ASSERT_NE(link, fields.end());
    EXPECT_EQ(link->json, "\"3g\"");
  }
}

TEST(Cases, TlsModesLoopInsideTheLinksAndAreNamedUnlessOff) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::ws};
  const std::vector<std::string> plain = names(enumerate(c, {&a}));
  c.links = {"none", "3g"};
  c.tls = {TlsMode::off, TlsMode::on, TlsMode::noresume};
  const CaseList list = enumerate(c, {&a});
  ASSERT_EQ(list.cases.size(), 6 * plain.size());
  const std::string_view parts[] = {"", "/tls:on", "/tls:noresume"};
  const std::string_view json[] = {"\"off\"", "\"on\"", "\"noresume\""};
  for (std::size_t l = 0; l < 2; ++l)
    for (std::size_t t = 0; t < 3; ++t)
      for (std::size_t i = 0; i < plain.size(); ++i) {
        const CaseSpec& s = list.cases[(l * 3 + t) * plain.size() + i];
        // The link part first, then the TLS part (the contract's order: /link:, /tls:, /proxy:).
        EXPECT_EQ(s.name(), plain[i] + (l == 0 ? "" : "/link:3g") + std::string(parts[t]));
        EXPECT_EQ(s.tls, c.tls[t]);
        const std::vector<JsonField> fields = case_fields(s);
        const auto tls = std::find_if(fields.begin(), fields.end(),
                                      [](const JsonField& f) { return f.key == "tls"; });
        ASSERT_NE(tls, fields.end());
        EXPECT_EQ(tls->json, json[t]);
      }
}

TEST(Cases, ProxiesAreInsideTheLinkLoopAndNamedUnlessNone) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::ws};
  const std::vector<std::string> plain = names(enumerate(c, {&a}));
  c.links = {"none", "3g"};
  c.proxies = {ProxyKind::none, ProxyKind::nginx_stream};
  const CaseList list = enumerate(c, {&a});
  ASSERT_EQ(list.cases.size(), 4 * plain.size());
  // Per link: every case straight to the server, then every case through the proxy.
  std::size_t i = 0;
  for (const std::string link : {"none", "3g"})
    for (ProxyKind proxy : c.proxies)
      for (const std::string& name : plain) {
        const CaseSpec& s = list.cases[i++];
        EXPECT_EQ(s.link, link);
        EXPECT_EQ(s.proxy, proxy);
        std::string want = name + (link == std::string("none") ? "" : "/link:" + link);
        if (proxy != ProxyKind::none) want += "/proxy:nginx-stream";
        EXPECT_EQ(s.name(), want);
        const std::vector<JsonField> fields = case_fields(s);
        const auto f = std::find_if(fields.begin(), fields.end(),
                                    [](const JsonField& j) { return j.key == "proxy"; });
        ASSERT_NE(f, fields.end());
        EXPECT_EQ(f->json, proxy == ProxyKind::none ? "\"none\"" : "\"nginx-stream\"");
      }
}

TEST(Cases, ClientsLoopInsideTlsOutsideTransportsAndNameTheBrowser) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::poll};
  c.clients = {ClientKind::harness, ClientKind::browser, ClientKind::browser_eventsource};
  const CaseList list = enumerate(c, {&a});
  EXPECT_EQ(names(list), (std::vector<std::string>{
                             "sse/a/c:2",
                             "poll/a/c:2/interval_ms:50/shape:delta",
                             "sse/a/c:2/client:browser",
                             "poll/a/c:2/interval_ms:50/shape:delta/client:browser",
                             "sse/a/c:2/client:browser-eventsource",
                         }));
  // EventSource plays sse only: poll under it is skipped, with why.
  ASSERT_EQ(list.skipped.size(), 1u);
  EXPECT_EQ(list.skipped[0],
            "poll/a/c:2/interval_ms:50/shape:delta/client:browser-eventsource: "
            "browser-eventsource: EventSource plays sse only, skipped");
  const std::vector<JsonField> fields = case_fields(list.cases[2]);
  EXPECT_EQ(fields.back(), (JsonField{"client", "\"browser\""}));
  EXPECT_EQ(case_fields(list.cases[4]).back(), (JsonField{"client", "\"browser-eventsource\""}));
}

TEST(Cases, WhatABrowserCannotPlayIsSkippedWithOneLineEach) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::ws};
  c.concurrency = {10};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  c.host_connections = {0, 6};
  c.tls = {TlsMode::off, TlsMode::on};
  c.clients = {ClientKind::browser};
  const CaseList list = enumerate(c, {&a});
  // Cleartext: HTTP/1.1 uncapped; TLS: HTTP/2 (by ALPN); ws over its upgrade in both.
  EXPECT_EQ(names(list), (std::vector<std::string>{
                             "sse/a/c:10/client:browser",
                             "ws/a/c:10/client:browser",
                             "sse/a/c:10/http:2/tls:on/client:browser",
                             "ws/a/c:10/tls:on/client:browser",
                         }));
  const auto skipped_with = [&](std::string_view name, std::string_view why) {
    return std::any_of(list.skipped.begin(), list.skipped.end(), [&](const std::string& s) {
      return s.starts_with(name) && s.find(why) != std::string::npos;
    });
  };
  EXPECT_TRUE(skipped_with("sse/a/c:10/http:2/client:browser", "h2c"));
  EXPECT_TRUE(skipped_with("sse/a/c:10/host_conns:6/client:browser", "its own six"));
  EXPECT_TRUE(skipped_with("sse/a/c:10/tls:on/client:browser", "ALPN"));
  EXPECT_EQ(list.skipped.size(), 4u);  // and host_conns:6 over TLS
}

TEST(Cases, ABrowserPlaysClosedRoundsOnLoopbackOnly) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.clients = {ClientKind::browser};
  c.rates = {5};
  c.users = {3};
  CaseList list = enumerate(c, {&a});
  EXPECT_TRUE(list.cases.empty());
  ASSERT_EQ(list.skipped.size(), 2u);
  EXPECT_NE(list.skipped[0].find("closed rounds only"), std::string::npos);
  c = one_of_each();
  c.clients = {ClientKind::harness, ClientKind::browser};
  c.links = {"none", "3g"};
  list = enumerate(c, {&a});
  EXPECT_EQ(names(list), (std::vector<std::string>{"sse/a/c:2", "sse/a/c:2/client:browser",
                                                   "sse/a/c:2/link:3g"}));
  ASSERT_EQ(list.skipped.size(), 1u);
  EXPECT_NE(list.skipped[0].find("loopback only"), std::string::npos);
}

TEST(Cases, LongPollRunsTheCursorShapesOnlyAndIsSkippedWithoutOne) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::long_poll};
  c.poll_shapes = {PollShape::openai, PollShape::events, PollShape::snapshot, PollShape::delta};
  EXPECT_EQ(names(enumerate(c, {&a})), (std::vector<std::string>{"long-poll/a/c:2/shape:events",
                                                                 "long-poll/a/c:2/shape:delta"}));
  c.poll_shapes = {PollShape::openai, PollShape::snapshot};
  const CaseList none = enumerate(c, {&a});
  EXPECT_TRUE(none.cases.empty());
  ASSERT_EQ(none.skipped.size(), 1u);
  EXPECT_EQ(none.skipped[0],
            "long-poll: no cursor shape (delta, events) in --poll-shapes, skipped");
}

TEST(Cases, RestNeedsASuccessfulNonStreamAnswerAndTheOthersStreamedEvents) {
  const Recording ok = recording("ok"), failed = recording("failed", 429),
                  none = recording("none", std::nullopt), silent = recording("silent", 200, false);
  HarnessConfig c = one_of_each();
  c.transports = {Transport::rest, Transport::sse};
  const CaseList list = enumerate(c, {&ok, &failed, &none, &silent});
  EXPECT_EQ(names(list), (std::vector<std::string>{"rest/ok/c:2", "rest/silent/c:2", "sse/ok/c:2",
                                                   "sse/failed/c:2", "sse/none/c:2"}));
  EXPECT_EQ(list.skipped,
            (std::vector<std::string>{
                "rest/failed: the recording has no successful stream:false answer, skipped",
                "rest/none: the recording has no successful stream:false answer, skipped",
                "sse/silent: the recording has no streamed events, skipped"}));
}

TEST(Cases, HostCapsOnlyAboveTheLoadAndOnlyOverHttp1) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.concurrency = {1, 6, 10};
  c.host_connections = {0, 6};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  EXPECT_EQ(
      names(enumerate(c, {&a})),
      (std::vector<std::string>{"sse/a/c:1", "sse/a/c:1/http:2", "sse/a/c:6", "sse/a/c:6/http:2",
                                "sse/a/c:10", "sse/a/c:10/host_conns:6", "sse/a/c:10/http:2"}));
  const CaseList list = enumerate(c, {&a});
  EXPECT_EQ(list.cases[5].host_conns, 6u);
  EXPECT_EQ(list.cases[5].at_once(), 10u);
}

TEST(Cases, WsRunsItsTurnsOverHttp1WithNoCaps) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::ws};
  c.concurrency = {3};
  c.ws_turns = {1, 4};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  c.host_connections = {0, 1};
  const CaseList list = enumerate(c, {&a});
  EXPECT_EQ(names(list), (std::vector<std::string>{"ws/a/c:3", "ws/a/c:3/turns:4"}));
  for (const CaseSpec& s : list.cases) {
    EXPECT_EQ(s.http, HttpVersion::http1_1);
    EXPECT_EQ(s.host_conns, 0u);
    EXPECT_FALSE(s.shape);
  }
  EXPECT_EQ(list.cases[1].turns, 4u);
}

TEST(Cases, Http10IsAVariantOfTheLibcurlTransportsOnly) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::rest, Transport::ws};
  c.http = {HttpVersion::http1_1, HttpVersion::http1_0};
  const CaseList list = enumerate(c, {&a});
  EXPECT_EQ(names(list), (std::vector<std::string>{"sse/a/c:2", "sse/a/c:2/http:1.0", "rest/a/c:2",
                                                   "rest/a/c:2/http:1.0", "ws/a/c:2"}));
  EXPECT_EQ(list.cases[1].http, HttpVersion::http1_0);
  const std::vector<JsonField> fields = case_fields(list.cases[1]);
  const auto http = std::find_if(fields.begin(), fields.end(),
                                 [](const JsonField& f) { return f.key == "http"; });
  ASSERT_NE(http, fields.end());
  EXPECT_EQ(http->json, "\"1.0\"");
}

TEST(Cases, RatesThenUsersReplaceTheClosedRoundsForEveryTransportWsToo) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::ws};
  c.concurrency = {1, 100};
  c.rates = {2.5, 30};
  c.users = {4};
  c.max_concurrency = 6;
  c.ws_turns = {1, 3};
  c.host_connections = {0, 4};
  const CaseList list = enumerate(c, {&a});
  EXPECT_TRUE(list.skipped.empty());
  EXPECT_EQ(
      names(list),
      (std::vector<std::string>{
          "sse/a/rate:2.5/max_conc:6", "sse/a/rate:2.5/max_conc:6/host_conns:4",
          "sse/a/rate:30/max_conc:6", "sse/a/rate:30/max_conc:6/host_conns:4", "sse/a/users:4",
          "ws/a/rate:2.5/max_conc:6", "ws/a/rate:2.5/max_conc:6/turns:3", "ws/a/rate:30/max_conc:6",
          "ws/a/rate:30/max_conc:6/turns:3", "ws/a/users:4", "ws/a/users:4/turns:3"}));
  const CaseSpec& open = list.cases[0];
  EXPECT_EQ(open.load, LoadKind::open);
  EXPECT_DOUBLE_EQ(open.rate, 2.5);
  EXPECT_EQ(open.max_concurrency, 6u);
  EXPECT_EQ(open.at_once(), 6u);
  const CaseSpec& users = list.cases[4];
  EXPECT_EQ(users.load, LoadKind::users);
  EXPECT_EQ(users.users, 4u);
  EXPECT_EQ(users.at_once(), 4u);
}

TEST(Cases, AnUncappedRateTakesEveryHostCap) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.rates = {10};
  c.host_connections = {0, 1000};
  EXPECT_EQ(names(enumerate(c, {&a})),
            (std::vector<std::string>{"sse/a/rate:10", "sse/a/rate:10/host_conns:1000"}));
}

/** The fields as one JSON object, as they appear in an entry of benchmark.json. */
boost::json::object as_object(const std::vector<JsonField>& fields) {
  std::string text = "{";
  for (const JsonField& f : fields)
    text += (text.size() > 1 ? "," : "") + ("\"" + f.key + "\":" + f.json);
  return boost::json::parse(text + "}").as_object();
}

TEST(Cases, FieldsAreEveryDimensionInOrderAndNullWhereTheCaseHasNone) {
  CaseSpec s{.transport = Transport::poll,
             .recording = "r",
             .concurrency = 100,
             .interval_ms = 250,
             .shape = PollShape::delta,
             .http = HttpVersion::http2};
  const std::vector<JsonField> fields = case_fields(s);
  std::vector<std::string> keys;
  for (const JsonField& f : fields) keys.push_back(f.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"transport", "recording", "load", "concurrency", "rate",
                                      "max_concurrency", "users", "interval_ms", "shape", "http",
                                      "turns", "host_conns", "link", "tls", "proxy", "client"}));
  const boost::json::object o = as_object(fields);
  EXPECT_EQ(o.at("transport"), "poll");
  EXPECT_EQ(o.at("recording"), "r");
  EXPECT_EQ(o.at("load"), "closed");
  EXPECT_EQ(o.at("concurrency"), 100);
  EXPECT_TRUE(o.at("rate").is_null());
  EXPECT_TRUE(o.at("max_concurrency").is_null());
  EXPECT_TRUE(o.at("users").is_null());
  EXPECT_EQ(o.at("interval_ms"), 250);
  EXPECT_EQ(o.at("shape"), "delta");
  EXPECT_EQ(o.at("http"), "2");
  EXPECT_TRUE(o.at("turns").is_null());
  EXPECT_EQ(o.at("host_conns"), 0);
  EXPECT_EQ(o.at("link"), "none");
  EXPECT_EQ(o.at("tls"), "off");
  EXPECT_EQ(o.at("proxy"), "none");
  EXPECT_EQ(o.at("client"), "harness");
}

TEST(Cases, OpenUsersAndWsFields) {
  const boost::json::object open = as_object(case_fields(
      CaseSpec{.transport = Transport::ws, .load = LoadKind::open, .rate = 2.5, .turns = 3}));
  EXPECT_EQ(open.at("load"), "open");
  EXPECT_TRUE(open.at("concurrency").is_null());
  EXPECT_EQ(open.at("rate"), 2.5);
  EXPECT_EQ(open.at("max_concurrency"), 0);
  EXPECT_TRUE(open.at("users").is_null());
  EXPECT_TRUE(open.at("interval_ms").is_null());
  EXPECT_TRUE(open.at("shape").is_null());
  EXPECT_EQ(open.at("http"), "1.1");
  EXPECT_EQ(open.at("turns"), 3);
  const boost::json::object users =
      as_object(case_fields(CaseSpec{.load = LoadKind::users, .users = 8, .host_conns = 6}));
  EXPECT_EQ(users.at("load"), "users");
  EXPECT_EQ(users.at("users"), 8);
  EXPECT_TRUE(users.at("rate").is_null());
  EXPECT_EQ(users.at("host_conns"), 6);
}

TEST(Cases, ARecordingIdIsAJsonString) {
  const boost::json::object o =
      as_object(case_fields(CaseSpec{.recording = "odd \"id\" \\ with\ttab"}));
  EXPECT_EQ(o.at("recording"), "odd \"id\" \\ with\ttab");
}

TEST(Cases, CrossoverIntervalsArePlainDeltaPollsAtTheTopConcurrencyOnly) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::poll, Transport::sse};
  c.concurrency = {1, 100};
  c.intervals_ms = {250};
  c.crossover_intervals_ms = {1000, 50, 250};  // 250 is there already: nothing more
  c.poll_shapes = {PollShape::snapshot, PollShape::delta};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  EXPECT_EQ(names(enumerate(c, {&a})), (std::vector<std::string>{
                                           "poll/a/c:1/interval_ms:250/shape:snapshot",
                                           "poll/a/c:1/interval_ms:250/shape:snapshot/http:2",
                                           "poll/a/c:1/interval_ms:250/shape:delta",
                                           "poll/a/c:1/interval_ms:250/shape:delta/http:2",
                                           "poll/a/c:100/interval_ms:50/shape:delta",
                                           "poll/a/c:100/interval_ms:250/shape:snapshot",
                                           "poll/a/c:100/interval_ms:250/shape:snapshot/http:2",
                                           "poll/a/c:100/interval_ms:250/shape:delta",
                                           "poll/a/c:100/interval_ms:250/shape:delta/http:2",
                                           "poll/a/c:100/interval_ms:1000/shape:delta",
                                           "sse/a/c:1",
                                           "sse/a/c:1/http:2",
                                           "sse/a/c:100",
                                           "sse/a/c:100/http:2",
                                       }));
  // Open-loop rates have no top concurrency: no sweep.
  c.rates = {5};
  for (const CaseSpec& spec : enumerate(c, {&a}).cases) EXPECT_EQ(spec.interval_ms % 250, 0);
}

TEST(Cases, HttpBesideTopOnlyRunsTheOtherVersionsAtTheHighestConcurrency) {
  const Recording a = recording("a");
  HarnessConfig c = one_of_each();
  c.transports = {Transport::sse, Transport::ws};
  c.concurrency = {1, 100};
  c.http = {HttpVersion::http1_1, HttpVersion::http2};
  c.http_beside_top_only = true;
  EXPECT_EQ(names(enumerate(c, {&a})),
            (std::vector<std::string>{"sse/a/c:1", "sse/a/c:100", "sse/a/c:100/http:2", "ws/a/c:1",
                                      "ws/a/c:100"}));
  // HTTP/2 alone is the first version: every level.
  c.http = {HttpVersion::http2};
  EXPECT_EQ(names(enumerate(c, {&a})),
            (std::vector<std::string>{"sse/a/c:1/http:2", "sse/a/c:100/http:2", "ws/a/c:1",
                                      "ws/a/c:100"}));
}

TEST(Cases, ThePlanIsTheReplayAtItsSpeedPlusAPollIntervalTimesTheRounds) {
  Recording r = recording("a");
  r.events.back().offset = std::chrono::milliseconds(2000);  // a 2 s stream
  HarnessConfig c = one_of_each();
  c.stagger_ms = 20;
  CaseSpec sse{.transport = Transport::sse, .recording = "a", .concurrency = 100};
  EXPECT_DOUBLE_EQ(planned_s(sse, r, c), 2.02);
  c.speed = 4;
  c.rounds = 3;
  EXPECT_DOUBLE_EQ(planned_s(sse, r, c), 3 * (0.5 + 0.02));
  c.speed = 1;
  c.rounds = 1;
  CaseSpec poll = sse;
  poll.transport = Transport::poll;
  poll.interval_ms = 250;
  EXPECT_DOUBLE_EQ(planned_s(poll, r, c), 2 + 0.25 + 0.02);
  CaseSpec ws = sse;
  ws.transport = Transport::ws;
  ws.turns = 4;
  EXPECT_DOUBLE_EQ(planned_s(ws, r, c), 8.02);
  CaseSpec capped = sse;
  capped.host_conns = 6;  // 100 streams over 6 connections: 17 waves
  EXPECT_DOUBLE_EQ(planned_s(capped, r, c), 17 * 2 + 0.02);
  c.duration_s = 10;
  CaseSpec open{.transport = Transport::sse, .recording = "a", .load = LoadKind::open, .rate = 5};
  EXPECT_DOUBLE_EQ(planned_s(open, r, c), 12);
  c.speed = 0;  // the warm-up's speed: no replay time at all
  EXPECT_DOUBLE_EQ(planned_s(sse, r, c), 0.02);
}

TEST(Cases, TheFilterSelectsAsGoogleBenchmarkDoes) {
  EXPECT_TRUE(selected("", "sse/a/c:1"));
  EXPECT_TRUE(selected("all", "sse/a/c:1"));
  EXPECT_TRUE(selected("sse/.*", "sse/a/c:1"));
  EXPECT_FALSE(selected("poll", "sse/a/c:1"));
  EXPECT_FALSE(selected("-sse", "sse/a/c:1"));
  EXPECT_TRUE(selected("-poll", "sse/a/c:1"));
}

}  // namespace
}  // namespace ssebench::bench
