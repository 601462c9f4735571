#include "sync/owner_word_mutex.hpp"
#include <shmkit/config.hpp>

#include "messaging/peer_wait.hpp"
#include "segment/segment_header.hpp"
#include "sync/mutex_owner_liveness.hpp"
#include "sync/sync_segment.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The layout tag in the mutex segment's preamble. Earlier builds used "MTXR"
// (a 40-byte robust pthread_mutex_t, Linux) and "MTXO" (16 bytes, the
// portable path); the state's size differs from both as well, so a segment
// of either is refused as errc::incompatible_layout, never misread.
constexpr std::uint32_t k_owner_word_layout = 0x4d545857;  // "MTXW"

// How long a waiter sleeps on one owner before it asks whether that owner
// still runs: the bound on noticing a dead owner while waiting (docs/sync.md).
// Only waits that last this long pay for it: a wake-up and one system call
// (a poll() of a pidfd on Linux) per slice.
constexpr auto k_liveness_slice = std::chrono::milliseconds(5);

// A "running" answer about an owner is reused for this long, so that a loop
// of try_lock() calls on a held mutex asks the OS a few hundred times a
// second at most. Shorter than a slice: a sleeping waiter always asks.
constexpr auto k_trust_alive = k_liveness_slice / 2;

// A contended lock first watches the word this many times: an owner running
// on another CPU usually lets go within a few microseconds, much sooner than
// a sleep and a wake-up would take.
constexpr int k_spins = 100;

// Set in the owner word by a waiter before it sleeps: the owner's unlock must
// wake someone. pack_slot() keeps pids below 2^31, so the top bit is free. If
// someone else clears it, a sleeper is not woken by the unlock and notices
// at the end of its slice instead.
constexpr std::uint64_t k_sleepers_bit = std::uint64_t{1} << 63;

struct OwnerWordState {
  // 0 when free, or mutex_owner_word() of the owning process, maybe with
  // k_sleepers_bit. Any other value (garbage written by another process)
  // names no running process and is taken over as from a dead owner.
  std::atomic<std::uint64_t> owner;
  // The word waiters sleep on, bumped by every unlock that finds
  // k_sleepers_bit. Only compared for change.
  std::atomic<std::uint32_t> releases;
  std::uint32_t reserved0;
  // mutex_pid_namespace() of the creator; openers in another one are refused.
  std::atomic<std::uint64_t> pid_namespace;
  std::uint8_t reserved[40];
};

static_assert(sizeof(OwnerWordState) == 64, "the mutex state layout is fixed");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free to be address-free");

using Clock = std::chrono::steady_clock;

class OwnerWordMutex final : public MutexObject {
 public:
  OwnerWordMutex(SyncSegment segment, std::string name)
      : segment_(std::move(segment)),
        state_(*static_cast<OwnerWordState*>(segment_.state)),
        waiter_(*segment_.waiters[0]),
        name_(std::move(name)) {}

  LockStatus lock_until(Deadline deadline, Failure&) override {
    const std::uint64_t self = mutex_owner_word();
    std::uint64_t seen = 0;
    if (state_.owner.compare_exchange_strong(seen, self, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
      return LockStatus::acquired;
    }
    return lock_contended(self, seen, deadline);
  }

  void unlock(Failure& failure) override {
    const std::uint64_t self = mutex_owner_word();
    std::uint64_t expected = self;
    if (state_.owner.compare_exchange_strong(expected, 0, std::memory_order_release,
                                             std::memory_order_relaxed)) {
      return;  // nobody announced a sleep: no system call
    }
    if (expected == (self | k_sleepers_bit) &&
        state_.owner.compare_exchange_strong(expected, 0, std::memory_order_seq_cst,
                                             std::memory_order_relaxed)) {
      // After the owner word: a sleeper that read `releases` before
      // announcing itself sees it change, or is asleep and gets the wake.
      state_.releases.fetch_add(1, std::memory_order_seq_cst);
      waiter_.wake(state_.releases, 1);
      return;
    }
    failure.set(errc::corrupted,
                "mutex " + quoted(name_) +
                    " is no longer held by this process (another process wrote to its state, "
                    "or this process is a fork() child of the one that locked it), so it was "
                    "left as it is; find out what else writes to it");
  }

 private:
  static std::uint64_t holder(std::uint64_t word) noexcept { return word & ~k_sleepers_bit; }

  LockStatus lock_contended(std::uint64_t self, std::uint64_t seen, Deadline deadline) {
    if (Clock::now() < deadline) {
      for (int spin = 0; spin < k_spins && holder(seen) != 0; ++spin) {
        cpu_relax();
        seen = state_.owner.load(std::memory_order_relaxed);
      }
    }
    // Once this thread has slept, others may sleep too whose announcement
    // the unlock that woke us consumed: it takes the lock with the sleepers
    // bit set, so that its own unlock wakes the next one. (A waiter that was
    // killed leaves at most one wake-up too many: the bit goes with the
    // next unlock.)
    std::uint64_t announce = 0;
    // The owner being watched, and when to ask whether it still runs.
    std::uint64_t watched = holder(seen);
    auto next_check = Clock::now() + k_liveness_slice;
    for (;;) {
      if (holder(seen) == 0) {
        if (state_.owner.compare_exchange_strong(seen, self | announce, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
          liveness_.forget();
          return LockStatus::acquired;
        }
        // Someone came first. A word that flips between free values (only
        // another process writing garbage does that) must not keep us past
        // the deadline.
        if (holder(seen) == 0) {
          if (Clock::now() >= deadline) return LockStatus::timed_out;
          continue;
        }
      }
      const auto now = Clock::now();
      if (holder(seen) != watched) {
        watched = holder(seen);
        next_check = now + k_liveness_slice;
      }
      // A dead owner is looked for once per slice, and always before giving
      // up: try_lock() on a dead owner's mutex takes it over.
      const bool last_chance = now >= deadline;
      if (last_chance || now >= next_check) {
        // One of this process's threads (through another handle) is alive
        // by definition.
        if (holder(seen) != self && !liveness_.alive(holder(seen), k_trust_alive)) {
          if (state_.owner.compare_exchange_strong(seen, self | announce | (seen & k_sleepers_bit),
                                                   std::memory_order_acquire,
                                                   std::memory_order_relaxed)) {
            liveness_.forget();
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
      // knows to wake: one compare-and-swap, and no count that a killed
      // waiter could leave behind for ever.
      const std::uint32_t releases = state_.releases.load(std::memory_order_seq_cst);
      if ((seen & k_sleepers_bit) == 0) {
        if (!state_.owner.compare_exchange_strong(seen, seen | k_sleepers_bit,
                                                  std::memory_order_seq_cst,
                                                  std::memory_order_relaxed)) {
          continue;  // it changed: look again
        }
        seen |= k_sleepers_bit;
      } else {
        const std::uint64_t now_seen = state_.owner.load(std::memory_order_seq_cst);
        if (now_seen != seen) {
          seen = now_seen;
          continue;
        }
      }
      waiter_.wait(state_.releases, releases, std::min(deadline, next_check));
      announce = k_sleepers_bit;
      seen = state_.owner.load(std::memory_order_relaxed);
    }
  }

  SyncSegment segment_;
  OwnerWordState& state_;
  WordWaiter& waiter_;
  std::string name_;
  MutexOwnerLiveness liveness_;
};

void initialize_state(void* state, const void*, Failure&) {
  static_cast<OwnerWordState*>(state)->pid_namespace.store(mutex_pid_namespace(),
                                                           std::memory_order_relaxed);
}

}  // namespace

std::unique_ptr<MutexObject> open_owner_word_mutex(const std::string& name,
                                                   const SegmentOptions& options, OpenMode mode,
                                                   Failure& failure) {
  SyncRequest request{ObjectKind::mutex,
                      k_owner_word_layout,
                      sizeof(OwnerWordState),
                      1,
                      true,
                      &initialize_state,
                      nullptr};
  SyncSegment segment = open_sync_segment(name, options, mode, request, failure);
  if (failure) return nullptr;
  // An owner word holds a pid, which means nothing (or another process) in
  // another PID namespace: a live owner there would look dead from here and
  // its lock would be taken from it.
  const std::uint64_t creator_namespace =
      static_cast<OwnerWordState*>(segment.state)->pid_namespace.load(std::memory_order_relaxed);
  const std::uint64_t own_namespace = mutex_pid_namespace();
  if (creator_namespace != 0 && own_namespace != 0 && creator_namespace != own_namespace) {
    failure.set(errc::incompatible_layout,
                "mutex " + quoted(name) +
                    " was created in another PID namespace, where its owners' pids mean "
                    "other processes; run every process that shares it in one PID namespace "
                    "(e.g. docker run --pid=host or --pid=container:NAME)");
    return nullptr;
  }
  return std::make_unique<OwnerWordMutex>(std::move(segment), name);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
