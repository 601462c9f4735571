// A Win32-style event whose state is two words in shared memory, sleeping on
// a WordWaiter. Used where the OS has no named event (every POSIX system).
#pragma once

#include <shmkit/config.hpp>

#include "sync/sync_impl.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// The event's state, right after the sync preamble in its segment. Here
// rather than in the .cpp so that tests can see who is waiting.
struct EventState {
  std::atomic<std::uint32_t> signaled;  // 0 or 1; anything else is read as 1
  std::atomic<std::uint32_t> waiters;   // processes between announcing and leaving a wait
  std::uint32_t manual_reset;           // fixed at creation
  std::uint32_t reserved;
};

std::unique_ptr<EventObject> open_shared_event(const std::string& name,
                                               const SegmentOptions& options, OpenMode mode,
                                               EventReset reset, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
