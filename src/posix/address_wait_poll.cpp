// The portable POSIX path (Cygwin, macOS, SHMKIT_PORTABLE_POSIX): no
// cross-process wait on an address exists there in a portable form (macOS's
// __ulock_wait is private API; Cygwin has none), so a waiter polls the word
// with a bounded backoff and a wake needs no call at all.
#include <shmkit/config.hpp>
#include "sync/address_wait.hpp"

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
