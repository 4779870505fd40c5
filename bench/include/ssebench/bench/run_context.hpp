#pragma once
/**
 * What a run's results say about where they were taken: the host (kernel, CPU, the interface
 * and MTU the server is reached over), the build, and the run's settings, as Google Benchmark
 * context lines of benchmark.json.
 */
#include <string>

#include "ssebench/bench/harness_config.hpp"

namespace ssebench::bench {

/** The interface the kernel routes the server's address over, and its MTU. */
struct Link {
  std::string interface;  // e.g. "lo", "ssebench-c0"; empty when it could not be told
  std::string local_address;
  std::string server_address;
  int mtu_bytes = 0;  // 0 = unknown
};

/**
 * Asks the kernel rather than assuming loopback: a UDP socket connected to the server's address
 * (connect sends nothing) gets the local address of the route's source, and the interface holding
 * that address is the one the TCP connections use. SIOCGIFMTU reads the MTU in the namespace the
 * harness runs in (a /sys path could be the host's when run under `ip netns exec` without a
 * remount).
 */
Link link_to(const std::string& url);

/** /proc/cpuinfo's first "model name", or "unknown". */
std::string cpu_model();

/** What `cmd` (run by the shell) prints on stdout, trailing newlines removed; empty on failure. */
std::string command_output(const std::string& cmd);

/** Many concurrent streams need many descriptors: the soft limit raised to the hard one. */
void raise_nofile_limit();

/** The run's context lines (benchmark::AddCustomContext): commit, build, host, link to `url`,
 *  how figures are taken, the settings of `config`, the histograms file if any. */
void add_context(const HarnessConfig& config, const std::string& url,
                 const std::string& server_desc, const std::string& histograms_path);

}  // namespace ssebench::bench
