#pragma once
/**
 * Real reverse proxies between the harness and the mock server (issue 17): nginx as a plain
 * `proxy_pass` leaves it, nginx tuned for streaming, and HAProxy with common defaults. A run
 * writes each proxy's config into its own folder, starts the Debian binary in the foreground as
 * a child on free loopback ports, and proxies to the mock server's plain HTTP/1.x port; the
 * harness sends a proxied case's requests to the proxy and reads the proxy's CPU and memory
 * from /proc around the case.
 */
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ssebench::bench {

enum class ProxyKind { none, nginx, nginx_stream, haproxy };
inline constexpr ProxyKind all_proxies[] = {ProxyKind::none, ProxyKind::nginx,
                                            ProxyKind::nginx_stream, ProxyKind::haproxy};
/** "none", "nginx", "nginx-stream", "haproxy": the --proxy values, case names and JSON. */
std::string_view to_string(ProxyKind k);
std::optional<ProxyKind> parse_proxy(std::string_view name);
/** The program a proxy runs: "nginx" or "haproxy" ("" for none). */
std::string_view proxy_program(ProxyKind k);

/** Where a proxy listens and what it forwards to. A port of 0 is a listener it does not have. */
struct ProxySetup {
  ProxyKind kind = ProxyKind::nginx;
  std::filesystem::path dir;  // its config, pid file, logs and temp files
  std::string listen_host = "127.0.0.1";
  std::uint16_t http_port = 0;  // HTTP/1.x in clear text (always there)
  std::uint16_t h2c_port = 0;   // HTTP/2 in clear text, prior knowledge (cases http:2, tls off)
  std::uint16_t tls_port = 0;   // HTTPS, ALPN h2 and http/1.1
  std::string upstream;         // the mock server's plain port, "127.0.0.1:PORT"
  std::filesystem::path tls_cert, tls_key;  // PEM files, for the TLS port
};

/** The nginx.conf of `s` (nginx or nginx-stream). */
std::string nginx_config(const ProxySetup& s);
/** The haproxy.cfg of `s`; TLS reads `pem` (certificate and key in one file, as HAProxy wants). */
std::string haproxy_config(const ProxySetup& s, const std::filesystem::path& pem);

/** The path of `program` on $PATH; nullopt when it is not there (Debian puts both proxies in
 *  /usr/sbin, which a user's PATH may lack: scripts/bench adds it). */
std::optional<std::string> find_program(std::string_view program);

/** The proxy is not installed: the run cannot start (exit 2). */
struct ProxyMissing : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** CPU and memory of a proxy's processes (the master and its workers) at one instant. */
struct ProxySample {
  double cpu_us = 0;           // user + system time of every process, all threads
  std::int64_t rss_bytes = 0;  // resident set of every process, summed
  std::size_t processes = 0;
};

/** A running proxy, a child in its own process group; stopped (SIGTERM to the group, then
 *  SIGKILL) when destroyed. */
class ProxyProcess {
 public:
  /** How long the proxy may take to accept on every port. */
  static constexpr std::chrono::seconds start_timeout{10};
  /** How long it may take to exit after SIGTERM before SIGKILL. */
  static constexpr std::chrono::seconds stop_timeout{5};
  /** Tries with fresh ports when a port picked free was taken before the proxy bound it. */
  static constexpr int start_attempts = 3;

  /**
   * Writes the config into `setup.dir` (made if missing), picks free ports for every listener
   * whose port is not 0 in `setup` (1 asks for one), starts the program and waits until every
   * port accepts. Throws ProxyMissing when the program is not installed, std::runtime_error with
   * the proxy's own error line when it fails to start.
   */
  explicit ProxyProcess(ProxySetup setup);
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  const ProxySetup& setup() const { return setup_; }
  pid_t pid() const { return pid_; }
  /** The command line, for the run's context. */
  const std::string& command() const { return command_; }
  /** "http://127.0.0.1:PORT" of the plain HTTP/1.x port, the h2c port (`h2`), or the TLS port
   *  ("https://…", `tls`). */
  std::string url(bool h2, bool tls) const;
  /** How the proxy ended ("exited with status 1", "was killed by signal 9"), once it has. */
  std::optional<std::string> lost();
  /** Its processes now, from /proc (the master and its children). */
  ProxySample sample() const;
  /** The last lines of its error log, for a failure's message. */
  std::string error_tail() const;

 private:
  void start_once();
  void stop();

  ProxySetup setup_;
  std::string program_;
  std::string command_;
  pid_t pid_ = -1;
  std::optional<std::string> lost_;
};

/** CPU (user + system, µs) and RSS (bytes) of process `pid` and its direct children. */
ProxySample sample_process_tree(pid_t pid);

/** A proxy's use over a window: its CPU, and its RSS at the start and at its peak. */
struct ProxyUsage {
  double cpu_us = 0;  // the processes' CPU over the window
  std::int64_t rss_bytes_before = 0, rss_bytes_peak = 0;
};

/**
 * Watches a proxy over a window (a case's measured rounds): samples /proc at the start, every
 * `period` on a thread of its own (the RSS peak while the streams are held), and at finish().
 */
class ProxyMeter {
 public:
  static constexpr std::chrono::milliseconds period{20};
  explicit ProxyMeter(const ProxyProcess& proxy);
  ~ProxyMeter();
  ProxyMeter(const ProxyMeter&) = delete;
  ProxyMeter& operator=(const ProxyMeter&) = delete;
  /** Stops the sampling thread; the window's figures. */
  ProxyUsage finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/** The program's version line ("nginx/1.22.1", "HAProxy version 2.6.12-1+deb12u4 …"), for the
 *  run's context; empty when it does not say. */
std::string proxy_version(const std::string& program);

/** What a run needs of one proxy: which listeners beyond the plain HTTP/1.x port. */
struct ProxyNeed {
  ProxyKind kind = ProxyKind::nginx;
  bool h2c = false;  // a case speaks HTTP/2 without TLS through it
  bool tls = false;  // a case speaks TLS to it
};

/**
 * The proxies of one run: each in a folder of its own under a fresh temporary folder (removed,
 * with the configs and logs, when the run ends), all forwarding to `upstream`, listening on
 * `listen_host` (IPv4). They run in the network namespace of the thread that makes them: a link's
 * server namespace, beside the server, when made from inside it.
 */
class ProxyRun {
 public:
  /** Starts every proxy of `needs` (none is skipped); throws as ProxyProcess does, stopping the
   *  ones already started. */
  ProxyRun(const std::vector<ProxyNeed>& needs, const std::string& upstream,
           const std::filesystem::path& tls_cert = {}, const std::filesystem::path& tls_key = {},
           const std::string& listen_host = "127.0.0.1");
  ~ProxyRun();
  ProxyRun(const ProxyRun&) = delete;
  ProxyRun& operator=(const ProxyRun&) = delete;

  /** The running proxy of that kind; nullptr for none or one not started. */
  ProxyProcess* get(ProxyKind k) const;
  const std::vector<std::unique_ptr<ProxyProcess>>& all() const { return proxies_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
};

/** "127.0.0.1:PORT" of "http://127.0.0.1:PORT[/]"; throws std::invalid_argument otherwise. */
std::string upstream_of(const std::string& url);

}  // namespace ssebench::bench
