#pragma once
/** The Google Benchmark harness behind `ssebench-bench` (bench/main.cpp is a thin wrapper). */

namespace ssebench::bench {

/** Parses flags, starts (or finds) the server, registers and runs the cases; the exit status. */
int harness_main(int argc, char** argv);

}  // namespace ssebench::bench
