#pragma once
/** SIGINT or SIGTERM ends a run, keeping what finished: the first one sets a flag every stream
 *  and case checks; a second one kills. */
#include <atomic>

namespace ssebench::bench {

/** Set by the first SIGINT or SIGTERM after install_stop_handlers(); ClientConfig::stop. */
extern std::atomic<bool> stop_requested;

/** The first SIGINT or SIGTERM stops the run cleanly; a second one kills (SA_RESETHAND). */
void install_stop_handlers();

/** "SIGINT" or "SIGTERM": the signal that stopped the run. */
const char* stop_signal_name();

/** 128 + the signal: the exit status of a run it stopped. */
int stop_exit_status();

}  // namespace ssebench::bench
