#include "ssebench/bench/stop_signal.hpp"

#include <csignal>

namespace ssebench::bench {

std::atomic<bool> stop_requested{false};

namespace {

volatile std::sig_atomic_t stop_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested.store(true, std::memory_order_relaxed);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: a wait in curl_multi_poll returns early
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const char* stop_signal_name() {
  return stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

int stop_exit_status() {
  return 128 + (stop_signal == SIGTERM ? SIGTERM : SIGINT);
}

}  // namespace ssebench::bench
