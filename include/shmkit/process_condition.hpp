// A condition variable that lives inside data in shared memory, next to the
// ProcessMutex that guards that data.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/process_mutex.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE

// How a timed condition wait ended. In every case the mutex is held again
// when the call returns. The first value is timed_out, so that a
// value-initialised ConditionStatus (what an error_code twin returns on
// failure) claims nothing.
enum class ConditionStatus {
  timed_out,
  // Woken by a notify, or spuriously: check the condition.
  notified,
  // Woken or timed out, and relocking the mutex found that its previous
  // owner died holding it: the data may be half-updated (owner_died() on
  // the mutex is true until it is unlocked). Repair it, then go on.
  owner_died,
};

// ProcessCondition is a member of a struct in a shmkit segment, used with a
// ProcessMutex of the same struct. 16 bytes of integers (a sequence word and
// a count of sleepers), standard-layout, trivially destructible; all zero
// bytes are a ready condition and the constexpr default constructor makes
// one. Construct it once, never copy or move it.
//
// As std::condition_variable_any: wait* atomically unlocks the mutex, sleeps
// until a notify, the deadline or a spurious wake-up, then locks the mutex
// again before returning (relocking waits for the mutex as long as it takes,
// as the standard's does; a dead holder is noticed within about 5 ms). The
// predicate forms loop until the predicate holds, so a notify that came
// before the wait is not lost. A wait never sleeps past its deadline.
// Owner death: a relock that takes the mutex over from a dead owner is
// reported (ConditionStatus::owner_died; the predicate forms leave
// mutex.owner_died() true); check it and repair the data.
//
// Whatever another process writes into it, a wait returns by its deadline
// (plus the relock), and a garbage state causes spurious wake-ups at worst.
// A waiter killed while asleep leaves its count behind: notify then makes a
// needless system call (Linux) until the condition is constructed again.
//
// Sleeping, per platform, as for ProcessMutex: a futex on Linux (a notify
// wakes at once), polling with sleeps up to 1 ms on the portable path and on
// Win32 (a notify is seen within about 1 ms, or the OS's timer tick).
//
// Threads: every member may run concurrently from any thread. fork(): a
// child is another process and uses the condition as any other process does.
//
// Errors (every wait): errc::invalid_state (the calling thread does not hold
// `mutex`; nothing changed), and those of ProcessMutex::lock() from the
// relock. The throwing forms raise shmkit::Error; the twins taking
// std::error_code& are noexcept and return timed_out / false on failure.
class SHMKIT_EXPORT ProcessCondition {
 public:
  constexpr ProcessCondition() noexcept = default;
  ProcessCondition(const ProcessCondition&) = delete;
  ProcessCondition& operator=(const ProcessCondition&) = delete;
  ~ProcessCondition() = default;

  // Wakes one waiter / every waiter (each waiter of any process).
  void notify_one() noexcept;
  void notify_all() noexcept;

  // Waits for a notify (or a spurious wake-up), without a deadline.
  ConditionStatus wait(ProcessMutex& mutex) { return wait_deadline(mutex, k_forever, nullptr); }
  ConditionStatus wait(ProcessMutex& mutex, std::error_code& ec) noexcept {
    return wait_deadline(mutex, k_forever, &ec);
  }
  // Waits until `predicate()` holds (checked first, under the lock).
  template <typename Predicate>
  void wait(ProcessMutex& mutex, Predicate predicate) {
    (void)wait_predicate(mutex, k_forever, predicate, nullptr);
  }
  template <typename Predicate>
  void wait(ProcessMutex& mutex, Predicate predicate, std::error_code& ec) noexcept {
    (void)wait_predicate(mutex, k_forever, predicate, &ec);
  }

  // The same with a deadline: ConditionStatus::timed_out when it passed
  // without a notify.
  template <typename Rep, typename Period>
  ConditionStatus wait_for(ProcessMutex& mutex, const std::chrono::duration<Rep, Period>& timeout) {
    return wait_deadline(mutex, deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  ConditionStatus wait_for(ProcessMutex& mutex, const std::chrono::duration<Rep, Period>& timeout,
                           std::error_code& ec) noexcept {
    return wait_deadline(mutex, deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  ConditionStatus wait_until(ProcessMutex& mutex,
                             const std::chrono::time_point<Clock, Duration>& deadline) {
    return wait_deadline(mutex, to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  ConditionStatus wait_until(ProcessMutex& mutex,
                             const std::chrono::time_point<Clock, Duration>& deadline,
                             std::error_code& ec) noexcept {
    return wait_deadline(mutex, to_deadline(deadline), &ec);
  }

  // Waits until `predicate()` holds or the deadline passes; returns the
  // predicate's last value (false: timed out without it).
  template <typename Rep, typename Period, typename Predicate>
  [[nodiscard]] bool wait_for(ProcessMutex& mutex,
                              const std::chrono::duration<Rep, Period>& timeout,
                              Predicate predicate) {
    return wait_predicate(mutex, deadline_after(timeout), predicate, nullptr);
  }
  template <typename Rep, typename Period, typename Predicate>
  [[nodiscard]] bool wait_for(ProcessMutex& mutex,
                              const std::chrono::duration<Rep, Period>& timeout,
                              Predicate predicate, std::error_code& ec) noexcept {
    return wait_predicate(mutex, deadline_after(timeout), predicate, &ec);
  }
  template <typename Clock, typename Duration, typename Predicate>
  [[nodiscard]] bool wait_until(ProcessMutex& mutex,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                Predicate predicate) {
    return wait_predicate(mutex, to_deadline(deadline), predicate, nullptr);
  }
  template <typename Clock, typename Duration, typename Predicate>
  [[nodiscard]] bool wait_until(ProcessMutex& mutex,
                                const std::chrono::time_point<Clock, Duration>& deadline,
                                Predicate predicate, std::error_code& ec) noexcept {
    return wait_predicate(mutex, to_deadline(deadline), predicate, &ec);
  }

 private:
  // Every wait form: throws if `ec` is null, else never throws.
  ConditionStatus wait_deadline(ProcessMutex& mutex, Deadline deadline, std::error_code* ec);

  template <typename Predicate>
  bool wait_predicate(ProcessMutex& mutex, Deadline deadline, Predicate& predicate,
                      std::error_code* ec) {
    bool died = false;
    bool holds = static_cast<bool>(predicate());
    while (!holds) {
      const ConditionStatus status = wait_deadline(mutex, deadline, ec);
      if (ec != nullptr && *ec) return false;  // the mutex is not held again
      died = died || status == ConditionStatus::owner_died;
      holds = static_cast<bool>(predicate());
      if (status == ConditionStatus::timed_out) break;
    }
    if (died) note_owner_died(mutex);
    return holds;
  }
  static void note_owner_died(ProcessMutex& mutex) noexcept;

  // Bumped by every notify; waiters sleep while it holds what they read.
  std::atomic<std::uint32_t> sequence_{0};
  // Waiters between their announcement and their wake-up; a notify skips the
  // system call while it is 0. Any value is safe (only costs a call).
  std::atomic<std::uint32_t> sleepers_{0};
  [[maybe_unused]] std::uint64_t reserved_ = 0;
};

static_assert(sizeof(ProcessCondition) == 16, "ProcessCondition's layout is fixed: 16 bytes");
static_assert(alignof(ProcessCondition) == 8, "ProcessCondition's layout is fixed: 8-aligned");
static_assert(std::is_standard_layout_v<ProcessCondition>,
              "ProcessCondition must be standard-layout");
static_assert(std::is_trivially_destructible_v<ProcessCondition>,
              "ProcessCondition must be trivially destructible");

SHMKIT_END_NAMESPACE
