// A process-shared mutex for systems without robust process-shared pthread
// mutexes (Cygwin, macOS; the portable build on Linux).
//
// The lock is one word holding its owner's identity (pid and start time).
// Nobody is told when an owner dies, so a waiter sleeps in bounded slices and
// after each one checks whether the owner still runs; if not, it takes the
// word over with a compare-and-swap (one waiter wins) and reports the death.
#pragma once

#include "sync_impl.hpp"

namespace shmkit::detail {

std::unique_ptr<MutexImpl> open_owner_word_mutex(const std::string& name, const Options& options,
                                                 OpenMode mode, Failure& failure);

}  // namespace shmkit::detail
