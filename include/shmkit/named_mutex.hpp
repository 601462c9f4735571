// A mutex shared by processes, that survives the death of its owner.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class MutexImpl;
}

enum class LockStatus {
  acquired,
  // Acquired, but the previous owner died holding it: the data it guards may
  // be half-updated. Repair it, then use the mutex as usual.
  acquired_owner_died,
  timed_out,
};

// Meets BasicLockable, Lockable and TimedLockable, so std::lock_guard and
// std::unique_lock work with it.
//
// Behaviour on every platform (Win32 mutexes are recursive by nature; this
// class makes them behave like the others):
// - not recursive: locking it again from the owning thread throws
//   std::errc::resource_deadlock_would_occur;
// - owned by a thread: unlock() from another thread throws
//   std::errc::operation_not_permitted;
// - when its owner dies, the next acquirer gets the lock and is told
//   (owner_died(), LockStatus::acquired_owner_died); the mutex then keeps
//   working. It never becomes permanently unusable. On POSIX the owner is a
//   process (a waiter notices its death within about 5 ms); a thread that
//   exits holding the lock in a process that goes on is not detected.
// - destroying a handle that holds the lock releases it.
// - whatever another process writes into the mutex's shared state, every
//   call returns by its deadline with a result or an error (docs/sync.md).
class SHMKIT_EXPORT NamedMutex {
 public:
  static NamedMutex create(std::string_view name, const Options& options = {});
  static NamedMutex create(std::string_view name, const Options& options,
                           std::error_code& ec) noexcept;
  static NamedMutex open(std::string_view name, const Options& options = {});
  static NamedMutex open(std::string_view name, const Options& options,
                         std::error_code& ec) noexcept;
  static NamedMutex open_or_create(std::string_view name, const Options& options = {});
  static NamedMutex open_or_create(std::string_view name, const Options& options,
                                   std::error_code& ec) noexcept;
  // Returns false if there was nothing to remove; a no-op on Win32, where the
  // mutex dies with its last handle.
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  NamedMutex() noexcept;
  NamedMutex(NamedMutex&& other) noexcept;
  NamedMutex& operator=(NamedMutex&& other) noexcept;
  ~NamedMutex();

  void lock();
  bool try_lock();
  template <typename Rep, typename Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return acquire_until(deadline_after(timeout)) != LockStatus::timed_out;
  }
  template <typename Clock, typename Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& when) {
    return acquire_until(to_deadline(when)) != LockStatus::timed_out;
  }
  void unlock();

  // For code that wants the owner-death outcome as a value.
  LockStatus acquire(std::chrono::milliseconds timeout);
  LockStatus acquire_until(Deadline deadline);

  // True while this handle holds the lock it took over from a dead owner.
  bool owner_died() const noexcept { return owner_died_; }

  bool is_open() const noexcept { return impl_ != nullptr; }
  const std::string& name() const noexcept { return name_; }

 private:
  NamedMutex(std::unique_ptr<detail::MutexImpl> impl, std::string name) noexcept;

  std::unique_ptr<detail::MutexImpl> impl_;
  std::string name_;
  std::atomic<std::thread::id> owner_{};
  bool owner_died_ = false;
};

SHMKIT_END_NAMESPACE
