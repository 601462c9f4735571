// The topic lock: an owner word in the control segment (TopicControl::
// lock_owner) with owner-death takeover, the same protocol as the owner-word
// mutex (src/sync/owner_word_mutex.cpp) with an eventcount for sleepers.
//
// The word is 0 or pack_slot() of the holding process, so it tells processes
// apart, not threads. The threads of one process therefore share a
// process-local state per topic name (TopicLocalLock): while this process
// has one handle on the topic (the usual case), that handle takes the shared
// word directly, raising `fast_held` first (released by the word's
// compare-and-swap, so whoever reads our word there sees it raised); with
// more, each handle first takes the process-local mutex, held from lock() to
// unlock(), so that the shared word is contended only between processes, and
// a word that names this process while this thread holds the local mutex and
// `fast_held` is down names no holder at all (garbage, or a takeover that
// went wrong) and is taken over like a dead holder's. The handle count grows
// before a handle's first lock and shrinks after its last unlock (seq_cst,
// as the fast path's read of it and the word's operations): a handle that
// attaches while the only one holds the word through the fast path finds
// `fast_held` raised and waits like behind any live holder, and the fast
// holder's next lock sees the new count and takes the local mutex.
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

#include <atomic>
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

// What the threads of one process share about the lock of one topic name.
struct TopicLocalLock {
  std::timed_mutex mutex;
  std::atomic<std::uint32_t> handles{0};  // TopicLocks attached to this name
  std::atomic<bool> fast_held{false};     // the only handle holds the word without `mutex`
  // pack_slot() of the process whose handles are counted. A fork() child
  // inherits its parent's entry (counts of handles it must not use, and a
  // mutex a parent thread may have held at the fork, which nobody in the
  // child will ever unlock): its first attach puts a fresh entry in its
  // place and leaves the inherited one to the inherited handles.
  std::atomic<std::uint64_t> process{0};
};

// The state of topic `name` in this process `self` (pack_slot()); never
// freed: a handle in a static object may close after this file's statics
// are gone.
TopicLocalLock& topic_local_lock(const std::string& name, std::uint64_t self);

class TopicLock {
 public:
  TopicLock() = default;
  // `self` is pack_slot() of this process; `local` is topic_local_lock() of
  // the topic's name. Counted in local.handles until destroyed.
  TopicLock(TopicControl& control, WordWaiter& waiter, std::uint64_t self,
            TopicLocalLock& local) noexcept;
  TopicLock(const TopicLock&) = delete;
  TopicLock& operator=(const TopicLock&) = delete;
  TopicLock& operator=(TopicLock&& other) noexcept;
  ~TopicLock();

  // Waits until `deadline` (a passed one: a bounded spin and one liveness
  // look).
  TopicLockResult lock(Deadline deadline) noexcept;
  void unlock() noexcept;

 private:
  TopicLockResult lock_shared_word(Deadline deadline) noexcept;
  bool counted() const noexcept;

  TopicControl* control_ = nullptr;
  WordWaiter* waiter_ = nullptr;
  TopicLocalLock* local_ = nullptr;
  std::uint64_t self_ = 0;
  bool fast_ = false;  // held through the fast path (no local mutex)
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
