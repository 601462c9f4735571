#include "managed/heap_lock.hpp"

#include <shmkit/errc.hpp>

#include <system_error>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// The heaps this thread holds the lock of (nested calls from a named
// object's constructor or destructor). A thread holds few at once.
constexpr int k_max_held = 16;
thread_local const void* t_held[k_max_held];
thread_local int t_held_count = 0;

bool held(const void* heap) noexcept {
  for (int i = 0; i < t_held_count; ++i) {
    if (t_held[i] == heap) return true;
  }
  return false;
}

}  // namespace

HeapLock::HeapLock(Heap& heap, Failure& failure) : heap_(heap) {
  const void* key = &heap.header();
  if (held(key)) return;
  if (t_held_count == k_max_held) {
    failure.set(errc::invalid_state, "managed segment " + quoted(heap.name()) +
                                         ": this thread already holds " +
                                         std::to_string(k_max_held) + " heap locks");
    return;
  }
  ProcessMutex& mutex = heap.header().lock;
  std::error_code ec;
  mutex.lock(ec);
  if (ec) {
    failure.set(ec, "managed segment " + quoted(heap.name()) + ": cannot lock its heap (" +
                        ec.message() + ")");
    return;
  }
  t_held[t_held_count++] = key;
  owns_ = true;
  // The previous holder died inside an operation: finish or roll it back
  // before anyone goes on. owner_died() is reported once only, so the death
  // is also recorded in the heap (needs_repair) and a non-empty journal
  // counts too: a repair that failed, or whose repairer was killed in turn,
  // is retried by every later locker until one succeeds.
  HeapHeader& h = heap.header();
  if (mutex.owner_died()) h.needs_repair.store(1, std::memory_order_release);
  if (h.needs_repair.load(std::memory_order_acquire) != 0 ||
      h.journal_op.load(std::memory_order_acquire) != static_cast<std::uint64_t>(JournalOp::none)) {
    (void)heap.repair(failure);  // on failure the destructor unlocks; the heap stays corrupted
    return;
  }
  (void)heap.header_valid(failure);
}

HeapLock::~HeapLock() {
  if (!owns_) return;
  const void* key = &heap_.header();
  for (int i = 0; i < t_held_count; ++i) {
    if (t_held[i] == key) {
      t_held[i] = t_held[--t_held_count];
      break;
    }
  }
  heap_.header().lock.unlock();
}

}  // namespace detail
SHMKIT_END_NAMESPACE
