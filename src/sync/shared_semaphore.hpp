// A counting semaphore whose count lives in shared memory, sleeping on a
// WordWaiter. POSIX's own sem_open is not used for the count because it
// cannot report an owner-less, half-created or foreign object, and because
// the portable path needs a wake-up channel per object anyway.
#pragma once

#include <shmkit/config.hpp>

#include "sync/sync_impl.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// The semaphore's state, right after the sync preamble in its segment. Here
// rather than in the .cpp so that tests can see who is waiting.
struct SemaphoreState {
  std::atomic<std::uint32_t> count;
  std::atomic<std::uint32_t> waiters;  // processes between announcing and leaving a wait
};

std::unique_ptr<SemaphoreObject> open_shared_semaphore(const std::string& name,
                                                       const SegmentOptions& options, OpenMode mode,
                                                       std::uint32_t initial, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
