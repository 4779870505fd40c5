#pragma once
// What the harness's unit tests share: the committed recordings by id.
#include <memory>
#include <stdexcept>
#include <string>

#include "ssebench/recording.hpp"

namespace ssebench::bench::test {

/** recordings/<id>.jsonl as the harness loads it; throws with the loader's message. */
inline std::shared_ptr<const Recording> load(const std::string& id) {
  const LoadResult r = load_recording(std::string(SSEBENCH_RECORDINGS_DIR) + "/" + id + ".jsonl");
  if (!r) throw std::runtime_error(r.error);
  return r.recording;
}

}  // namespace ssebench::bench::test
