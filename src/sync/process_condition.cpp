// ProcessCondition: a sequence word that every notify bumps and waiters sleep
// on (src/sync/address_wait.hpp), and a count of sleepers so that a notify
// with nobody waiting makes no system call.
#include <shmkit/process_condition.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "sync/address_wait.hpp"

#include <chrono>
#include <limits>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;

void ProcessCondition::notify_one() noexcept {
  sequence_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) detail::address_wake(sequence_, 1);
}

void ProcessCondition::notify_all() noexcept {
  sequence_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    detail::address_wake(sequence_, std::numeric_limits<std::uint32_t>::max());
  }
}

void ProcessCondition::note_owner_died(ProcessMutex& mutex) noexcept {
  mutex.note_owner_died();
}

ConditionStatus ProcessCondition::wait_deadline(ProcessMutex& mutex, Deadline deadline,
                                                std::error_code* ec) {
  auto body = [&](Failure& f) {
    // Read before the unlock: a notify that comes after it (from the thread
    // that takes the mutex next, say) changes the word, so the sleep below
    // returns at once instead of missing it.
    const std::uint32_t seen = sequence_.load(std::memory_order_seq_cst);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    mutex.release(f);
    if (f) {
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      if (f.code == make_error_code(errc::invalid_state)) {
        f.set(errc::invalid_state,
              "ProcessCondition::wait needs the ProcessMutex locked by the calling thread; lock "
              "it (std::unique_lock) before waiting");
      }
      return ConditionStatus::timed_out;
    }
    while (sequence_.load(std::memory_order_seq_cst) == seen &&
           std::chrono::steady_clock::now() < deadline) {
      detail::address_wait(sequence_, seen, deadline);
    }
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    const bool notified = sequence_.load(std::memory_order_relaxed) != seen;
    // Relocked whatever happens, as std::condition_variable does: the
    // caller's unique_lock believes it holds the mutex.
    const LockStatus relocked = mutex.acquire(k_forever, f);
    if (f) return ConditionStatus::timed_out;
    if (relocked == LockStatus::acquired_owner_died) return ConditionStatus::owner_died;
    return notified ? ConditionStatus::notified : ConditionStatus::timed_out;
  };
  if (ec == nullptr) return detail::throwing(body);
  return detail::without_throwing(*ec, body);
}

SHMKIT_END_NAMESPACE
