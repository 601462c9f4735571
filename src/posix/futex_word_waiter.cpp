// Linux: futex on the word itself, shared between processes (no
// FUTEX_PRIVATE_FLAG, which would key the wait on this process's mm).
#include <shmkit/config.hpp>
#include "sync/sync_segment.hpp"
#include "sync/word_waiter.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <climits>
#include <ctime>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

long futex(const std::atomic<std::uint32_t>& word, int op, std::uint32_t value,
           const timespec* timeout) {
  // std::atomic<uint32_t> is lock-free and has the layout of uint32_t
  // (segment_header.hpp asserts the same for 64 bits).
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return ::syscall(SYS_futex, &word, op, value, timeout, nullptr, 0);
}

class FutexWaiter final : public WordWaiter {
 public:
  void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
            Deadline deadline) override {
    if (deadline == k_forever) {
      futex(word, FUTEX_WAIT, expected, nullptr);
      return;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(ns / 1000000000);
    timeout.tv_nsec = static_cast<long>(ns % 1000000000);
    futex(word, FUTEX_WAIT, expected, &timeout);  // EAGAIN, EINTR, ETIMEDOUT: caller re-checks
  }

  void wake(std::atomic<std::uint32_t>& word, std::uint32_t count) override {
    const int n = count > static_cast<std::uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(count);
    futex(word, FUTEX_WAKE, static_cast<std::uint32_t>(n), nullptr);
  }
};

}  // namespace

std::unique_ptr<WordWaiter> make_word_waiter(const std::string&, unsigned, bool,
                                             const SegmentOptions&, Failure&) {
  return std::make_unique<FutexWaiter>();
}

void remove_word_waiter(const std::string&, unsigned, const SegmentOptions&) noexcept {}

}  // namespace detail
SHMKIT_END_NAMESPACE

SHMKIT_BEGIN_NAMESPACE
namespace detail {
std::uint32_t word_waiter_kind() noexcept {
  return 1;
}  // futex
}  // namespace detail
SHMKIT_END_NAMESPACE
