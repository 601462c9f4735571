// Sleeping until another process changes a 32-bit word at an address in
// shared memory, without any named OS object: what an object that lives
// inside user data (ProcessMutex, ProcessCondition) sleeps on.
//
// Per platform (docs/managed.md gives the costs):
// - Linux: futex on the word, shared between processes
//   (src/posix/address_wait_futex.cpp); a wake is one system call and wakes a
//   sleeper at once.
// - the portable path (Cygwin, macOS, SHMKIT_PORTABLE_POSIX) and Win32: no
//   portable cross-process wait on an address exists (macOS's __ulock and
//   Win32's WaitOnAddress are process-local or private), so a waiter watches
//   the word: a short spin, then sleeps that grow from 50 us to 1 ms,
//   re-reading the word after each (src/sync/address_wait_backoff.cpp). A
//   wake costs nothing; a sleeper notices a change within about 1 ms (more
//   where the OS rounds sleeps up to its timer tick, as Windows does).
//
// Every wait may return early for no reason: callers re-check their
// condition in a loop. Nothing here reads anything but the word's value.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>

#include <atomic>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Sleeps while `word` holds `expected`, until woken, `deadline`, or for no
// reason. Never past `deadline`.
void address_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  Deadline deadline) noexcept;

// Wakes up to `count` sleepers on `word` (where sleepers can be woken).
void address_wake(std::atomic<std::uint32_t>& word, std::uint32_t count) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
