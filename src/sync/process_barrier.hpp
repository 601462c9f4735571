// An asymmetric barrier between processes: lets the frequent side of an
// eventcount (a waker publishing a message) skip its full fence, and makes
// the rare side (a sleeper about to sleep) pay for both.
//
// The waker stores its change, then only a compiler barrier, then loads the
// sleepers count. The sleeper announces itself, then calls heavy_barrier(),
// which runs a full memory barrier on every running thread of every
// registered process before it returns. So either the waker's load comes
// after that barrier and sees the announcement, or the waker's store was
// made visible by it and the sleeper's re-check sees the change.
//
// Linux: membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) (src/posix/membarrier_barrier.cpp).
// Elsewhere (the portable path, Win32) there is none: both return false and
// wakers keep their fence (src/sync/no_process_barrier.cpp, shared by both).
#pragma once

#include <shmkit/config.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Registers this process for heavy barriers that others issue (once per
// process; a forked child inherits it, exec clears it). True when registered: only then
// may a waker in this process skip its fence. Called where an endpoint is
// opened, never on a message's path.
bool register_for_heavy_barrier() noexcept;

// Whether this build's platform has heavy barriers at all. Where it has
// none, no waker skips its fence (register_for_heavy_barrier() is false in
// every process), so sleepers need neither the barrier nor a backstop.
bool heavy_barrier_exists() noexcept;

// A full memory barrier on every running thread of every registered
// process. False when the platform has none or the call failed: the caller
// must then assume that a waker which skipped its fence may have missed its
// announcement, and bound its sleep.
bool heavy_barrier() noexcept;

// For tests: makes heavy_barrier() fail (true) or work again (false), so
// that the sleepers' backstop is exercised. Wakers keep skipping their fence.
void break_heavy_barrier_for_testing(bool broken) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
