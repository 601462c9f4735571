// Win32: WaitOnAddress only wakes threads of the calling process, so a
// waiter in another process polls the word with a bounded backoff
// (sleeps round up to the system timer's tick, 1 to 15.6 ms) and a wake
// needs no call at all.
#include "sync/address_wait.hpp"
#include <shmkit/config.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

void address_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  Deadline deadline) noexcept {
  address_wait_with_backoff(word, expected, deadline);
}

void address_wake(std::atomic<std::uint32_t>&, std::uint32_t) noexcept {
  // Sleepers re-read the word within their backoff's longest sleep.
}

}  // namespace detail
SHMKIT_END_NAMESPACE
