#include "owner_word_mutex.hpp"

#include "process_identity.hpp"
#include "segment_header.hpp"
#include "sync_segment.hpp"

#include <algorithm>
#include <atomic>

namespace shmkit::detail {
namespace {

constexpr std::uint32_t k_owner_word_layout = 0x4d54584f;  // "MTXO"

// How often a waiter looks at whether the owner is still alive. Only
// contended waits pay for it, and a dead owner is noticed within one slice.
constexpr auto k_liveness_slice = std::chrono::milliseconds(20);

struct OwnerWordState {
  std::atomic<std::uint64_t> owner;     // 0, or pack_slot() of the owning process
  std::atomic<std::uint32_t> waiters;   // processes inside a contended lock
  std::atomic<std::uint32_t> releases;  // bumped by every contended unlock: the word waited on
};

class OwnerWordMutex final : public MutexImpl {
 public:
  OwnerWordMutex(SyncSegment segment, std::string name)
      : segment_(std::move(segment)),
        state_(*static_cast<OwnerWordState*>(segment_.state)),
        name_(std::move(name)),
        self_(pack_slot(current_process())) {}

  LockStatus lock_until(Deadline deadline, Failure&) override {
    for (;;) {
      std::uint64_t owner = 0;
      if (state_.owner.compare_exchange_strong(owner, self_, std::memory_order_acquire)) {
        return LockStatus::acquired;
      }
      // `owner` now holds the current owner. One of our own threads holding it
      // through another handle is alive by definition.
      if (owner != self_ && !is_alive(owner >> 32, owner, k_slot_start_time_mask) &&
          state_.owner.compare_exchange_strong(owner, self_, std::memory_order_acquire)) {
        return LockStatus::acquired_owner_died;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return LockStatus::timed_out;
      const std::uint32_t releases = state_.releases.load(std::memory_order_seq_cst);
      state_.waiters.fetch_add(1, std::memory_order_seq_cst);
      if (state_.owner.load(std::memory_order_seq_cst) != 0) {
        const Deadline slice =
            deadline - now > k_liveness_slice ? now + k_liveness_slice : deadline;
        segment_.waiters[0]->wait(state_.releases, releases, slice);
      }
      state_.waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  void unlock(Failure& failure) override {
    std::uint64_t expected = self_;
    if (!state_.owner.compare_exchange_strong(expected, 0, std::memory_order_seq_cst)) {
      failure.set(std::make_error_code(std::errc::operation_not_permitted),
                  "unlock mutex " + quoted(name_) +
                      ": this process does not own it (was it taken over after a stall?)");
      return;
    }
    if (state_.waiters.load(std::memory_order_seq_cst) != 0) {
      state_.releases.fetch_add(1, std::memory_order_seq_cst);
      segment_.waiters[0]->wake(state_.releases, 1);
    }
  }

 private:
  SyncSegment segment_;
  OwnerWordState& state_;
  std::string name_;
  std::uint64_t self_;
};

}  // namespace

std::unique_ptr<MutexImpl> open_owner_word_mutex(const std::string& name, const Options& options,
                                                 OpenMode mode, Failure& failure) {
  SyncRequest request{
      SegmentKind::mutex, k_owner_word_layout, sizeof(OwnerWordState), 1, true, nullptr, nullptr};
  SyncSegment segment = open_sync_segment(name, options, mode, request, failure);
  if (failure) return nullptr;
  return std::make_unique<OwnerWordMutex>(std::move(segment), name);
}

}  // namespace shmkit::detail
