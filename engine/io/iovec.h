// Helpers for iovec arrays that are written in several calls, because a
// socket send or a file write may take only part of them.
#ifndef FERRY_ENGINE_IO_IOVEC_H_
#define FERRY_ENGINE_IO_IOVEC_H_

#include <sys/uio.h>

#include <cstddef>
#include <vector>

namespace ferry::io {

// Advances past `written` bytes of `iov`, starting at index `*first`: whole
// entries are skipped by moving `*first`, and a partly written entry is
// shortened in place. REQUIRES: `written` <= the bytes left from `*first`.
inline void ConsumeIovecs(std::vector<iovec>* iov, size_t* first,
                          size_t written) {
  while (*first < iov->size() && written >= (*iov)[*first].iov_len) {
    written -= (*iov)[*first].iov_len;
    ++*first;
  }
  if (written > 0) {
    iovec& partial = (*iov)[*first];
    partial.iov_base = static_cast<char*>(partial.iov_base) + written;
    partial.iov_len -= written;
  }
}

}  // namespace ferry::io

#endif  // FERRY_ENGINE_IO_IOVEC_H_
