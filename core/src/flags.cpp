#include "ssebench/flags.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ssebench::flags {

Error bad_value(std::string_view flag, std::string_view text, std::string_view why) {
  return Error(why.empty() ? fmt::format("bad value '{}' for --{}", text, flag)
                           : fmt::format("bad value '{}' for --{}: {}", text, flag, why));
}

template <class T>
T integer(std::string_view flag, std::string_view text, T min, T max) {
  T v{};
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (!digits || ec != std::errc{} || p != text.data() + text.size() || v < min || v > max) {
    // A type's own top (2^32 - 1 and up) is no limit a user means; a port's 65535 is.
    if (max == std::numeric_limits<T>::max() && sizeof(T) >= 4)
      throw bad_value(flag, text, fmt::format("a whole number, at least {}", min));
    throw bad_value(flag, text, fmt::format("a whole number from {} to {}", min, max));
  }
  return v;
}

template std::uint16_t integer<std::uint16_t>(std::string_view, std::string_view, std::uint16_t,
                                              std::uint16_t);
template int integer<int>(std::string_view, std::string_view, int, int);
template unsigned integer<unsigned>(std::string_view, std::string_view, unsigned, unsigned);
template long integer<long>(std::string_view, std::string_view, long, long);
template unsigned long integer<unsigned long>(std::string_view, std::string_view, unsigned long,
                                              unsigned long);
template unsigned long long integer<unsigned long long>(std::string_view, std::string_view,
                                                        unsigned long long, unsigned long long);

double real(std::string_view flag, std::string_view text, double min, double max) {
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // from_chars takes "inf" and "nan"; a flag wants a number.
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v) ||
      v < min || v > max) {
    if (max == std::numeric_limits<double>::max())
      throw bad_value(flag, text, fmt::format("a number, at least {}", min));
    throw bad_value(flag, text, fmt::format("a number from {} to {}", min, max));
  }
  return v;
}

std::uint64_t duration_ms(std::string_view flag, std::string_view text, std::uint64_t min) {
  return integer<unsigned long long>(flag, text, min, max_duration_ms);
}

std::vector<std::string> list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Parser& Parser::value(std::string name, std::function<void(std::string_view)> set) {
  flags_.push_back(Flag{std::move(name), true, std::move(set)});
  return *this;
}

Parser& Parser::toggle(std::string name, std::function<void()> set) {
  flags_.push_back(
      Flag{std::move(name), false, [set = std::move(set)](std::string_view) { set(); }});
  return *this;
}

const Parser::Flag* Parser::find(std::string_view name) const {
  for (const Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Parser::closest(std::string_view name) const {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 4) + 1;  // a typo, not a guess
  for (const Flag& f : flags_) {
    const std::size_t d = edit_distance(name, f.name);
    if (d < best_d) best_d = d, best = f.name;
  }
  return best;
}

std::set<std::string> Parser::parse(int argc, const char* const* argv) const {
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--") || arg.size() == 2)
      throw Error(fmt::format("unexpected argument '{}'", arg));
    arg.remove_prefix(2);
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const Flag* f = find(name);
    if (f == nullptr) {
      const std::string near = closest(name);
      throw Error(near.empty() ? fmt::format("unknown flag --{}", name)
                               : fmt::format("unknown flag --{} (did you mean --{}?)", name, near));
    }
    if (!f->takes_value) {
      if (eq != std::string_view::npos)
        throw Error(fmt::format("--{} takes no value (got '{}')", name, arg.substr(eq + 1)));
      f->set({});
    } else if (eq != std::string_view::npos) {
      f->set(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      f->set(argv[++i]);
    } else {
      throw Error(fmt::format("--{} needs a value", name));
    }
    given.insert(f->name);
  }
  return given;
}

int fail(std::string_view program, const Error& e) {
  const auto slash = program.rfind('/');
  if (slash != std::string_view::npos) program.remove_prefix(slash + 1);
  std::fprintf(stderr, "%.*s: %s (see --help)\n", static_cast<int>(program.size()), program.data(),
               e.what());
  return 2;
}

}  // namespace ssebench::flags
