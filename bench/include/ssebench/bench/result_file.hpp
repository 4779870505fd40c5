#pragma once
/** Result files that are never seen half-written. */
#include <string>
#include <string_view>

namespace ssebench::bench {

/**
 * Writes `text` to `path` so that a reader finds either the previous file or the new one, never
 * a part: `PATH.tmp-PID` in the same folder, flushed to disk, then renamed over `path`. Returns
 * false with `error` set (the temporary removed) when any step fails.
 */
bool write_file_atomically(const std::string& path, std::string_view text, std::string& error);

}  // namespace ssebench::bench
