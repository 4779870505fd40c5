// The command: every run of the request, each checked, then the files written all at once.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "ssebench/recorder/recorder.hpp"

namespace ssebench::recorder {

namespace {

/** Writes `text` to `tmp` and renames it to `final`: a reader never sees half a file. */
std::optional<std::string> write_atomically(const std::filesystem::path& final,
                                            const std::string& text) {
  const std::filesystem::path tmp =
      final.string() + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return fmt::format("{}: cannot write", tmp.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, final, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return fmt::format("{}: cannot rename to {} ({})", tmp.string(), final.string(), ec.message());
  }
  return std::nullopt;
}

}  // namespace

int record(const Config& config) {
  const char* key = std::getenv(config.api_key_env.c_str());
  const std::string_view api_key = key ? key : "";
  // The key is never printed either, should an error message quote the answer that echoed it.
  const auto fail = [api_key](std::string what) {
    if (api_key.size() >= 8) {
      for (auto at = what.find(api_key); at != std::string::npos; at = what.find(api_key, at))
        what.replace(at, api_key.size(), "[redacted]");
    }
    fmt::print(stderr, "ssebench-record: {}\n", what);
    return 1;
  };
  const auto request = build_request(config);
  if (const auto* error = std::get_if<std::string>(&request)) return fail(*error);
  const RequestSpec& spec = std::get<RequestSpec>(request);

  // NAME.jsonl, or the set NAME.1.jsonl … NAME.N.jsonl, in the folder given.
  const std::filesystem::path folder = config.out.parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    return fail(fmt::format("{}: no such folder", folder.string()));
  const std::string stem = config.out.stem().string();
  std::vector<std::filesystem::path> files;
  if (config.repeat == 1) {
    files.push_back(config.out);
  } else {
    for (unsigned k = 1; k <= config.repeat; ++k)
      files.push_back(folder / fmt::format("{}.{}.jsonl", stem, k));
  }

  Client client(config);
  std::vector<Built> built;  // kept in memory: an interrupted run leaves no file at all
  for (unsigned k = 1; k <= config.repeat; ++k) {
    const std::string run =
        config.repeat == 1 ? std::string{} : fmt::format("run {} of {}: ", k, config.repeat);
    if (k > 1 && config.pause_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(config.pause_ms));
    auto captured = client.run(spec);
    if (const auto* f = std::get_if<Failure>(&captured))
      return fail(run + f->message + "; nothing written");
    std::optional<RecordingSet> set;
    if (config.repeat > 1) set = RecordingSet{stem, k, config.repeat};
    auto result =
        build_recording(std::get<Capture>(captured), spec, config, set, files[k - 1], api_key);
    if (const auto* f = std::get_if<Failure>(&result)) {
      return fail(run + f->message +
                  (f->keepable ? " (--keep-errors keeps it as an error recording)" : "") +
                  "; nothing written");
    }
    built.push_back(std::move(std::get<Built>(result)));
    if (config.repeat > 1) {  // progress on stdout: stderr holds only the one error line
      fmt::print("{}{}\n", run, built.back().summary);
      std::fflush(stdout);
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (const auto error = write_atomically(files[i], built[i].text)) {
      return fail(i == 0
                      ? *error
                      : fmt::format("{} ({} of {} files were written)", *error, i, files.size()));
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    fmt::print("wrote {} ({}{})\n", files[i].string(),
               built[i].error_recording ? "error recording: " : "", built[i].summary);
  }
  return 0;
}

}  // namespace ssebench::recorder
