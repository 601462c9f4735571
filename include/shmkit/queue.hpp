// A bounded multi-producer multi-consumer queue of a user-defined message
// type, in one named segment.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/queue_core.hpp>

#include <chrono>
#include <optional>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

// T is the message format: any trivially copyable type (a struct of numbers
// and fixed arrays; no pointers into one process's memory, no std::string).
// The segment records sizeof(T), alignof(T) and QueueOptions::schema_id;
// opening it with a different T fails with errc::type_mismatch instead of
// reading garbage.
//
// Any number of processes push and pop. Each element is delivered exactly
// once. A process that dies inside push() between claiming a cell and
// publishing it (a few instructions) leaves that cell unfinished and
// consumers see the queue as empty from there; recreate the queue then.
// There is no single peer to lose, so waits end only at their deadline.
template <typename T>
class Queue {
  static_assert(std::is_trivially_copyable_v<T>,
                "Queue<T> copies T's bytes between processes: T must be trivially copyable");

 public:
  static Queue create(std::string_view name, std::size_t capacity, const QueueOptions& queue = {},
                      const Options& options = {}) {
    return Queue(detail::QueueCore::open(name, detail::QueueOpen::create, capacity, type(queue),
                                         queue, options));
  }
  static Queue create(std::string_view name, std::size_t capacity, const QueueOptions& queue,
                      const Options& options, std::error_code& ec) noexcept {
    return Queue(detail::QueueCore::open(name, detail::QueueOpen::create, capacity, type(queue),
                                         queue, options, ec));
  }
  static Queue open(std::string_view name, const QueueOptions& queue = {},
                    const Options& options = {}) {
    return Queue(
        detail::QueueCore::open(name, detail::QueueOpen::open, 0, type(queue), queue, options));
  }
  static Queue open(std::string_view name, const QueueOptions& queue, const Options& options,
                    std::error_code& ec) noexcept {
    return Queue(
        detail::QueueCore::open(name, detail::QueueOpen::open, 0, type(queue), queue, options, ec));
  }
  static Queue open_or_create(std::string_view name, std::size_t capacity,
                              const QueueOptions& queue = {}, const Options& options = {}) {
    return Queue(detail::QueueCore::open(name, detail::QueueOpen::open_or_create, capacity,
                                         type(queue), queue, options));
  }
  static bool remove(std::string_view name, const Options& options = {}) {
    return detail::QueueCore::remove(name, options);
  }
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept {
    return detail::QueueCore::remove(name, options, ec);
  }

  Queue() noexcept = default;

  bool push_until(const T& value, Deadline deadline) { return core_.push_until(&value, deadline); }
  bool push_until(const T& value, Deadline deadline, std::error_code& ec) noexcept {
    return core_.push_until(&value, deadline, ec);
  }
  void push(const T& value) { push_until(value, k_forever); }
  bool try_push(const T& value) { return push_until(value, Deadline()); }
  template <typename Rep, typename Period>
  bool push_for(const T& value, const std::chrono::duration<Rep, Period>& timeout) {
    return push_until(value, deadline_after(timeout));
  }

  bool pop_until(T& value, Deadline deadline) { return core_.pop_until(&value, deadline); }
  bool pop_until(T& value, Deadline deadline, std::error_code& ec) noexcept {
    return core_.pop_until(&value, deadline, ec);
  }
  T pop() {
    T value;
    pop_until(value, k_forever);
    return value;
  }
  std::optional<T> try_pop() {
    T value;
    if (pop_until(value, Deadline())) return value;
    return std::nullopt;
  }
  template <typename Rep, typename Period>
  std::optional<T> pop_for(const std::chrono::duration<Rep, Period>& timeout) {
    T value;
    if (pop_until(value, deadline_after(timeout))) return value;
    return std::nullopt;
  }

  bool is_open() const noexcept { return core_.is_open(); }
  std::size_t capacity() const noexcept { return core_.capacity(); }
  const std::string& name() const noexcept { return core_.name(); }

 private:
  explicit Queue(detail::QueueCore core) noexcept : core_(std::move(core)) {}
  static detail::ElementType type(const QueueOptions& queue) noexcept {
    return {sizeof(T), alignof(T), queue.schema_id};
  }

  detail::QueueCore core_;
};

SHMKIT_END_NAMESPACE
