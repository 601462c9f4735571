// Which implementation backs each sync object on POSIX systems.
#include "../common/owner_word_mutex.hpp"
#include "../common/shared_event.hpp"
#include "../common/shared_semaphore.hpp"
#include "../common/sync_impl.hpp"
#include "../common/sync_segment.hpp"

#if !defined(SHMKIT_PORTABLE_POSIX)
#include "robust_pthread_mutex.hpp"
#endif

namespace shmkit::detail {

std::unique_ptr<MutexImpl> open_mutex(const std::string& name, const Options& options,
                                      OpenMode mode, Failure& failure) {
#if defined(SHMKIT_PORTABLE_POSIX)
  return open_owner_word_mutex(name, options, mode, failure);
#else
  return open_robust_pthread_mutex(name, options, mode, failure);
#endif
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
