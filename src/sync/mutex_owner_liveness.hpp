// What the owner-word mutex needs from the platform: who this process is, as
// the one 64-bit word it writes into shared memory when it takes the lock, and
// whether the process another word names is still running.
//
// Both only ever read integers from shared memory; nothing here follows a
// pointer, and every word is judged by asking the OS about the pid in it.
#pragma once

#include <shmkit/config.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// pack_slot() of this process (pid << 32 | low 32 bits of its start time).
// Cheap: one load, recomputed only after fork().
std::uint64_t mutex_owner_word() noexcept;

// An id of the PID namespace this process sees pids in, or 0 where there is
// none or it cannot be read. An owner word holds a pid, which means another
// process (or nothing) in another PID namespace.
std::uint64_t mutex_pid_namespace() noexcept;

// Answers "is the owner that this word names still running?" for one mutex
// handle. Linux (futex build): a pidfd opened once per owner and checked with
// poll(), so a waiter that re-checks every few milliseconds pays one system
// call each time; elsewhere the owner's start time is read each time (/proc,
// sysctl). A recycled pid is told apart from the owner by its start time.
class MutexOwnerLiveness {
 public:
  MutexOwnerLiveness() = default;
  MutexOwnerLiveness(const MutexOwnerLiveness&) = delete;
  MutexOwnerLiveness& operator=(const MutexOwnerLiveness&) = delete;
  ~MutexOwnerLiveness();

  // False for any word that does not name a running process with that start
  // time: 0, pid 0, a pid past the OS's range, garbage. A "running" answer
  // for the same word younger than `trust_recent` is given again without
  // asking the OS, so that a loop of try_lock() calls costs a system call
  // only every so often.
  bool alive(std::uint64_t owner, std::chrono::steady_clock::duration trust_recent = {}) noexcept;

  // Drops what alive() kept about the last owner (an open pidfd): called once
  // the lock is ours, so an idle handle holds no file descriptor.
  void forget() noexcept;

 private:
  // Several threads may wait through one handle: the cache is theirs in turn
  // (a thread that finds it busy asks the OS without it).
  std::mutex mutex_;
  std::uint64_t cached_owner_ = 0;  // the last owner found running
  std::chrono::steady_clock::time_point confirmed_at_{};
  int pidfd_ = -1;  // Linux: cached_owner_'s pidfd, or -1
};

}  // namespace detail
SHMKIT_END_NAMESPACE
