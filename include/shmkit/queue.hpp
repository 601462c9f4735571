// A bounded multi-producer multi-consumer queue of a user-defined message
// type, in one named segment.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/queue_core.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

// auto queue = Queue<Order>::open_or_create("orders", 1024);
// queue.push(order);                        // waits while the queue is full
// std::optional<Order> next = queue.pop_for(std::chrono::seconds(1));
//
// T is the message format: any trivially copyable type (a struct of numbers
// and fixed arrays; no pointers into one process's memory, no std::string).
// The segment records sizeof(T), alignof(T) and QueueOptions::schema_id;
// opening it with a different T fails with errc::type_mismatch instead of
// reading garbage.
//
// Any number of processes push and pop. Each element is delivered exactly
// once, in the order its push claimed a cell.
//
// Restart: a queue has no owner and no peer, so a process that dies (or is
// killed) is restarted by opening the queue again; what was pushed and not
// yet popped is still there, for as long as the name exists (POSIX: until
// remove(); Win32: while some process has it open). An element a dead
// process had popped is gone with it. A process killed inside push() or
// pop() between claiming a cell and finishing it (a few instructions, never
// while it waits) leaves that cell unfinished, and the queue stops there:
// remove and create it again. There is no single peer to lose, so waits end
// only at their deadline, never with errc::peer_gone.
//
// Threads: push and pop may run concurrently on one handle from any number
// of threads, as on distinct handles; creating, moving, assigning and
// destroying a handle must not overlap other calls on that handle.
// Fork: a handle inherited by a forked child may only be destroyed there;
// the child opens the queue again.
//
// Errors of every factory: errc::invalid_name; and as NamedSharedMemory's
// (errc::untrusted_owner, errc::insecure_permissions, errc::wrong_kind,
// errc::incompatible_layout, errc::not_ready, OS errors). A call on an empty
// handle (default-constructed or moved from) is errc::invalid_state.
template <typename T>
class Queue {
  static_assert(std::is_trivially_copyable_v<T>,
                "Queue<T> copies T's bytes between processes: T must be trivially copyable");

 public:
  // A new queue of at least `capacity` elements (rounded up to a power of
  // two, at least 2). Errors: errc::already_exists, errc::invalid_size
  // (0 or more than 2^30 elements).
  [[nodiscard]] static Queue create(std::string_view name, std::size_t capacity,
                                    const QueueOptions& options = {}) {
    return Queue(core(name, detail::QueueOpen::create, capacity, options, nullptr));
  }
  [[nodiscard]] static Queue create(std::string_view name, std::size_t capacity,
                                    const QueueOptions& options, std::error_code& ec) noexcept {
    return Queue(core(name, detail::QueueOpen::create, capacity, options, &ec));
  }
  // An existing queue, created with the same T and schema_id. Errors:
  // errc::not_found, errc::type_mismatch, errc::corrupted.
  [[nodiscard]] static Queue open(std::string_view name, const QueueOptions& options = {}) {
    return Queue(core(name, detail::QueueOpen::open, 0, options, nullptr));
  }
  [[nodiscard]] static Queue open(std::string_view name, const QueueOptions& options,
                                  std::error_code& ec) noexcept {
    return Queue(core(name, detail::QueueOpen::open, 0, options, &ec));
  }
  // Opens the queue, or creates it when there is none. Errors: those of
  // create and open, and errc::size_mismatch (it exists with another
  // capacity; a stale one is replaced when ObjectOptions::reclaim_stale).
  [[nodiscard]] static Queue open_or_create(std::string_view name, std::size_t capacity,
                                            const QueueOptions& options = {}) {
    return Queue(core(name, detail::QueueOpen::open_or_create, capacity, options, nullptr));
  }
  [[nodiscard]] static Queue open_or_create(std::string_view name, std::size_t capacity,
                                            const QueueOptions& options,
                                            std::error_code& ec) noexcept {
    return Queue(core(name, detail::QueueOpen::open_or_create, capacity, options, &ec));
  }
  // Removes the name (handles still open keep working); false if there was
  // nothing to remove. Errors: errc::invalid_name, errc::wrong_kind.
  static bool remove(std::string_view name, const QueueOptions& options = {}) {
    return detail::QueueCore::remove(name, options, nullptr);
  }
  static bool remove(std::string_view name, const QueueOptions& options,
                     std::error_code& ec) noexcept {
    return detail::QueueCore::remove(name, options, &ec);
  }
  // Whether a queue of this name exists (of any T). Errors:
  // errc::invalid_name, errc::wrong_kind (the name is another kind's).
  [[nodiscard]] static bool exists(std::string_view name, const QueueOptions& options = {}) {
    return detail::QueueCore::exists(name, options, nullptr);
  }
  [[nodiscard]] static bool exists(std::string_view name, const QueueOptions& options,
                                   std::error_code& ec) noexcept {
    return detail::QueueCore::exists(name, options, &ec);
  }

  Queue() noexcept = default;
  Queue(Queue&&) noexcept = default;
  Queue& operator=(Queue&&) noexcept = default;
  ~Queue() = default;

  // ---- push: copies `value` in; waits while the queue is full -----------
  // Errors of all: errc::invalid_state (empty handle), errc::corrupted (a
  // cell no healthy queue can hold).
  void push(const T& value) { core_.push(&value, k_forever, nullptr); }
  void push(const T& value, std::error_code& ec) noexcept { core_.push(&value, k_forever, &ec); }
  // False when the queue is full.
  [[nodiscard]] bool try_push(const T& value) { return core_.push(&value, Deadline(), nullptr); }
  [[nodiscard]] bool try_push(const T& value, std::error_code& ec) noexcept {
    return core_.push(&value, Deadline(), &ec);
  }
  // False when the queue stayed full until the deadline.
  template <typename Rep, typename Period>
  [[nodiscard]] bool push_for(const T& value, const std::chrono::duration<Rep, Period>& timeout) {
    return core_.push(&value, deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] bool push_for(const T& value, const std::chrono::duration<Rep, Period>& timeout,
                              std::error_code& ec) noexcept {
    return core_.push(&value, deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool push_until(const T& value,
                                const std::chrono::time_point<Clock, Duration>& deadline) {
    return core_.push(&value, to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool push_until(const T& value,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                std::error_code& ec) noexcept {
    return core_.push(&value, to_deadline(deadline), &ec);
  }

  // ---- pop: copies the oldest element out; waits while the queue is empty
  // Errors as push. pop(ec) returns T{} on failure.
  T pop() {
    T value{};
    core_.pop(&value, k_forever, nullptr);
    return value;
  }
  T pop(std::error_code& ec) noexcept {
    T value{};
    if (!core_.pop(&value, k_forever, &ec)) return T{};
    return value;
  }
  // nullopt when the queue is empty (or, _for/_until, stayed empty until the
  // deadline).
  [[nodiscard]] std::optional<T> try_pop() { return pop_at(Deadline(), nullptr); }
  [[nodiscard]] std::optional<T> try_pop(std::error_code& ec) noexcept {
    return pop_at(Deadline(), &ec);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] std::optional<T> pop_for(const std::chrono::duration<Rep, Period>& timeout) {
    return pop_at(deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] std::optional<T> pop_for(const std::chrono::duration<Rep, Period>& timeout,
                                         std::error_code& ec) noexcept {
    return pop_at(deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] std::optional<T> pop_until(
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return pop_at(to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] std::optional<T> pop_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                           std::error_code& ec) noexcept {
    return pop_at(to_deadline(deadline), &ec);
  }

  bool is_open() const noexcept { return core_.is_open(); }
  // In elements; 0 for an empty handle.
  std::size_t capacity() const noexcept { return core_.capacity(); }
  const std::string& name() const noexcept { return core_.name(); }

 private:
  explicit Queue(detail::QueueCore core) noexcept : core_(std::move(core)) {}
  static detail::QueueCore core(std::string_view name, detail::QueueOpen mode, std::size_t capacity,
                                const QueueOptions& options, std::error_code* ec) {
    return detail::QueueCore::open(name, mode, capacity, {sizeof(T), alignof(T), options.schema_id},
                                   options, ec);
  }
  std::optional<T> pop_at(Deadline deadline, std::error_code* ec) {
    T value{};
    if (core_.pop(&value, deadline, ec)) return value;
    return std::nullopt;
  }

  detail::QueueCore core_;
};

SHMKIT_END_NAMESPACE
