// ssebench-validate FILE_OR_DIR...: loads each recording as the server would and says what is
// wrong with the bad ones, one line each on stderr; exits 1 if any file is bad.
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "ssebench/recording.hpp"

namespace {

void print_ok(const ssebench::Recording& rec) {
  // A stream:false-only recording lasts until its body goes out.
  auto duration = rec.last_offset();
  if (rec.nonstream) duration = std::max(duration, rec.nonstream->offset);
  fmt::print("ok {} ({} events, {} content, {} tokens, {:.3f} s)\n", rec.file.string(),
             rec.events.size(), rec.content_events, rec.completion_tokens,
             static_cast<double>(duration.count()) / 1e6);
}

void print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: ssebench-validate FILE_OR_DIR...\n"
             "Checks recordings (recordings/README.md); a folder means every *.jsonl in it.\n"
             "Prints one line per file; exits 1 if any file is bad.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  bool all_good = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      return 0;
    }
    const std::filesystem::path path(arg);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      const auto folder = ssebench::load_folder(path);
      for (const auto& rec : folder.recordings) print_ok(*rec);
      for (const auto& error : folder.errors) fmt::print(stderr, "{}\n", error);
      if (!folder.errors.empty()) all_good = false;
      if (folder.recordings.empty() && folder.errors.empty()) {
        fmt::print(stderr, "{}: no *.jsonl files\n", path.string());
        all_good = false;
      }
    } else {
      const auto result = ssebench::load_recording(path);
      if (result) {
        print_ok(*result.recording);
      } else {
        fmt::print(stderr, "{}\n", result.error);
        all_good = false;
      }
    }
  }
  return all_good ? 0 : 1;
}
