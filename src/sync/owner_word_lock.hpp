// The owner-word lock protocol, in one place: used by NamedMutex on POSIX
// (src/sync/owner_word_mutex.cpp, which sleeps on a WordWaiter) and by
// ProcessMutex on every platform (which sleeps on an address, see
// src/sync/address_wait.hpp).
//
// The shared state is two integers: the owner word (0 when free, or
// mutex_owner_word() of the owning process, maybe with k_sleepers_bit set by a
// waiter before it sleeps) and the releases word that sleepers wait on, bumped
// by every unlock that finds the sleepers bit. Nothing in it is a pointer.
//
// Nobody is told when an owner dies, so a waiter that has seen the same owner
// for a whole liveness slice asks the OS whether that process still runs
// (MutexOwnerLiveness); if not, it takes the word over with a
// compare-and-swap (one waiter wins) and reports the death. Any value in the
// owner word that names no running process (garbage written by another
// process) is taken over the same way.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/named_mutex.hpp>

#include "sync/mutex_owner_liveness.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Set in the owner word by a waiter before it sleeps: the owner's unlock must
// wake someone. Owner words keep pids below 2^31, so the top bit is free.
inline constexpr std::uint64_t k_sleepers_bit = std::uint64_t{1} << 63;

// How long a waiter sleeps on one owner before it asks whether that owner
// still runs: the bound on noticing a dead owner while waiting (docs/sync.md).
inline constexpr auto k_liveness_slice = std::chrono::milliseconds(5);

inline std::uint64_t owner_word_holder(std::uint64_t word) noexcept {
  return word & ~k_sleepers_bit;
}

// How a lock sleeps until the releases word changes, and wakes a sleeper.
class OwnerWordSleep {
 public:
  // Sleeps while `releases` holds `seen`, until woken or `deadline`. May
  // return early for no reason.
  virtual void wait(const std::atomic<std::uint32_t>& releases, std::uint32_t seen,
                    Deadline deadline) = 0;
  virtual void wake_one(std::atomic<std::uint32_t>& releases) = 0;

 protected:
  ~OwnerWordSleep() = default;
};

// The words of one lock, in shared memory.
struct OwnerWordLock {
  std::atomic<std::uint64_t>& owner;
  std::atomic<std::uint32_t>& releases;
};

// Takes the lock for `self` (mutex_owner_word()) by `deadline`. A word held
// by `self` counts as held by another thread of this process (alive by
// definition): callers check their own thread first.
LockStatus owner_word_lock(OwnerWordLock words, std::uint64_t self, Deadline deadline,
                           OwnerWordSleep& sleep, MutexOwnerLiveness& liveness);

// Releases a lock `self` holds. False (nothing changed) if the owner word
// does not hold `self`: another process wrote to it.
bool owner_word_unlock(OwnerWordLock words, std::uint64_t self, OwnerWordSleep& sleep);

}  // namespace detail
SHMKIT_END_NAMESPACE
