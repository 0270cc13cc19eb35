#include "engine/smtp/message_body.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

constexpr size_t kChunk = MessageBody::kChunkSize;

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

std::string Joined(const MessageBody& body) {
  std::string out;
  for (const iovec& v : body.Iovecs()) {
    out.append(static_cast<const char*>(v.iov_base), v.iov_len);
  }
  return out;
}

TEST(MessageBodyTest, NewBodyIsEmpty) {
  MessageBody body;
  EXPECT_TRUE(body.empty());
  EXPECT_EQ(body.size(), 0u);
  EXPECT_EQ(body.ToString(), "");
  EXPECT_TRUE(body.Iovecs().empty());
}

TEST(MessageBodyTest, AppendKeepsBytes) {
  MessageBody body;
  body.Append("hello ");
  body.Append("world");
  EXPECT_EQ(body.size(), 11u);
  EXPECT_EQ(body.ToString(), "hello world");
}

TEST(MessageBodyTest, AppendSpansChunks) {
  const std::string text = Pattern(2 * kChunk + 100);
  MessageBody body;
  body.Append(text);
  EXPECT_EQ(body.size(), text.size());
  EXPECT_EQ(body.ToString(), text);
  EXPECT_EQ(body.Iovecs().size(), 3u);
  EXPECT_EQ(Joined(body), text);
}

TEST(MessageBodyTest, TailSpaceCommitStoresBytes) {
  MessageBody body;
  auto [space, size] = body.TailSpace(10);
  ASSERT_GE(size, 10u);
  std::memcpy(space, "0123456789", 10);
  body.Commit(4);
  EXPECT_EQ(body.ToString(), "0123");
  auto [next, next_size] = body.TailSpace();
  EXPECT_EQ(next, space + 4);
  EXPECT_EQ(next_size, size - 4);
}

TEST(MessageBodyTest, TailSpaceStartsChunkWhenTooSmall) {
  MessageBody body;
  body.Append(Pattern(kChunk - 3));
  auto [space, size] = body.TailSpace(8);
  ASSERT_EQ(size, kChunk);
  std::memcpy(space, "ABCDEFGH", 8);
  body.Commit(8);
  const std::string expected = Pattern(kChunk - 3) + "ABCDEFGH";
  EXPECT_EQ(body.size(), expected.size());
  EXPECT_EQ(body.ToString(), expected);
  EXPECT_EQ(Joined(body), expected);
  EXPECT_EQ(body.At(kChunk - 4), expected[kChunk - 4]);
  EXPECT_EQ(body.At(kChunk - 3), 'A');
  EXPECT_EQ(body.At(kChunk + 4), 'H');
}

TEST(MessageBodyTest, AtReadsEveryChunk) {
  const std::string text = Pattern(kChunk * 2 + 5);
  MessageBody body;
  body.Append(text);
  for (size_t offset : {size_t{0}, kChunk - 1, kChunk, 2 * kChunk + 4}) {
    EXPECT_EQ(body.At(offset), text[offset]) << "offset " << offset;
  }
}

TEST(MessageBodyTest, CopyOutAcrossChunks) {
  const std::string text = Pattern(kChunk + 50);
  MessageBody body;
  body.Append(text);
  std::string out = "x";
  body.CopyOut(kChunk - 10, 30, &out);
  EXPECT_EQ(out, "x" + text.substr(kChunk - 10, 30));
}

TEST(MessageBodyTest, ContiguousAtEndsAtChunkEnd) {
  const std::string text = Pattern(kChunk + 50);
  MessageBody body;
  body.Append(text);
  EXPECT_EQ(body.ContiguousAt(10),
            std::string_view(text).substr(10, kChunk - 10));
  EXPECT_EQ(body.ContiguousAt(kChunk), std::string_view(text).substr(kChunk));
  EXPECT_TRUE(body.ContiguousAt(text.size()).empty());
}

TEST(MessageBodyTest, TruncateInsideChunk) {
  MessageBody body;
  body.Append("hello world");
  body.Truncate(5);
  EXPECT_EQ(body.size(), 5u);
  EXPECT_EQ(body.ToString(), "hello");
  body.Append("!");
  EXPECT_EQ(body.ToString(), "hello!");
}

TEST(MessageBodyTest, TruncateAtChunkBoundary) {
  const std::string text = Pattern(kChunk + 100);
  MessageBody body;
  body.Append(text);
  body.Truncate(kChunk);
  EXPECT_EQ(body.size(), kChunk);
  EXPECT_EQ(body.Iovecs().size(), 1u);
  body.Append("tail");
  EXPECT_EQ(body.ToString(), text.substr(0, kChunk) + "tail");
}

TEST(MessageBodyTest, TruncateToZeroThenReuse) {
  MessageBody body;
  body.Append(Pattern(3 * kChunk));
  body.Truncate(0);
  EXPECT_TRUE(body.empty());
  EXPECT_TRUE(body.Iovecs().empty());
  body.Append("again");
  EXPECT_EQ(body.ToString(), "again");
}

TEST(MessageBodyTest, ClearEmptiesBody) {
  MessageBody body;
  body.Append(Pattern(kChunk + 1));
  body.Clear();
  EXPECT_TRUE(body.empty());
  EXPECT_EQ(body.ToString(), "");
}

TEST(MessageBodyTest, MoveKeepsContent) {
  MessageBody body;
  body.Append("content");
  MessageBody moved = std::move(body);
  EXPECT_EQ(moved.ToString(), "content");
}

}  // namespace
TEST(MessageBody, CompactKeepsContentAndAppends) {
  MessageBody body;
  body.Append("Subject: x\r\n\r\nhello\r\n");
  body.Compact();
  EXPECT_EQ(body.ToString(), "Subject: x\r\n\r\nhello\r\n");
  EXPECT_EQ(body.Iovecs().size(), 1u);
  // The exact-size chunk is full, so more content starts a new chunk.
  body.Append("more\r\n");
  EXPECT_EQ(body.ToString(), "Subject: x\r\n\r\nhello\r\nmore\r\n");
  EXPECT_EQ(body.Iovecs().size(), 2u);
  body.Truncate(5);
  EXPECT_EQ(body.ToString(), "Subje");
}

TEST(MessageBody, CompactLeavesLargeBodyAlone) {
  MessageBody body;
  const std::string big(MessageBody::kChunkSize + 10, 'a');
  body.Append(big);
  body.Compact();
  EXPECT_EQ(body.size(), big.size());
  EXPECT_EQ(body.Iovecs().size(), 2u);
  EXPECT_EQ(body.ToString(), big);
}

TEST(MessageBody, AdoptTakesBufferWithoutCopy) {
  std::unique_ptr<char[]> data(new char[4]);
  std::memcpy(data.get(), "ab\r\n", 4);
  const char* raw = data.get();
  MessageBody body = MessageBody::Adopt(std::move(data), 4);
  EXPECT_EQ(body.ToString(), "ab\r\n");
  ASSERT_EQ(body.Iovecs().size(), 1u);
  EXPECT_EQ(body.Iovecs()[0].iov_base, static_cast<const void*>(raw));
  EXPECT_TRUE(MessageBody::Adopt(nullptr, 0).empty());
}

}  // namespace ferry::smtp
