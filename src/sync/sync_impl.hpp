// What a platform provides behind NamedMutex, NamedEvent and NamedSemaphore.
// The public classes (src/sync/named_*.cpp, through src/sync/sync_handle.hpp)
// add what must be the same everywhere: argument checks, thread ownership of
// a mutex, the fork() rule, error wrapping.
#pragma once

#include "core/failure.hpp"
#include "segment/segment_access.hpp"

#include <shmkit/deadline.hpp>
#include <shmkit/named_event.hpp>
#include <shmkit/named_mutex.hpp>
#include <shmkit/options.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct WaitHook;  // messaging/wait_hook.hpp: what a WaitSet needs from an event or semaphore

class MutexObject {
 public:
  virtual ~MutexObject() = default;
  // Never returns acquired_owner_died twice for one death.
  virtual LockStatus lock_until(Deadline deadline, Failure& failure) = 0;
  virtual void unlock(Failure& failure) = 0;
};

class EventObject {
 public:
  virtual ~EventObject() = default;
  virtual void set(Failure& failure) = 0;
  virtual void reset(Failure& failure) = 0;
  virtual bool wait_until(Deadline deadline, Failure& failure) = 0;
  // Ready = signaled: a wait would return at once. Valid while this lives.
  // A hook without `ready`, with `failure` set, where this handle cannot be
  // looked at without taking its signal (Win32: no EVENT_QUERY_STATE).
  virtual WaitHook wait_hook(Failure& failure) = 0;
};

class SemaphoreObject {
 public:
  virtual ~SemaphoreObject() = default;
  virtual void post(std::uint32_t count, Failure& failure) = 0;
  virtual bool wait_until(Deadline deadline, Failure& failure) = 0;
  // Ready = count > 0: a wait would return at once. Valid while this lives.
  // As EventObject's (Win32: no SEMAPHORE_QUERY_STATE).
  virtual WaitHook wait_hook(Failure& failure) = 0;
};

// The largest count a semaphore holds on every platform.
inline constexpr std::uint32_t k_semaphore_max = 0x7fffffff;

std::unique_ptr<MutexObject> open_mutex(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, Failure& failure);
std::unique_ptr<EventObject> open_event(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, EventReset reset, Failure& failure);
std::unique_ptr<SemaphoreObject> open_semaphore(const std::string& name,
                                                const SegmentOptions& options, OpenMode mode,
                                                std::uint32_t initial, Failure& failure);
// Returns false if there was nothing to remove (always, on Win32).
bool remove_sync_object(const std::string& name, const SegmentOptions& options, Failure& failure);

// Whether `name` is taken, by an object of `kind` or of any other kind.
bool sync_object_exists(const std::string& name, ObjectKind kind, const SegmentOptions& options,
                        Failure& failure);

// Changes in a child after every fork() (POSIX; always 0 on Win32). A handle
// remembers the value it was opened with: its state (a lock owned by the
// parent, the parent's entry in the attach table) is the parent's, so a
// handle whose value differs is not used. One relaxed load, inline: every
// lock and unlock checks it. The platform counts forks into it.
extern std::atomic<std::uint32_t> g_fork_generation;
inline std::uint32_t fork_generation() noexcept {
  return g_fork_generation.load(std::memory_order_relaxed);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
