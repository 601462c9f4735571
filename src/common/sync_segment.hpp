// The state of a named mutex, event or semaphore that lives in shared memory:
// a small segment of the object's kind that starts with a preamble naming the
// state's layout and how waiters sleep, plus the word waiter for it.
//
// The preamble matters because the same name may be opened by two builds of
// shmkit: a futex-based Linux build and the portable (semaphore) build would
// never wake each other, so such an open fails instead of hanging.
#pragma once

#include "failure.hpp"
#include "segment_access.hpp"
#include "word_waiter.hpp"

#include <shmkit/named_shared_memory.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace shmkit::detail {

struct SyncPreamble {
  std::uint32_t layout;       // which state struct follows, and its version
  std::uint32_t waiter_kind;  // word_waiter_kind() of the creating build
};

// What the platform's word waiter is: futex or named semaphore.
std::uint32_t word_waiter_kind() noexcept;

struct SyncSegment {
  NamedSharedMemory memory;
  std::unique_ptr<WordWaiter> waiter;  // null if the layout does not sleep on words
  void* state = nullptr;               // just past the preamble
};

struct SyncRequest {
  SegmentKind kind;
  std::uint32_t layout;
  std::size_t state_size;
  bool needs_waiter;
  // Fills the zeroed state in the creator, before anyone can open it.
  void (*initialize)(void* state, const void* context, Failure& failure) = nullptr;
  const void* context = nullptr;
};

SyncSegment open_sync_segment(const std::string& name, const Options& options, OpenMode mode,
                              const SyncRequest& request, Failure& failure);

// Removes the segment and the waiter's named object. Returns false if there
// was no segment.
bool remove_sync_segment(const std::string& name, const Options& options, Failure& failure);

}  // namespace shmkit::detail
