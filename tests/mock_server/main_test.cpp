// The ssebench-mock-server executable as a child process: its first line, --help, start-up
// errors, a bad recording among good ones, a clean exit on SIGTERM / SIGINT, the TLS port's line.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ssebench/server/config.hpp"
#include "ssebench/tls_files.hpp"
#include "support.hpp"

namespace ssebench::server {
namespace {

using namespace std::chrono_literals;

/** The server binary, started with `args`; stdout and stderr are read through pipes. */
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close(out[0]);
      ::close(err[0]);
      std::vector<char*> argv;
      std::string bin = SSEBENCH_MOCK_SERVER_BIN;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    ::close(out_);
    ::close(err_);
  }

  /** The first line on stdout (without newline), waiting at most `limit` (a slow start on a
   *  busy machine is waited for; only the child closing stdout ends the wait early). */
  std::string first_line(std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (out_text_.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
      if (read_some(out_, out_text_, 50) == Read::closed) break;
    }
    return out_text_.substr(0, out_text_.find('\n'));
  }

  /** Everything on stderr until the child closes it (call after it exits). */
  std::string all_stderr() {
    while (read_some(err_, err_text_, 5000) == Read::some) {
    }
    return err_text_;
  }
  std::string all_stdout() {
    while (read_some(out_, out_text_, 5000) == Read::some) {
    }
    return out_text_;
  }

  /** Waits for the exit; its status code, or -signal if killed. */
  int wait(std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  void signal(int sig) { ::kill(pid_, sig); }

  /** The port from "listening on http://127.0.0.1:PORT". */
  std::uint16_t port() {
    std::smatch m;
    const std::string line = first_line();
    static const std::regex re("^listening on http://127\\.0\\.0\\.1:([0-9]+)$");
    if (!std::regex_match(line, m, re)) throw std::runtime_error("first line: " + line);
    return static_cast<std::uint16_t>(std::stoi(m[1]));
  }

 private:
  enum class Read { some, nothing_yet, closed };
  static Read read_some(int fd, std::string& into, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return Read::nothing_yet;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return Read::closed;
    into.append(buf, static_cast<std::size_t>(n));
    return Read::some;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool reaped_ = false;
  std::string out_text_;
  std::string err_text_;
};

test::TestRecording one_event() {
  test::TestRecording r;
  r.events = {{1'000, "content", test::chat_chunk("hi")}, {2'000, "done", "[DONE]"}};
  return r;
}

TEST(Main, PortZeroPrintsTheListeningLineFirstAndSigtermExitsZero) {
  test::TempDir dir;
  dir.write("one.jsonl", test::recording_text(one_event()));
  Child child({"--recordings", dir.path().string(), "--port", "0"});
  const std::uint16_t port = child.port();
  EXPECT_NE(port, 0);
  test::Client c(port);
  const auto r = c.roundtrip("GET", "/v1/models");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"one\""), std::string::npos);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(), 0);
}

TEST(Main, TlsPortPrintsTheHttpsLineSecond) {
  test::TempDir dir;
  dir.write("one.jsonl", test::recording_text(one_event()));
  const TlsFiles tls = make_throwaway_tls(dir.path() / "tls");
  Child child({"--recordings", dir.path().string(), "--port", "0", "--tls-port=0",
               "--tls-cert=" + tls.server_cert.string(), "--tls-key=" + tls.server_key.string()});
  const std::uint16_t port = child.port();
  EXPECT_NE(port, 0);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(), 0);
  const std::string out = child.all_stdout();
  const std::string second = out.substr(out.find('\n') + 1);
  EXPECT_TRUE(std::regex_match(second, std::regex("listening on https://127\\.0\\.0\\.1:[0-9]+\n")))
      << out;
}

TEST(Main, TlsWithoutItsFilesIsABadOptionAndAnUnreadableCertificateOneLine) {
  test::TempDir dir;
  Child bad({"--recordings", dir.path().string(), "--tls-port=0"});
  EXPECT_EQ(bad.wait(), 2);
  EXPECT_EQ(bad.all_stderr(),
            "ssebench-mock-server: --tls-port needs --tls-cert and --tls-key (see --help)\n");
  const std::string missing = (dir.path() / "missing.pem").string();
  Child unreadable({"--recordings", dir.path().string(), "--tls-port=0", "--tls-cert=" + missing,
                    "--tls-key=" + missing});
  EXPECT_EQ(unreadable.wait(), 1);
  EXPECT_EQ(unreadable.all_stderr(),
            "ssebench-mock-server: TLS: " + missing +
                ": cannot load the certificate (No such file or directory)\n");
}

TEST(Main, SigintWithAStreamInFlightExitsZero) {
  test::TempDir dir;
  test::TestRecording r;
  r.events = {{1'000, "content", test::chat_chunk("a")}, {60'000'000, "done", "[DONE]"}};
  dir.write("long.jsonl", test::recording_text(r));
  Child child({"--recordings", dir.path().string()});
  test::Client c(child.port());
  c.send(test::Client::request_text("POST", "/v1/chat/completions",
                                    R"({"model":"long","stream":true})"));
  std::this_thread::sleep_for(50ms);
  child.signal(SIGINT);
  EXPECT_EQ(child.wait(), 0);
}

TEST(Main, ABadRecordingIsReportedAndTheGoodOnesServed) {
  test::TempDir dir;
  dir.write("good.jsonl", test::recording_text(one_event()));
  dir.write("bad.jsonl", "this is not json\n");
  Child child({"--recordings", dir.path().string()});
  test::Client c(child.port());
  const auto r = c.roundtrip("GET", "/v1/models");
  EXPECT_NE(r.body.find("\"good\""), std::string::npos);
  EXPECT_EQ(r.body.find("\"bad\""), std::string::npos);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(), 0);
  const std::string err = child.all_stderr();
  // One line naming the file and where it is wrong.
  const std::regex line("(^|\n)[^\n]*bad\\.jsonl:1: [^\n]+\n");
  EXPECT_TRUE(std::regex_search(err, line)) << err;
}

TEST(Main, HelpPrintsTheDefaultsAndExitsZero) {
  Child child({"--help"});
  EXPECT_EQ(child.wait(), 0);
  const std::string out = child.all_stdout();
  EXPECT_EQ(out, usage(SSEBENCH_MOCK_SERVER_BIN));
  EXPECT_NE(out.find("(default 127.0.0.1)"), std::string::npos);
}

TEST(Main, BadOptionAndMissingFolderExitNonZeroWithOneLine) {
  {
    Child child({"--port", "nope"});
    EXPECT_EQ(child.wait(), 2);
    const std::string err = child.all_stderr();
    EXPECT_NE(err.find("bad value 'nope' for --port"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  }
  {
    Child child({"--recordings", "/nonexistent/ssebench"});
    EXPECT_EQ(child.wait(), 1);
    EXPECT_NE(child.all_stderr().find("/nonexistent/ssebench: recordings folder not found"),
              std::string::npos);
    EXPECT_EQ(child.all_stdout(), "");
  }
}

}  // namespace
}  // namespace ssebench::server
