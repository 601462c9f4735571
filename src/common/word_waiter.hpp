// Sleeping until another process changes a 32-bit word in shared memory.
//
// Linux has futex for exactly this. Where there is none (Cygwin, macOS, and
// the portable build on Linux) a named counting semaphore stands in: a wake
// posts tokens and a waiter consumes one, so a wake that comes before the
// waiter is asleep is remembered rather than lost, and a surplus token only
// causes a spurious return. Callers therefore always re-check their condition
// in a loop, and announce themselves (a waiter count) before they sleep.
#pragma once

#include "failure.hpp"

#include <shmkit/deadline.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace shmkit::detail {

class WordWaiter {
 public:
  virtual ~WordWaiter() = default;
  // Sleeps while `word` holds `expected`, until woken or `deadline`. May
  // return early for no reason.
  virtual void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                    Deadline deadline) = 0;
  virtual void wake(std::atomic<std::uint32_t>& word, std::uint32_t count) = 0;
};

// The waiter for the object called `name`. `create` is true in the creator
// (before it publishes the object), false in openers.
// `permissions` are the POSIX mode bits of any named object it creates.
std::unique_ptr<WordWaiter> make_word_waiter(const std::string& name, bool create,
                                             unsigned permissions, Failure& failure);

// Removes whatever named OS object the waiter for `name` uses, if any.
void remove_word_waiter(const std::string& name) noexcept;

}  // namespace shmkit::detail
