#pragma once
/**
 * Command-line flags, one way for every executable (server, recorder, harness, soak, floor):
 * `--name=VALUE` and `--name VALUE` alike, every value parsed whole (parse.hpp's rules), and any
 * mistake one line — `PROGRAM: bad value 'x' for --port: an integer from 0 to 65535` — and exit 2.
 *
 *   flags::Parser p;
 *   p.value("port", [&](std::string_view v) { c.port = flags::integer<std::uint16_t>("port", v);
 * }); p.toggle("no-warmup", [&] { c.warmup = false; }); try { p.parse(argc, argv); } catch (const
 * flags::Error& e) { return flags::fail(argv[0], e); }
 */
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/parse.hpp"

namespace ssebench::flags {

/** A bad command line; what() is the line to print after the program's name. */
struct Error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/** Longest duration a flag may give (a year): clients' and servers' time points stay in range. */
inline constexpr std::uint64_t max_duration_ms = 365ULL * 24 * 3600 * 1000;

/** "bad value 'TEXT' for --FLAG: WHY" (WHY left out when empty). */
Error bad_value(std::string_view flag, std::string_view text, std::string_view why = {});

/** A decimal integer in [min, max], the whole of `text`; else Error naming the range. */
template <class T>
T integer(std::string_view flag, std::string_view text, T min = 0,
          T max = std::numeric_limits<T>::max());

/** A finite decimal number in [min, max], the whole of `text`; else Error naming the range. */
double real(std::string_view flag, std::string_view text, double min = 0,
            double max = std::numeric_limits<double>::max());

/** Milliseconds in [min, max_duration_ms]. */
std::uint64_t duration_ms(std::string_view flag, std::string_view text, std::uint64_t min = 0);

/** A comma-separated list, empty items dropped ("a,,b" = a, b). */
std::vector<std::string> list(std::string_view text);

/** Levenshtein distance between two names: "did you mean" for flags and for the values they name.
 */
std::size_t edit_distance(std::string_view a, std::string_view b);

/** A list of values, each parsed by `one`; at least one, else Error. Repeats are dropped. */
template <class T, class F>
std::vector<T> list_of(std::string_view flag, std::string_view text, F one) {
  std::vector<T> out;
  for (const std::string& item : list(text)) {
    T v = one(item);
    bool seen = false;
    for (const T& o : out) seen = seen || o == v;
    if (!seen) out.push_back(std::move(v));
  }
  if (out.empty()) throw bad_value(flag, text, "needs at least one value");
  return out;
}

/** The flags of one program. */
class Parser {
 public:
  /** A flag with a value: `--name=VALUE` or `--name VALUE`. `set` may throw Error. */
  Parser& value(std::string name, std::function<void(std::string_view)> set);
  /** A switch without a value: `--name`. */
  Parser& toggle(std::string name, std::function<void()> set);
  /**
   * Parses argv[1..argc): every argument must be a declared flag. Throws Error: an unknown flag
   * (naming the closest declared one: "did you mean --concurrency?"), a value missing or given
   * to a switch, a stray argument. Returns the names of the flags given.
   */
  std::set<std::string> parse(int argc, const char* const* argv) const;
  std::set<std::string> parse(int argc, char** argv) const {
    return parse(argc, const_cast<const char* const*>(argv));
  }

 private:
  struct Flag {
    std::string name;
    bool takes_value = false;
    std::function<void(std::string_view)> set;
  };
  const Flag* find(std::string_view name) const;
  std::string closest(std::string_view name) const;
  std::vector<Flag> flags_;
};

/** Prints "PROGRAM: MESSAGE (see --help)" to stderr; returns 2, the exit status of a bad flag. */
int fail(std::string_view program, const Error& e);

extern template std::uint16_t integer<std::uint16_t>(std::string_view, std::string_view,
                                                     std::uint16_t, std::uint16_t);
extern template int integer<int>(std::string_view, std::string_view, int, int);
extern template unsigned integer<unsigned>(std::string_view, std::string_view, unsigned, unsigned);
extern template long integer<long>(std::string_view, std::string_view, long, long);
extern template unsigned long integer<unsigned long>(std::string_view, std::string_view,
                                                     unsigned long, unsigned long);
extern template unsigned long long integer<unsigned long long>(std::string_view, std::string_view,
                                                               unsigned long long,
                                                               unsigned long long);

}  // namespace ssebench::flags
