// What a ManagedSegment handle owns: the mapping and the heap view over it.
#pragma once

#include "core/failure.hpp"
#include "managed/heap.hpp"

#include <shmkit/named_shared_memory.hpp>

#include <cstddef>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct ManagedSegmentImpl {
  explicit ManagedSegmentImpl(NamedSharedMemory mapped)
      : shm(std::move(mapped)), heap(shm.data(), shm.size(), shm.name()) {}

  // Under the heap lock: a block, or nullptr with `failure` set.
  void* allocate(std::size_t bytes, std::size_t alignment, Failure& failure);
  // Under the heap lock; null does nothing.
  void deallocate(void* p, Failure& failure);
  // Whether [p, p + bytes) lies in the block area of this mapping.
  bool contains(const void* p, std::size_t bytes) const noexcept;

  NamedSharedMemory shm;
  Heap heap;
};

// The process-local registry of open managed mappings (heap_registry.cpp):
// what an Allocator, holding only an OffsetPtr to a heap header, looks its
// heap up in.
void register_heap(ManagedSegmentImpl* impl);
void unregister_heap(ManagedSegmentImpl* impl) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
