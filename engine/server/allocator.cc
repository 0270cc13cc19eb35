// ferryd's memory allocator: jemalloc (Debian's libjemalloc), configured
// at link time through its malloc_conf symbol.
//
// Queued bodies are freed in bulk when a queue drains. glibc's malloc kept
// those pages: 430 MiB of RSS with 29 MiB of heap in use after 100,000
// queued 1 KB messages were delivered. Returning them with malloc_trim()
// stopped a worker for 55 to 120 ms, which showed as the p99 reply time of
// every session on it. jemalloc's background threads return unused pages
// gradually instead, off the workers.
//
// background_thread: purge from jemalloc's own threads, not from the
//   thread that frees.
// dirty_decay_ms: freed pages go back to the system over about 1 s.
// muzzy_decay_ms: 0, skip the lazily-freed stage.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
