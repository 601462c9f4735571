// Holding a managed heap's lock: taken once per thread (re-entrant, so a
// named object's constructor may allocate from the same heap), and the
// heap repaired when the previous holder died holding it.
#pragma once

#include "core/failure.hpp"
#include "managed/heap.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class HeapLock {
 public:
  // On failure (the lock could not be taken, or the repair found the heap
  // damaged) `failure` is set and nothing is held.
  HeapLock(Heap& heap, Failure& failure);
  ~HeapLock();
  HeapLock(const HeapLock&) = delete;
  HeapLock& operator=(const HeapLock&) = delete;

 private:
  Heap& heap_;
  bool owns_ = false;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
