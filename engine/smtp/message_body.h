// MessageBody: a message's content in SMTP transfer form (lines end in CRLF,
// lines that start with "." are dot-stuffed, no end-of-data line), stored as
// fixed-size chunks so that appending never moves bytes already stored.
//
// The inbound session receives DATA straight into TailSpace(), so the bytes
// that reach the spool are the bytes that came off the socket. Owned by one
// session or one queued message at a time; not thread-safe.
#ifndef FERRY_ENGINE_SMTP_MESSAGE_BODY_H_
#define FERRY_ENGINE_SMTP_MESSAGE_BODY_H_

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::smtp {

class MessageBody {
 public:
  static constexpr size_t kChunkSize = 64 * 1024;

  MessageBody() = default;
  MessageBody(MessageBody&&) = default;
  MessageBody& operator=(MessageBody&&) = default;

  // Returns writable space right after the last stored byte, at least
  // `min_size` bytes (min_size <= kChunkSize), adding a chunk when needed.
  // The span stays valid until the next call that changes the body.
  std::pair<char*, size_t> TailSpace(size_t min_size = 1);

  // Marks the first `n` bytes of the last TailSpace() as content.
  // REQUIRES: n <= the size TailSpace() returned.
  void Commit(size_t n);

  // Appends a copy of `bytes`.
  void Append(std::string_view bytes);

  // Drops every byte at offset `size` and later. REQUIRES: size <= size().
  void Truncate(size_t size);

  // Returns the byte at `offset`. REQUIRES: offset < size().
  char At(size_t offset) const;

  // Copies bytes [offset, offset + n) to `out` (appended).
  // REQUIRES: offset + n <= size().
  void CopyOut(size_t offset, size_t n, std::string* out) const;

  // Returns one iovec per non-empty chunk, in order, for writev/sendmsg.
  // Valid until the next call that changes the body.
  std::vector<iovec> Iovecs() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear();

  // Returns a body that owns `data`, whose first `size` bytes are the
  // content, without copying it (a message read back from the spool).
  static MessageBody Adopt(std::unique_ptr<char[]> data, size_t size);

  // Moves a body smaller than one chunk into a buffer of its exact size
  // and frees the spare chunk. A waiting 1 KiB message otherwise keeps a
  // 64 KiB chunk and its touched pages. Larger bodies only drop the spare
  // chunk. Costs one copy of a small body.
  // REQUIRES: no TailSpace() span or Iovecs() result is in use.
  void Compact();

  // Returns the whole content as one string (tests and small messages).
  std::string ToString() const;

  // Returns the stored bytes from `offset` to the end of the chunk that
  // contains it: the longest contiguous run that starts there. Empty when
  // offset == size(). REQUIRES: offset <= size(). Valid until the next
  // call that changes the body.
  std::string_view ContiguousAt(size_t offset) const;

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = kChunkSize;
    size_t used = 0;
    size_t start = 0;  // body offset of data[0]
  };

  // Returns the index of the chunk that contains `offset`.
  // REQUIRES: offset < size().
  size_t ChunkIndex(size_t offset) const;
  void AddChunk();

  std::vector<Chunk> chunks_;
  // One chunk kept after Truncate() or Clear(), so that a body that is cut
  // and refilled on every read does not allocate on every read.
  std::unique_ptr<char[]> spare_;
  size_t size_ = 0;
};

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_MESSAGE_BODY_H_
