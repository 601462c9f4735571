// ProcessMutex: the owner-word lock (src/sync/owner_word_lock.hpp) on words
// inside the user's data, sleeping on their address
// (src/sync/address_wait.hpp), plus a per-thread list of the locks each
// thread holds, so that it behaves as NamedMutex does (not recursive,
// thread-owned).
#include <shmkit/process_mutex.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "sync/address_wait.hpp"
#include "sync/mutex_owner_liveness.hpp"
#include "sync/owner_word_lock.hpp"

#include <atomic>
#include <cstddef>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The ProcessMutexes the calling thread holds (at the addresses it locked
// them through), and whether it took each over from a dead owner. The
// owner word says which process holds a mutex; this says which of its
// threads, without a thread id in shared memory that a dead owner's
// leftovers could make look like ours.
//
// Plain thread_local arrays: nothing to destroy at thread exit (with
// mingw-w64's emulated TLS a thread_local std::vector here crashed threads
// as they exited, under Wine).
constexpr std::size_t k_max_held = 32;

struct HeldLock {
  const void* mutex;
  bool owner_died;
};

struct HeldLocks {
  HeldLock entries[k_max_held];
  std::size_t count;
};

HeldLocks& held_locks() noexcept {
  thread_local HeldLocks held{};
  return held;
}

void drop_held(HeldLocks& held, std::size_t i) noexcept {
  held.entries[i] = held.entries[held.count - 1];
  --held.count;
}

// The calling thread's entry for `mutex`, or null. An entry whose owner word
// no longer names this process (a fork() child's copy of its parent's list)
// is dropped: that lock is not ours.
HeldLock* find_held(const void* mutex, const std::atomic<std::uint64_t>& owner) noexcept {
  HeldLocks& held = held_locks();
  for (std::size_t i = 0; i < held.count; ++i) {
    if (held.entries[i].mutex != mutex) continue;
    if (owner_word_holder(owner.load(std::memory_order_relaxed)) == mutex_owner_word()) {
      return &held.entries[i];
    }
    drop_held(held, i);
    return nullptr;
  }
  return nullptr;
}

void forget_held(const void* mutex) noexcept {
  HeldLocks& held = held_locks();
  for (std::size_t i = 0; i < held.count; ++i) {
    if (held.entries[i].mutex == mutex) {
      drop_held(held, i);
      return;
    }
  }
}

// This process's PID namespace, read once: a process does not change its
// own (unshare() and setns() move only its children).
std::uint64_t own_pid_namespace() noexcept {
  static const std::uint64_t id = mutex_pid_namespace();
  return id;
}

// The protocol's sleeps, on the releases word's address.
class AddressSleep final : public OwnerWordSleep {
 public:
  void wait(const std::atomic<std::uint32_t>& releases, std::uint32_t seen,
            Deadline deadline) override {
    address_wait(releases, seen, deadline);
  }
  void wake_one(std::atomic<std::uint32_t>& releases) override { address_wake(releases, 1); }
};

}  // namespace
}  // namespace detail

using detail::Failure;

LockStatus ProcessMutex::acquire(Deadline deadline, Failure& f) {
  if (detail::find_held(this, owner_) != nullptr) {
    f.set(std::make_error_code(std::errc::resource_deadlock_would_occur),
          "this ProcessMutex is already held by this thread; unlock it before locking it again");
    return LockStatus::timed_out;
  }
  const std::uint64_t own_namespace = detail::own_pid_namespace();
  if (own_namespace != 0) {
    std::uint64_t recorded = pid_namespace_.load(std::memory_order_relaxed);
    if (recorded == 0 && !pid_namespace_.compare_exchange_strong(recorded, own_namespace,
                                                                 std::memory_order_relaxed)) {
      // Another process recorded one first: `recorded` holds it now.
    } else if (recorded == 0) {
      recorded = own_namespace;
    }
    if (recorded != own_namespace) {
      f.set(errc::incompatible_layout,
            "this ProcessMutex was first locked in another PID namespace, where its owners' "
            "pids mean other processes; run every process that shares its segment in one PID "
            "namespace (e.g. docker run --pid=host or --pid=container:NAME)");
      return LockStatus::timed_out;
    }
  }
  detail::HeldLocks& held = detail::held_locks();
  if (held.count == detail::k_max_held) {
    f.set(errc::invalid_state, "this thread already holds " + std::to_string(detail::k_max_held) +
                                   " ProcessMutexes, the most one thread may hold at once; "
                                   "unlock some before locking another");
    return LockStatus::timed_out;
  }
  const std::uint64_t self = detail::mutex_owner_word();
  LockStatus status = LockStatus::acquired;
  std::uint64_t expected = 0;
  if (!owner_.compare_exchange_strong(expected, self, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    // Contended: what alive() learns about the owner lasts for this call (a
    // ProcessMutex has no handle to keep it in).
    detail::AddressSleep sleep;
    detail::MutexOwnerLiveness liveness;
    status = detail::owner_word_lock({owner_, releases_}, self, deadline, sleep, liveness);
    if (status == LockStatus::timed_out) return status;
  }
  held.entries[held.count++] = {this, status == LockStatus::acquired_owner_died};
  return status;
}

void ProcessMutex::release(Failure& f) {
  if (detail::find_held(this, owner_) == nullptr) {
    f.set(errc::invalid_state,
          "this ProcessMutex is not held by this thread; only the thread that locked it may "
          "unlock it");
    return;
  }
  detail::forget_held(this);
  detail::AddressSleep sleep;
  if (detail::owner_word_unlock({owner_, releases_}, detail::mutex_owner_word(), sleep)) return;
  f.set(errc::corrupted,
        "this ProcessMutex is no longer held by this process (another process wrote to it), so "
        "it was left as it is; find out what else writes to the memory it lives in");
}

LockStatus ProcessMutex::lock_deadline(Deadline deadline, std::error_code* ec) {
  if (ec == nullptr) {
    // The uncontended lock() of a std::lock_guard: acquire()'s checks and
    // one compare-and-swap, without building a Failure. Anything else (a
    // relock, another namespace, a held mutex) goes the long way.
    detail::HeldLocks& held = detail::held_locks();
    const std::uint64_t own_namespace = detail::own_pid_namespace();
    if (held.count < detail::k_max_held &&
        (own_namespace == 0 || pid_namespace_.load(std::memory_order_relaxed) == own_namespace) &&
        detail::find_held(this, owner_) == nullptr) {
      std::uint64_t expected = 0;
      if (owner_.compare_exchange_strong(expected, detail::mutex_owner_word(),
                                         std::memory_order_acquire, std::memory_order_relaxed)) {
        held.entries[held.count++] = {this, false};
        return LockStatus::acquired;
      }
    }
    return detail::throwing([&](Failure& f) { return acquire(deadline, f); });
  }
  return detail::without_throwing(*ec, [&](Failure& f) { return acquire(deadline, f); });
}

void ProcessMutex::unlock() noexcept {
  // The usual case first: this thread holds it and nobody sleeps on it.
  detail::HeldLocks& held = detail::held_locks();
  for (std::size_t i = 0; i < held.count; ++i) {
    if (held.entries[i].mutex != this) continue;
    std::uint64_t expected = detail::mutex_owner_word();
    if (owner_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      detail::drop_held(held, i);
      return;
    }
    break;
  }
  try {
    Failure ignored;
    release(ignored);
  } catch (...) {
    // Only a failure's message can throw (bad_alloc): nothing to report here.
  }
}

void ProcessMutex::unlock(std::error_code& ec) noexcept {
  detail::without_throwing(ec, [&](Failure& f) { release(f); });
}

bool ProcessMutex::owner_died() const noexcept {
  const detail::HeldLock* entry = detail::find_held(this, owner_);
  return entry != nullptr && entry->owner_died;
}

void ProcessMutex::note_owner_died() noexcept {
  detail::HeldLock* entry = detail::find_held(this, owner_);
  if (entry != nullptr) entry->owner_died = true;
}

SHMKIT_END_NAMESPACE
