// The proxies a run starts: their configs (checked by the real programs' own -t / -c), the
// process (ports, /proc figures, stop, death) and a program that is not there.
#include "ssebench/bench/proxy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "../temp_dir.hpp"

namespace ssebench::bench {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

/** Whether a line of `conf` that is not a comment sets `directive`. */
bool sets(const std::string& conf, std::string_view directive) {
  std::istringstream lines(conf);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first;
    if (words >> first && first == directive) return true;
  }
  return false;
}

ProxySetup setup_of(ProxyKind k, const fs::path& dir) {
  ProxySetup s;
  s.kind = k;
  s.dir = dir;
  s.http_port = 18'001;
  s.h2c_port = 18'002;
  s.upstream = "127.0.0.1:18000";
  return s;
}

/** Runs `command`; its exit status and the output it wrote. */
int run(const std::string& command, std::string& output) {
  output.clear();
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  return WEXITSTATUS(::pclose(p));
}

TEST(Proxy, NamesRoundTrip) {
  for (ProxyKind k : all_proxies) EXPECT_EQ(parse_proxy(to_string(k)), k);
  EXPECT_EQ(parse_proxy("nginx_stream"), std::nullopt);
  EXPECT_EQ(proxy_program(ProxyKind::nginx_stream), "nginx");
  EXPECT_EQ(proxy_program(ProxyKind::haproxy), "haproxy");
  EXPECT_EQ(upstream_of("http://127.0.0.1:8080/"), "127.0.0.1:8080");
  EXPECT_THROW(upstream_of("https://127.0.0.1:8080"), std::invalid_argument);
  EXPECT_THROW(upstream_of("http://127.0.0.1:8080/v1"), std::invalid_argument);
}

TEST(Proxy, PlainNginxKeepsDebiansDefaultsButForTheWebSocketUpgrade) {
  test::TempDir dir;
  const std::string conf = nginx_config(setup_of(ProxyKind::nginx, dir.path()));
  // Buffering, HTTP/1.0 upstream and the 60 s read timeout are nginx's defaults: not set.
  EXPECT_FALSE(sets(conf, "proxy_buffering"));
  EXPECT_FALSE(sets(conf, "proxy_read_timeout"));
  EXPECT_FALSE(sets(conf, "keepalive"));
  EXPECT_FALSE(sets(conf, "upstream"));
  // HTTP/1.1 only in the WebSocket location, which the Upgrade header leads to.
  const auto ws = conf.find("location @websocket");
  ASSERT_NE(ws, std::string::npos);
  EXPECT_GT(conf.find("proxy_http_version 1.1"), ws);
  EXPECT_TRUE(contains(conf, "proxy_pass http://127.0.0.1:18000;"));
  EXPECT_TRUE(contains(conf, "listen 127.0.0.1:18001;"));
  EXPECT_TRUE(contains(conf, "listen 127.0.0.1:18002 http2;"));
  EXPECT_TRUE(contains(conf, "daemon off;"));
  EXPECT_TRUE(contains(conf, "worker_processes 1;"));
  EXPECT_TRUE(contains(conf, "pid " + dir.path().string() + "/nginx.pid;"));
  EXPECT_FALSE(contains(conf, "ssl_certificate"));
}

TEST(Proxy, StreamingNginxIsTunedAsTheDocsSay) {
  test::TempDir dir;
  ProxySetup s = setup_of(ProxyKind::nginx_stream, dir.path());
  s.h2c_port = 0;
  s.tls_port = 18'003;
  s.tls_cert = "/c.pem";
  s.tls_key = "/k.pem";
  const std::string conf = nginx_config(s);
  for (std::string_view line :
       {"proxy_buffering off;", "proxy_http_version 1.1;", "keepalive 32;",
        "proxy_read_timeout 3600s;", "proxy_set_header Connection $connection_upgrade;",
        "proxy_pass http://mock;", "server 127.0.0.1:18000;", "listen 127.0.0.1:18003 ssl http2;",
        "ssl_certificate /c.pem;", "ssl_certificate_key /k.pem;"})
    EXPECT_TRUE(contains(conf, line)) << line;
  EXPECT_FALSE(contains(conf, "http2;\n    listen 127.0.0.1:18002"));
}

TEST(Proxy, HaproxyHasDebiansTimeoutsAndBindsEachListener) {
  ProxySetup s = setup_of(ProxyKind::haproxy, "/d");
  s.tls_port = 18'003;
  const std::string cfg = haproxy_config(s, "/d/haproxy.pem");
  for (std::string_view line :
       {"mode http", "timeout connect 5000", "timeout client 50000", "timeout server 50000",
        "timeout tunnel 1h", "bind 127.0.0.1:18001\n", "bind 127.0.0.1:18002 proto h2",
        "bind 127.0.0.1:18003 ssl crt /d/haproxy.pem alpn h2,http/1.1",
        "server mock 127.0.0.1:18000"})
    EXPECT_TRUE(contains(cfg, line)) << line;
}

TEST(Proxy, TheProgramsAcceptTheConfigs) {
  for (ProxyKind k : {ProxyKind::nginx, ProxyKind::nginx_stream, ProxyKind::haproxy}) {
    const std::optional<std::string> program = find_program(proxy_program(k));
    if (!program) GTEST_SKIP() << proxy_program(k) << " is not installed";
    test::TempDir dir;
    const ProxySetup s = setup_of(k, dir.path());
    std::string out;
    int rc = 0;
    if (k == ProxyKind::haproxy) {
      const fs::path cfg = dir.write("haproxy.cfg", haproxy_config(s, dir.path() / "x.pem"));
      rc = run(*program + " -c -f " + cfg.string(), out);
    } else {
      const fs::path conf = dir.write("nginx.conf", nginx_config(s));
      rc = run(*program + " -t -c " + conf.string() + " -p " + dir.path().string() + " -e " +
                   (dir.path() / "error.log").string(),
               out);
    }
    EXPECT_EQ(rc, 0) << to_string(k) << ": " << out;
  }
}

/** A proxy of kind `k` in `dir`, or a skip when its program is not installed. */
#define START_OR_SKIP(var, k, dir)                                                 \
  if (!find_program(proxy_program(k))) GTEST_SKIP() << to_string(k) << " missing"; \
  ProxySetup var##_setup = setup_of(k, dir);                                       \
  var##_setup.h2c_port = 1;                                                        \
  ProxyProcess var(var##_setup)

TEST(Proxy, StartsOnFreePortsReportsItsProcessesAndStopsThemAll) {
  for (ProxyKind k : {ProxyKind::nginx, ProxyKind::haproxy}) {
    test::TempDir dir;
    pid_t group = 0;
    {
      START_OR_SKIP(p, k, dir.path());
      group = p.pid();
      EXPECT_NE(p.setup().http_port, 18'001);  // picked free, not the setup's
      EXPECT_NE(p.setup().h2c_port, 0);
      EXPECT_NE(p.setup().h2c_port, p.setup().http_port);
      EXPECT_EQ(p.url(false, false), "http://127.0.0.1:" + std::to_string(p.setup().http_port));
      EXPECT_EQ(p.url(true, false), "http://127.0.0.1:" + std::to_string(p.setup().h2c_port));
      const ProxySample s = p.sample();
      // nginx: the master and its one worker; HAProxy: one process.
      EXPECT_EQ(s.processes, k == ProxyKind::haproxy ? 1u : 2u) << to_string(k);
      EXPECT_GT(s.rss_bytes, 1'000'000);
      EXPECT_GT(s.cpu_us, 0);
      EXPECT_FALSE(p.lost());
      ProxyMeter meter(p);
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      const ProxyUsage u = meter.finish();
      EXPECT_GE(u.rss_bytes_peak, u.rss_bytes_before);
      EXPECT_GE(u.cpu_us, 0);
    }
    // Stopped: no process of its group is left (nginx's worker included).
    EXPECT_EQ(::kill(-group, 0), -1) << to_string(k);
  }
}

TEST(Proxy, ADeadProxyIsLostAndItsWorkersGoWithIt) {
  test::TempDir dir;
  START_OR_SKIP(p, ProxyKind::nginx, dir.path());
  const pid_t group = p.pid();
  ::kill(group, SIGKILL);  // the master alone: its worker would go on serving
  for (int i = 0; i < 200 && !p.lost(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(p.lost());
  EXPECT_EQ(*p.lost(), "was killed by signal 9");
  for (int i = 0; i < 200 && ::kill(-group, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(::kill(-group, 0), -1);
}

TEST(Proxy, AProgramNotOnThePathIsMissing) {
  test::TempDir dir;
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", dir.path().c_str(), 1);
  EXPECT_EQ(find_program("nginx"), std::nullopt);
  try {
    ProxyProcess p(setup_of(ProxyKind::haproxy, dir.path() / "h"));
    ADD_FAILURE() << "started without haproxy on PATH";
  } catch (const ProxyMissing& e) {
    EXPECT_EQ(std::string(e.what()),
              "--proxy=haproxy: haproxy is not on PATH (Debian installs it in /usr/sbin; package "
              "haproxy)");
  }
  ::setenv("PATH", saved.c_str(), 1);
}

TEST(Proxy, AConfigTheProgramRefusesIsAFailedStartWithItsLine) {
  if (!find_program("nginx")) GTEST_SKIP() << "nginx missing";
  test::TempDir dir;
  ProxySetup s = setup_of(ProxyKind::nginx, dir.path());
  s.tls_port = 1;  // TLS without a certificate file
  s.tls_cert = dir.path() / "none.pem";
  s.tls_key = dir.path() / "none.key";
  try {
    ProxyProcess p(s);
    ADD_FAILURE() << "nginx started without its certificate";
  } catch (const ProxyMissing&) {
    ADD_FAILURE() << "not a missing program";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("nginx exited with status 1 at start: ")) << what;
    EXPECT_TRUE(contains(what, "none.pem")) << what;
  }
}

/** An upstream on a free loopback port answering every request "ok" and closing. */
class OkUpstream {
 public:
  OkUpstream() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0;) {
        std::string head;
        char buf[1024];
        for (ssize_t n;
             head.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;)
          head.append(buf, static_cast<std::size_t>(n));
        constexpr std::string_view ok =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        [[maybe_unused]] const ssize_t w = ::write(c, ok.data(), ok.size());
        ::close(c);
      }
    });
  }
  ~OkUpstream() {
    ::shutdown(fd_, SHUT_RDWR);  // accept() returns: the thread ends
    thread_.join();
    ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Proxy, TheTlsPortChoosesHttp2OrHttp11ByAlpn) {
  // A self-signed certificate from the openssl command (the run's comes from core's
  // make_throwaway_tls).
  std::string out;
  if (run("command -v openssl && command -v curl", out) != 0)
    GTEST_SKIP() << "no openssl or curl command";
  test::TempDir dir;
  const fs::path cert = dir.path() / "server.pem", key = dir.path() / "server.key";
  ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                "-addext subjectAltName=IP:127.0.0.1 -keyout " +
                    key.string() + " -out " + cert.string(),
                out),
            0)
      << out;
  for (ProxyKind k : {ProxyKind::nginx, ProxyKind::nginx_stream, ProxyKind::haproxy}) {
    if (!find_program(proxy_program(k))) GTEST_SKIP() << to_string(k) << " missing";
    ProxySetup s = setup_of(k, dir.path() / to_string(k));
    s.h2c_port = 0;
    s.tls_port = 1;
    s.tls_cert = cert;
    s.tls_key = key;
    OkUpstream upstream;
    s.upstream = upstream.address();
    ProxyProcess p(s);
    const std::string url = p.url(false, true);
    EXPECT_EQ(url, "https://127.0.0.1:" + std::to_string(p.setup().tls_port));
    for (const auto& [flag, version] : {std::pair{"--http2", "2"}, std::pair{"--http1.1", "1.1"}}) {
      ASSERT_EQ(run("curl -s -o /dev/null -w '%{http_version} %{http_code}' --cacert " +
                        cert.string() + " " + flag + " " + url + "/v1/models",
                    out),
                0)
          << to_string(k) << " " << flag << ": " << out;
      EXPECT_EQ(out, std::string(version) + " 200") << to_string(k) << " " << flag;
    }
  }
}

TEST(Proxy, ARunStartsEachKindOnceAndRemovesItsFolder) {
  if (!find_program("nginx") || !find_program("haproxy")) GTEST_SKIP() << "a proxy is missing";
  fs::path dir;
  {
    ProxyRun r({{.kind = ProxyKind::nginx},
                {.kind = ProxyKind::none},
                {.kind = ProxyKind::haproxy, .h2c = true}},
               "127.0.0.1:18000");
    dir = r.dir();
    EXPECT_EQ(r.all().size(), 2u);
    ASSERT_NE(r.get(ProxyKind::nginx), nullptr);
    EXPECT_EQ(r.get(ProxyKind::nginx_stream), nullptr);
    EXPECT_EQ(r.get(ProxyKind::none), nullptr);
    EXPECT_EQ(r.get(ProxyKind::nginx)->setup().h2c_port, 0);
    EXPECT_NE(r.get(ProxyKind::haproxy)->setup().h2c_port, 0);
    EXPECT_TRUE(fs::exists(dir / "nginx" / "nginx.conf"));
    EXPECT_TRUE(fs::exists(dir / "haproxy" / "haproxy.cfg"));
  }
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace ssebench::bench
