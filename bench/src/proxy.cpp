#include "ssebench/bench/proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace ssebench::bench {

namespace fs = std::filesystem;

std::string_view to_string(ProxyKind k) {
  switch (k) {
    case ProxyKind::none:
      return "none";
    case ProxyKind::nginx:
      return "nginx";
    case ProxyKind::nginx_stream:
      return "nginx-stream";
    case ProxyKind::haproxy:
      return "haproxy";
  }
  return "?";
}

std::optional<ProxyKind> parse_proxy(std::string_view name) {
  for (ProxyKind k : all_proxies)
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::string_view proxy_program(ProxyKind k) {
  switch (k) {
    case ProxyKind::none:
      return "";
    case ProxyKind::nginx:
    case ProxyKind::nginx_stream:
      return "nginx";
    case ProxyKind::haproxy:
      return "haproxy";
  }
  return "";
}

namespace {

/** `user NAME GROUP;` when nginx starts as root: its workers would otherwise run as nobody and
 *  could not write their temp files into the run's folder (mode 0700). */
std::string nginx_user_line() {
  if (::geteuid() != 0) return "";
  const passwd* pw = ::getpwuid(::geteuid());
  const group* gr = ::getgrgid(::getegid());
  if (!pw || !gr) return "";
  return fmt::format(
      "# Started as root: workers as this user too, so that they can write the temp files below\n"
      "# into the run's folder (nobody, nginx's default, cannot).\n"
      "user {} {};\n",
      pw->pw_name, gr->gr_name);
}

/** The listen lines every nginx config shares: TLS and HTTP/2 on the client side only. */
std::string nginx_listens(const ProxySetup& s) {
  std::string out = fmt::format("    listen {}:{};\n", s.listen_host, s.http_port);
  if (s.h2c_port)
    out += fmt::format(
        "    # HTTP/2 in clear text: nginx 1.22 speaks only h2 (prior knowledge) on such a port.\n"
        "    listen {}:{} http2;\n",
        s.listen_host, s.h2c_port);
  if (s.tls_port)
    out += fmt::format(
        "    listen {}:{} ssl http2;\n"
        "    ssl_certificate {};\n"
        "    ssl_certificate_key {};\n",
        s.listen_host, s.tls_port, s.tls_cert.string(), s.tls_key.string());
  return out;
}

}  // namespace

std::string nginx_config(const ProxySetup& s) {
  const std::string dir = s.dir.string();
  const bool tuned = s.kind == ProxyKind::nginx_stream;
  std::string out = fmt::format(
      "# ssebench proxy {}: generated for one run, in its own folder.\n"
      "{}\n"
      "daemon off;\n"
      "master_process on;\n"
      "worker_processes 1;\n"
      "pid {}/nginx.pid;\n"
      "error_log {}/error.log;\n"
      "{}"
      "\n"
      "events {{\n"
      "  worker_connections 768;  # Debian 12's /etc/nginx/nginx.conf\n"
      "}}\n"
      "\n"
      "http {{\n"
      "  # The rest of Debian 12's http block (mime.types aside: nothing here is served from "
      "disk).\n"
      "  sendfile on;\n"
      "  tcp_nopush on;\n"
      "  types_hash_max_size 2048;\n"
      "  default_type application/octet-stream;\n"
      "  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n"
      "  ssl_prefer_server_ciphers on;\n"
      "  access_log {}/access.log;\n"
      "  gzip on;  # gzip_types is text/html alone: text/event-stream is not compressed\n"
      "  client_body_temp_path {}/client_body;\n"
      "  proxy_temp_path {}/proxy_temp;\n"
      "  fastcgi_temp_path {}/fastcgi_temp;\n"
      "  uwsgi_temp_path {}/uwsgi_temp;\n"
      "  scgi_temp_path {}/scgi_temp;\n"
      "\n",
      to_string(s.kind),
      tuned ? "# Tuned for streaming as nginx's docs recommend: no buffering, HTTP/1.1 and kept\n"
              "# connections to the upstream, a read timeout above any gap of a stream."
            : "# What a plain proxy_pass gets with Debian 12's defaults (nginx 1.22): "
              "proxy_buffering on,\n"
              "# proxy_http_version 1.0 (a connection per request, no chunking upstream),\n"
              "# proxy_read_timeout 60s. Only WebSocket is given what it needs to pass at all.",
      dir, dir, nginx_user_line(), dir, dir, dir, dir, dir, dir);
  if (tuned) {
    out += fmt::format(
        "  # Connection: upgrade for a WebSocket handshake, empty otherwise so that the upstream\n"
        "  # connection is kept (the keepalive below needs it).\n"
        "  map $http_upgrade $connection_upgrade {{\n"
        "    default upgrade;\n"
        "    '' '';\n"
        "  }}\n"
        "  upstream mock {{\n"
        "    server {};\n"
        "    keepalive 32;\n"
        "  }}\n"
        "\n"
        "  server {{\n"
        "{}"
        "    location / {{\n"
        "      proxy_pass http://mock;\n"
        "      proxy_http_version 1.1;\n"
        "      proxy_set_header Upgrade $http_upgrade;\n"
        "      proxy_set_header Connection $connection_upgrade;\n"
        "      proxy_buffering off;\n"
        "      proxy_cache off;\n"
        "      proxy_read_timeout 3600s;\n"
        "      proxy_send_timeout 3600s;\n"
        "    }}\n"
        "  }}\n"
        "}}\n",
        s.upstream, nginx_listens(s));
  } else {
    out += fmt::format(
        "  server {{\n"
        "{}"
        "    location / {{\n"
        "      # Not part of a plain proxy_pass: without it a WebSocket handshake reaches the\n"
        "      # upstream as HTTP/1.0 with no Upgrade header and fails. proxy_http_version takes\n"
        "      # no variable, so the upgrade goes to a location of its own; every other request\n"
        "      # keeps the defaults.\n"
        "      error_page 418 = @websocket;\n"
        "      if ($http_upgrade) {{\n"
        "        return 418;\n"
        "      }}\n"
        "      proxy_pass http://{};\n"
        "    }}\n"
        "    location @websocket {{\n"
        "      proxy_pass http://{};\n"
        "      proxy_http_version 1.1;\n"
        "      proxy_set_header Upgrade $http_upgrade;\n"
        "      proxy_set_header Connection \"upgrade\";\n"
        "    }}\n"
        "  }}\n"
        "}}\n",
        nginx_listens(s), s.upstream, s.upstream);
  }
  return out;
}

std::string haproxy_config(const ProxySetup& s, const fs::path& pem) {
  std::string binds = fmt::format("  bind {}:{}\n", s.listen_host, s.http_port);
  if (s.h2c_port) binds += fmt::format("  bind {}:{} proto h2\n", s.listen_host, s.h2c_port);
  if (s.tls_port)
    binds += fmt::format("  bind {}:{} ssl crt {} alpn h2,http/1.1\n", s.listen_host, s.tls_port,
                         pem.string());
  return fmt::format(
      "# ssebench proxy haproxy: generated for one run. The global and defaults sections are\n"
      "# Debian 12's /etc/haproxy/haproxy.cfg less what does not apply to a foreground child\n"
      "# (syslog, chroot, stats socket, user, daemon, errorfiles).\n"
      "global\n"
      "  # One thread, as the nginx configs have one worker (HAProxy's default is one per "
      "core).\n"
      "  nbthread 1\n"
      "  ssl-default-bind-ciphers "
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
      "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384\n"
      "  ssl-default-bind-ciphersuites "
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n"
      "  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n"
      "\n"
      "defaults\n"
      "  mode http\n"
      "  # HTTP keep-alive on both sides: HAProxy 2.6's default mode.\n"
      "  timeout connect 5000\n"
      "  timeout client 50000  # a stream quiet for 50 s is cut\n"
      "  timeout server 50000\n"
      "  # Not in Debian's file: the WebSocket line of the example under 'timeout tunnel' in\n"
      "  # HAProxy 2.6's configuration.txt (without it a WebSocket is cut after 50 s quiet).\n"
      "  timeout tunnel 1h\n"
      "\n"
      "frontend ssebench\n"
      "{}"
      "  default_backend mock\n"
      "\n"
      "backend mock\n"
      "  server mock {}\n",
      binds, s.upstream);
}

std::optional<std::string> find_program(std::string_view program) {
  const char* env = std::getenv("PATH");
  const std::string path = env ? env : "";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t colon = std::min(path.find(':', start), path.size());
    const std::string dir = path.substr(start, colon - start);
    start = colon + 1;
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + std::string(program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

namespace {

/** A port free on `host` now (the kernel's pick for port 0); another process may take it before
 *  the proxy binds it: ProxyProcess tries again then. */
std::uint16_t free_port(const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port on " + host);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(const std::string& host, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/** The last non-empty line of `text`. */
std::string last_line(const std::string& text) {
  std::size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1));
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "stopped";
}

/**
 * CPU (µs) and RSS (bytes) of one process; false when it is gone. The CPU is the sum of its
 * threads' run time in /proc/PID/task/TID/schedstat (user + system, in ns: utime and stime in
 * /proc/PID/stat count 10 ms ticks, too coarse for a case of a few seconds); utime + stime when
 * the kernel has no schedstat.
 */
bool sample_one(pid_t pid, ProxySample& out) {
  const std::string stat = read_file(fmt::format("/proc/{}/stat", pid));
  const std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 > stat.size()) return false;
  std::istringstream fields(stat.substr(paren + 2));
  // After the command: state (3), ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt,
  // majflt, cmajflt, utime (14), stime (15), cutime, cstime, priority, nice, num_threads,
  // itrealvalue, starttime, vsize, rss (24).
  std::vector<std::string> f;
  for (std::string w; f.size() < 22 && fields >> w;) f.push_back(w);
  if (f.size() < 22) return false;
  static const double tick_us = 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const long page = ::sysconf(_SC_PAGESIZE);
  double run_ns = 0;
  bool schedstat = false;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::istringstream in(read_file(task.path() / "schedstat"));
    double ns = 0;
    if (in >> ns) {
      run_ns += ns;
      schedstat = true;
    }
  }
  out.cpu_us += schedstat ? run_ns / 1000 : (std::stod(f[11]) + std::stod(f[12])) * tick_us;
  out.rss_bytes += std::stoll(f[21]) * page;
  ++out.processes;
  return true;
}

}  // namespace

ProxySample sample_process_tree(pid_t pid) {
  ProxySample s;
  if (!sample_one(pid, s)) return s;
  // Children of every thread of the master (/proc/PID/task/TID/children).
  std::error_code ec;
  for (const auto& task : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::istringstream kids(read_file(task.path() / "children"));
    for (pid_t child; kids >> child;) sample_one(child, s);
  }
  return s;
}

ProxyProcess::ProxyProcess(ProxySetup setup) : setup_(std::move(setup)) {
  const std::string_view name = proxy_program(setup_.kind);
  const std::optional<std::string> program = find_program(name);
  if (!program)
    throw ProxyMissing(
        fmt::format("--proxy={}: {} is not on PATH (Debian installs it in /usr/sbin; package {})",
                    to_string(setup_.kind), name, name == "nginx" ? "nginx-light" : "haproxy"));
  program_ = *program;
  fs::create_directories(setup_.dir);
  const bool want_h2c = setup_.h2c_port != 0, want_tls = setup_.tls_port != 0;
  for (int attempt = 1;; ++attempt) {
    setup_.http_port = free_port(setup_.listen_host);
    setup_.h2c_port = want_h2c ? free_port(setup_.listen_host) : 0;
    setup_.tls_port = want_tls ? free_port(setup_.listen_host) : 0;
    try {
      start_once();
      return;
    } catch (const std::runtime_error& e) {
      // A port taken between the pick and the bind: pick again.
      if (attempt >= start_attempts ||
          std::string_view(e.what()).find("in use") == std::string_view::npos)
        throw;
    }
  }
}

ProxyProcess::~ProxyProcess() {
  stop();
}

void ProxyProcess::start_once() {
  const fs::path& dir = setup_.dir;
  std::vector<std::string> args;
  if (setup_.kind == ProxyKind::haproxy) {
    const fs::path pem = dir / "haproxy.pem";
    if (setup_.tls_port) {
      // HAProxy reads the certificate and its key from one file.
      std::ofstream out(pem, std::ios::binary | std::ios::trunc);
      out << read_file(setup_.tls_cert) << read_file(setup_.tls_key);
      fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write);
    }
    std::ofstream(dir / "haproxy.cfg", std::ios::trunc) << haproxy_config(setup_, pem);
    // -db: in the foreground, no daemon, no master-worker.
    args = {program_, "-f", (dir / "haproxy.cfg").string(), "-db"};
  } else {
    std::ofstream(dir / "nginx.conf", std::ios::trunc) << nginx_config(setup_);
    // -e: nginx opens its error log before reading the config (Debian's default is stderr).
    args = {program_,     "-c", (dir / "nginx.conf").string(), "-p",
            dir.string(), "-e", (dir / "error.log").string()};
  }
  command_.clear();
  for (const std::string& a : args) command_ += (command_.empty() ? "" : " ") + a;
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = (dir / "output.log").string();
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0) throw std::runtime_error("cannot write " + out_path);
  const pid_t parent = ::getpid();
  lost_.reset();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out_fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness
    // Its own process group: stopped as a whole (nginx's workers outlive a killed master), and
    // a Ctrl-C at the terminal reaches the harness only.
    ::setpgid(0, 0);
    if (::getppid() != parent) _exit(127);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(out_fd);
  ::setpgid(pid_, pid_);  // as the child does: whichever runs first, the group is there
  const auto until = std::chrono::steady_clock::now() + start_timeout;
  std::vector<std::uint16_t> ports{setup_.http_port};
  if (setup_.h2c_port) ports.push_back(setup_.h2c_port);
  if (setup_.tls_port) ports.push_back(setup_.tls_port);
  while (true) {
    if (const std::optional<std::string> gone = lost()) {
      pid_ = -1;
      std::string why = error_tail();
      throw std::runtime_error(fmt::format("{} {} at start{}", to_string(setup_.kind), *gone,
                                           why.empty() ? "" : ": " + why));
    }
    bool all = true;
    for (std::uint16_t p : ports) all = all && accepts(setup_.listen_host, p);
    if (all) return;
    if (std::chrono::steady_clock::now() > until) {
      stop();
      throw std::runtime_error(fmt::format("{} did not accept on port {} within {} s: {}",
                                           to_string(setup_.kind), ports.front(),
                                           start_timeout.count(), command_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ProxyProcess::error_tail() const {
  // nginx writes its emergencies to the error log, HAProxy its alerts to stderr.
  for (const char* name : {"output.log", "error.log"}) {
    std::string line = last_line(read_file(setup_.dir / name));
    if (!line.empty()) return line;
  }
  return "";
}

std::optional<std::string> ProxyProcess::lost() {
  if (!lost_ && pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      lost_ = describe_status(status);
      // Its workers outlive a master that was killed: the group goes with it.
      ::kill(-pid_, SIGKILL);
    }
  }
  return lost_;
}

void ProxyProcess::stop() {
  if (pid_ <= 0 || lost()) return;
  ::kill(-pid_, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + stop_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string ProxyProcess::url(bool h2, bool tls) const {
  if (tls) return fmt::format("https://{}:{}", setup_.listen_host, setup_.tls_port);
  return fmt::format("http://{}:{}", setup_.listen_host,
                     h2 && setup_.h2c_port ? setup_.h2c_port : setup_.http_port);
}

ProxySample ProxyProcess::sample() const {
  return pid_ > 0 ? sample_process_tree(pid_) : ProxySample{};
}

struct ProxyMeter::State {
  pid_t pid;
  ProxySample before;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::int64_t peak = 0;
  std::thread sampler;
};

ProxyMeter::ProxyMeter(const ProxyProcess& proxy) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.pid = proxy.pid();
  s.before = proxy.sample();
  s.peak = s.before.rss_bytes;
  s.sampler = std::thread([&s] {
    std::unique_lock lock(s.mutex);
    while (!s.wake.wait_for(lock, period, [&s] { return s.stop; }))
      if (s.pid > 0) s.peak = std::max(s.peak, sample_process_tree(s.pid).rss_bytes);
  });
}

ProxyMeter::~ProxyMeter() {
  finish();
}

ProxyUsage ProxyMeter::finish() {
  State& s = *state_;
  if (s.sampler.joinable()) {
    {
      std::lock_guard lock(s.mutex);
      s.stop = true;
    }
    s.wake.notify_all();
    s.sampler.join();
  }
  const ProxySample after = s.pid > 0 ? sample_process_tree(s.pid) : ProxySample{};
  ProxyUsage u;
  // A proxy gone in the window has no after: no CPU figure rather than a negative one.
  u.cpu_us = after.processes > 0 ? std::max(0.0, after.cpu_us - s.before.cpu_us) : 0;
  u.rss_bytes_before = s.before.rss_bytes;
  u.rss_bytes_peak = std::max(s.peak, after.rss_bytes);
  return u;
}

std::string proxy_version(const std::string& program) {
  // nginx -v and haproxy -v print one line each (nginx on stderr).
  const std::string cmd = fmt::format("'{}' -v 2>&1", program);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, p) != nullptr;
  ::pclose(p);
  if (!got) return "";
  std::string v = line;
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  if (v.starts_with("nginx version: ")) v = v.substr(15);
  return v;
}

ProxyRun::ProxyRun(const std::vector<ProxyNeed>& needs, const std::string& upstream,
                   const fs::path& tls_cert, const fs::path& tls_key,
                   const std::string& listen_host) {
  const fs::path base = fs::temp_directory_path() / "ssebench-proxy-XXXXXX";
  std::string tmpl = base.string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error(fmt::format("cannot make {}: {}", tmpl, std::strerror(errno)));
  dir_ = tmpl;
  try {
    for (const ProxyNeed& n : needs) {
      if (n.kind == ProxyKind::none || get(n.kind)) continue;
      ProxySetup s;
      s.kind = n.kind;
      s.dir = dir_ / to_string(n.kind);
      s.upstream = upstream;
      s.listen_host = listen_host;
      s.h2c_port = n.h2c ? 1 : 0;
      s.tls_port = n.tls ? 1 : 0;
      s.tls_cert = tls_cert;
      s.tls_key = tls_key;
      proxies_.push_back(std::make_unique<ProxyProcess>(std::move(s)));
    }
  } catch (...) {
    proxies_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

ProxyRun::~ProxyRun() {
  proxies_.clear();  // stopped first: nginx removes its pid file on the way out
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

ProxyProcess* ProxyRun::get(ProxyKind k) const {
  for (const auto& p : proxies_)
    if (p->setup().kind == k) return p.get();
  return nullptr;
}

std::string upstream_of(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  std::string_view rest = url;
  if (!rest.starts_with(scheme))
    throw std::invalid_argument(url + ": a proxy forwards to a plain http:// server");
  rest.remove_prefix(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos)
    throw std::invalid_argument(url + ": a proxy forwards to http://HOST:PORT, no path");
  return std::string(rest);
}

}  // namespace ssebench::bench
