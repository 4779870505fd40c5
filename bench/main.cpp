// ssebench-bench: the Google Benchmark harness; everything lives in ssebench::bench.
#include "ssebench/bench/harness.hpp"

int main(int argc, char** argv) {
  return ssebench::bench::harness_main(argc, argv);
}
