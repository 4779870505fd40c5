#pragma once
/**
 * A delivery-opportunity trace in mahimahi's format (mm-link): one integer millisecond timestamp
 * per line, non-decreasing; each line is one opportunity for 1,500 bytes to leave the bottleneck
 * queue at that millisecond (a repeated timestamp: several in that millisecond); the trace wraps
 * around at its last timestamp.
 */
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ssebench::link {

/** Bytes one opportunity carries: an IP packet of the usual 1,500-byte MTU (see README). */
inline constexpr std::uint32_t opportunity_bytes = 1500;
/** Longest trace accepted, in lines (mahimahi's longest bundled trace has ~720,000). */
inline constexpr std::size_t max_trace_lines = 50'000'000;

/** A bad trace; what() is "FILE:LINE: what is wrong" (or "FILE: what is wrong"). */
struct TraceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Trace {
  std::string name;               // the path it came from, for messages and figures
  std::vector<std::uint64_t> ms;  // opportunity timestamps, non-decreasing, last > 0

  /** The period after which the trace repeats, in ms: its last timestamp. */
  std::uint64_t period_ms() const { return ms.back(); }
  /** Mean opportunities per second over one period. */
  double opportunities_per_s() const { return ms.size() * 1000.0 / period_ms(); }
  /** Mean rate in Mbit/s: opportunities × 1,500 B × 8 over one period (PROVENANCE.md's rule). */
  double mbit_per_s() const { return opportunities_per_s() * opportunity_bytes * 8 / 1e6; }
};

/** Parses a trace's text; `name` is used in messages. Throws TraceError naming the line. */
Trace parse_trace(std::string_view text, std::string name);
/** Reads and parses a trace file. Throws TraceError (unreadable file included). */
Trace load_trace(const std::filesystem::path& path);

}  // namespace ssebench::link
