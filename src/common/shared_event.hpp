// A Win32-style event whose state is two words in shared memory, sleeping on
// a WordWaiter. Used where the OS has no named event (every POSIX system).
#pragma once

#include "sync_impl.hpp"
#include "sync_segment.hpp"

namespace shmkit::detail {

std::unique_ptr<EventImpl> open_shared_event(const std::string& name, const Options& options,
                                             OpenMode mode, EventReset reset, Failure& failure);

}  // namespace shmkit::detail
