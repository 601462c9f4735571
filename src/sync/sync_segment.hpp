// The state of a named mutex, event or semaphore that lives in shared memory:
// a small segment of the object's kind that starts with a preamble naming the
// state's layout and how waiters sleep, plus the word waiter for it.
//
// The preamble matters because the same name may be opened by two builds of
// shmkit: a futex-based Linux build and the portable (semaphore) build would
// never wake each other, so such an open fails instead of hanging.
#pragma once

#include "core/failure.hpp"
#include "segment/segment_access.hpp"
#include "sync/word_waiter.hpp"

#include <shmkit/named_shared_memory.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct SyncPreamble {
  std::uint32_t layout;       // which state struct follows, and its version
  std::uint32_t waiter_kind;  // word_waiter_kind() of the creating build
};

// What the platform's word waiter is: futex or named semaphore.
std::uint32_t word_waiter_kind() noexcept;

struct SyncSegment {
  NamedSharedMemory memory;
  std::vector<std::unique_ptr<WordWaiter>> waiters;  // one per requested slot
  void* state = nullptr;                             // just past the preamble
  std::size_t state_size = 0;
};

struct SyncRequest {
  ObjectKind kind;
  std::uint32_t layout;
  // Bytes after the preamble. 0 when opening an object whose size its
  // creator chose (a ring's capacity): the caller validates what it finds.
  std::size_t state_size;
  unsigned waiter_slots;
  // True for fixed layouts, where another size can only mean another
  // version of shmkit; false where the creator picks the size.
  bool size_is_version;
  // Fills the zeroed state in the creator, before anyone can open it.
  void (*initialize)(void* state, const void* context, Failure& failure) = nullptr;
  const void* context = nullptr;
};

SyncSegment open_sync_segment(const std::string& name, const SegmentOptions& options, OpenMode mode,
                              const SyncRequest& request, Failure& failure);

// Removes the segment and the waiter's named object. Returns false if there
// was no segment.
bool remove_sync_segment(const std::string& name, const SegmentOptions& options,
                         unsigned waiter_slots, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
