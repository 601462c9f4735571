// The portable path (Cygwin, macOS; SHMKIT_PORTABLE_POSIX on Linux): a named
// POSIX semaphore per object carries wake-ups. Cygwin rejects process-shared
// pthread objects and has no futex, but sem_open works there.
#include <shmkit/config.hpp>
#include "sync/sync_segment.hpp"
#include "sync/word_waiter.hpp"

#include "posix/os_error.hpp"

#include <fcntl.h>
#include <semaphore.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <ctime>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// Slot 0 uses the object's own name (POSIX semaphores have a namespace of
// their own); further slots add ".N", which is why objects with several
// slots take names two characters shorter.
std::string os_name(const std::string& name, unsigned slot) {
  return "/" + name + (slot == 0 ? std::string() : "." + std::to_string(slot));
}

// Cygwin's sem_timedwait has been seen to return a positive error number
// instead of -1 and errno; accept both.
int timed_wait(sem_t* sem, const timespec& until) {
  const int rc = ::sem_timedwait(sem, &until);
  if (rc == 0) return 0;
  return rc > 0 ? rc : errno;
}

constexpr std::uint32_t k_max_wake = 1024;

class SemaphoreWaiter final : public WordWaiter {
 public:
  explicit SemaphoreWaiter(sem_t* sem) : sem_(sem) {}
  ~SemaphoreWaiter() override { ::sem_close(sem_); }

  void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
            Deadline deadline) override {
    if (word.load(std::memory_order_acquire) != expected) return;
    if (deadline == k_forever) {
      while (::sem_wait(sem_) != 0 && errno == EINTR) {
      }
      return;
    }
#if defined(__APPLE__)
    // macOS has sem_open but no sem_timedwait: poll with a short sleep.
    while (::sem_trywait(sem_) != 0) {
      if (std::chrono::steady_clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
#else
    // sem_timedwait takes CLOCK_REALTIME; translate the steady deadline.
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) return;
    timespec until{};
    ::clock_gettime(CLOCK_REALTIME, &until);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count() +
                    static_cast<long long>(until.tv_nsec);
    until.tv_sec += static_cast<time_t>(ns / 1000000000);
    until.tv_nsec = static_cast<long>(ns % 1000000000);
    while (timed_wait(sem_, until) == EINTR) {
    }
#endif
  }

  void wake(std::atomic<std::uint32_t>&, std::uint32_t count) override {
    // `count` may come from shared memory: a garbage value must not mean
    // billions of posts. Sleepers wake in bounded slices anyway.
    count = std::min<std::uint32_t>(count, k_max_wake);
    for (std::uint32_t i = 0; i < count; ++i) {
      if (::sem_post(sem_) != 0) break;  // EOVERFLOW: enough tokens are pending anyway
    }
  }

 private:
  sem_t* sem_;
};

}  // namespace

std::unique_ptr<WordWaiter> make_word_waiter(const std::string& name, unsigned slot, bool create,
                                             const SegmentOptions& options, Failure& failure) {
  const std::string path = os_name(name, slot);
  sem_t* sem;
  if (create) {
    // The creator owns the name (its segment was created exclusively), so a
    // semaphore under it is left over from a crashed run: start afresh.
    ::sem_unlink(path.c_str());
    sem = ::sem_open(path.c_str(), O_CREAT | O_EXCL,
                     static_cast<mode_t>(options.permissions & 0777u), 0u);
  } else {
    sem = ::sem_open(path.c_str(), 0);
  }
  if (sem == SEM_FAILED) {
    set_errno_failure(failure, errno, "the wake-up semaphore of " + quoted(name),
                      create ? "create" : "open");
    return nullptr;
  }
  return std::make_unique<SemaphoreWaiter>(sem);
}

void remove_word_waiter(const std::string& name, unsigned slot, const SegmentOptions&) noexcept {
  ::sem_unlink(os_name(name, slot).c_str());
}

// ---- wait_any: polling ------------------------------------------------------
//
// A thread can sleep on one named semaphore only, so a WaitSet cannot sleep
// on all of its objects' wake-ups: it polls their readiness instead, with
// short deadlines (wait_set.cpp: 50 us, doubling to 1 ms), and does not
// announce itself as a sleeper.

void wait_any(const WaitTarget*, std::size_t, const WaitInterrupt* interrupt,
              std::uint32_t interrupt_seen, Deadline deadline) {
  // In steps of at most 1 ms, so that a kick() is seen within one.
  constexpr auto k_step = std::chrono::milliseconds(1);
  for (;;) {
    if (interrupt != nullptr && interrupt->seen() != interrupt_seen) return;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    std::this_thread::sleep_until(deadline - now > k_step ? now + k_step : deadline);
  }
}

bool wait_any_polls() noexcept {
  return true;
}

void break_wait_any_for_testing(bool) noexcept {}  // nothing to break: it only polls

WaitInterrupt::~WaitInterrupt() = default;

void WaitInterrupt::bind_current_thread() noexcept {}

void WaitInterrupt::kick() noexcept {
  word_.fetch_add(1, std::memory_order_release);  // seen within one polling interval
}

}  // namespace detail
SHMKIT_END_NAMESPACE

SHMKIT_BEGIN_NAMESPACE
namespace detail {
std::uint32_t word_waiter_kind() noexcept {
  return 2;
}  // named POSIX semaphore
}  // namespace detail
SHMKIT_END_NAMESPACE
