// What a platform provides behind NamedMutex, NamedEvent and NamedSemaphore.
// The public classes (src/named_*.cpp) add what must be the same
// everywhere: argument checks, thread ownership of a mutex, error wrapping.
#pragma once

#include "core/failure.hpp"
#include "segment/segment_access.hpp"

#include <shmkit/deadline.hpp>
#include <shmkit/named_event.hpp>
#include <shmkit/named_mutex.hpp>
#include <shmkit/options.hpp>

#include <cstdint>
#include <memory>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class MutexImpl {
 public:
  virtual ~MutexImpl() = default;
  // Never returns acquired_owner_died twice for one death.
  virtual LockStatus lock_until(Deadline deadline, Failure& failure) = 0;
  virtual void unlock(Failure& failure) = 0;
};

class EventImpl {
 public:
  virtual ~EventImpl() = default;
  virtual void set(Failure& failure) = 0;
  virtual void reset(Failure& failure) = 0;
  virtual bool wait_until(Deadline deadline, Failure& failure) = 0;
};

class SemaphoreImpl {
 public:
  virtual ~SemaphoreImpl() = default;
  virtual void post(std::uint32_t count, Failure& failure) = 0;
  virtual bool wait_until(Deadline deadline, Failure& failure) = 0;
};

// The largest count a semaphore holds on every platform.
inline constexpr std::uint32_t k_semaphore_max = 0x7fffffff;

std::unique_ptr<MutexImpl> open_mutex(const std::string& name, const Options& options,
                                      OpenMode mode, Failure& failure);
std::unique_ptr<EventImpl> open_event(const std::string& name, const Options& options,
                                      OpenMode mode, EventReset reset, Failure& failure);
std::unique_ptr<SemaphoreImpl> open_semaphore(const std::string& name, const Options& options,
                                              OpenMode mode, std::uint32_t initial,
                                              Failure& failure);
// Returns false if there was nothing to remove (always, on Win32).
bool remove_sync_object(const std::string& name, const Options& options, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
