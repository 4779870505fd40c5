#pragma once
// The text rules on already-parsed JSON, shared by the loader and the public delta_text().
#include <boost/json/value.hpp>
#include <vector>

#include "ssebench/recording.hpp"

namespace ssebench::detail {

/**
 * Every non-empty delta text one payload carries, one entry per choice that has some, in
 * payload order. OpenAI sends one choice per chunk; the loader rejects more than one entry.
 */
std::vector<DeltaText> delta_texts(Api api, const boost::json::value& payload);

}  // namespace ssebench::detail
