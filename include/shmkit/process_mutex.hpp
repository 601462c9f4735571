// A mutex that lives inside data in shared memory, with no name of its own.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/named_mutex.hpp>  // LockStatus

#include <atomic>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

class ProcessCondition;
namespace detail {
struct Failure;
}  // namespace detail

// ProcessMutex is a member of a struct the user places in any shmkit segment
// (NamedSharedMemory, and the managed segments to come): one name and one
// lifetime for the data and its lock. It is 64 bytes of integers (no
// pointers, no OS handles), standard-layout and trivially destructible; all
// zero bytes are an unlocked mutex, and the default constructor (constexpr)
// makes one. Construct it once, with placement new or in a zero-filled new
// segment, before any process uses it; never copy or move it.
//
// Same behaviour as NamedMutex, on every platform:
// - not recursive: locking it again from the owning thread fails with
//   std::errc::resource_deadlock_would_occur;
// - owned by a thread: unlock() from a thread that does not hold it does
//   nothing (unlock(ec) reports errc::invalid_state);
// - when its owner process dies holding it, the next acquirer gets the lock
//   and is told once (LockStatus::acquired_owner_died, owner_died()); the
//   mutex then keeps working. A waiter notices the death within about 5 ms.
//   A thread that exits holding the lock in a process that goes on is not
//   detected (as with NamedMutex on POSIX).
// - whatever another process writes into it, every call returns by its
//   deadline with a result or an error: a value in the owner word that names
//   no running process is taken over as from a dead owner.
// Unlike a NamedMutex handle, nothing is released when a thread forgets to
// unlock: there is no handle to destroy. Use std::lock_guard/unique_lock.
//
// PID namespaces: the owner is recorded as a pid, which names another
// process (or none) in another PID namespace. The first process to lock the
// mutex records its PID namespace (Linux); a locker in another namespace is
// refused with errc::incompatible_layout. Run every process that shares a
// segment in one PID namespace (docker run --pid=host or
// --pid=container:NAME). A mutex whose namespace word was overwritten
// refuses everyone the same way: construct it again once nobody uses it.
//
// Sleeping: on Linux a waiter sleeps on a futex and is woken at once. On
// the portable path (Cygwin, macOS) and on Win32 there is no cross-process
// wait on an address: a waiter polls with sleeps that grow to 1 ms, so a
// hand-over under contention takes up to about a millisecond (more where the
// OS rounds sleeps up, as Windows does). docs/managed.md gives the figures.
//
// Threads: every member may run concurrently from any thread; the lock
// belongs to the thread that took it. fork(): a child is another process;
// a lock its parent held stays the parent's (the child cannot unlock it,
// and waits for it like any other process), and the mutex in the child's
// mapping is otherwise usable at once.
//
// The throwing form of each call raises shmkit::Error (a std::system_error)
// whose what() says what to do; its twin taking std::error_code& is
// noexcept, and shmkit::error_message(ec) gives the same sentence.
class SHMKIT_EXPORT ProcessMutex {
 public:
  constexpr ProcessMutex() noexcept = default;  // unlocked
  ProcessMutex(const ProcessMutex&) = delete;
  ProcessMutex& operator=(const ProcessMutex&) = delete;
  ~ProcessMutex() = default;  // trivial: a segment may simply be unmapped

  // Waits for ever. Taking over a dead owner's lock sets owner_died().
  // Errors: std::errc::resource_deadlock_would_occur (this thread holds it),
  // errc::incompatible_layout (another PID namespace locked it first),
  // errc::invalid_state (this thread already holds 32 ProcessMutexes, the
  // most one thread may hold at once).
  void lock() { (void)lock_deadline(k_forever, nullptr); }
  void lock(std::error_code& ec) noexcept { (void)lock_deadline(k_forever, &ec); }

  // Does not wait, but checks whether a holder is still alive: a dead
  // owner's mutex is taken over (owner_died() is then true), never reported
  // busy. Errors: as lock().
  [[nodiscard]] bool try_lock() { return acquired(lock_deadline(k_no_wait, nullptr)); }
  [[nodiscard]] bool try_lock(std::error_code& ec) noexcept {
    return acquired(lock_deadline(k_no_wait, &ec));
  }

  // Waits up to `timeout` / until `deadline` (any clock). False: timed out.
  // Errors: as lock().
  template <typename Rep, typename Period>
  [[nodiscard]] bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return acquired(lock_deadline(deadline_after(timeout), nullptr));
  }
  template <typename Rep, typename Period>
  [[nodiscard]] bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout,
                                  std::error_code& ec) noexcept {
    return acquired(lock_deadline(deadline_after(timeout), &ec));
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return acquired(lock_deadline(to_deadline(deadline), nullptr));
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                    std::error_code& ec) noexcept {
    return acquired(lock_deadline(to_deadline(deadline), &ec));
  }

  // The same waits, with the owner-death outcome as a value. The ec twins
  // return LockStatus::timed_out on failure. Errors: as lock().
  template <typename Rep, typename Period>
  [[nodiscard]] LockStatus lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return lock_deadline(deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] LockStatus lock_for(const std::chrono::duration<Rep, Period>& timeout,
                                    std::error_code& ec) noexcept {
    return lock_deadline(deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] LockStatus lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return lock_deadline(to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] LockStatus lock_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                      std::error_code& ec) noexcept {
    return lock_deadline(to_deadline(deadline), &ec);
  }

  // Releases the lock this thread holds. A call by a thread that does not
  // hold it does nothing; so does a failure, which only unlock(ec) reports.
  // Errors (unlock(ec)): errc::invalid_state (this thread does not hold it;
  // nothing changed), errc::corrupted (another process overwrote the owner
  // while this thread held it; left as it is).
  void unlock() noexcept;
  void unlock(std::error_code& ec) noexcept;

  // True while the calling thread holds the lock it took over from a dead
  // owner (until it unlocks).
  [[nodiscard]] bool owner_died() const noexcept;

 private:
  friend class ProcessCondition;

  // The epoch of the steady clock: always past, and far from overflowing.
  static constexpr Deadline k_no_wait = Deadline{};
  static bool acquired(LockStatus status) noexcept { return status != LockStatus::timed_out; }

  // Every lock form: throws if `ec` is null, else never throws.
  LockStatus lock_deadline(Deadline deadline, std::error_code* ec);
  // The lock and unlock themselves, reporting into `failure`.
  LockStatus acquire(Deadline deadline, detail::Failure& failure);
  void release(detail::Failure& failure);
  // Sets owner_died() for the lock this thread holds (a condition wait that
  // relocked more than once reports a death any relock saw).
  void note_owner_died() noexcept;

  // 0 when free, or the owning process's owner word (pid and start time),
  // maybe with the bit that says a waiter sleeps. Anything else is garbage,
  // taken over as from a dead owner.
  std::atomic<std::uint64_t> owner_{0};
  // Bumped by an unlock that finds sleepers; waiters sleep on it.
  std::atomic<std::uint32_t> releases_{0};
  [[maybe_unused]] std::uint32_t reserved0_ = 0;
  // The PID namespace of the first locker (0: none recorded yet).
  std::atomic<std::uint64_t> pid_namespace_{0};
  [[maybe_unused]] std::uint64_t reserved_[5] = {};
};

static_assert(sizeof(ProcessMutex) == 64, "ProcessMutex's layout is fixed: 64 bytes");
static_assert(alignof(ProcessMutex) == 8, "ProcessMutex's layout is fixed: 8-byte aligned");
static_assert(std::is_standard_layout_v<ProcessMutex>, "ProcessMutex must be standard-layout");
static_assert(std::is_trivially_destructible_v<ProcessMutex>,
              "ProcessMutex must be trivially destructible");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "ProcessMutex needs address-free (lock-free) 32- and 64-bit atomics");

SHMKIT_END_NAMESPACE
