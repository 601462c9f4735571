#include "sync/shared_event.hpp"
#include <shmkit/config.hpp>

#include "messaging/wait_hook.hpp"

#include <atomic>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_event_layout = 0x45565431;  // "EVT1"

class SharedEvent final : public EventObject {
 public:
  explicit SharedEvent(SyncSegment segment)
      : segment_(std::move(segment)),
        state_(*static_cast<EventState*>(segment_.state)),
        manual_(state_.manual_reset != 0) {}

  void set(Failure&) override {
    // seq_cst on both sides: either we see the waiter's announcement and wake
    // it, or it sees our store before it sleeps.
    state_.signaled.store(1, std::memory_order_seq_cst);
    // Every announced waiter is woken, auto-reset too: one of them may be a
    // WaitSet, which looks without taking, and must not be the only one
    // woken while a real waiter sleeps on. The losers of the race for an
    // auto-reset signal sleep again.
    const std::uint32_t waiters = state_.waiters.load(std::memory_order_seq_cst);
    if (waiters != 0) segment_.waiters[0]->wake(state_.signaled, waiters);
  }

  void reset(Failure&) override { state_.signaled.store(0, std::memory_order_seq_cst); }

  WaitHook wait_hook(Failure&) override {
    WaitHook hook;
    EventState* state = &state_;
    // Any value but 0 is "set": a wait would take it at once.
    hook.ready = [state] { return state->signaled.load(std::memory_order_acquire) != 0; };
    hook.sleepers = &state_.waiters;
    hook.signal = &state_.signaled;
    hook.waiter = segment_.waiters[0].get();
    return hook;
  }

  bool wait_until(Deadline deadline, Failure&) override {
    for (;;) {
      if (try_take()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      state_.waiters.fetch_add(1, std::memory_order_seq_cst);
      if (state_.signaled.load(std::memory_order_seq_cst) == 0) {
        segment_.waiters[0]->wait(state_.signaled, 0, deadline);
      }
      state_.waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

 private:
  bool try_take() {
    if (manual_) return state_.signaled.load(std::memory_order_acquire) != 0;
    // Auto reset: whoever turns it from set to unset is the one released.
    std::uint32_t seen = state_.signaled.load(std::memory_order_relaxed);
    while (seen != 0) {
      if (state_.signaled.compare_exchange_weak(seen, 0, std::memory_order_acquire)) return true;
    }
    return false;
  }

  SyncSegment segment_;
  EventState& state_;
  const bool manual_;
};

void initialize_event(void* state, const void* context, Failure&) {
  static_cast<EventState*>(state)->manual_reset =
      *static_cast<const EventReset*>(context) == EventReset::manual_reset ? 1 : 0;
}

}  // namespace

std::unique_ptr<EventObject> open_shared_event(const std::string& name,
                                               const SegmentOptions& options, OpenMode mode,
                                               EventReset reset, Failure& failure) {
  SyncRequest request{ObjectKind::event, k_event_layout, sizeof(EventState), 1, true,
                      &initialize_event, &reset};
  SyncSegment segment = open_sync_segment(name, options, mode, request, failure);
  if (failure) return nullptr;
  return std::make_unique<SharedEvent>(std::move(segment));
}

}  // namespace detail
SHMKIT_END_NAMESPACE
