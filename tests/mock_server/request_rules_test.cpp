#include "../../mock_server/src/request_rules.hpp"

#include <string>

#include <gtest/gtest.h>

namespace ssebench::server::h1 {
namespace {

using Kind = HeadScan::Kind;

Request parsed(http::verb method, std::string_view target, unsigned version,
               std::vector<std::pair<http::field, std::string>> fields = {}) {
  Request req{method, target, version};
  for (const auto& [f, v] : fields) req.insert(f, v);
  return req;
}

TEST(RequestRules, ScanWaitsForTheWholeHeadAndSkipsEmptyLinesBeforeIt) {
  EXPECT_EQ(scan_head("GET / HTTP/1.1\r\nHost: x\r\n", 100).kind, Kind::need_more);
  const HeadScan s = scan_head("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 100);
  EXPECT_EQ(s.kind, Kind::complete);
  EXPECT_EQ(s.skip, 4u);
  EXPECT_EQ(s.minor_at, std::string_view::npos);
}

TEST(RequestRules, ScanMarksAnHttp1xMinorVersionForBeast) {
  const HeadScan s = scan_head("GET / HTTP/1.2\r\n\r\n", 100);
  EXPECT_EQ(s.kind, Kind::complete);
  EXPECT_EQ(s.minor_at, 13u);  // the '2'
  EXPECT_EQ(scan_head("GET / HTTP/2.0\r\n\r\n", 100).refusal.status,
            http::status::http_version_not_supported);
}

TEST(RequestRules, ScanTellsAnOverlongRequestLineFromOverlongHeaders) {
  const std::string line = "GET /" + std::string(200, 'a');
  EXPECT_EQ(scan_head(line, 100).refusal.status, http::status::uri_too_long);
  EXPECT_EQ(scan_head(line + " HTTP/1.1\r\n\r\n", 100).refusal.status, http::status::uri_too_long);
  const std::string head = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  EXPECT_EQ(scan_head(head, 100).refusal.status, http::status::request_header_fields_too_large);
  EXPECT_EQ(scan_head(head + "\r\n\r\n", 100).refusal.status,
            http::status::request_header_fields_too_large);
}

TEST(RequestRules, ScanRefusesWhatBeastWouldLetThrough) {
  for (std::string_view head :
       {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "GET / HTTP/1.1\r\n X: a\r\n\r\n",
        "GET / HTTP/1.1\r\nX : a\r\n\r\n", "GET / HTTP/1.1\nX: a\n\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "GET / HTTP/1.1\r\n: a\r\n\r\n",
        "GET / HTTP/1.1\r\nX\x01: a\r\n\r\n"}) {
    const HeadScan s = scan_head(head, 1000);
    EXPECT_EQ(s.kind, Kind::refused) << head;
    EXPECT_EQ(s.refusal.status, http::status::bad_request) << head;
  }
}

TEST(RequestRules, AnAbsoluteTargetBecomesOriginFormAndItsAuthorityTheHost) {
  Request req =
      parsed(http::verb::get, "HTTP://api.example:8080?x=1", 11, {{http::field::host, "other"}});
  EXPECT_FALSE(check_header(req));
  EXPECT_EQ(req.target(), "/?x=1");
  EXPECT_EQ(req[http::field::host], "api.example:8080");
  EXPECT_EQ(req.count(http::field::host), 1u);
}

TEST(RequestRules, HeaderRefusalsAndTheirStatus) {
  const auto status_of = [](Request req) {
    const auto r = check_header(req);
    return r ? static_cast<int>(r->status) : 0;
  };
  const std::pair<http::field, std::string> host{http::field::host, "x"};
  EXPECT_EQ(status_of(parsed(http::verb::get, "/", 11)), 400);
  EXPECT_EQ(status_of(parsed(http::verb::get, "/", 10)), 0);
  EXPECT_EQ(status_of(parsed(http::verb::propfind, "/", 11, {host})), 501);
  EXPECT_EQ(status_of(parsed(http::verb::put, "/", 11, {host})), 0);  // the router's 405
  EXPECT_EQ(status_of(parsed(http::verb::options, "*", 11, {host})), 0);
  EXPECT_EQ(status_of(parsed(http::verb::get, "*", 11, {host})), 400);
  EXPECT_EQ(status_of(parsed(http::verb::get, "x:80", 11, {host})), 400);
  EXPECT_EQ(status_of(parsed(http::verb::post, "/", 11,
                             {host, {http::field::transfer_encoding, "br, chunked"}})),
            501);
  EXPECT_EQ(status_of(parsed(http::verb::post, "/", 11,
                             {host, {http::field::transfer_encoding, "chunked;q=1 , "}})),
            0);
  EXPECT_EQ(status_of(parsed(http::verb::post, "/", 11, {host, {http::field::expect, "x"}})), 417);
  EXPECT_EQ(status_of(parsed(http::verb::post, "/", 10, {{http::field::expect, "x"}})), 0);
}

TEST(RequestRules, Authorities) {
  for (std::string_view a : {"", "a", "a:", "a:1", "127.0.0.1:80", "[::1]", "[v1.x]:9", "%41b"})
    EXPECT_TRUE(valid_authority(a)) << a;
  for (std::string_view a : {"a b", "a:b", "[::1", "[]", "[::1]x", "%4", "a@b", "a/b"})
    EXPECT_FALSE(valid_authority(a)) << a;
}

TEST(RequestRules, AllowNamesHeadBesideGet) {
  EXPECT_EQ(allow_with_head("GET"), "GET, HEAD");
  EXPECT_EQ(allow_with_head("GET, DELETE"), "GET, HEAD, DELETE");
  EXPECT_EQ(allow_with_head("POST"), "POST");
  EXPECT_EQ(allow_with_head("GET, HEAD"), "GET, HEAD");
}

}  // namespace
}  // namespace ssebench::server::h1
