#pragma once
/**
 * A real browser as the client of a case (--client=browser, browser-eventsource): headless
 * Chromium driven by bench/browser/driver.mjs (Node.js, puppeteer-core), one driver process per
 * run, kept across cases. The driver speaks JSON lines (the contract at the top of driver.mjs):
 * a ready line when Chromium is up, then one request line per round and one reply line per
 * round. A reply becomes the harness's RoundResult, one StreamRecord per stream, so that the same
 * CaseAggregate computes every figure for the harness and the browser alike:
 * - times: the page's EPOCH_MS (performance.timeOrigin + performance.now(), the machine's
 *   system clock) moved to the harness's steady Clock by the offset between the two sampled
 *   when the reply is read;
 * - content receipts: the page reports each arrival as the new text of one choice; the text
 *   rebuilt so far has a length, and a content event has arrived once its choice's text reaches
 *   the length it has after that event (Expectation::content_text_end), the rule the harness's
 *   snapshot polls use; the rebuilt text is checked against the recording's;
 * - CPU: the renderer, the network service and the browser process (BrowserRound).
 * Bytes are not the page's to know: the harness takes them from the server's counters.
 */
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ssebench/bench/metrics.hpp"
#include "ssebench/bench/transport.hpp"

namespace ssebench::bench {

/** What starts the driver. */
struct BrowserSetup {
  std::string node;      // the Node.js binary
  std::string driver;    // bench/browser/driver.mjs
  std::string chromium;  // the browser binary the driver launches
  std::string cert;      // PEM of the TLS server certificate Chromium must accept; empty: none
};

/** The driver and its page's files as this build's source tree has them. */
std::string built_browser_driver();

/** The browser cannot run: Chromium missing, the driver missing or failing its ready line. */
struct BrowserUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/** The driver process died or stopped answering mid-run; what() ends with its last stderr line. */
struct BrowserLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** One arrival of new user-visible text, as the page received it. */
struct BrowserArrival {
  TimePoint t;
  int choice = 0;
  std::string text;  // UTF-8
};

/**
 * Adds `arrivals` (in the order received) to `record`: the rebuilt transcript, and one content
 * receipt per recorded content event, at the arrival that brought its choice's text to that
 * event's length (content_text_end); a receipt's ordinal is its content ordinal in the
 * recording. Text beyond the recording's is kept in the transcript (the check then fails it).
 */
void receive_arrivals(const Expectation& expect, std::span<const BrowserArrival> arrivals,
                      StreamRecord& record);

/** What a round asks of the browser. */
struct BrowserRoundSpec {
  Transport transport = Transport::sse;
  bool eventsource = false;  // sse by EventSource on the job's resume endpoint
  std::size_t concurrency = 1;
};

/**
 * The system clock's EPOCH_MS moved to the steady Clock: `epoch_ms` is as far before the
 * moment both clocks were read (`now_epoch_ms`, `now`) as the result is before `now`.
 */
TimePoint from_epoch_ms(double epoch_ms, double now_epoch_ms, TimePoint now);

/**
 * Turns one reply line into a RoundResult: every stream's record (its text checked against the
 * recording's, rest's against the stream:false answer's), the round's browser figures, wall
 * time. A reply with an "error" fails every stream that has none of its own with it, and when it
 * has no streams at all, `streams_asked` failed ones. Throws std::runtime_error when the line is
 * not such a reply.
 */
RoundResult parse_browser_reply(const std::string& line, const Expectation& expect,
                                Transport transport, double now_epoch_ms, TimePoint now,
                                std::size_t streams_asked = 0);

/** The driver as a child process, in a process group of its own; stopped when destroyed. */
class BrowserClient {
 public:
  /** How long Chromium may take to start (the ready line). */
  static constexpr std::chrono::seconds ready_timeout{60};
  /** How long past a round's stream deadline its reply may take before the driver counts as
   *  hung (killed; the case fails). */
  static constexpr std::chrono::seconds reply_slack{30};
  /** How long the driver may take to close Chromium after SIGTERM before SIGKILL. */
  static constexpr std::chrono::seconds stop_timeout{10};

  /** Starts the driver and reads its ready line; throws BrowserUnavailable with one line. */
  explicit BrowserClient(BrowserSetup setup);
  ~BrowserClient();
  BrowserClient(const BrowserClient&) = delete;
  BrowserClient& operator=(const BrowserClient&) = delete;

  const std::string& chromium_version() const { return version_; }
  pid_t browser_pid() const { return browser_pid_; }
  pid_t driver_pid() const { return pid_; }
  const std::string& page_origin() const { return page_origin_; }

  /**
   * Plays one closed round of `spec.concurrency` streams in the page and returns its result.
   * `stop` set (an interrupt) ends the wait: the driver is stopped, every stream fails as
   * interrupted. Throws BrowserLost when the driver dies or passes the round's deadline plus
   * reply_slack without an answer (it is stopped then).
   */
  RoundResult run_round(const Expectation& expect, const BrowserRoundSpec& spec,
                        const ClientConfig& config, const std::atomic<bool>* stop);

  /** Why the driver is gone (exited, killed by a signal), or nullopt while it runs. */
  std::optional<std::string> lost();
  /** SIGTERM to the driver (it closes Chromium), SIGKILL to what is left after stop_timeout. */
  void stop();

 private:
  std::string stderr_tail();
  void kill_browser();
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point until,
                                       const std::atomic<bool>* stop);

  struct Stderr;
  BrowserSetup setup_;
  pid_t pid_ = -1;
  pid_t browser_pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1;
  std::string buffer_;  // stdout read beyond the last line
  std::unique_ptr<Stderr> stderr_;
  std::optional<std::string> lost_;
  std::string version_, page_origin_;
  std::uint64_t round_ = 0;
};

}  // namespace ssebench::bench
