#include "sync/owner_word_lock.hpp"
#include <shmkit/config.hpp>

#include "messaging/peer_wait.hpp"

#include <algorithm>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// A "running" answer about an owner is reused for this long, so that a loop
// of try_lock() calls on a held mutex asks the OS a few hundred times a
// second at most. Shorter than a slice: a sleeping waiter always asks.
constexpr auto k_trust_alive = k_liveness_slice / 2;

// A contended lock first watches the word this many times: an owner running
// on another CPU usually lets go within a few microseconds, much sooner than
// a sleep and a wake-up would take.
constexpr int k_spins = 100;

LockStatus lock_contended(OwnerWordLock words, std::uint64_t self, std::uint64_t seen,
                          Deadline deadline, OwnerWordSleep& sleep, MutexOwnerLiveness& liveness) {
  if (Clock::now() < deadline) {
    for (int spin = 0; spin < k_spins && owner_word_holder(seen) != 0; ++spin) {
      cpu_relax();
      seen = words.owner.load(std::memory_order_relaxed);
    }
  }
  // Once this thread has slept, others may sleep too whose announcement the
  // unlock that woke us consumed: it takes the lock with the sleepers bit
  // set, so that its own unlock wakes the next one. (A waiter that was killed
  // leaves at most one wake-up too many: the bit goes with the next unlock.)
  std::uint64_t announce = 0;
  // The owner being watched, and when to ask whether it still runs.
  std::uint64_t watched = owner_word_holder(seen);
  auto next_check = Clock::now() + k_liveness_slice;
  for (;;) {
    if (owner_word_holder(seen) == 0) {
      if (words.owner.compare_exchange_strong(seen, self | announce, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
        liveness.forget();
        return LockStatus::acquired;
      }
      // Someone came first. A word that flips between free values (only
      // another process writing garbage does that) must not keep us past
      // the deadline.
      if (owner_word_holder(seen) == 0) {
        if (Clock::now() >= deadline) return LockStatus::timed_out;
        continue;
      }
    }
    const auto now = Clock::now();
    if (owner_word_holder(seen) != watched) {
      watched = owner_word_holder(seen);
      next_check = now + k_liveness_slice;
    }
    // A dead owner is looked for once per slice, and always before giving
    // up: try_lock() on a dead owner's mutex takes it over.
    const bool last_chance = now >= deadline;
    if (last_chance || now >= next_check) {
      // One of this process's threads (through another handle) is alive by
      // definition.
      if (owner_word_holder(seen) != self &&
          !liveness.alive(owner_word_holder(seen), k_trust_alive)) {
        if (words.owner.compare_exchange_strong(seen, self | announce | (seen & k_sleepers_bit),
                                                std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
          liveness.forget();
          return LockStatus::acquired_owner_died;
        }
        // Another waiter took it over first. Past the deadline that is the
        // end: a word that keeps changing must not keep us here.
        if (!last_chance) continue;
      }
      if (last_chance) return LockStatus::timed_out;
      next_check = now + k_liveness_slice;
    }
    // Announce the sleep in the owner word itself, so the owner's unlock
    // knows to wake: one compare-and-swap, and no count that a killed waiter
    // could leave behind for ever.
    const std::uint32_t releases = words.releases.load(std::memory_order_seq_cst);
    if ((seen & k_sleepers_bit) == 0) {
      if (!words.owner.compare_exchange_strong(
              seen, seen | k_sleepers_bit, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        continue;  // it changed: look again
      }
      seen |= k_sleepers_bit;
    } else {
      const std::uint64_t now_seen = words.owner.load(std::memory_order_seq_cst);
      if (now_seen != seen) {
        seen = now_seen;
        continue;
      }
    }
    sleep.wait(words.releases, releases, std::min(deadline, next_check));
    announce = k_sleepers_bit;
    seen = words.owner.load(std::memory_order_relaxed);
  }
}

}  // namespace

LockStatus owner_word_lock(OwnerWordLock words, std::uint64_t self, Deadline deadline,
                           OwnerWordSleep& sleep, MutexOwnerLiveness& liveness) {
  std::uint64_t seen = 0;
  if (words.owner.compare_exchange_strong(seen, self, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
    return LockStatus::acquired;
  }
  return lock_contended(words, self, seen, deadline, sleep, liveness);
}

bool owner_word_unlock(OwnerWordLock words, std::uint64_t self, OwnerWordSleep& sleep) {
  std::uint64_t expected = self;
  if (words.owner.compare_exchange_strong(expected, 0, std::memory_order_release,
                                          std::memory_order_relaxed)) {
    return true;  // nobody announced a sleep: no system call
  }
  if (expected == (self | k_sleepers_bit) &&
      words.owner.compare_exchange_strong(expected, 0, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) {
    // After the owner word: a sleeper that read `releases` before announcing
    // itself sees it change, or is asleep and gets the wake.
    words.releases.fetch_add(1, std::memory_order_seq_cst);
    sleep.wake_one(words.releases);
    return true;
  }
  return false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
