// The TLS port against the real server: HTTP/1.1 and HTTP/2 chosen by ALPN (libcurl over TLS),
// SSE byte-exact against the plain port, wss (Beast's WebSocket over an SSL stream), session
// resumption, the key log, and every bad handshake counted by kind, the server serving on.
#include "../../mock_server/src/tls.hpp"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include "ssebench/server/stats.hpp"
#include "ssebench/tls_files.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;

constexpr std::uint64_t handshake_timeout_ms = 300;

test::TestRecording quick() {
  test::TestRecording r;
  r.events = {{1'000, "role", test::chat_chunk("")},
              {2'000, "content", test::chat_chunk("Hel")},
              {3'000, "content", test::chat_chunk("lo")},
              {4'000, "finish", test::chat_chunk("", "stop")},
              {5'000, "done", "[DONE]"}};
  return r;
}

/** One server with a plain and a TLS port, a throwaway CA, and a key log. */
class TlsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<test::TempDir>();
    files_ = make_throwaway_tls(dir_->path() / "tls");
    std::filesystem::create_directories(dir_->path() / "recs");
    dir_->write("recs/quick.jsonl", test::recording_text(quick()));
    // One event, then half a minute of nothing (at speed 1): a stream that stays open.
    dir_->write("recs/lingering.jsonl", test::recording_text(test::one_then_gap(30'000'000)));
    const FolderLoad folder = load_folder(dir_->path() / "recs");
    ASSERT_TRUE(folder.errors.empty()) << folder.errors.front();
    for (const auto& r : folder.recordings)
      if (r->id == "quick") quick_ = r;
    Config config;
    config.speed = 0;
    config.tls_port = 0;
    config.tls_cert = files_.server_cert;
    config.tls_key = files_.server_key;
    config.tls_keylog = dir_->path() / "keylog.txt";
    config.tls_handshake_timeout_ms = handshake_timeout_ms;
    server_ = std::make_unique<test::RunningServer>(config, folder.recordings);
  }
  void TearDown() override {
    server_.reset();
    dir_.reset();
  }

  static inline std::unique_ptr<test::TempDir> dir_;
  static inline TlsFiles files_;
  static inline std::shared_ptr<const Recording> quick_;
  static inline std::unique_ptr<test::RunningServer> server_;
};
const auto* const env = ::testing::AddGlobalTestEnvironment(new TlsEnvironment);

const Stats& stats() {
  return TlsEnvironment::server_->server().stats();
}
std::uint16_t tls_port() {
  return TlsEnvironment::server_->server().tls_port();
}
std::string https(std::string_view path) {
  return "https://127.0.0.1:" + std::to_string(tls_port()) + std::string(path);
}
std::string http(std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(TlsEnvironment::server_->port()) + std::string(path);
}
std::uint64_t get(const std::atomic<std::uint64_t>& c) {
  return c.load();
}

/** All the recording's event bytes: what a stream's body is, byte for byte. */
std::string all_bytes() {
  std::string out;
  for (const auto& e : TlsEnvironment::quick_->events) out += e.bytes;
  return out;
}

const std::string stream_request = R"({"model":"quick","stream":true})";

// ---- libcurl over TLS --------------------------------------------------------------------------

struct Transfer {
  explicit Transfer(const std::string& url, long version, const std::string* body = nullptr)
      : easy(curl_easy_init()) {
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, version);
    curl_easy_setopt(easy, CURLOPT_CAINFO, TlsEnvironment::files_.ca_cert.c_str());
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    headers = curl_slist_append(headers, "content-type: application/json");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    if (body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data());
    }
  }
  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURLcode perform() {
    body.clear();
    result = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
    return result;
  }
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) {
    static_cast<Transfer*>(self)->body.append(data, size * n);
    return size * n;
  }

  CURL* easy;
  curl_slist* headers = nullptr;
  CURLcode result = CURLE_OK;
  long status = 0;
  long version = 0;
  std::string body;
};

TEST(Tls, AlpnH2ServesHttp2OverTls) {
  const auto h2_before = get(stats().tls_alpn_h2);
  const auto h2_conns_before = get(stats().connections_h2);
  Transfer t(https("/v1/models"), CURL_HTTP_VERSION_2TLS);
  ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.version, CURL_HTTP_VERSION_2_0);
  EXPECT_NE(t.body.find(R"("id":"quick")"), std::string::npos);
  EXPECT_EQ(get(stats().tls_alpn_h2), h2_before + 1);
  EXPECT_EQ(get(stats().connections_h2), h2_conns_before + 1);
}

TEST(Tls, AlpnHttp11ServesHttp11OverTls) {
  const auto before = get(stats().tls_alpn_http1_1);
  Transfer t(https("/v1/models"), CURL_HTTP_VERSION_1_1);
  ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.version, CURL_HTTP_VERSION_1_1);
  EXPECT_EQ(get(stats().tls_alpn_http1_1), before + 1);
}

TEST(Tls, NoAlpnFromTheClientGetsHttp11) {
  const auto before = get(stats().tls_alpn_none);
  Transfer t(https("/v1/models"), CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(t.easy, CURLOPT_SSL_ENABLE_ALPN, 0L);
  ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.version, CURL_HTTP_VERSION_1_1);
  EXPECT_EQ(get(stats().tls_alpn_none), before + 1);
}

TEST(Tls, SseOverTlsIsByteExactAgainstPlain) {
  Transfer plain(http("/v1/chat/completions"), CURL_HTTP_VERSION_1_1, &stream_request);
  Transfer h1(https("/v1/chat/completions"), CURL_HTTP_VERSION_1_1, &stream_request);
  Transfer h2(https("/v1/chat/completions"), CURL_HTTP_VERSION_2TLS, &stream_request);
  for (Transfer* t : {&plain, &h1, &h2}) {
    ASSERT_EQ(t->perform(), CURLE_OK) << curl_easy_strerror(t->result);
    EXPECT_EQ(t->status, 200);
  }
  EXPECT_EQ(h2.version, CURL_HTTP_VERSION_2_0);
  EXPECT_EQ(plain.body, all_bytes());
  EXPECT_EQ(h1.body, plain.body);
  EXPECT_EQ(h2.body, plain.body);
}

TEST(Tls, BackgroundJobPollLongPollAndResumeOverTls) {
  const std::string create = R"({"model":"quick","background":true})";
  Transfer job(https("/v1/chat/completions"), CURL_HTTP_VERSION_1_1, &create);
  ASSERT_EQ(job.perform(), CURLE_OK) << curl_easy_strerror(job.result);
  ASSERT_EQ(job.status, 200) << job.body;
  const std::string id(json::parse(job.body).at("id").as_string());
  Transfer poll(https("/v1/chat/completions/" + id), CURL_HTTP_VERSION_2TLS);
  ASSERT_EQ(poll.perform(), CURLE_OK);
  EXPECT_EQ(poll.status, 200);
  EXPECT_EQ(json::parse(poll.body).at("id").as_string(), id);
  Transfer long_poll(https("/v1/chat/completions/" + id + "?shape=events&wait_ms=500"),
                     CURL_HTTP_VERSION_1_1);
  ASSERT_EQ(long_poll.perform(), CURLE_OK);
  EXPECT_EQ(long_poll.status, 200);
  EXPECT_TRUE(json::parse(long_poll.body).is_object());
  Transfer resume(https("/v1/chat/completions/" + id + "?stream=true"), CURL_HTTP_VERSION_2TLS);
  ASSERT_EQ(resume.perform(), CURLE_OK);
  EXPECT_EQ(resume.status, 200);
  EXPECT_TRUE(resume.body.ends_with("data: [DONE]\n\n")) << resume.body;
}

TEST(Tls, WireBytesExceedThePlaintextTheyCarry) {
  const auto out_before = get(stats().tls_wire_bytes_out);
  Transfer t(https("/v1/chat/completions"), CURL_HTTP_VERSION_1_1, &stream_request);
  ASSERT_EQ(t.perform(), CURLE_OK);
  curl_easy_cleanup(t.easy);  // the connection closes: every record is out
  t.easy = curl_easy_init();
  EXPECT_TRUE(test::eventually(
      [&] { return get(stats().tls_wire_bytes_out) - out_before > all_bytes().size(); }));
}

TEST(Tls, SecondConnectionResumesTheSession) {
  CURLSH* share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  const auto handshakes = get(stats().tls_handshakes);
  const auto resumed = get(stats().tls_resumed);
  for (int i = 0; i < 2; ++i) {
    Transfer t(https("/v1/models"), CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(t.easy, CURLOPT_SHARE, share);
    ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
  }
  curl_share_cleanup(share);
  EXPECT_EQ(get(stats().tls_handshakes), handshakes + 2);
  EXPECT_EQ(get(stats().tls_resumed), resumed + 1);
}

TEST(Tls, KeyLogHasTheSecrets) {
  Transfer t(https("/v1/models"), CURL_HTTP_VERSION_2TLS);
  ASSERT_EQ(t.perform(), CURLE_OK);
  std::ifstream in(TlsEnvironment::dir_->path() / "keylog.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("CLIENT_TRAFFIC_SECRET_0 "), std::string::npos);
  EXPECT_NE(text.str().find("SERVER_HANDSHAKE_TRAFFIC_SECRET "), std::string::npos);
}

TEST(Tls, KeepAliveAfterAStreamOnOneTlsConnection) {
  for (const long version : {CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS}) {
    const auto handshakes = get(stats().tls_handshakes);
    Transfer t(https("/v1/chat/completions"), version, &stream_request);
    ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
    EXPECT_EQ(t.body, all_bytes());
    curl_easy_setopt(t.easy, CURLOPT_URL, https("/v1/models").c_str());
    curl_easy_setopt(t.easy, CURLOPT_HTTPGET, 1L);
    ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
    EXPECT_EQ(t.status, 200);
    EXPECT_EQ(get(stats().tls_handshakes), handshakes + 1) << "version " << version;
  }
}

/** A blocking TLS client offering ALPN http/1.1, for the bytes libcurl would not send. */
class TlsClient {
 public:
  TlsClient() : ctx_(net::ssl::context::tls_client), stream_(ioc_, ctx_) {
    ctx_.load_verify_file(TlsEnvironment::files_.ca_cert.string());
    stream_.set_verify_mode(net::ssl::verify_peer);
    const std::string_view alpn = "\x08http/1.1";
    SSL_set_alpn_protos(stream_.native_handle(),
                        reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
    stream_.next_layer().connect({net::ip::make_address("127.0.0.1"), tls_port()});
    stream_.handshake(net::ssl::stream_base::client);
  }
  void send(std::string_view bytes) {
    net::write(stream_, net::buffer(bytes.data(), bytes.size()));
  }
  std::string read_some() {
    char buf[4096];
    return std::string(buf, stream_.read_some(net::buffer(buf)));
  }
  /** Everything until the connection ends, and how it ended. */
  std::pair<std::string, beast::error_code> read_to_end() {
    std::string out;
    beast::error_code ec;
    char buf[4096];
    while (!ec) out.append(buf, stream_.read_some(net::buffer(buf), ec));
    return {out, ec};
  }
  net::ip::tcp::socket& socket() { return stream_.next_layer(); }

 private:
  net::io_context ioc_;
  net::ssl::context ctx_;
  net::ssl::stream<net::ip::tcp::socket> stream_;
};

std::string stream_request_text(std::string_view version, std::string_view model,
                                std::string_view speed) {
  const std::string body = R"({"model":")" + std::string(model) + R"(","stream":true})";
  return "POST /v1/chat/completions " + std::string(version) +
         "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-ssebench-speed: " +
         std::string(speed) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

TEST(Tls, AClientThatLeavesMidStreamFreesItAtOnce) {
  {
    TlsClient c;
    c.send(stream_request_text("HTTP/1.1", "lingering", "1"));
    std::string got;
    while (got.find("data: ") == std::string::npos) got += c.read_some();
    EXPECT_EQ(stats().streams_active.load(), 1);
    beast::error_code ignored;
    c.socket().close(ignored);  // no close_notify: the TCP connection just ends
  }
  EXPECT_TRUE(test::eventually([] { return stats().streams_active.load() == 0; }, 1s));
}

TEST(Tls, Http10StreamEndsWithCloseNotify) {
  TlsClient c;
  c.send(stream_request_text("HTTP/1.0", "quick", "0"));
  const auto [bytes, ec] = c.read_to_end();
  // A close-delimited body is complete only when TLS says so: close_notify, read as EOF (a
  // close without it is stream_truncated).
  EXPECT_EQ(ec, net::error::eof) << ec.message();
  EXPECT_TRUE(bytes.ends_with(all_bytes())) << bytes;
}

// ---- wss -------------------------------------------------------------------------------------

TEST(Tls, WssTurnOverTls) {
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.load_verify_file(TlsEnvironment::files_.ca_cert.string());
  ctx.set_verify_mode(net::ssl::verify_peer);
  websocket::stream<beast::ssl_stream<net::ip::tcp::socket>> ws(ioc, ctx);
  auto& socket = beast::get_lowest_layer(ws);
  socket.connect({net::ip::make_address("127.0.0.1"), tls_port()});
  timeval tv{test::Client::receive_timeout_s, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ws.next_layer().handshake(net::ssl::stream_base::client);
  ws.handshake("127.0.0.1", "/v1/chat/completions");
  const auto ws_requests =
      get(stats().endpoints[static_cast<std::size_t>(Endpoint::websocket)].requests);
  ws.text(true);
  const std::string msg = R"({"type":"chat.completions.create","model":"quick"})";
  ws.write(net::buffer(msg));
  std::vector<std::string> got;
  for (const auto& e : TlsEnvironment::quick_->events) {
    if (e.bytes.empty()) continue;
    beast::flat_buffer b;
    ws.read(b);
    got.push_back(beast::buffers_to_string(b.data()));
    EXPECT_EQ(got.back(), e.data());
  }
  EXPECT_EQ(got.size(), TlsEnvironment::quick_->events.size());
  EXPECT_EQ(get(stats().endpoints[static_cast<std::size_t>(Endpoint::websocket)].requests),
            ws_requests + 1);
  ws.close(websocket::close_code::normal);
}

// ---- bad handshakes
// ------------------------------------------------------------------------------

/** A real ClientHello (from OpenSSL over memory BIOs), offering `alpn` (wire format). */
std::string client_hello(std::string_view alpn = "\x02h2\x08http/1.1") {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()),
                      static_cast<unsigned>(alpn.size()));
  SSL_connect(ssl);  // wants the server's answer; the ClientHello is in wbio
  char* data = nullptr;
  const long n = BIO_get_mem_data(wbio, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

/** What the server sends back before it closes (everything, until EOF or 10 s). */
std::string read_all(test::Client& c) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/** Serves a good client right after a bad one. */
void expect_still_serving() {
  Transfer t(https("/v1/models"), CURL_HTTP_VERSION_2TLS);
  ASSERT_EQ(t.perform(), CURLE_OK) << curl_easy_strerror(t.result);
  EXPECT_EQ(t.status, 200);
}

TEST(TlsBadHandshake, PlainHttpToTheTlsPortGets400ThenClose) {
  const auto before = get(stats().tls_fail_plain_http);
  test::Client c(tls_port());
  c.send("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(read_all(c), plain_http_to_tls_response);
  EXPECT_EQ(get(stats().tls_fail_plain_http), before + 1);
  expect_still_serving();
}

TEST(TlsBadHandshake, GarbageIsClosed) {
  const auto before = get(stats().tls_fail_protocol);
  test::Client c(tls_port());
  c.send(std::string("\x01\x02\x03 not TLS at all\r\n", 20));
  EXPECT_EQ(read_all(c), "");
  EXPECT_EQ(get(stats().tls_fail_protocol), before + 1);
  expect_still_serving();
}

TEST(TlsBadHandshake, SslV3RecordIsRefusedWithAnAlert) {
  const auto before = get(stats().tls_fail_protocol);
  test::Client c(tls_port());
  std::string hello = client_hello();
  hello[9] = 0x03;  // the ClientHello's legacy_version: SSL 3.0 (3,0) and no supported_versions
  hello[10] = 0x00;
  // Garble the extensions so no supported_versions extension raises it (a bad record then).
  for (std::size_t i = 50; i < hello.size(); ++i) hello[i] = static_cast<char>(0xff);
  c.send(hello);
  const std::string answer = read_all(c);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0], 0x15);  // an alert record
  EXPECT_TRUE(test::eventually([&] { return get(stats().tls_fail_protocol) == before + 1; }));
  expect_still_serving();
}

TEST(TlsBadHandshake, TruncatedClientHelloThenCloseIsCounted) {
  const auto before = get(stats().tls_fail_truncated);
  {
    test::Client c(tls_port());
    const std::string hello = client_hello();
    c.send(std::string_view(hello).substr(0, hello.size() / 2));
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(test::eventually([&] { return get(stats().tls_fail_truncated) == before + 1; }));
  expect_still_serving();
}

TEST(TlsBadHandshake, TruncatedClientHelloThenSilenceTimesOut) {
  const auto before = get(stats().tls_fail_timeout);
  test::Client c(tls_port());
  const std::string hello = client_hello();
  c.send(std::string_view(hello).substr(0, 10));
  const auto t0 = test::Clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_GE(test::Clock::now() - t0, std::chrono::milliseconds(handshake_timeout_ms - 50));
  // The timer closes the socket; the handshake's handler counts it just after.
  EXPECT_TRUE(test::eventually([&] { return get(stats().tls_fail_timeout) == before + 1; }));
  expect_still_serving();
}

TEST(TlsBadHandshake, SilentClientTimesOut) {
  const auto before = get(stats().tls_fail_timeout);
  test::Client c(tls_port());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(test::eventually([&] { return get(stats().tls_fail_timeout) == before + 1; }));
}

TEST(TlsBadHandshake, UnknownAlpnOnlyGetsNoApplicationProtocol) {
  const auto before = get(stats().tls_fail_no_alpn);
  test::Client c(tls_port());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, c.fd());
  const std::string_view spdy = "\x06spdy/3";
  SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(spdy.data()),
                      static_cast<unsigned>(spdy.size()));
  ERR_clear_error();
  EXPECT_LE(SSL_connect(ssl), 0);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  EXPECT_TRUE(test::eventually([&] { return get(stats().tls_fail_no_alpn) == before + 1; }));
  expect_still_serving();
}

// ---- the pieces ------------------------------------------------------------------------------

TEST(TlsFirstBytes, TellsTlsFromHttpFromGarbage) {
  EXPECT_EQ(classify_first_bytes(""), FirstBytes::unknown);
  EXPECT_EQ(classify_first_bytes("\x16"), FirstBytes::unknown);  // tls_fuzzer finding 3
  EXPECT_EQ(classify_first_bytes("\x16\x03\x01"), FirstBytes::tls);
  EXPECT_EQ(classify_first_bytes("\x16\x04"), FirstBytes::other);
  EXPECT_EQ(classify_first_bytes("GET / HTTP/1.1\r\n"), FirstBytes::plain_http);
  EXPECT_EQ(classify_first_bytes("PRI * HTTP/2.0\r\n"), FirstBytes::plain_http);
  EXPECT_EQ(classify_first_bytes("POS"), FirstBytes::unknown);
  EXPECT_EQ(classify_first_bytes("get / HTTP/1.1"), FirstBytes::other);
  EXPECT_EQ(classify_first_bytes(" GET"), FirstBytes::other);
  EXPECT_EQ(classify_first_bytes(std::string(40, 'A')), FirstBytes::other);
}

TEST(TlsFirstBytes, The400SaysItsLength) {
  const std::string_view r = plain_http_to_tls_response;
  const auto body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
}

TEST(TlsContextSetup, ABadCertificateOrKeyIsOneLine) {
  test::TempDir dir;
  const auto files = make_throwaway_tls(dir.path());
  EXPECT_NO_THROW(make_tls_context(files.server_cert, files.server_key));
  try {
    make_tls_context(dir.path() / "missing.pem", files.server_key);
    ADD_FAILURE() << "no throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem: cannot load the certificate"),
              std::string::npos)
        << e.what();
  }
  // The CA's certificate with the leaf's key: they do not match.
  EXPECT_THROW(make_tls_context(files.ca_cert, files.server_key), std::runtime_error);
}

TEST(TlsConfig, TlsFlagsGoTogether) {
  auto parse = [](std::vector<std::string> args) {
    std::vector<char*> argv;
    static std::string program = "ssebench-mock-server";
    argv.push_back(program.data());
    for (auto& a : args) argv.push_back(a.data());
    return parse_args(static_cast<int>(argv.size()), argv.data());
  };
  const auto ok = parse({"--tls-port=0", "--tls-cert=c.pem", "--tls-key=k.pem"});
  ASSERT_TRUE(ok.config);
  EXPECT_EQ(ok.config->tls_port, 0);
  EXPECT_EQ(ok.config->tls_cert, "c.pem");
  EXPECT_EQ(parse({"--tls-port=0"}).exit_code, 2);
  EXPECT_EQ(parse({"--tls-cert=c.pem", "--tls-key=k.pem"}).exit_code, 2);
  EXPECT_FALSE(parse({}).config->tls_port);
}

}  // namespace
}  // namespace ssebench::server
