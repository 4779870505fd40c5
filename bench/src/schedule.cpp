#include "ssebench/bench/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <thread>

namespace ssebench::bench {

std::optional<double> parse_start_at(std::string_view text) {
  const std::string s(text);
  static const std::regex unix_seconds(R"(^[0-9]{1,12}(\.[0-9]+)?$)");
  if (std::regex_match(s, unix_seconds)) return std::strtod(s.c_str(), nullptr);
  static const std::regex iso(
      R"(^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?Z$)");
  std::smatch m;
  if (!std::regex_match(s, m, iso)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_year < 70 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) return std::nullopt;
  std::tm copy = tm;
  const time_t t = timegm(&copy);
  // timegm normalizes a day or month out of range (Feb 30 -> Mar 2): such a date is no date.
  if (t < 0 || copy.tm_mon != tm.tm_mon || copy.tm_mday != tm.tm_mday) return std::nullopt;
  const double fraction = m[7].matched ? std::strtod(m[7].str().c_str(), nullptr) : 0;
  return static_cast<double>(t) + fraction;
}

std::string iso_utc(double unix_s) {
  const double whole = std::floor(unix_s);
  auto ms = std::llround((unix_s - whole) * 1000);
  auto t = static_cast<time_t>(whole);
  if (ms == 1000) {
    ms = 0;
    ++t;
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return ms == 0 ? fmt::format("{}Z", buf) : fmt::format("{}.{:03}Z", buf, ms);
}

/** A warm-up at speed 0 takes about this per stream of a closed round (connections, requests
 *  at once): its slot grows with it, so a c:10000 warm-up still fits. */
constexpr double warmup_s_per_stream = 0.001;

CaseWindow case_window(double start, double planned_round_s, int rounds, std::size_t closed_streams,
                       const SlotRules& rules) {
  CaseWindow w;
  w.start = start;
  w.warmup_s = rules.warmup
                   ? 2 * rules.pad_s + warmup_s_per_stream * static_cast<double>(closed_streams)
                   : 0;
  w.round_s = planned_round_s * rules.margin + rules.pad_s;
  w.rounds = rounds;
  return w;
}

CaseWindow Schedule::next(double planned_round_s, int rounds, std::size_t closed_streams) {
  const CaseWindow w = case_window(next_, planned_round_s, rounds, closed_streams, rules_);
  next_ = w.end();
  return w;
}

std::string Schedule::describe(double late_ms) const {
  return fmt::format(
      "every case (each repetition too) in a window of the server's clock, back to back from "
      "start_at: {}a slot per round of its planned round time × {:g} + {:g} s; a slot begun more "
      "than {:g} ms late sets schedule_missed",
      rules_.warmup ? fmt::format("a warm-up slot of {:g} s + 1 ms per stream of a closed round, "
                                  "then ",
                                  2 * rules_.pad_s)
                    : "",
      rules_.margin, rules_.pad_s, late_ms);
}

double server_now(const ClockOffset& clock) {
  return unix_now() + clock.offset_s;
}

double wait_until(double server_t, const ClockOffset& clock, const std::atomic<bool>& stop) {
  using std::chrono::steady_clock;
  const double left = server_t - server_now(clock);
  if (left > 0) {
    const auto until = steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(
                                                 std::chrono::duration<double>(left));
    // In short naps: a stop signal ends the wait within one.
    constexpr auto nap = std::chrono::milliseconds(50);
    for (auto now = steady_clock::now(); now < until && !stop.load(); now = steady_clock::now())
      std::this_thread::sleep_for(std::min<steady_clock::duration>(until - now, nap));
  }
  return server_now(clock) - server_t;
}

}  // namespace ssebench::bench
