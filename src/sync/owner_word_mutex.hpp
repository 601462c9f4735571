// NamedMutex on every POSIX system (Linux, and the portable path: Cygwin,
// macOS, SHMKIT_PORTABLE_POSIX). One state machine over a WordWaiter.
//
// The shared state holds integers only: the owner word (0, or the owning
// process's pid and start time packed as the attach table packs them, with a
// bit that says someone sleeps), the word sleepers wait on, and the creator's
// PID namespace. Nothing in it is a pointer or is handed to code that would
// follow one (a robust pthread mutex keeps glibc's robust-list pointers in
// shared memory; see docs/sync.md).
//
// Nobody is told when an owner dies, so a waiter that has seen the same owner
// for a whole liveness slice asks the OS whether that process still runs
// (src/mutex_owner_liveness.hpp); if not, it takes the word over with a
// compare-and-swap (one waiter wins) and reports the death.
#pragma once

#include <shmkit/config.hpp>

#include "sync/sync_impl.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::unique_ptr<MutexObject> open_owner_word_mutex(const std::string& name,
                                                   const SegmentOptions& options, OpenMode mode,
                                                   Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
