#include "sync/owner_word_mutex.hpp"
#include <shmkit/config.hpp>

#include "segment/segment_header.hpp"
#include "sync/mutex_owner_liveness.hpp"
#include "sync/owner_word_lock.hpp"
#include "sync/sync_segment.hpp"

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

// The protocol's sleeps, on the mutex's WordWaiter (a futex, or a named
// semaphore on the portable path).
class WordWaiterSleep final : public OwnerWordSleep {
 public:
  explicit WordWaiterSleep(WordWaiter& waiter) noexcept : waiter_(waiter) {}
  void wait(const std::atomic<std::uint32_t>& releases, std::uint32_t seen,
            Deadline deadline) override {
    waiter_.wait(releases, seen, deadline);
  }
  void wake_one(std::atomic<std::uint32_t>& releases) override { waiter_.wake(releases, 1); }

 private:
  WordWaiter& waiter_;
};

class OwnerWordMutex final : public MutexObject {
 public:
  OwnerWordMutex(SyncSegment segment, std::string name)
      : segment_(std::move(segment)),
        state_(*static_cast<OwnerWordState*>(segment_.state)),
        sleep_(*segment_.waiters[0]),
        name_(std::move(name)) {}

  LockStatus lock_until(Deadline deadline, Failure&) override {
    return owner_word_lock(words(), mutex_owner_word(), deadline, sleep_, liveness_);
  }

  void unlock(Failure& failure) override {
    if (owner_word_unlock(words(), mutex_owner_word(), sleep_)) return;
    failure.set(errc::corrupted,
                "mutex " + quoted(name_) +
                    " is no longer held by this process (another process wrote to its state, "
                    "or this process is a fork() child of the one that locked it), so it was "
                    "left as it is; find out what else writes to it");
  }

 private:
  OwnerWordLock words() noexcept { return {state_.owner, state_.releases}; }

  SyncSegment segment_;
  OwnerWordState& state_;
  WordWaiterSleep sleep_;
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
