// Which implementation backs each sync object on POSIX systems.
#include "../common/owner_word_mutex.hpp"
#include "../common/shared_event.hpp"
#include "../common/shared_semaphore.hpp"
#include "../common/sync_impl.hpp"
#include "../common/sync_segment.hpp"

namespace shmkit::detail {

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

}  // namespace shmkit::detail
