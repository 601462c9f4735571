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
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The ProcessMutexes the calling thread holds (at the addresses it locked
// them through), and whether it took each over from a dead owner. The
// owner word says which process holds a mutex; this says which of its
// threads, without a thread id in shared memory that a dead owner's
// leftovers could make look like ours. Usually zero to three entries.
struct HeldLock {
  const void* mutex;
  bool owner_died;
};

std::vector<HeldLock>& held_locks() {
  thread_local std::vector<HeldLock> held;
  return held;
}

// The calling thread's entry for `mutex`, or null. An entry whose owner word
// no longer names this process (a fork() child's copy of its parent's list)
// is dropped: that lock is not ours.
HeldLock* find_held(const void* mutex, const std::atomic<std::uint64_t>& owner) noexcept {
  auto& held = held_locks();
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (held[i].mutex != mutex) continue;
    if (owner_word_holder(owner.load(std::memory_order_relaxed)) == mutex_owner_word()) {
      return &held[i];
    }
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
    return nullptr;
  }
  return nullptr;
}

void forget_held(const void* mutex) noexcept {
  auto& held = held_locks();
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (held[i].mutex == mutex) {
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
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

// What alive() learned about an owner, kept per thread: a ProcessMutex has
// no handle to keep it in, and one thread waits on one mutex at a time.
MutexOwnerLiveness& thread_liveness() {
  thread_local MutexOwnerLiveness liveness;
  return liveness;
}

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
  auto& held = detail::held_locks();
  held.reserve(held.size() + 1);  // so that recording the lock cannot fail
  detail::AddressSleep sleep;
  const LockStatus status = detail::owner_word_lock({owner_, releases_}, detail::mutex_owner_word(),
                                                    deadline, sleep, detail::thread_liveness());
  if (status == LockStatus::timed_out) return status;
  held.push_back({this, status == LockStatus::acquired_owner_died});
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
  if (ec == nullptr) return detail::throwing([&](Failure& f) { return acquire(deadline, f); });
  return detail::without_throwing(*ec, [&](Failure& f) { return acquire(deadline, f); });
}

void ProcessMutex::unlock() noexcept {
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
