// Waiting for another process: spin, then sleep on a WordWaiter, and notice
// when that process has died. Rings and queues use this on both sides.
//
// The sleep handshake (an "eventcount"): a sleeper announces itself by
// incrementing `sleepers` and then re-checks its condition; a waker first
// publishes its change, then issues a full fence and reads `sleepers`. Either
// the waker sees the announcement and wakes, or the sleeper sees the change
// and does not sleep. A producer therefore pays for a wake-up (a syscall)
// only when a consumer really is asleep.
//
// Rings and queues move the fence's cost from the waker (every message) to
// the sleeper (every sleep): a waker whose process is registered for heavy
// barriers (sync/process_barrier.hpp) skips its fence, and every sleeper on
// such words runs heavy_barrier() after announcing itself. A sleeper whose
// heavy barrier fails sleeps in slices of k_backstop_slice, so that a
// wake-up missed that way costs at most that long, never a hang.
#pragma once

#include "sync/process_barrier.hpp"
#include "sync/word_waiter.hpp"

#include <shmkit/deadline.hpp>
#include <shmkit/wait_options.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

enum class WaitResult { ready, timed_out, peer_gone };

// The words of one direction of waiting, in shared memory.
struct SleepWords {
  std::atomic<std::uint32_t>& sleepers;
  std::atomic<std::uint32_t>& signal;
  WordWaiter& waiter;
  // Wakers of these words may skip their fence (wake_sleepers(..., true)):
  // sleepers pay with a heavy barrier.
  bool fenceless_wakers = false;
};

// How long a sleeper sleeps at most when its heavy barrier failed: a waker
// that skipped its fence may have missed its announcement.
inline constexpr auto k_backstop_slice = std::chrono::milliseconds(1);

// The fence between publishing a change and loading the sleepers count:
// only a compiler barrier when `fenceless` (the caller's process is
// registered for heavy barriers and its sleepers use fenceless_wakers).
inline void waker_fence(bool fenceless) noexcept {
  if (fenceless) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

// How many to wake so that `count` waiters can proceed: a WaitSet may sleep
// on the same word beside the object's own waiters, and a wake-up it takes
// must not be one a waiter needed, so every announced sleeper is woken when
// there are more of them than `count`. (`sleepers` comes from shared memory:
// the WordWaiter bounds what it does with a huge value.)
inline std::uint32_t wake_count(std::uint32_t sleepers, std::uint32_t count) noexcept {
  return sleepers > count ? sleepers : count;
}

// Called after publishing a change that sleepers may wait for. No system
// call when nobody sleeps.
// `fenceless`: see waker_fence().
inline void wake_sleepers(const SleepWords& words, std::uint32_t count, bool fenceless = false) {
  waker_fence(fenceless);
  const std::uint32_t sleepers = words.sleepers.load(std::memory_order_relaxed);
  if (sleepers != 0) {
    words.signal.fetch_add(1, std::memory_order_release);
    words.waiter.wake(words.signal, wake_count(sleepers, count));
  }
}

// For objects no WaitSet waits on (Queue<T>): wakes `count` sleepers, never
// more, so that one push does not wake every sleeping consumer.
inline void wake_only(const SleepWords& words, std::uint32_t count, bool fenceless = false) {
  waker_fence(fenceless);
  if (words.sleepers.load(std::memory_order_relaxed) != 0) {
    words.signal.fetch_add(1, std::memory_order_release);
    words.waiter.wake(words.signal, count);
  }
}

// Wakes every sleeper, announced or about to sleep: for changes that are
// not published through the waited-for state itself (a peer attaching or
// leaving).
inline void wake_every_sleeper(const SleepWords& words) {
  words.signal.fetch_add(1, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  words.waiter.wake(words.signal, wake_count(words.sleepers.load(std::memory_order_relaxed), 1));
}

// How long a sleeper sleeps at most before it looks at whether its peer is
// still alive. A dead peer is noticed within this time, never later.
inline constexpr auto k_peer_check_interval = std::chrono::milliseconds(100);

// The longest sleep between two looks at the peer: k_peer_check_interval,
// unless a test made it longer (so that a lost wake-up hangs until the
// test's deadline instead of costing one slice). peer_wait.cpp.
std::chrono::steady_clock::duration sleep_slice() noexcept;
void set_sleep_slice_for_testing(std::chrono::steady_clock::duration slice) noexcept;

// Waits until ready() or `deadline`. peer_gone() is consulted only while
// nothing is ready, at most once per k_peer_check_interval while sleeping.
template <typename Ready, typename PeerGone>
WaitResult wait_for_peer(const WaitOptions& options, Deadline deadline, const SleepWords& words,
                         Ready&& ready, PeerGone&& peer_gone) {
  using Clock = std::chrono::steady_clock;
  if (ready()) return WaitResult::ready;
  if (options.strategy != WaitStrategy::blocking) {
    const Deadline spin_end = options.strategy == WaitStrategy::busy
                                  ? deadline
                                  : std::min(deadline, deadline_after(options.spin));
    auto next_peer_check = Clock::now() + k_peer_check_interval;
    for (std::uint32_t spins = 1;; ++spins) {
      if (ready()) return WaitResult::ready;
      cpu_relax();
      if ((spins & 255) != 0) continue;
      const auto now = Clock::now();
      if (now >= next_peer_check) {
        if (peer_gone()) return ready() ? WaitResult::ready : WaitResult::peer_gone;
        next_peer_check = now + k_peer_check_interval;
      }
      if (now >= spin_end) break;
    }
    if (options.strategy == WaitStrategy::busy) {
      return ready() ? WaitResult::ready : WaitResult::timed_out;
    }
  }
  // A deadline that has passed (a try_ form) gets one look, never an
  // announcement: that would cost a heavy barrier on every failed try.
  if (Clock::now() >= deadline) {
    if (ready()) return WaitResult::ready;
    if (peer_gone()) return ready() ? WaitResult::ready : WaitResult::peer_gone;
    return WaitResult::timed_out;
  }
  for (;;) {
    const std::uint32_t seen = words.signal.load(std::memory_order_acquire);
    words.sleepers.fetch_add(1, std::memory_order_seq_cst);
    // Pairs with the waker's fence: our announcement is ordered before our
    // re-check on every architecture, not only where RMWs are full barriers.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // A waker that skipped its fence: our barrier runs one in its thread.
    const bool backstop = words.fenceless_wakers && !heavy_barrier();
    if (ready()) {
      words.sleepers.fetch_sub(1, std::memory_order_relaxed);
      return WaitResult::ready;
    }
    if (peer_gone()) {
      words.sleepers.fetch_sub(1, std::memory_order_relaxed);
      return ready() ? WaitResult::ready : WaitResult::peer_gone;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      words.sleepers.fetch_sub(1, std::memory_order_relaxed);
      return WaitResult::timed_out;
    }
    const auto longest = backstop ? Clock::duration(k_backstop_slice) : sleep_slice();
    const Deadline slice = deadline - now > longest ? now + longest : deadline;
    words.waiter.wait(words.signal, seen, slice);
    words.sleepers.fetch_sub(1, std::memory_order_relaxed);
  }
}

// How long a busy endpoint's fast path spins before it hands over to its
// general path (which spins on, watching the peer): long enough that a
// peer's answer never waits for the general path, short enough that a dead
// peer is still noticed about k_peer_check_interval later.
inline constexpr auto k_fast_spin_limit = std::chrono::milliseconds(1);
// Attempts between two clock reads of a fast-path spin; also the least an
// adaptive endpoint spins (spin = 0 included) before it sleeps, as before
// the fast paths: a peer answering within a microsecond never waits for a
// wake-up.
inline constexpr std::uint32_t k_fast_spin_round = 256;

// The spin of a fast path: calls attempt() until it returns anything but
// `pending`, for at most the strategy's spin (busy: k_fast_spin_limit, never
// past `deadline`; blocking, or a try_ call's Deadline(): one attempt), and
// returns that, or `pending` when the spin is over: the caller then takes
// its general path, which reports errors, watches the peer and sleeps.
// Inline and free of the clock for the first k_fast_spin_round attempts, so
// that a peer that answers within a microsecond costs no more than them.
template <typename T, typename Attempt>
T spin_for_fast_path(const WaitOptions& options, Deadline deadline, T pending, Attempt&& attempt) {
  T result = attempt();
  if (result != pending || options.strategy == WaitStrategy::blocking || deadline == Deadline()) {
    return result;
  }
  Deadline end{};
  for (bool timed = false;;) {
    for (std::uint32_t i = 0; i < k_fast_spin_round; ++i) {
      cpu_relax();
      result = attempt();
      if (result != pending) return result;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!timed) {
      timed = true;
      // At most k_fast_spin_limit for either strategy (converted after the
      // cap, so a huge spin cannot overflow): the general path watches the
      // peer, the fast spin does not.
      const std::chrono::microseconds limit = k_fast_spin_limit;
      const auto spin = std::chrono::steady_clock::duration(
          options.strategy == WaitStrategy::busy ? limit : std::min(options.spin, limit));
      end = deadline - now > spin ? now + spin : deadline;
    }
    if (now >= end) return pending;
  }
}

// The options of a general path that follows a fast path's spin: an
// adaptive endpoint has spun already and sleeps at once.
// (One whose spin is longer than the fast spin's cap spins on there, with
// the peer watched.)
inline WaitOptions after_fast_spin(const WaitOptions& options) noexcept {
  WaitOptions rest = options;
  if (rest.strategy == WaitStrategy::adaptive && rest.spin <= k_fast_spin_limit) {
    rest.strategy = WaitStrategy::blocking;
  }
  return rest;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
