// ssebench-link: the packet-level link emulator (link/README.md); the logic is in ssebench::link.
#include "ssebench/link/emulator.hpp"

int main(int argc, char** argv) {
  return ssebench::link::run_cli(argc, argv);
}
