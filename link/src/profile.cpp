#include "ssebench/link/profile.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "ssebench/flags.hpp"

namespace ssebench::link {

namespace {

constexpr std::string_view wpt = "WebPageTest connectivity.ini.sample";

// The profiles. Numbers of the WebPageTest and Lighthouse rows as quoted in
// ../shared/NETWORKS.md; the others say why they were chosen. No standard profile has loss.
constexpr std::array<ProfileRow, 16> table{{
    {"none", 0, 0, 0, 0, "no shaping: the emulator's own cost, for calibration"},
    {"lan", 100, 100, 1, 0,
     "no standard profile (WebPageTest's Native is unshaped): 100 Mbit/s, 1 ms RTT, chosen "
     "inside the emulator's measured 10,000 packets/s (link/README.md)"},
    {"fios", 20, 5, 4, 0, wpt},
    {"cable", 5, 1, 28, 0, wpt},
    {"dsl", 1.5, 0.384, 50, 0, wpt},
    {"lte", 12, 12, 70, 0, wpt},
    {"4g", 9, 9, 170, 0, wpt},
    {"desktop-dense-4g", 10, 10, 40, 0, "Lighthouse desktopDense4G (core/config/constants.js)"},
    {"3g-fast", 1.6, 0.768, 150, 0, "WebPageTest 3GFast = Lighthouse mobileSlow4G"},
    {"3g", 1.6, 0.768, 300, 0, wpt},
    {"3g-slow", 0.4, 0.4, 400, 0, wpt},
    {"2g", 0.28, 0.256, 800, 0, wpt},
    {"edge", 0.24, 0.2, 840, 0, wpt},
    {"lossy-1", 10, 10, 40, 0.01,
     "desktop-dense-4g + 1 % random loss each way: Chromium's SPDY whitepaper (dev.chromium.org"
     "/spdy/spdy-data) puts worldwide packet loss at ~1 to 1.5 %; no standard profile has loss"},
    {"lossy-3", 10, 10, 40, 0.03,
     "desktop-dense-4g + 3 % random loss each way: a degraded link, twice the whitepaper's "
     "high end (issue 16's figure); no standard profile has loss"},
    {"geo-satellite", 20, 3, 600, 0,
     "GEO satellite: ~600 ms RTT (propagation to 35,786 km and back ≈ 500 ms + processing); "
     "rates = Ookla Speedtest medians Q2 2021 (HughesNet 19.73 / 2.43, Viasat 18.13 / 3.38)"},
}};

Direction direction(double mbit, double rtt_ms, double loss) {
  Direction d;
  d.rate_bps = mbit * 1e6;
  d.delay_us = std::llround(rtt_ms * 1000 / 2);
  d.loss = loss;
  return d;
}

Link trace_link(std::string_view spec) {
  const std::vector<std::string> parts = flags::list(spec);
  if (parts.size() < 2 || parts.size() > 3)
    throw ProfileError(fmt::format("bad profile 'trace:{}': want trace:DOWN,UP[,rtt=MS]", spec));
  double rtt_ms = 0;
  if (parts.size() == 3) {
    if (!parts[2].starts_with("rtt="))
      throw ProfileError(fmt::format("bad profile 'trace:{}': the third part is rtt=MS, not '{}'",
                                     spec, parts[2]));
    try {
      rtt_ms = flags::real("profile", std::string_view(parts[2]).substr(4), 0, 60'000);
    } catch (const flags::Error& e) {
      throw ProfileError(fmt::format("bad profile 'trace:{}': rtt: {}", spec, e.what()));
    }
  }
  Link l;
  l.name = fmt::format("trace:{}", spec);
  l.rtt_ms = rtt_ms;
  l.down = direction(0, rtt_ms, 0);
  l.up = direction(0, rtt_ms, 0);
  l.down.trace = std::make_shared<const Trace>(load_trace(parts[0]));
  l.up.trace = std::make_shared<const Trace>(load_trace(parts[1]));
  return l;
}

}  // namespace

std::span<const ProfileRow> profile_table() {
  return table;
}

Link make_link(std::string_view spec) {
  if (spec.starts_with("trace:")) return trace_link(spec.substr(6));
  for (const ProfileRow& row : table) {
    if (row.name != spec) continue;
    Link l;
    l.name = std::string(spec);
    l.rtt_ms = row.rtt_ms;
    l.down = direction(row.down_mbit, row.rtt_ms, row.loss);
    l.up = direction(row.up_mbit, row.rtt_ms, row.loss);
    return l;
  }
  std::string names;
  for (const ProfileRow& row : table)
    names += fmt::format("{}{}", names.empty() ? "" : ", ", row.name);
  throw ProfileError(
      fmt::format("unknown profile '{}': one of {}, trace:DOWN,UP[,rtt=MS]", spec, names));
}

std::string format_profile_table() {
  std::string out = fmt::format("{:<17} {:>9} {:>9} {:>7} {:>6}  {}\n", "profile", "down Mbit",
                                "up Mbit", "RTT ms", "loss %", "source");
  const auto rate = [](double mbit) {
    return mbit == 0 ? std::string("-") : fmt::format("{:g}", mbit);
  };
  for (const ProfileRow& r : table)
    out += fmt::format("{:<17} {:>9} {:>9} {:>7g} {:>6g}  {}\n", r.name, rate(r.down_mbit),
                       rate(r.up_mbit), r.rtt_ms, r.loss * 100, r.source);
  out += fmt::format("{:<17} {:>9} {:>9} {:>7} {:>6}  {}\n", "trace:DOWN,UP", "trace", "trace",
                     "rtt=MS", "0", "mahimahi-format traces at the paths given; RTT 0 unless rtt=");
  return out;
}

}  // namespace ssebench::link
