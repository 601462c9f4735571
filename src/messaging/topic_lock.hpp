// The topic lock: an owner word in the control segment (TopicControl::
// lock_owner) with owner-death takeover, the same protocol as the owner-word
// mutex (src/sync/owner_word_mutex.cpp) with an eventcount for sleepers.
//
// The word is 0 or pack_slot() of the holding process, so it tells processes
// apart, not threads. The threads of one process are therefore serialised
// first by a process-local mutex (one of a few, chosen by the topic's name),
// held from lock() to unlock(): the shared word is contended only between
// processes, and a word that names this process while this thread holds the
// local mutex names no holder at all (garbage, or a takeover that went wrong)
// and is taken over like a dead holder's.
//
// A contended locker spins briefly, then sleeps on lock_signal in short
// slices and checks after each whether the holder still runs; a dead holder's
// word is taken over with a compare-and-swap, and the taker is told so
// (acquired_owner_died), because the dead holder's operation was abandoned
// half-way: the caller then runs the topic's full reclamation pass, which is
// what makes that safe. Garbage in the word names no running process and is
// taken over the same way.
//
// lock() honours the caller's deadline: a deadline that has passed (a try_
// form) gets a bounded spin and one look at the holder, nothing more. Only
// destructors and close() wait k_topic_lock_grace, whatever they are given.
//
// Fork: the local mutexes are process state; a child forked while another
// thread of the parent held one must not use topics (the usual rule for any
// mutex held across fork()).
#pragma once

#include <shmkit/config.hpp>

#include "messaging/topic_layout.hpp"
#include "sync/word_waiter.hpp"

#include <shmkit/deadline.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

enum class TopicLockResult { acquired, acquired_owner_died, timed_out };

// How long a destructor or close() waits for the lock before it releases its
// slot without it (topic_core.hpp: such a slot is only marked released, and
// is scrubbed and reused by the next locked reclamation pass). Holders keep
// the lock for microseconds, so only a stuck or preempted holder, or garbage
// naming a live process, makes this matter.
inline constexpr auto k_topic_lock_grace = std::chrono::seconds(1);

// The process-local mutex that serialises this process's threads on the
// lock of topic `name` (shared by every handle on that name; two names may
// share one, which costs only some parallelism: nobody holds two topic locks).
std::timed_mutex& topic_local_mutex(const std::string& name) noexcept;

class TopicLock {
 public:
  TopicLock() = default;
  // `self` is pack_slot() of this process; `local` is topic_local_mutex() of
  // the topic's name.
  TopicLock(TopicControl& control, WordWaiter& waiter, std::uint64_t self,
            std::timed_mutex& local) noexcept
      : control_(&control), waiter_(&waiter), local_(&local), self_(self) {}

  // Waits until `deadline` (a passed one: a bounded spin and one liveness
  // look).
  TopicLockResult lock(Deadline deadline) noexcept;
  void unlock() noexcept;

 private:
  TopicLockResult lock_shared_word(Deadline deadline) noexcept;

  TopicControl* control_ = nullptr;
  WordWaiter* waiter_ = nullptr;
  std::timed_mutex* local_ = nullptr;
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

// The deadline a destructor or close() waits for the lock: k_topic_lock_grace.
Deadline topic_lock_grace_deadline() noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
