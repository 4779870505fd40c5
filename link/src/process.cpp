#include "ssebench/link/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "ssebench/link/netns.hpp"

namespace ssebench::link {

Ready parse_ready(std::string_view line) {
  if (!line.starts_with("ready "))
    throw std::runtime_error(fmt::format("not a ready line: '{}'", line));
  Ready r;
  line.remove_prefix(6);
  while (!line.empty()) {
    const auto sp = line.find(' ');
    const std::string_view kv = line.substr(0, sp);
    line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = kv.substr(0, eq);
    const std::string v(kv.substr(eq + 1));
    if (k == "server_ns")
      r.server_ns = v;
    else if (k == "client_ns")
      r.client_ns = v;
    else if (k == "server_addr")
      r.server_addr = v;
    else if (k == "client_addr")
      r.client_addr = v;
    else if (k == "control")
      r.control = v;
    else if (k == "profile")
      r.profile = v;
    else if (k == "rtt_ms")
      r.rtt_ms = std::stod(v);
    else if (k == "realtime")
      r.realtime = v == "1";
  }
  if (r.server_ns.empty() || r.client_ns.empty() || r.control.empty())
    throw std::runtime_error("ready line without server_ns, client_ns or control");
  return r;
}

std::string control(const std::string& path, std::string_view command) {
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
  if (!s || ::connect(s.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0)
    throw std::system_error(errno, std::generic_category(), "connect " + path);
  const std::string line = std::string(command) + "\n";
  if (::send(s.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    throw std::system_error(errno, std::generic_category(), "send to " + path);
  std::string answer;
  char buf[4096];
  while (answer.find('\n') == std::string::npos) {
    const ssize_t n = ::read(s.get(), buf, sizeof buf);
    if (n <= 0)
      throw std::system_error(n == 0 ? ECONNRESET : errno, std::generic_category(),
                              "read from " + path);
    answer.append(buf, static_cast<std::size_t>(n));
  }
  answer.resize(answer.find('\n'));
  return answer;
}

Process Process::start(const std::string& exe, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  Fd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  out_w = Fd();
  err_w = Fd();
  Process p;
  p.pid_ = pid;
  // Read stdout up to the first newline, within the timeout.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{out_r.get(), POLLIN, 0};
    char buf[512];
    ssize_t n = 0;
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0 ||
        (n = ::read(out_r.get(), buf, sizeof buf)) <= 0) {
      const int status = p.stop(SIGTERM);
      std::string why;
      while ((n = ::read(err_r.get(), buf, sizeof buf)) > 0)
        why.append(buf, static_cast<std::size_t>(n));
      while (!why.empty() && why.back() == '\n') why.pop_back();
      throw std::runtime_error(fmt::format("{} did not get ready (exit status {}): {}", exe, status,
                                           why.empty() ? "no message" : why));
    }
    line.append(buf, static_cast<std::size_t>(n));
  }
  line.resize(line.find('\n'));
  p.ready_ = parse_ready(line);
  p.stderr_ = std::move(err_r);
  return p;
}

Process::Process(Process&& o) noexcept
    : pid_(o.pid_), ready_(std::move(o.ready_)), stderr_(std::move(o.stderr_)) {
  o.pid_ = -1;
}

Process::~Process() {
  if (pid_ > 0) stop(SIGTERM);
}

int Process::stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace ssebench::link
