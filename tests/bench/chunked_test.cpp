#include "ssebench/bench/chunked.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ssebench::bench {
namespace {

TEST(ChunkedDecoder, DecodesWholeMessage) {
  ChunkedDecoder d;
  std::string out;
  EXPECT_TRUE(d.feed("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", out));
  EXPECT_EQ(out, "hello world");
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.chunks(), 2u);
}

TEST(ChunkedDecoder, SplitAtEveryByte) {
  const std::string wire =
      "18\r\ndata: {\"x\":1234567890}\n\n\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    ChunkedDecoder d;
    std::string out;
    ASSERT_TRUE(d.feed(wire.substr(0, cut), out)) << cut;
    EXPECT_EQ(d.done(), cut == wire.size());
    ASSERT_TRUE(d.feed(wire.substr(cut), out)) << cut << ": " << d.error();
    EXPECT_EQ(out, "data: {\"x\":1234567890}\n\n0123456789") << cut;
    EXPECT_TRUE(d.done());
  }
}

TEST(ChunkedDecoder, ScanFindsTheEndAndTheErrorsFeedFinds) {
  // scan keeps no body: the soak's own client only asks where a message ends.
  const std::string wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  ChunkedDecoder d;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    ASSERT_TRUE(d.scan(wire.substr(i, 1)));
    EXPECT_FALSE(d.done()) << "done after byte " << i;
  }
  ASSERT_TRUE(d.scan(wire.substr(wire.size() - 1)));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.chunks(), 2u);
  ChunkedDecoder bad;
  EXPECT_FALSE(bad.scan("zz\r\n"));
  EXPECT_TRUE(bad.failed());
  EXPECT_EQ(bad.error(), "chunk size expected");
}

TEST(ChunkedDecoder, UppercaseHexAndTrailers) {
  ChunkedDecoder d;
  std::string out;
  EXPECT_TRUE(d.feed("B\r\nhello world\r\n0\r\nx-trailer: 1\r\n\r\n", out));
  EXPECT_EQ(out, "hello world");
  EXPECT_TRUE(d.done());
}

TEST(ChunkedDecoder, NotDoneBeforeTheLastChunk) {
  ChunkedDecoder d;
  std::string out;
  EXPECT_TRUE(d.feed("3\r\nabc\r\n", out));
  EXPECT_FALSE(d.done());
  EXPECT_TRUE(d.feed("0\r\n", out));
  EXPECT_FALSE(d.done());  // the blank line after the last chunk is still missing
  EXPECT_TRUE(d.feed("\r\n", out));
  EXPECT_TRUE(d.done());
}

TEST(ChunkedDecoder, RejectsBadFraming) {
  for (const char* bad : {"x\r\n", "\r\n", "3\r\nabcX", "3\nabc", "11111111111111111\r\n"}) {
    ChunkedDecoder d;
    std::string out;
    EXPECT_FALSE(d.feed(bad, out)) << bad;
    EXPECT_TRUE(d.failed());
    EXPECT_FALSE(d.error().empty());
  }
}

}  // namespace
}  // namespace ssebench::bench
