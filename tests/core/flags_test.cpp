#include "ssebench/flags.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ssebench::flags {
namespace {

std::set<std::string> run(const Parser& p, std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return p.parse(static_cast<int>(args.size()), args.data());
}

std::string error_of(const Parser& p, std::vector<const char*> args) {
  try {
    run(p, std::move(args));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Flags, EqualsAndSpaceFormsAlike) {
  unsigned port = 0;
  bool warm = true;
  Parser p;
  p.value("port", [&](std::string_view v) { port = integer<unsigned>("port", v, 0, 65535); });
  p.toggle("no-warmup", [&] { warm = false; });
  EXPECT_EQ(run(p, {"--port=8080"}), std::set<std::string>{"port"});
  EXPECT_EQ(port, 8080u);
  run(p, {"--port", "81", "--no-warmup"});
  EXPECT_EQ(port, 81u);
  EXPECT_FALSE(warm);
}

TEST(Flags, MistakesAreOneLineEach) {
  Parser p;
  p.value("port", [&](std::string_view v) { integer<unsigned>("port", v, 0, 65535); });
  p.value("concurrency", [](std::string_view) {});
  p.toggle("quick", [] {});
  EXPECT_EQ(error_of(p, {"--port=70000"}),
            "bad value '70000' for --port: a whole number from 0 to 65535");
  EXPECT_EQ(error_of(p, {"--port=-1"}), "bad value '-1' for --port: a whole number from 0 to 65535");
  EXPECT_EQ(error_of(p, {"--port=1e3"}), "bad value '1e3' for --port: a whole number from 0 to 65535");
  EXPECT_EQ(error_of(p, {"--port"}), "--port needs a value");
  EXPECT_EQ(error_of(p, {"--quick=yes"}), "--quick takes no value (got 'yes')");
  EXPECT_EQ(error_of(p, {"--concurency=10"}),
            "unknown flag --concurency (did you mean --concurrency?)");
  EXPECT_EQ(error_of(p, {"--zzzzzz"}), "unknown flag --zzzzzz");
  EXPECT_EQ(error_of(p, {"stray"}), "unexpected argument 'stray'");
}

TEST(Flags, NumbersAreWholeAndFinite) {
  EXPECT_EQ(real("speed", "2.5"), 2.5);
  EXPECT_THROW(real("speed", "nan"), Error);
  EXPECT_THROW(real("speed", "inf"), Error);
  EXPECT_THROW(real("speed", "2x"), Error);
  EXPECT_THROW(real("speed", "-1"), Error);
  EXPECT_THROW(real("speed", ""), Error);
  EXPECT_EQ(duration_ms("t", "1000"), 1000u);
  try {
    integer<std::uint16_t>("port", "70000");
    ADD_FAILURE() << "70000 is no port";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad value '70000' for --port: a whole number from 0 to 65535");
  }
  EXPECT_THROW(duration_ms("t", "999999999999999"), Error);
}

TEST(Flags, ListsDropEmptiesAndRepeats) {
  EXPECT_EQ(list("a,,b,"), (std::vector<std::string>{"a", "b"}));
  const auto v = list_of<long>("intervals", "50,250,50",
                               [](std::string_view s) { return integer<long>("intervals", s, 1); });
  EXPECT_EQ(v, (std::vector<long>{50, 250}));
  EXPECT_THROW(list_of<long>("intervals", ",", [](std::string_view) { return 1L; }), Error);
}

}  // namespace
}  // namespace ssebench::flags
