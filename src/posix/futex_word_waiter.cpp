// Linux: futex on the word itself, shared between processes (no
// FUTEX_PRIVATE_FLAG, which would key the wait on this process's mm), and
// futex_waitv for waiting on many words at once (WaitSet).
#include <shmkit/config.hpp>
#include "sync/address_wait.hpp"
#include "sync/sync_segment.hpp"
#include "sync/word_waiter.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <ctime>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

class FutexWaiter final : public WordWaiter {
 public:
  // The same futex on the word as an address wait (address_wait_futex.cpp).
  void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
            Deadline deadline) override {
    address_wait(word, expected, deadline);
  }

  void wake(std::atomic<std::uint32_t>& word, std::uint32_t count) override {
    address_wake(word, count);
  }
};

}  // namespace

std::unique_ptr<WordWaiter> make_word_waiter(const std::string&, unsigned, bool,
                                             const SegmentOptions&, Failure&) {
  return std::make_unique<FutexWaiter>();
}

void remove_word_waiter(const std::string&, unsigned, const SegmentOptions&) noexcept {}

// ---- wait_any: futex_waitv ------------------------------------------------

namespace {

// The kernel's struct futex_waitv (linux/futex.h has it only from 5.16's
// headers on), and the system call's number, the same on every architecture.
struct FutexWaitv {
  std::uint64_t val;
  std::uint64_t uaddr;
  std::uint32_t flags;
  std::uint32_t reserved;
};
// The kernel's struct __kernel_timespec: 64-bit fields on every
// architecture, where a 32-bit build's timespec has a 32-bit tv_sec.
struct KernelTimespec {
  std::int64_t tv_sec;
  std::int64_t tv_nsec;
};
constexpr long k_sys_futex_waitv = 449;
constexpr std::uint32_t k_futex2_size_u32 = 0x02;  // shared: no FUTEX2_PRIVATE
constexpr auto k_fallback_poll = std::chrono::milliseconds(1);

// Set once futex_waitv turned out to be unusable: ENOSYS (a kernel before
// 5.16), EPERM or ENOSYS from a seccomp filter that does not allow it,
// EINVAL or anything else a kernel might say. Remembered for the process:
// from then on wait_any() only sleeps briefly and its callers poll.
std::atomic<bool> g_no_futex_waitv{false};
// break_wait_any_for_testing(): the calls fail with EINVAL.
std::atomic<bool> g_break_futex_waitv{false};

void add(FutexWaitv* waiters, std::size_t& n, const std::atomic<std::uint32_t>& word,
         std::uint32_t expected) {
  waiters[n].val = expected;
  waiters[n].uaddr = reinterpret_cast<std::uintptr_t>(&word);
  waiters[n].flags = k_futex2_size_u32;
  waiters[n].reserved = 0;
  ++n;
}

}  // namespace

void wait_any(const WaitTarget* targets, std::size_t count, const WaitInterrupt* interrupt,
              std::uint32_t interrupt_seen, Deadline deadline) {
  FutexWaitv waiters[k_max_wait_targets + 1];
  std::size_t n = 0;
  for (std::size_t i = 0; i < count && i < k_max_wait_targets; ++i) {
    if (targets[i].word != nullptr) add(waiters, n, *targets[i].word, targets[i].expected);
  }
  if (interrupt != nullptr) add(waiters, n, interrupt->word(), interrupt_seen);
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return;
  if (n != 0 && !g_no_futex_waitv.load(std::memory_order_relaxed)) {
    // An absolute timeout on CLOCK_MONOTONIC, the clock of steady_clock.
    KernelTimespec until{};
    KernelTimespec* timeout = nullptr;
    if (deadline != k_forever) {
      timespec start{};
      ::clock_gettime(CLOCK_MONOTONIC, &start);
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      const std::int64_t ns = static_cast<std::int64_t>(start.tv_nsec) + left.count() % 1000000000;
      until.tv_sec =
          static_cast<std::int64_t>(start.tv_sec) + left.count() / 1000000000 + ns / 1000000000;
      until.tv_nsec = ns % 1000000000;
      timeout = &until;
    }
    const unsigned flags = g_break_futex_waitv.load(std::memory_order_relaxed) ? 1u : 0u;
    if (::syscall(k_sys_futex_waitv, waiters, static_cast<unsigned>(n), flags, timeout,
                  CLOCK_MONOTONIC) >= 0) {
      return;  // a word's waiter woke us
    }
    // EAGAIN (a word no longer held its value), EINTR, ETIMEDOUT: the
    // caller re-checks. Anything else would come back at once on every call
    // and turn the caller's loop into a busy one: poll instead, from now on.
    const int error = errno;
    if (error == EAGAIN || error == EINTR || error == ETIMEDOUT) return;
    g_no_futex_waitv.store(true, std::memory_order_relaxed);
  }
  // No futex_waitv (or nothing to wait on): a short sleep, then the caller
  // looks again.
  std::this_thread::sleep_until(std::min(deadline, now + k_fallback_poll));
}

bool wait_any_polls() noexcept {
  // Without futex_waitv nothing takes the wake-ups of an announced sleeper.
  return g_no_futex_waitv.load(std::memory_order_relaxed);
}

void break_wait_any_for_testing(bool broken) noexcept {
  g_break_futex_waitv.store(broken, std::memory_order_relaxed);
  if (!broken) g_no_futex_waitv.store(false, std::memory_order_relaxed);  // found out again
}

WaitInterrupt::~WaitInterrupt() = default;

void WaitInterrupt::bind_current_thread() noexcept {}

void WaitInterrupt::kick() noexcept {
  word_.fetch_add(1, std::memory_order_release);
  ::syscall(SYS_futex, &word_, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace detail
SHMKIT_END_NAMESPACE

SHMKIT_BEGIN_NAMESPACE
namespace detail {
std::uint32_t word_waiter_kind() noexcept {
  return 1;
}  // futex
}  // namespace detail
SHMKIT_END_NAMESPACE
