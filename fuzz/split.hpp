#pragma once
// Shared by the differential fuzzers: the input's first bytes choose where the rest is split.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ssebench::fuzz {

/**
 * Input layout: byte 0 = n (taken mod 9), then n piece sizes of one byte each (0..255; 0 makes
 * an empty feed), then the payload. The payload is cut into pieces of those sizes, cycling
 * through them; with n = 0 into single bytes, with all sizes 0 into single bytes with an empty
 * feed before each.
 */
struct Split {
  std::string_view payload;
  std::vector<std::string_view> pieces;
};

inline Split split_input(const std::uint8_t* data, std::size_t size) {
  Split out;
  if (size == 0) return out;
  std::size_t n = data[0] % 9;
  if (1 + n > size) n = size - 1;
  std::vector<std::size_t> sizes(data + 1, data + 1 + n);
  bool all_zero = true;
  for (const auto s : sizes) all_zero = all_zero && s == 0;
  if (sizes.empty())
    sizes = {1};  // single bytes
  else if (all_zero)
    sizes = {0, 1};  // single bytes with empty feeds between them
  out.payload = std::string_view(reinterpret_cast<const char*>(data + 1 + n), size - 1 - n);
  std::string_view rest = out.payload;
  for (std::size_t k = 0; !rest.empty(); ++k) {
    const std::size_t len = sizes[k % sizes.size()];
    out.pieces.push_back(rest.substr(0, len < rest.size() ? len : rest.size()));
    rest.remove_prefix(out.pieces.back().size());
  }
  return out;
}

}  // namespace ssebench::fuzz
