// Which implementation backs each sync object on POSIX systems.
#include <shmkit/config.hpp>
#include "sync/owner_word_mutex.hpp"
#include "sync/shared_event.hpp"
#include "sync/shared_semaphore.hpp"
#include "sync/sync_impl.hpp"
#include "sync/sync_segment.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::unique_ptr<MutexImpl> open_mutex(const std::string& name, const Options& options,
                                      OpenMode mode, Failure& failure) {
  // One implementation on every POSIX system; only its WordWaiter (futex or
  // named semaphore) and its liveness check (pidfd or start time) differ.
  return open_owner_word_mutex(name, options, mode, failure);
}

std::unique_ptr<EventImpl> open_event(const std::string& name, const Options& options,
                                      OpenMode mode, EventReset reset, Failure& failure) {
  return open_shared_event(name, options, mode, reset, failure);
}

std::unique_ptr<SemaphoreImpl> open_semaphore(const std::string& name, const Options& options,
                                              OpenMode mode, std::uint32_t initial,
                                              Failure& failure) {
  return open_shared_semaphore(name, options, mode, initial, failure);
}

bool remove_sync_object(const std::string& name, const Options& options, Failure& failure) {
  return remove_sync_segment(name, options, 1, failure);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
