#include "ssebench/link/trace.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "ssebench/parse.hpp"

namespace ssebench::link {

Trace parse_trace(std::string_view text, std::string name) {
  Trace t;
  t.name = std::move(name);
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Only whitespace around the number is forgiven; a blank line is skipped (a trailing one is
    // common), anything else must be the number alone.
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) continue;
    const auto ms = parse_u64(line);
    if (!ms)
      throw TraceError(fmt::format("{}:{}: '{}' is not a whole number of milliseconds", t.name,
                                   line_no, line.substr(0, 40)));
    if (!t.ms.empty() && *ms < t.ms.back())
      throw TraceError(fmt::format("{}:{}: timestamp goes backwards ({} after {})", t.name, line_no,
                                   *ms, t.ms.back()));
    if (t.ms.size() == max_trace_lines)
      throw TraceError(fmt::format("{}:{}: more than {} lines", t.name, line_no, max_trace_lines));
    t.ms.push_back(*ms);
  }
  if (t.ms.empty()) throw TraceError(fmt::format("{}: empty trace (no timestamps)", t.name));
  if (t.ms.back() == 0)
    throw TraceError(fmt::format("{}:{}: the last timestamp is 0 ms, so the trace never advances",
                                 t.name, line_no));
  return t;
}

Trace load_trace(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError(fmt::format("{}: cannot read the trace file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw TraceError(fmt::format("{}: cannot read the trace file", path.string()));
  return parse_trace(text.str(), path.string());
}

}  // namespace ssebench::link
