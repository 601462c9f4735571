// Timeouts for every blocking call: a wait can always end, and its end is an
// absolute point on the steady clock so that retries do not stretch it.
#pragma once

#include <shmkit/config.hpp>

#include <chrono>

SHMKIT_BEGIN_NAMESPACE

using Deadline = std::chrono::steady_clock::time_point;

inline constexpr Deadline k_forever = Deadline::max();

// now + timeout, saturating at k_forever instead of overflowing.
template <typename Rep, typename Period>
Deadline deadline_after(const std::chrono::duration<Rep, Period>& timeout) {
  const auto now = std::chrono::steady_clock::now();
  if (timeout <= timeout.zero()) return now;
  const auto room = std::chrono::duration_cast<std::chrono::duration<double>>(k_forever - now);
  if (std::chrono::duration_cast<std::chrono::duration<double>>(timeout) >= room) return k_forever;
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

// A point on any clock, as a point on the steady clock.
template <typename Clock, typename Duration>
Deadline to_deadline(const std::chrono::time_point<Clock, Duration>& when) {
  return deadline_after(when - Clock::now());
}

SHMKIT_END_NAMESPACE
