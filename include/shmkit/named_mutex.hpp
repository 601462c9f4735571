// A mutex shared by processes, that survives the death of its owner.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/sync_options.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct NamedMutexImpl;
template <typename Traits>
struct SyncFactory;
}  // namespace detail

// What a timed lock found. The first value is timed_out, so that a
// value-initialised LockStatus (what an error_code twin returns on failure)
// never claims the lock.
enum class LockStatus {
  timed_out,
  acquired,
  // Acquired, but the previous owner died holding it: the data it guards may
  // be half-updated. Repair it, then use the mutex as usual.
  acquired_owner_died,
};

// Meets BasicLockable, Lockable and TimedLockable, so std::lock_guard and
// std::unique_lock work with it.
//
// Behaviour on every platform (Win32 mutexes are recursive by nature; this
// class makes them behave like the others):
// - not recursive: locking it again from the owning thread fails with
//   std::errc::resource_deadlock_would_occur, as std::mutex may;
// - owned by a thread: unlock() from a thread that does not hold it does
//   nothing (unlock(ec) reports errc::invalid_state);
// - when its owner dies, the next acquirer gets the lock and is told
//   (LockStatus::acquired_owner_died, owner_died()); the mutex then keeps
//   working. It never becomes permanently unusable. On POSIX the owner is a
//   process (a waiter notices its death within about 5 ms); a thread that
//   exits holding the lock in a process that goes on is not detected.
// - destroying a handle whose thread holds the lock releases it.
// - whatever another process writes into the mutex's shared state, every
//   call returns by its deadline with a result or an error (docs/sync.md).
//
// Threads: like std::mutex, one handle may be used by several threads at
// once: lock, try_lock*, lock_for/lock_until and unlock may run concurrently
// on one handle, and the lock belongs to the thread that took it. Moving,
// assigning or destroying a handle must not overlap any other call on it.
// One thread must not hold the mutex through two handles at once (Win32
// would recurse, POSIX would wait for itself until its deadline).
//
// fork(): a handle inherited by a fork() child is dead in the child: every
// call on it fails with errc::invalid_state (unlock() does nothing), and
// destroying it leaves the mutex, the parent's lock and the parent's
// registration as they are. Open the mutex again in the child; a lock the
// child takes is the child's own. (A child cannot unlock its parent's lock.)
//
// The throwing form of each call raises shmkit::Error (a std::system_error)
// whose what() names the mutex and says what to do; its twin taking
// std::error_code& is noexcept, and shmkit::error_message(ec) gives the same
// sentence.
class SHMKIT_EXPORT NamedMutex {
 public:
  // Creates a new, unlocked mutex.
  // Errors: errc::invalid_name, errc::already_exists, errc::wrong_kind (the
  // name holds another kind of object), OS errors (no permission, no space).
  [[nodiscard]] static NamedMutex create(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static NamedMutex create(std::string_view name, const SyncOptions& options,
                                         std::error_code& ec) noexcept;
  // Opens an existing mutex, waiting up to options.open_timeout for a creator
  // that is still making it.
  // Errors: errc::invalid_name, errc::not_found, errc::wrong_kind,
  // errc::not_ready, errc::incompatible_layout (another shmkit version or
  // build, another PID namespace), errc::corrupted, errc::untrusted_owner, OS
  // errors.
  [[nodiscard]] static NamedMutex open(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static NamedMutex open(std::string_view name, const SyncOptions& options,
                                       std::error_code& ec) noexcept;
  // Opens the mutex, or creates it if there is none. Safe against any number
  // of processes racing on the name.
  // Errors: those of create() and open(), and errc::insecure_permissions.
  [[nodiscard]] static NamedMutex open_or_create(std::string_view name,
                                                 const SyncOptions& options = {});
  [[nodiscard]] static NamedMutex open_or_create(std::string_view name, const SyncOptions& options,
                                                 std::error_code& ec) noexcept;
  // Removes the name; open handles keep working. Returns false if there was
  // nothing to remove. Always false on Win32, where the mutex dies with its
  // last handle.
  // Errors: errc::invalid_name, OS errors.
  static bool remove(std::string_view name, const SyncOptions& options = {});
  static bool remove(std::string_view name, const SyncOptions& options,
                     std::error_code& ec) noexcept;
  // True if the name is taken: by a mutex, or by another kind of object (the
  // kinds share one namespace, so create() would fail either way).
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options,
                                   std::error_code& ec) noexcept;

  NamedMutex() noexcept = default;  // an empty handle
  NamedMutex(NamedMutex&& other) noexcept;
  // Releases a lock this thread holds through this handle, then takes over
  // `other`'s mutex (and its lock, if it holds one).
  NamedMutex& operator=(NamedMutex&& other) noexcept;
  NamedMutex(const NamedMutex&) = delete;
  NamedMutex& operator=(const NamedMutex&) = delete;
  // Releases the lock if this thread holds it through this handle.
  ~NamedMutex();

  // Waits for ever. Taking over a dead owner's lock sets owner_died().
  // Errors: errc::invalid_state (an empty handle, or a handle inherited
  // through fork()), std::errc::resource_deadlock_would_occur (this thread
  // holds it), OS errors (Win32).
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

  // Releases the lock this thread holds. A call that does not fit (an empty
  // handle, a thread that does not hold the lock) does nothing; so does a
  // failure, which only unlock(ec) reports.
  // Errors (unlock(ec)): errc::invalid_state (misuse, as above; nothing
  // changed), errc::corrupted (POSIX: another process overwrote the owner,
  // which is left as it is), OS errors (Win32).
  void unlock() noexcept;
  void unlock(std::error_code& ec) noexcept;

  // True while the calling thread holds the lock it took over from a dead
  // owner (until it unlocks).
  [[nodiscard]] bool owner_died() const noexcept;

  [[nodiscard]] bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }
  // Empty for an empty handle.
  [[nodiscard]] const std::string& name() const noexcept;

 private:
  template <typename Traits>
  friend struct detail::SyncFactory;

  // The epoch of the steady clock: always past, and far from overflowing.
  static constexpr Deadline k_no_wait = Deadline{};
  static bool acquired(LockStatus status) noexcept { return status != LockStatus::timed_out; }

  explicit NamedMutex(detail::NamedMutexImpl* impl) noexcept : impl_(impl) {}
  // Every lock form: throws if `ec` is null, else never throws.
  LockStatus lock_deadline(Deadline deadline, std::error_code* ec);
  static void close(detail::NamedMutexImpl* impl) noexcept;

  detail::NamedMutexImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
