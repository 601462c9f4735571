#include "robust_pthread_mutex.hpp"

#include "../common/sync_segment.hpp"

#include <pthread.h>
#include <cerrno>
#include <ctime>

namespace shmkit::detail {
namespace {

constexpr std::uint32_t k_robust_layout = 0x4d545852;  // "MTXR"

struct RobustState {
  pthread_mutex_t mutex;
};

// An absolute CLOCK_MONOTONIC time for pthread_mutex_clocklock.
timespec monotonic_time(Deadline deadline) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  auto left = deadline - std::chrono::steady_clock::now();
  if (left < left.zero()) left = left.zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count() + now.tv_nsec;
  timespec until{};
  until.tv_sec = now.tv_sec + static_cast<time_t>(ns / 1000000000);
  until.tv_nsec = static_cast<long>(ns % 1000000000);
  return until;
}

class RobustPthreadMutex final : public MutexImpl {
 public:
  RobustPthreadMutex(SyncSegment segment, std::string name)
      : segment_(std::move(segment)),
        mutex_(&static_cast<RobustState*>(segment_.state)->mutex),
        name_(std::move(name)) {}

  LockStatus lock_until(Deadline deadline, Failure& failure) override {
    int rc;
    if (deadline == k_forever) {
      rc = ::pthread_mutex_lock(mutex_);
    } else {
      const timespec until = monotonic_time(deadline);
      rc = ::pthread_mutex_clocklock(mutex_, CLOCK_MONOTONIC, &until);
    }
    switch (rc) {
      case 0:
        return LockStatus::acquired;
      case ETIMEDOUT:
        return LockStatus::timed_out;
      case EOWNERDEAD:
        // Mark it consistent at once: the caller is told and repairs its
        // data, and the mutex never becomes ENOTRECOVERABLE. If the caller
        // dies while repairing, the next locker gets EOWNERDEAD again.
        ::pthread_mutex_consistent(mutex_);
        return LockStatus::acquired_owner_died;
      case EDEADLK:
        failure.set(std::make_error_code(std::errc::resource_deadlock_would_occur),
                    "lock mutex " + quoted(name_) + ": this thread already holds it");
        return LockStatus::timed_out;
      case ENOTRECOVERABLE:
        failure.set(errno_code(rc), "lock mutex " + quoted(name_) +
                                        ": a process unlocked it without repairing it after "
                                        "its owner died; remove it and create it again");
        return LockStatus::timed_out;
      default:
        failure.set(errno_code(rc), "lock mutex " + quoted(name_) +
                                        " failed: its state may be corrupted; remove it and "
                                        "create it again");
        return LockStatus::timed_out;
    }
  }

  void unlock(Failure& failure) override {
    const int rc = ::pthread_mutex_unlock(mutex_);
    if (rc != 0) {
      failure.set(errno_code(rc), "unlock mutex " + quoted(name_) + " failed");
    }
  }

 private:
  SyncSegment segment_;
  pthread_mutex_t* mutex_;
  std::string name_;
};

void initialize_robust(void* state, const void*, Failure& failure) {
  pthread_mutexattr_t attributes;
  ::pthread_mutexattr_init(&attributes);
  int rc = ::pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  if (rc == 0) rc = ::pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  if (rc == 0) rc = ::pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
  if (rc == 0) rc = ::pthread_mutex_init(&static_cast<RobustState*>(state)->mutex, &attributes);
  ::pthread_mutexattr_destroy(&attributes);
  if (rc != 0) {
    failure.set(errno_code(rc),
                "initialize a robust process-shared mutex failed; build shmkit with "
                "SHMKIT_PORTABLE_POSIX=ON on this system");
  }
}

}  // namespace

std::unique_ptr<MutexImpl> open_robust_pthread_mutex(const std::string& name,
                                                     const Options& options, OpenMode mode,
                                                     Failure& failure) {
  SyncRequest request{SegmentKind::mutex, k_robust_layout, sizeof(RobustState), 0, true,
                      &initialize_robust, nullptr};
  SyncSegment segment = open_sync_segment(name, options, mode, request, failure);
  if (failure) return nullptr;
  return std::make_unique<RobustPthreadMutex>(std::move(segment), name);
}

}  // namespace shmkit::detail
