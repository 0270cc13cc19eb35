#include "engine/smtp/message_body.h"

#include <algorithm>
#include <cstring>

namespace ferry::smtp {

void MessageBody::AddChunk() {
  Chunk chunk;
  // Not std::make_unique, which would zero the chunk first.
  chunk.data = spare_ ? std::move(spare_)
                      : std::unique_ptr<char[]>(new char[kChunkSize]);
  chunk.start = size_;
  chunks_.push_back(std::move(chunk));
}

std::pair<char*, size_t> MessageBody::TailSpace(size_t min_size) {
  if (chunks_.empty() ||
      chunks_.back().capacity - chunks_.back().used < min_size) {
    AddChunk();
  }
  Chunk& last = chunks_.back();
  return {last.data.get() + last.used, last.capacity - last.used};
}

void MessageBody::Commit(size_t n) {
  chunks_.back().used += n;
  size_ += n;
}

void MessageBody::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    auto [space, space_size] = TailSpace(1);
    const size_t n = std::min(space_size, bytes.size());
    std::memcpy(space, bytes.data(), n);
    Commit(n);
    bytes.remove_prefix(n);
  }
}

MessageBody MessageBody::Adopt(std::unique_ptr<char[]> data, size_t size) {
  MessageBody body;
  if (size == 0) return body;
  Chunk chunk;
  chunk.data = std::move(data);
  chunk.capacity = size;
  chunk.used = size;
  body.chunks_.push_back(std::move(chunk));
  body.size_ = size;
  return body;
}

void MessageBody::Compact() {
  spare_.reset();
  if (size_ == 0) {
    chunks_.clear();
    return;
  }
  if (size_ >= kChunkSize || chunks_.size() != 1 ||
      chunks_[0].capacity == size_) {
    return;
  }
  std::unique_ptr<char[]> exact(new char[size_]);
  std::memcpy(exact.get(), chunks_[0].data.get(), size_);
  *this = Adopt(std::move(exact), size_);
}

void MessageBody::Truncate(size_t size) {
  while (!chunks_.empty() && chunks_.back().start >= size) {
    // Only full-size chunks are kept for reuse.
    if (chunks_.back().capacity == kChunkSize) {
      spare_ = std::move(chunks_.back().data);
    }
    chunks_.pop_back();
  }
  if (!chunks_.empty()) chunks_.back().used = size - chunks_.back().start;
  size_ = size;
}

size_t MessageBody::ChunkIndex(size_t offset) const {
  // The first chunk whose start is past `offset`, minus one. Empty chunks
  // cannot occur before the last one, so the result contains `offset`.
  auto after = std::upper_bound(
      chunks_.begin(), chunks_.end(), offset,
      [](size_t value, const Chunk& chunk) { return value < chunk.start; });
  return static_cast<size_t>(after - chunks_.begin()) - 1;
}

char MessageBody::At(size_t offset) const {
  const Chunk& chunk = chunks_[ChunkIndex(offset)];
  return chunk.data[offset - chunk.start];
}

std::string_view MessageBody::ContiguousAt(size_t offset) const {
  if (offset == size_) return {};
  const Chunk& chunk = chunks_[ChunkIndex(offset)];
  const size_t skip = offset - chunk.start;
  return {chunk.data.get() + skip, chunk.used - skip};
}

void MessageBody::CopyOut(size_t offset, size_t n, std::string* out) const {
  out->reserve(out->size() + n);
  while (n > 0) {
    std::string_view run = ContiguousAt(offset);
    if (run.empty()) break;  // n reached past the end: copy what exists
    run = run.substr(0, n);
    out->append(run);
    offset += run.size();
    n -= run.size();
  }
}

std::vector<iovec> MessageBody::Iovecs() const {
  std::vector<iovec> out;
  out.reserve(chunks_.size());
  for (const Chunk& chunk : chunks_) {
    if (chunk.used == 0) continue;
    out.push_back(iovec{chunk.data.get(), chunk.used});
  }
  return out;
}

void MessageBody::Clear() { Truncate(0); }

std::string MessageBody::ToString() const {
  std::string out;
  CopyOut(0, size_, &out);
  return out;
}

}  // namespace ferry::smtp
