#include "ssebench/utf8.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace ssebench {
namespace {

TEST(Utf8, FirstInvalidByteByRfc3629) {
  EXPECT_EQ(first_invalid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("ab\xa0"), 2u);            // a lone continuation byte
  EXPECT_EQ(first_invalid_utf8("a\xc0\xaf"), 1u);         // overlong
  EXPECT_EQ(first_invalid_utf8("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("x\xe2\x82"), 1u);         // cut short
}

TEST(Utf8, EachInvalidByteBecomesOneReplacement) {
  EXPECT_EQ(valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(valid_utf8("\xa0-1"), "\xef\xbf\xbd-1");
  EXPECT_EQ(valid_utf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(valid_utf8("a\xffz\xc3\xa9"), "a\xef\xbf\xbdz\xc3\xa9");  // valid text after it kept
}

TEST(Utf8, JsonStringsStayValidUtf8WhateverTheBytes) {
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("a \"q\"\n"), R"("a \"q\"\n")");
  EXPECT_EQ(json_string("\xa0-1"), "\"\xef\xbf\xbd-1\"");
  boost::json::error_code ec;
  (void)boost::json::parse(json_string("bad '\xff\xfe'"), ec);
  EXPECT_FALSE(ec);
}

}  // namespace
}  // namespace ssebench
