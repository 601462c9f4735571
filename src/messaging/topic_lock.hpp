// The topic lock: an owner word in the control segment (TopicControl::
// lock_owner) with owner-death takeover, the same protocol as the owner-word
// mutex (src/sync/owner_word_mutex.cpp) with an eventcount for sleepers.
//
// The word is 0 or pack_slot() of the holding process. A contended locker
// spins briefly, then sleeps on lock_signal in short slices and checks after
// each whether the holder still runs; a dead holder's word is taken over with
// a compare-and-swap, and the taker is told so (acquired_owner_died), because
// the dead holder's operation was abandoned half-way: the caller then runs
// the topic's full reclamation pass, which is what makes that safe. Garbage in
// the word names no running process and is taken over the same way.
#pragma once

#include <shmkit/config.hpp>

#include "messaging/topic_layout.hpp"
#include "sync/word_waiter.hpp"

#include <shmkit/deadline.hpp>

#include <chrono>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

enum class TopicLockResult { acquired, acquired_owner_died, timed_out };

// A lock waits at least this long, whatever the caller's deadline (a
// try_ form, a destructor): its holders keep it for microseconds, so only a
// stuck or preempted holder, or garbage naming a live process, makes this
// matter. Measured from the first contended look, so the uncontended path
// never reads the clock.
inline constexpr auto k_topic_lock_grace = std::chrono::seconds(1);

class TopicLock {
 public:
  TopicLock() = default;
  // `self` is pack_slot() of this process.
  TopicLock(TopicControl& control, WordWaiter& waiter, std::uint64_t self) noexcept
      : control_(&control), waiter_(&waiter), self_(self) {}

  // Waits until `deadline`, or k_topic_lock_grace if that is later.
  TopicLockResult lock(Deadline deadline) noexcept;
  void unlock() noexcept;

 private:
  TopicControl* control_ = nullptr;
  WordWaiter* waiter_ = nullptr;
  std::uint64_t self_ = 0;
};

// Holds the lock for a scope. `owner_died` tells the caller to run the full
// reclamation pass; `locked` is false when the deadline passed first.
class TopicLockGuard {
 public:
  TopicLockGuard(TopicLock& lock, Deadline deadline) noexcept : lock_(lock) {
    const TopicLockResult result = lock.lock(deadline);
    locked = result != TopicLockResult::timed_out;
    owner_died = result == TopicLockResult::acquired_owner_died;
  }
  TopicLockGuard(const TopicLockGuard&) = delete;
  TopicLockGuard& operator=(const TopicLockGuard&) = delete;
  ~TopicLockGuard() {
    if (locked) lock_.unlock();
  }

  bool locked = false;
  bool owner_died = false;

 private:
  TopicLock& lock_;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
