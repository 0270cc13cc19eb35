// Task<T>: a lazily started C++20 coroutine that produces a T, awaited by
// exactly one other coroutine. Spawn() starts a Task<void> that no coroutine
// awaits; its frame is freed when it finishes.
//
// Tasks run on the worker thread that owns their io_uring (engine/io/ring.h)
// and are resumed only from that thread. Not thread-safe.
//
// NOTE: GCC 12 can lay out a coroutine frame wrongly when a co_await sits
// inside the condition of an if or while within a loop (seen as a resume
// that jumps to a bad state and traps). Await into a local first:
//   const bool sent = co_await SendAll(...);
//   if (!sent) ...
#ifndef FERRY_ENGINE_IO_TASK_H_
#define FERRY_ENGINE_IO_TASK_H_

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace ferry::io {

template <typename T>
class Task;

namespace internal {

// Resumes the awaiting coroutine (if any) when a task finishes.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(
      std::coroutine_handle<Promise> done) noexcept {
    auto continuation = done.promise().continuation;
    if (continuation) return continuation;
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  // The engine is built without exceptions in its own code; a throw from a
  // library (std::bad_alloc) ends the process, as it would without tasks.
  void unhandled_exception() noexcept { std::terminate(); }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace internal

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle handle) : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() {
    if constexpr (!std::is_void_v<T>) {
      return std::move(*handle_.promise().value);
    }
  }

  // Gives up ownership of the frame (used by Spawn).
  Handle Release() { return std::exchange(handle_, {}); }

 private:
  Handle handle_;
};

namespace internal {

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// A coroutine that runs a task to its end and then frees itself.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

inline Detached RunDetached(Task<void> task) { co_await std::move(task); }

}  // namespace internal

// Starts `task` now, on the calling thread. It runs until its first
// suspension before Spawn returns, and frees itself when it finishes.
inline void Spawn(Task<void> task) { internal::RunDetached(std::move(task)); }

}  // namespace ferry::io

#endif  // FERRY_ENGINE_IO_TASK_H_
