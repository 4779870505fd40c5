#include "ssebench/link/trace.hpp"

#include <gtest/gtest.h>

#include "../temp_dir.hpp"

namespace ssebench::link {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_trace(text, "t.down");
  } catch (const TraceError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Trace, ParsesTimestampsRepeatsBlankLinesAndCrlf) {
  const Trace t = parse_trace("1\n1\r\n  3 \n\n7\n", "x");
  EXPECT_EQ(t.ms, (std::vector<std::uint64_t>{1, 1, 3, 7}));
  EXPECT_EQ(t.period_ms(), 7u);
  EXPECT_EQ(t.name, "x");
}

TEST(Trace, RateOfOnePerMillisecondIsTwelveMbit) {
  const Trace t = parse_trace("1\n", "one");
  EXPECT_DOUBLE_EQ(t.opportunities_per_s(), 1000);
  EXPECT_DOUBLE_EQ(t.mbit_per_s(), 12);
}

TEST(Trace, RejectsNonNumericWithFileAndLine) {
  EXPECT_EQ(error_of("1\n2\nabc\n"), "t.down:3: 'abc' is not a whole number of milliseconds");
  EXPECT_EQ(error_of("1\n-2\n"), "t.down:2: '-2' is not a whole number of milliseconds");
  EXPECT_EQ(error_of("1.5\n"), "t.down:1: '1.5' is not a whole number of milliseconds");
}

TEST(Trace, RejectsDecreasing) {
  EXPECT_EQ(error_of("1\n5\n4\n"), "t.down:3: timestamp goes backwards (4 after 5)");
}

TEST(Trace, RejectsEmptyAndZeroLength) {
  EXPECT_EQ(error_of(""), "t.down: empty trace (no timestamps)");
  EXPECT_EQ(error_of("\n\n"), "t.down: empty trace (no timestamps)");
  EXPECT_EQ(error_of("0\n0\n"),
            "t.down:2: the last timestamp is 0 ms, so the trace never advances");
}

TEST(Trace, LoadsAFileAndNamesAMissingOne) {
  test::TempDir dir;
  const auto path = dir.write("a.up", "2\n4\n");
  EXPECT_EQ(load_trace(path).ms, (std::vector<std::uint64_t>{2, 4}));
  const auto bad = dir.write("b.up", "2\nx\n");
  try {
    load_trace(bad);
    FAIL();
  } catch (const TraceError& e) {
    EXPECT_EQ(std::string(e.what()),
              bad.string() + ":2: 'x' is not a whole number of milliseconds");
  }
  EXPECT_THROW(load_trace(dir.path() / "missing"), TraceError);
}

}  // namespace
}  // namespace ssebench::link
