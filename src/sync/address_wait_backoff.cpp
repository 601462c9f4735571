// The address wait of the platforms that have no cross-process wait on an
// address (src/sync/address_wait.hpp): Win32, whose WaitOnAddress only wakes
// threads of the calling process, and the portable POSIX path (Cygwin,
// macOS, SHMKIT_PORTABLE_POSIX), where none exists in a portable form
// (macOS's __ulock_wait is private API). A waiter spins briefly, then sleeps
// with a bounded exponential backoff, re-reading the word after each sleep
// (Windows rounds sleeps up to its timer tick, 1 to 15.6 ms); a wake needs no
// call at all. CMake builds this file exactly where address_wait_futex.cpp
// is not.
#include <shmkit/config.hpp>
#include "sync/address_wait.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// A change that comes within a few microseconds is caught without sleeping.
constexpr int k_yields = 20;
constexpr auto k_first_sleep = std::chrono::microseconds(50);
// The longest sleep: how late a waiter may notice a change, and so how long
// a wake-up may take on these platforms.
constexpr auto k_longest_sleep = std::chrono::milliseconds(1);

}  // namespace

void address_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  Deadline deadline) noexcept {
  for (int i = 0; i < k_yields; ++i) {
    if (word.load(std::memory_order_acquire) != expected) return;
    std::this_thread::yield();
  }
  std::chrono::steady_clock::duration sleep = k_first_sleep;
  for (;;) {
    if (word.load(std::memory_order_acquire) != expected) return;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    // Never past the deadline: the last sleep is cut to what is left.
    std::this_thread::sleep_for(std::min(sleep, deadline - now));
    sleep = std::min<std::chrono::steady_clock::duration>(sleep * 2, k_longest_sleep);
  }
}

void address_wake(std::atomic<std::uint32_t>&, std::uint32_t) noexcept {
  // Sleepers re-read the word within their backoff's longest sleep.
}

}  // namespace detail
SHMKIT_END_NAMESPACE
