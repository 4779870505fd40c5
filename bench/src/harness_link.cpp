#include "ssebench/bench/harness_link.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "ssebench/bench/harness_config.hpp"
#include "ssebench/bench/run_context.hpp"
#include "ssebench/bench/stop_signal.hpp"
#include "ssebench/flags.hpp"
#include "ssebench/link/netns.hpp"
#include "ssebench/link/profile.hpp"

namespace ssebench::bench {

namespace json = boost::json;

std::string built_link_binary() {
  if (const std::string prefix = installed_prefix(); !prefix.empty())
    return prefix + "/bin/ssebench-link";
#ifdef SSEBENCH_LINK
  return SSEBENCH_LINK;
#else
  return "";
#endif
}

namespace {

/** How often the watcher looks for the emulator's exit and a stop signal. */
constexpr std::chrono::milliseconds watch_every{20};

/** The table's name closest to `name` (edit distance; the first of equals). */
std::string_view closest_profile(std::string_view name) {
  std::string_view best;
  std::size_t best_d = SIZE_MAX;
  for (const link::ProfileRow& row : link::profile_table())
    if (const std::size_t d = flags::edit_distance(name, row.name); d < best_d) {
      best_d = d;
      best = row.name;
    }
  return best;
}

/** A trace spec's two file paths ("trace:DOWN,UP[,rtt=MS]"). */
std::pair<std::string, std::string> trace_paths(std::string_view spec) {
  const std::vector<std::string> parts = flags::list(spec.substr(6));
  return {parts.at(0), parts.at(1)};
}

/** A figure as JSON: whole numbers without an exponent (Boost.JSON writes 1E2 for a double). */
json::value figure(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return static_cast<std::int64_t>(v);
  return v;
}

json::object trace_file(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t lines = 0;
  for (std::string line; std::getline(in, line);) lines += line.empty() ? 0 : 1;
  std::string quoted = "'";
  for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  std::string sum = command_output("sha256sum " + quoted + " 2>/dev/null");
  sum = sum.substr(0, sum.find(' '));
  return json::object{{"path", path}, {"sha256", sum}, {"lines", lines}};
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return fmt::format("killed by SIG{}", name ? name : std::to_string(sig).c_str());
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

std::vector<std::string> parse_links(std::string_view text) {
  // Split on commas, a trace keeping the UP part after its comma and an rtt=MS after that.
  const std::vector<std::string> parts = flags::list(text);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string name = parts[i];
    if (name.starts_with("trace:")) {
      if (i + 1 < parts.size()) name += "," + parts[++i];
      if (i + 1 < parts.size() && parts[i + 1].starts_with("rtt=")) name += "," + parts[++i];
    }
    if (std::find(out.begin(), out.end(), name) != out.end())
      throw flags::Error(fmt::format("--link: '{}' is listed twice", name));
    if (name != "none") {
      const auto table = link::profile_table();
      const bool known = name.starts_with("trace:") ||
                         std::any_of(table.begin(), table.end(),
                                     [&](const link::ProfileRow& r) { return r.name == name; });
      if (!known)
        throw flags::Error(fmt::format(
            "--link: unknown profile '{}'; the closest is '{}' (ssebench-link --list-profiles)",
            name, closest_profile(name)));
      try {
        link::make_link(name);  // a trace's files are read and checked now
      } catch (const std::exception& e) {
        throw flags::Error(fmt::format("--link: {}", e.what()));
      }
    }
    out.push_back(std::move(name));
  }
  if (out.empty()) throw flags::bad_value("link", text, "needs at least one value");
  return out;
}

bool needs_emulator(const std::vector<std::string>& links) {
  return std::any_of(links.begin(), links.end(), [](const std::string& l) { return l != "none"; });
}

std::string link_profiles_json(const std::vector<std::string>& links) {
  json::object all;
  for (const std::string& name : links) {
    const link::Link l = link::make_link(name);
    json::object o;
    o["rtt_ms"] = figure(l.rtt_ms);
    o["loss"] = figure(l.down.loss);
    o["queue_packets"] = l.down.has_bottleneck() ? l.down.queue_packets : 0;
    if (name.starts_with("trace:")) {
      const auto [down, up] = trace_paths(name);
      o["down_mbit"] = nullptr;
      o["up_mbit"] = nullptr;
      o["down_trace"] = trace_file(down);
      o["up_trace"] = trace_file(up);
      o["source"] = "mahimahi-format traces at the paths given";
    } else {
      for (const link::ProfileRow& row : link::profile_table()) {
        if (row.name != name) continue;
        o["down_mbit"] = figure(row.down_mbit);
        o["up_mbit"] = figure(row.up_mbit);
        o["source"] = std::string(row.source);
      }
    }
    all[name] = std::move(o);
  }
  return json::serialize(all);
}

std::chrono::milliseconds link_deadline_slack(const std::string& name, std::size_t round_bytes) {
  const link::Link l = link::make_link(name);
  double ms = 40 * l.rtt_ms;
  if (l.down.rate_bps > 0) ms += 2 * static_cast<double>(round_bytes) * 8 / l.down.rate_bps * 1e3;
  if (l.down.loss > 0 || l.up.loss > 0 || l.down.ge.p > 0 || l.up.ge.p > 0 || l.down.trace)
    ms += 30'000;
  return std::chrono::milliseconds(std::llround(ms));
}

void add_link_context(const std::vector<std::string>& links, const LinkEmulator* emulator) {
  std::string list;
  for (const std::string& l : links) list += (list.empty() ? "" : ",") + l;
  benchmark::AddCustomContext("links", list);
  if (!emulator) return;
  const link::Ready& r = emulator->ready();
  benchmark::AddCustomContext("link_emulator",
                              json::serialize(json::object{{"path", built_link_binary()},
                                                           {"command", emulator->command()},
                                                           {"realtime", r.realtime},
                                                           {"server_ns", r.server_ns},
                                                           {"client_ns", r.client_ns},
                                                           {"server_addr", r.server_addr},
                                                           {"client_addr", r.client_addr}}));
  benchmark::AddCustomContext("link_profiles", link_profiles_json(links));
}

std::vector<std::pair<std::string, double>> link_counters(std::string_view stats_json) {
  json::error_code ec;
  const json::value v = json::parse(stats_json, ec);
  if (ec || !v.is_object())
    throw std::runtime_error(
        fmt::format("the link emulator's stats: not a JSON object: {}", stats_json));
  const json::object& o = v.as_object();
  if (const json::value* e = o.if_contains("error"))
    throw std::runtime_error(fmt::format("the link emulator: {}", json::serialize(*e)));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, value] : o) {
    if (!value.is_number() || key == "window_s") continue;
    const std::string k(key);
    out.emplace_back(k.starts_with("link_") ? k : "link_" + k, value.to_number<double>());
  }
  return out;
}

LinkEmulator::LinkEmulator(const std::string& exe, const std::string& profile) : profile_(profile) {
  std::vector<std::string> args{exe, "--name=bench", "--profile=" + profile};
  for (const std::string& a : args) command_ += (command_.empty() ? "" : " ") + a;
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe failed");
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness: it removes its namespaces
    ::setpgid(0, 0);                     // a terminal's Ctrl-C reaches the harness only
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  const int out_fd = out[0];
  stderr_fd_ = err[0];
  std::string line;
  const auto until = std::chrono::steady_clock::now() + start_timeout;
  std::string failure;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{out_fd, POLLIN, 0};
    char buf[512];
    ssize_t n = 0;
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0 ||
        (n = ::read(out_fd, buf, sizeof buf)) <= 0) {
      failure = "no ready line";
      break;
    }
    line.append(buf, static_cast<std::size_t>(n));
  }
  if (failure.empty()) {
    line.resize(line.find('\n'));
    try {
      ready_ = link::parse_ready(line);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  ::close(out_fd);  // it prints nothing after its ready line
  if (!failure.empty()) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::string why;
    char buf[512];
    ssize_t n = 0;
    while ((n = ::read(stderr_fd_, buf, sizeof buf)) > 0)
      why.append(buf, static_cast<std::size_t>(n));
    ::close(stderr_fd_);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (const auto nl = why.rfind('\n'); nl != std::string::npos) why = why.substr(nl + 1);
    throw std::runtime_error(fmt::format("the link emulator did not start ({}, {}): {}", failure,
                                         describe_status(status),
                                         why.empty() ? "no message" : why));
  }
  watcher_ = std::jthread([this](std::stop_token st) { watch(st); });
}

void LinkEmulator::watch(std::stop_token stop) {
  while (!stop.stop_requested()) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      abort_ = true;
      return;
    }
    if (stop_requested.load(std::memory_order_relaxed)) abort_ = true;
    std::this_thread::sleep_for(watch_every);
  }
}

LinkEmulator::~LinkEmulator() {
  if (exit_status_.load() < 0) ::kill(pid_, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + stop_timeout;
  while (exit_status_.load() < 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (exit_status_.load() < 0) {
    ::kill(pid_, SIGKILL);
    while (exit_status_.load() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  watcher_.request_stop();
  watcher_.join();
  // After a SIGKILL the namespaces and the socket stay; a clean exit removed them already.
  link::remove_netns(ready_.server_ns);
  link::remove_netns(ready_.client_ns);
  ::unlink(ready_.control.c_str());
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

std::optional<std::string> LinkEmulator::lost() const {
  const int status = exit_status_.load();
  if (status < 0) return std::nullopt;
  return describe_status(status);
}

void LinkEmulator::switch_to(const std::string& name) {
  const std::string answer = link::control(ready_.control, "profile " + name);
  json::error_code ec;
  const json::value v = json::parse(answer, ec);
  if (ec || !v.is_object() || v.as_object().contains("error"))
    throw std::runtime_error(
        fmt::format("the link emulator refused 'profile {}': {}", name, answer));
  profile_ = name;
}

void LinkEmulator::reset() {
  link::control(ready_.control, "reset");
}

std::vector<std::pair<std::string, double>> LinkEmulator::stats() {
  return link_counters(link::control(ready_.control, "stats"));
}

}  // namespace ssebench::bench
