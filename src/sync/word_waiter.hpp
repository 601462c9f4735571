// Sleeping until another process changes a 32-bit word in shared memory.
//
// Linux has futex for exactly this. Where there is none (Cygwin, macOS, and
// the portable build on Linux) a named counting semaphore stands in: a wake
// posts tokens and a waiter consumes one, so a wake that comes before the
// waiter is asleep is remembered rather than lost, and a surplus token only
// causes a spurious return. Callers therefore always re-check their condition
// in a loop, and announce themselves (a waiter count) before they sleep.
#pragma once

#include "core/failure.hpp"

#include <shmkit/deadline.hpp>
#include <shmkit/options.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class WordWaiter {
 public:
  virtual ~WordWaiter() = default;
  // Sleeps while `word` holds `expected`, until woken or `deadline`. May
  // return early for no reason.
  virtual void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                    Deadline deadline) = 0;
  virtual void wake(std::atomic<std::uint32_t>& word, std::uint32_t count) = 0;
};

// Waiter number `slot` of the object called `name` (an object whose two
// sides sleep independently, such as a ring, uses one slot per side).
// `create` is true in the creator, before it publishes the object; any named
// OS object it makes gets `options`' permissions (POSIX) or scope (Win32).
std::unique_ptr<WordWaiter> make_word_waiter(const std::string& name, unsigned slot, bool create,
                                             const SegmentOptions& options, Failure& failure);

// Removes whatever named OS object waiter `slot` of `name` uses, if any.
void remove_word_waiter(const std::string& name, unsigned slot,
                        const SegmentOptions& options) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
