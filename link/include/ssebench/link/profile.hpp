#pragma once
/**
 * Link profiles named after their references (WebPageTest's connectivity profiles, Lighthouse's
 * throttling constants), one table in profile.cpp with a source column; `trace:DOWN,UP[,rtt=MS]`
 * for a mahimahi-format trace pair. A profile's RTT is split evenly, one half each way.
 */
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ssebench/link/pipe.hpp"

namespace ssebench::link {

/** A row of the profile table. Rates in Mbit/s (0 = unlimited); loss per packet, each way. */
struct ProfileRow {
  std::string_view name;
  double down_mbit;
  double up_mbit;
  double rtt_ms;
  double loss;
  std::string_view source;
};

/** The table, in the order `--list-profiles` prints it. */
std::span<const ProfileRow> profile_table();

/** A bad profile name or spec; what() is the one line to print. */
struct ProfileError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/** A profile made concrete: both directions of the link. Down = server → client. */
struct Link {
  std::string name;  // the profile as given ("3g", "trace:a,b,rtt=40")
  Direction down;
  Direction up;
  double rtt_ms = 0;  // the configured round trip (delays only, no serialization)
};

/**
 * The link of a profile name from the table, or of `trace:DOWN,UP[,rtt=MS]` (traces loaded
 * now: a bad one throws TraceError naming its file and line). Unknown names throw ProfileError.
 */
Link make_link(std::string_view spec);

/** The table as printed by `--list-profiles`: one row per profile, aligned columns. */
std::string format_profile_table();

}  // namespace ssebench::link
