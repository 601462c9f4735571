// Linux: the address wait is a futex on the word, shared between processes
// (no FUTEX_PRIVATE_FLAG, which would key the wait on this process's mm).
#include <shmkit/config.hpp>
#include "sync/address_wait.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <chrono>
#include <climits>
#include <ctime>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

long shared_futex(const std::atomic<std::uint32_t>& word, int op, std::uint32_t value,
                  const timespec* timeout) noexcept {
  // std::atomic<uint32_t> is lock-free and has the layout of uint32_t.
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
  return ::syscall(SYS_futex, &word, op, value, timeout, nullptr, 0);
}

}  // namespace

void address_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  Deadline deadline) noexcept {
  if (deadline == k_forever) {
    shared_futex(word, FUTEX_WAIT, expected, nullptr);
    return;
  }
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= left.zero()) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec timeout{};
  timeout.tv_sec = static_cast<time_t>(ns / 1000000000);
  timeout.tv_nsec = static_cast<long>(ns % 1000000000);
  // FUTEX_WAIT's timeout is relative, on CLOCK_MONOTONIC (the steady clock).
  // EAGAIN, EINTR, ETIMEDOUT: the caller re-checks.
  shared_futex(word, FUTEX_WAIT, expected, &timeout);
}

void address_wake(std::atomic<std::uint32_t>& word, std::uint32_t count) noexcept {
  const int n = count > static_cast<std::uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(count);
  shared_futex(word, FUTEX_WAKE, static_cast<std::uint32_t>(n), nullptr);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
