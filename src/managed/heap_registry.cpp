// The process-local registry of managed mappings, and the Allocator's entry
// points. An Allocator in shared memory knows its heap only as an address
// (an OffsetPtr resolved in this process); the registry maps that address to
// the handle that mapped it, whose size this process trusts. A heap no open
// handle maps is refused, never followed.
#include "core/failure.hpp"
#include "managed/heap_lock.hpp"
#include "managed/managed_segment_impl.hpp"

#include <shmkit/allocator.hpp>
#include <shmkit/errc.hpp>

#include <algorithm>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

struct Registry {
  std::shared_mutex mutex;
  std::vector<ManagedSegmentImpl*> mapped;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: handles may close during exit
  return *r;
}

ManagedSegmentImpl* find_locked(Registry& r, const HeapHeader* heap) noexcept {
  for (ManagedSegmentImpl* impl : r.mapped) {
    if (&impl->heap.header() == heap) return impl;
  }
  return nullptr;
}

// The registry's lock is not held while the heap's lock is taken (that
// waits for other processes, and a constructor holding the heap lock may
// allocate): the handle must simply stay open while its allocators are
// used, as documented.
ManagedSegmentImpl* find(const HeapHeader* heap) noexcept {
  Registry& r = registry();
  std::shared_lock<std::shared_mutex> lock(r.mutex);
  return find_locked(r, heap);
}

}  // namespace

void register_heap(ManagedSegmentImpl* impl) {
  Registry& r = registry();
  std::unique_lock<std::shared_mutex> lock(r.mutex);
  r.mapped.push_back(impl);
}

void unregister_heap(ManagedSegmentImpl* impl) noexcept {
  Registry& r = registry();
  std::unique_lock<std::shared_mutex> lock(r.mutex);
  r.mapped.erase(std::remove(r.mapped.begin(), r.mapped.end(), impl), r.mapped.end());
}

void* ManagedSegmentImpl::allocate(std::size_t bytes, std::size_t alignment, Failure& failure) {
  HeapLock lock(heap, failure);
  if (failure) return nullptr;
  const std::uint64_t payload = heap.carve(bytes, alignment, JournalOp::allocate, failure);
  if (payload == 0) return nullptr;
  heap.clear_journal();
  return heap.base() + payload;
}

void ManagedSegmentImpl::deallocate(void* p, Failure& failure) {
  if (p == nullptr) return;
  const std::uint64_t payload = heap.offset_of(p);
  if (payload == 0) {
    failure.set(errc::invalid_argument, "managed segment " + quoted(heap.name()) +
                                            ": the pointer is not inside its heap; nothing "
                                            "was freed");
    return;
  }
  HeapLock lock(heap, failure);
  if (failure) return;
  heap.release(payload, failure);
}

bool ManagedSegmentImpl::contains(const void* p, std::size_t bytes) const noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const auto first = reinterpret_cast<std::uintptr_t>(heap.base()) + heap.begin();
  const auto last = reinterpret_cast<std::uintptr_t>(heap.base()) + heap.end();
  return at >= first && at <= last && bytes <= last - at;
}

void* heap_allocate(const HeapHeader* heap, std::size_t count, std::size_t size,
                    std::size_t alignment) {
  Failure failure;
  if (size != 0 && count > std::numeric_limits<std::size_t>::max() / 2 / size) {
    failure.set(errc::invalid_size, "Allocator: " + std::to_string(count) + " objects of " +
                                        std::to_string(size) + " bytes overflow; ask for fewer");
    failure.raise();
  }
  ManagedSegmentImpl* impl = find(heap);
  if (impl == nullptr) {
    failure.set(errc::invalid_state,
                "Allocator: no ManagedSegment open in this process maps its heap; keep the "
                "segment open while its containers are used");
    failure.raise();
  }
  void* result = impl->allocate(count * size, alignment < 16 ? 16 : alignment, failure);
  if (failure) failure.raise();
  return result;
}

void heap_deallocate(const HeapHeader* heap, void* p) noexcept {
  if (p == nullptr) return;
  try {
    ManagedSegmentImpl* impl = find(heap);
    if (impl == nullptr) return;
    Failure ignored;  // a bad p is left alone (documented)
    impl->deallocate(p, ignored);
  } catch (...) {
  }
}

bool heap_contains(const HeapHeader* heap, const void* p, std::size_t bytes) noexcept {
  Registry& r = registry();
  std::shared_lock<std::shared_mutex> lock(r.mutex);
  const ManagedSegmentImpl* impl = find_locked(r, heap);
  return impl != nullptr && impl->contains(p, bytes);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
