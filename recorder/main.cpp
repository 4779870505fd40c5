// ssebench-record: records an OpenAI-style request as a recording (recorder/README.md).
#include <cstdio>

#include "ssebench/recorder/config.hpp"
#include "ssebench/recorder/recorder.hpp"

int main(int argc, char** argv) {
  const auto parsed = ssebench::recorder::parse_args(argc, argv);
  if (!parsed.config) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    if (parsed.exit_code != 0) std::fputc('\n', stderr);
    return parsed.exit_code;
  }
  return ssebench::recorder::record(*parsed.config);
}
