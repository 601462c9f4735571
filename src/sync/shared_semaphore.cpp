#include "sync/shared_semaphore.hpp"
#include <shmkit/config.hpp>

#include "messaging/wait_hook.hpp"

#include <atomic>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_semaphore_layout = 0x53454d31;  // "SEM1"

class SharedSemaphore final : public SemaphoreObject {
 public:
  SharedSemaphore(SyncSegment segment, std::string name)
      : segment_(std::move(segment)),
        state_(*static_cast<SemaphoreState*>(segment_.state)),
        name_(std::move(name)) {}

  void post(std::uint32_t n, Failure& failure) override {
    std::uint32_t seen = state_.count.load(std::memory_order_relaxed);
    do {
      // A count past the maximum is corrupt or an overflow: refuse either way.
      if (seen > k_semaphore_max || n > k_semaphore_max - seen) {
        failure.set(errc::overflow, "semaphore " + quoted(name_) + " holds " +
                                        std::to_string(seen) + "; posting " + std::to_string(n) +
                                        " would pass its maximum of " +
                                        std::to_string(k_semaphore_max));
        return;
      }
    } while (!state_.count.compare_exchange_weak(seen, seen + n, std::memory_order_seq_cst));
    // Every announced waiter, not only `n`: one of them may be a WaitSet,
    // which looks without taking, and must not use up a wake-up a real
    // waiter needed. Those that lose the race for a unit sleep again.
    const std::uint32_t sleeping = state_.waiters.load(std::memory_order_seq_cst);
    if (sleeping != 0) segment_.waiters[0]->wake(state_.count, sleeping);
  }

  WaitHook wait_hook(Failure&) override {
    WaitHook hook;
    SemaphoreState* state = &state_;
    hook.ready = [state] { return state->count.load(std::memory_order_acquire) != 0; };
    hook.sleepers = &state_.waiters;
    hook.signal = &state_.count;
    hook.waiter = segment_.waiters[0].get();
    return hook;
  }

  bool wait_until(Deadline deadline, Failure&) override {
    for (;;) {
      if (try_take()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      state_.waiters.fetch_add(1, std::memory_order_seq_cst);
      if (state_.count.load(std::memory_order_seq_cst) == 0) {
        segment_.waiters[0]->wait(state_.count, 0, deadline);
      }
      state_.waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

 private:
  bool try_take() {
    std::uint32_t seen = state_.count.load(std::memory_order_relaxed);
    while (seen != 0) {
      if (state_.count.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  }

  SyncSegment segment_;
  SemaphoreState& state_;
  std::string name_;
};

void initialize_semaphore(void* state, const void* context, Failure&) {
  static_cast<SemaphoreState*>(state)->count.store(*static_cast<const std::uint32_t*>(context));
}

}  // namespace

std::unique_ptr<SemaphoreObject> open_shared_semaphore(const std::string& name,
                                                       const SegmentOptions& options, OpenMode mode,
                                                       std::uint32_t initial, Failure& failure) {
  SyncRequest request{ObjectKind::semaphore,
                      k_semaphore_layout,
                      sizeof(SemaphoreState),
                      1,
                      true,
                      &initialize_semaphore,
                      &initial};
  SyncSegment segment = open_sync_segment(name, options, mode, request, failure);
  if (failure) return nullptr;
  return std::make_unique<SharedSemaphore>(std::move(segment), name);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
