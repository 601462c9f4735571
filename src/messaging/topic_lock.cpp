#include "messaging/topic_lock.hpp"

#include "core/process_identity.hpp"
#include "messaging/peer_wait.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// How long a sleeper waits on one holder before asking whether it still
// runs: the bound on noticing a dead holder.
constexpr auto k_lock_liveness_slice = std::chrono::milliseconds(5);
constexpr int k_lock_spins = 200;

// Topic locks this process holds now (any topic, any thread). The lock is
// never taken twice by one thread, so a word that names this process while
// it holds none is garbage, not a holder to wait for.
std::atomic<int> g_held_here{0};

}  // namespace

TopicLockResult TopicLock::lock(Deadline deadline) noexcept {
  std::atomic<std::uint64_t>& owner = control_->lock_owner;
  std::uint64_t seen = 0;
  if (owner.compare_exchange_strong(seen, self_, std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
    g_held_here.fetch_add(1, std::memory_order_relaxed);
    return TopicLockResult::acquired;
  }
  for (int spin = 0; spin < k_lock_spins && seen != 0; ++spin) {
    cpu_relax();
    seen = owner.load(std::memory_order_relaxed);
  }
  const auto started = Clock::now();
  deadline =
      std::max(deadline, started + std::chrono::duration_cast<Clock::duration>(k_topic_lock_grace));
  auto next_check = started + k_lock_liveness_slice;
  for (;;) {
    if (seen == 0) {
      if (owner.compare_exchange_strong(seen, self_, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        g_held_here.fetch_add(1, std::memory_order_relaxed);
        return TopicLockResult::acquired;
      }
      if (seen == 0) {
        if (Clock::now() >= deadline) return TopicLockResult::timed_out;
        continue;
      }
    }
    const auto now = Clock::now();
    const bool last_chance = now >= deadline;
    if (last_chance || now >= next_check) {
      const bool ours_but_not_held =
          seen == self_ && g_held_here.load(std::memory_order_relaxed) == 0;
      const bool dead = seen != self_ && !is_alive(seen >> 32, seen, k_slot_start_time_mask);
      if (ours_but_not_held || dead) {
        if (owner.compare_exchange_strong(seen, self_, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
          g_held_here.fetch_add(1, std::memory_order_relaxed);
          return TopicLockResult::acquired_owner_died;
        }
        if (!last_chance) continue;
      }
      if (last_chance) return TopicLockResult::timed_out;
      next_check = now + k_lock_liveness_slice;
    }
    // Eventcount: announce, re-check, sleep until the next liveness check.
    const std::uint32_t signal = control_->lock_signal.load(std::memory_order_acquire);
    control_->lock_sleepers.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t again = owner.load(std::memory_order_seq_cst);
    if (again == seen) {
      waiter_->wait(control_->lock_signal, signal, std::min(deadline, next_check));
    }
    control_->lock_sleepers.fetch_sub(1, std::memory_order_relaxed);
    seen = owner.load(std::memory_order_relaxed);
  }
}

void TopicLock::unlock() noexcept {
  std::uint64_t expected = self_;
  // Only our own word is cleared: if another process took the lock over
  // from us (it judged us dead, wrongly), it is theirs now.
  if (control_->lock_owner.compare_exchange_strong(expected, 0, std::memory_order_release,
                                                   std::memory_order_relaxed)) {
    g_held_here.fetch_sub(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (control_->lock_sleepers.load(std::memory_order_relaxed) != 0) {
      control_->lock_signal.fetch_add(1, std::memory_order_release);
      waiter_->wake(control_->lock_signal, 1);
    }
  } else {
    g_held_here.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
