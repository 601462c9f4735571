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
#include <cstddef>
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
  // The kernel object a sleeper waits on (Win32: the semaphore's HANDLE),
  // for wait_any(); null where the sleep is on the word itself (futex) or
  // cannot be combined with others (the portable path).
  virtual void* native_handle() noexcept { return nullptr; }
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

// ---- waiting on many at once (WaitSet) -------------------------------------

// One thing wait_any() sleeps on: a word in shared memory that its wakers
// change and wake through `waiter`, or a kernel object of its own (Win32
// events and semaphores).
struct WaitTarget {
  const std::atomic<std::uint32_t>* word = nullptr;
  std::uint32_t expected = 0;  // the word's value when the caller last looked
  WordWaiter* waiter = nullptr;
  void* native_handle = nullptr;
  // Undoes what a successful wait on `native_handle` took (a Win32
  // auto-reset event's signal, a semaphore's unit); null if nothing.
  void (*give_back)(void* native_handle) = nullptr;
};

// Lets another thread end a wait_any() early: a WaitSet's add(), remove()
// and destructor wake its watcher thread with it.
class WaitInterrupt {
 public:
  WaitInterrupt() = default;
  WaitInterrupt(const WaitInterrupt&) = delete;
  WaitInterrupt& operator=(const WaitInterrupt&) = delete;
  ~WaitInterrupt();
  // Called by the thread whose waits kick() must end, before it waits.
  void bind_current_thread() noexcept;
  void kick() noexcept;
  // The value to pass to wait_any(): a kick() after this read ends the wait.
  std::uint32_t seen() const noexcept { return word_.load(std::memory_order_acquire); }
  const std::atomic<std::uint32_t>& word() const noexcept { return word_; }

 private:
  std::atomic<std::uint32_t> word_{0};
  // Win32: the bound thread, for its APC (POSIX kicks need no thread).
  [[maybe_unused]] std::atomic<void*> thread_{nullptr};
};

// At most this many targets per wait_any() (Win32 waits on at most 64
// handles at once; futex_waitv takes 128 words).
inline constexpr std::size_t k_max_wait_targets = 64;

// Sleeps until a target's word no longer holds its `expected` value (or it
// is woken), a target's kernel object is signaled, `interrupt` (if not null)
// is kicked after it read `interrupt_seen`, or `deadline`. May return early
// for no reason: callers re-check. Callers announce themselves in each
// word's sleepers count first (peer_wait.hpp), unless wait_any_polls().
//
// Linux: futex_waitv (kernel 5.16); where it fails (missing, refused by a
// seccomp filter, any error but EAGAIN, EINTR, ETIMEDOUT), a sleep of at
// most 1 ms, and wait_any_polls() turns true for the rest of the process.
// Win32: WaitForMultipleObjectsEx on each distinct handle once, giving back
// what it took; if the wait fails, a sleep until `deadline` (at most
// 100 ms) instead of a return at once. The portable
// path has no way to sleep on several named semaphores at once: it only
// sleeps until `deadline` (or a kick), and callers poll with short ones.
void wait_any(const WaitTarget* targets, std::size_t count, const WaitInterrupt* interrupt,
              std::uint32_t interrupt_seen, Deadline deadline);

// True where wait_any() cannot sleep on the targets (the portable path):
// callers poll instead of announcing themselves as sleepers, whose wake-ups
// they would never consume.
bool wait_any_polls() noexcept;

// For tests: makes the platform's multi-wait fail as an unusable one would
// (Linux: futex_waitv gets an invalid argument, EINVAL), so that the
// fallback is taken; false undoes it and forgets the fallback. Elsewhere it
// does nothing.
void break_wait_any_for_testing(bool broken) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
