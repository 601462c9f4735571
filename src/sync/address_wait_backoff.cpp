// The polling wait of the platforms that have no cross-process wait on an
// address (src/sync/address_wait.hpp): spin briefly, then sleep with a
// bounded exponential backoff, re-reading the word after each sleep.
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

void address_wait_with_backoff(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
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

}  // namespace detail
SHMKIT_END_NAMESPACE
