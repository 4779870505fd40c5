// The command line of ssebench-link: flags into a Config, set-up errors into exit statuses.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <iostream>

#include "ssebench/flags.hpp"
#include "ssebench/link/emulator.hpp"

namespace ssebench::link {

namespace {

std::string usage() {
  const Config d;
  return fmt::format(
      R"(Usage: ssebench-link [--profile=NAME] [--name=N] [--seed=S] [overrides]
A packet-level link emulator: two network namespaces (server side, client side) joined through
TUN devices by this process. Prints one 'ready ...' line, runs until SIGINT/SIGTERM, then removes
its namespaces. Needs root. link/README.md has the details and the control channel.

  --profile=NAME      a profile of --list-profiles, or trace:DOWN,UP[,rtt=MS] (default {})
  --name=N            namespaces ssebench-N-PID-srv and -cli (default {})
  --seed=S            seed of the loss and jitter draws (default {})
  --control=PATH      control socket (default {}/N-PID.sock)
  --list-profiles     print the profile table and exit
Overrides (both directions unless named; unset: the profile's value):
  --delay-ms=MS       one-way delay            --jitter-ms=MS  ± uniform jitter
  --reorder           jitter may reorder       --loss=P        Bernoulli loss, 0..1
  --ge=P,R[,G,B]      Gilbert-Elliott loss: good->bad P, bad->good R, loss in good G (0), bad B (1)
  --rate-mbit=R       rate limit, both ways    --down-mbit=R / --up-mbit=R  one way
  --queue-packets=N   droptail limit in packets (0 = unbounded)
  --queue-bytes=N     droptail limit in bytes (0 = none)
Tuning:
  --behind-us=US      lateness p99 that flags a window as behind (default {})
  --spin-us=US        wake at least this early and spin to each release (default {})
  --no-adaptive-wake  sleep to each release instead of waking early by the timer's learned latency
  --rt-priority=N     SCHED_FIFO priority of the loop, 0 = normal scheduling (default {})
  --tun-device=PATH   the TUN clone device (default {})
)",
      d.profile, d.name, d.seed, d.control_dir, d.behind_us, d.spin_us, d.rt_priority,
      d.tun_device);
}

GilbertElliott parse_ge(std::string_view text) {
  const std::vector<std::string> parts = flags::list(text);
  if (parts.size() < 2 || parts.size() > 4)
    throw flags::bad_value("ge", text, "P,R[,LOSS_GOOD,LOSS_BAD], probabilities from 0 to 1");
  GilbertElliott ge;
  ge.p = flags::real("ge", parts[0], 0, 1);
  ge.r = flags::real("ge", parts[1], 0, 1);
  if (parts.size() > 2) ge.loss_good = flags::real("ge", parts[2], 0, 1);
  if (parts.size() > 3) ge.loss_bad = flags::real("ge", parts[3], 0, 1);
  if (ge.p == 0) throw flags::bad_value("ge", text, "P must be above 0");
  return ge;
}

void check_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 24 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos;
  if (!ok) throw flags::bad_value("name", name, "1 to 24 lowercase letters and digits");
}

}  // namespace

int run_cli(int argc, char** argv) {
  Config c;
  bool list = false, help = false;
  flags::Parser p;
  p.value("profile", [&](std::string_view v) { c.profile = v; });
  p.value("name", [&](std::string_view v) { check_name(v), c.name = v; });
  p.value("seed",
          [&](std::string_view v) { c.seed = flags::integer<unsigned long long>("seed", v); });
  p.value("control", [&](std::string_view v) { c.control = v; });
  p.toggle("list-profiles", [&] { list = true; });
  p.toggle("help", [&] { help = true; });
  p.value("delay-ms",
          [&](std::string_view v) { c.delay_ms = flags::real("delay-ms", v, 0, 60'000); });
  p.value("jitter-ms",
          [&](std::string_view v) { c.jitter_ms = flags::real("jitter-ms", v, 0, 60'000); });
  p.toggle("reorder", [&] { c.reorder = true; });
  p.value("loss", [&](std::string_view v) { c.loss = flags::real("loss", v, 0, 1); });
  p.value("ge", [&](std::string_view v) { c.ge = parse_ge(v); });
  p.value("rate-mbit",
          [&](std::string_view v) { c.rate_mbit = flags::real("rate-mbit", v, 0, 100'000); });
  p.value("down-mbit",
          [&](std::string_view v) { c.down_mbit = flags::real("down-mbit", v, 0, 100'000); });
  p.value("up-mbit",
          [&](std::string_view v) { c.up_mbit = flags::real("up-mbit", v, 0, 100'000); });
  p.value("queue-packets", [&](std::string_view v) {
    c.queue_packets = flags::integer<unsigned long long>("queue-packets", v);
  });
  p.value("queue-bytes", [&](std::string_view v) {
    c.queue_bytes = flags::integer<unsigned long long>("queue-bytes", v);
  });
  p.value("behind-us",
          [&](std::string_view v) { c.behind_us = flags::integer<long>("behind-us", v, 1); });
  p.value("spin-us",
          [&](std::string_view v) { c.spin_us = flags::integer<long>("spin-us", v, 0, 10'000); });
  p.toggle("no-adaptive-wake", [&] { c.adaptive_wake = false; });
  p.value("rt-priority", [&](std::string_view v) {
    c.rt_priority = flags::integer<int>("rt-priority", v, 0, 99);
  });
  p.value("tun-device", [&](std::string_view v) { c.tun_device = v; });
  Link link;
  try {
    p.parse(argc, argv);
    if (help) {
      std::cout << usage();
      return 0;
    }
    if (list) {
      std::cout << format_profile_table();
      return 0;
    }
    link = configured_link(c);
  } catch (const flags::Error& e) {
    return flags::fail(argv[0], e);
  } catch (const ProfileError& e) {
    return flags::fail(argv[0], flags::Error(e.what()));
  } catch (const TraceError& e) {
    // file:line first, as every bad-input line of the project.
    std::fprintf(stderr, "ssebench-link: %s\n", e.what());
    return 2;
  }
  // The environment: exit 1, nothing made yet.
  if (::geteuid() != 0) {
    std::fprintf(
        stderr,
        "ssebench-link: needs root (network namespaces and TUN devices): run it with sudo\n");
    return 1;
  }
  if (::access(c.tun_device.c_str(), R_OK | W_OK) != 0) {
    std::fprintf(
        stderr,
        "ssebench-link: %s: no TUN device (modprobe tun, or a container without /dev/net/tun)\n",
        c.tun_device.c_str());
    return 1;
  }
  // Blocked before set-up so a Ctrl-C during it waits for the loop, which then cleans up.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  try {
    Emulator e(std::move(c), std::move(link));
    std::cout << e.ready_line() << std::endl;  // the first line, flushed
    e.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ssebench-link: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace ssebench::link
