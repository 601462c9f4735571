#include "messaging/topic_lock.hpp"

#include "core/process_identity.hpp"
#include "messaging/peer_wait.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// How long a sleeper waits on one holder before asking whether it still
// runs: the bound on noticing a dead holder.
constexpr auto k_lock_liveness_slice = std::chrono::milliseconds(5);
constexpr int k_lock_spins = 200;

bool take_local(std::timed_mutex& local, Deadline deadline) noexcept {
  if (local.try_lock()) return true;
  // A thread of this process holds it for microseconds: spin a little
  // before sleeping, and that is all a passed deadline gets.
  for (int spin = 0; spin < k_lock_spins; ++spin) {
    cpu_relax();
    if (local.try_lock()) return true;
  }
  if (deadline == k_forever) {
    try {
      local.lock();
      return true;
    } catch (...) {
      return false;
    }
  }
  if (Clock::now() >= deadline) return false;
  try {
    return local.try_lock_until(deadline);
  } catch (...) {
    return false;
  }
}

}  // namespace

namespace {

// Serialises this process's lookups in the table of local locks (held for
// a map lookup only). Not a std::mutex: a fork() child finds this held only
// if a parent thread was inside at the fork, a thread the child does not
// have, so a holder word naming another process is taken over.
class AttachGuard {
 public:
  explicit AttachGuard(std::atomic<std::uint64_t>& holder, std::uint64_t self) noexcept
      : holder_(holder), self_(self) {
    for (;;) {
      std::uint64_t seen = 0;
      if (holder_.compare_exchange_weak(seen, self_, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return;
      }
      if (seen != 0 && seen != self_ &&
          holder_.compare_exchange_strong(seen, self_, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        return;  // our parent's, inherited across fork()
      }
      cpu_relax();
    }
  }
  AttachGuard(const AttachGuard&) = delete;
  AttachGuard& operator=(const AttachGuard&) = delete;
  ~AttachGuard() { holder_.store(0, std::memory_order_release); }

 private:
  std::atomic<std::uint64_t>& holder_;
  std::uint64_t self_;
};

}  // namespace

TopicLocalLock& topic_local_lock(const std::string& name, std::uint64_t self) {
  // Never destroyed (see the declaration); entries are never freed, so a
  // reference stays valid, and topics are opened seldom enough for one guard.
  static auto* const holder = new std::atomic<std::uint64_t>(0);
  static auto* const locks = new std::unordered_map<std::string, std::unique_ptr<TopicLocalLock>>;
  const AttachGuard hold(*holder, self);
  std::unique_ptr<TopicLocalLock>& entry = (*locks)[name];
  if (entry && entry->process.load(std::memory_order_relaxed) != self) {
    // The first attach of a fork() child: the entry is its parent's. Its
    // inherited handles keep pointing at it (they never lock: topic.hpp),
    // so it is left alive, not freed.
    static_cast<void>(entry.release());
  }
  if (!entry) {
    entry = std::make_unique<TopicLocalLock>();
    entry->process.store(self, std::memory_order_relaxed);
  }
  return *entry;
}

TopicLock::TopicLock(TopicControl& control, WordWaiter& waiter, std::uint64_t self,
                     TopicLocalLock& local) noexcept
    : control_(&control), waiter_(&waiter), local_(&local), self_(self) {
  local_->handles.fetch_add(1, std::memory_order_seq_cst);
}

TopicLock& TopicLock::operator=(TopicLock&& other) noexcept {
  if (this != &other) {
    if (counted()) local_->handles.fetch_sub(1, std::memory_order_seq_cst);
    control_ = other.control_;
    waiter_ = other.waiter_;
    local_ = std::exchange(other.local_, nullptr);
    self_ = other.self_;
    fast_ = std::exchange(other.fast_, false);
  }
  return *this;
}

TopicLock::~TopicLock() {
  if (counted()) local_->handles.fetch_sub(1, std::memory_order_seq_cst);
}

bool TopicLock::counted() const noexcept {
  // Not a handle a fork() child inherited: its count is not the child's.
  return local_ != nullptr && local_->process.load(std::memory_order_relaxed) == self_;
}

Deadline topic_lock_grace_deadline() noexcept {
  return deadline_after(k_topic_lock_grace);
}

TopicLockResult TopicLock::lock(Deadline deadline) noexcept {
  // The only handle of this process on the topic: no sibling to keep out,
  // so the shared word alone (topic_lock.hpp). Uncontended only; anything
  // else goes the general way.
  if (local_->handles.load(std::memory_order_seq_cst) == 1) {
    local_->fast_held.store(true, std::memory_order_relaxed);
    std::uint64_t expected = 0;
    if (control_->lock_owner.compare_exchange_strong(expected, self_, std::memory_order_seq_cst,
                                                     std::memory_order_relaxed)) {
      fast_ = true;
      return TopicLockResult::acquired;
    }
    local_->fast_held.store(false, std::memory_order_relaxed);
  }
  if (!take_local(local_->mutex, deadline)) return TopicLockResult::timed_out;
  const TopicLockResult result = lock_shared_word(deadline);
  if (result == TopicLockResult::timed_out) local_->mutex.unlock();
  return result;
}

TopicLockResult TopicLock::lock_shared_word(Deadline deadline) noexcept {
  // Every access to the word is seq_cst (topic_lock.hpp): one that finds our word written by a
  // sibling's fast path then sees its `fast_held` raised.
  std::atomic<std::uint64_t>& owner = control_->lock_owner;
  std::uint64_t seen = 0;
  if (owner.compare_exchange_strong(seen, self_, std::memory_order_seq_cst,
                                    std::memory_order_seq_cst)) {
    return TopicLockResult::acquired;
  }
  for (int spin = 0; spin < k_lock_spins && seen != 0 && seen != self_; ++spin) {
    cpu_relax();
    seen = owner.load(std::memory_order_seq_cst);
  }
  auto next_check = Clock::now() + k_lock_liveness_slice;
  for (;;) {
    if (seen == 0) {
      if (owner.compare_exchange_strong(seen, self_, std::memory_order_seq_cst,
                                        std::memory_order_seq_cst)) {
        return TopicLockResult::acquired;
      }
      if (seen == 0) {
        if (Clock::now() >= deadline) return TopicLockResult::timed_out;
        continue;
      }
    }
    const auto now = Clock::now();
    const bool last_chance = now >= deadline;
    // Our own word while this thread holds the local mutex and no handle of
    // ours holds it through the fast path: no thread of ours holds the lock,
    // so the word names no holder (garbage, or a word left by a takeover
    // gone wrong): taken over at once, like a dead one's. With `fast_held`
    // raised, it is a live holder's (we wait, and look again).
    const bool ours = seen == self_ && !local_->fast_held.load(std::memory_order_seq_cst);
    if (ours || last_chance || now >= next_check) {
      if (ours || !is_alive(seen >> 32, seen, k_slot_start_time_mask)) {
        if (owner.compare_exchange_strong(seen, self_, std::memory_order_seq_cst,
                                          std::memory_order_seq_cst)) {
          return TopicLockResult::acquired_owner_died;
        }
        if (!last_chance) continue;
      }
      if (last_chance) return TopicLockResult::timed_out;
      next_check = now + k_lock_liveness_slice;
    }
    // Eventcount: announce, re-check, sleep until the next liveness check.
    const std::uint32_t signal = control_->lock_signal.load(std::memory_order_seq_cst);
    control_->lock_sleepers.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t again = owner.load(std::memory_order_seq_cst);
    if (again == seen) {
      waiter_->wait(control_->lock_signal, signal, std::min(deadline, next_check));
    }
    control_->lock_sleepers.fetch_sub(1, std::memory_order_relaxed);
    seen = owner.load(std::memory_order_seq_cst);
  }
}

void TopicLock::unlock() noexcept {
  std::uint64_t expected = self_;
  // Only our own word is cleared: if another process took the lock over
  // from us (it judged us dead, wrongly), it is theirs now.
  // seq_cst CAS, then a seq_cst load of the sleepers: ordered like a fence
  // between them would (a sleeper announces itself with a seq_cst RMW and a
  // fence, then looks at the word), without paying for one.
  if (control_->lock_owner.compare_exchange_strong(expected, 0, std::memory_order_seq_cst,
                                                   std::memory_order_relaxed)) {
    if (control_->lock_sleepers.load(std::memory_order_seq_cst) != 0) {
      control_->lock_signal.fetch_add(1, std::memory_order_release);
      waiter_->wake(control_->lock_signal, 1);
    }
  }
  if (fast_) {
    // After the word: a sibling that still reads our word there sees the
    // flag raised and waits, never takes it over.
    fast_ = false;
    local_->fast_held.store(false, std::memory_order_release);
  } else {
    local_->mutex.unlock();
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
