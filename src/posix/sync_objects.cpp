// Which implementation backs each sync object on POSIX systems.
#include <shmkit/config.hpp>
#include "sync/owner_word_mutex.hpp"
#include "sync/shared_event.hpp"
#include "sync/shared_semaphore.hpp"
#include "sync/sync_impl.hpp"
#include "sync/sync_segment.hpp"

#include <pthread.h>

#include <atomic>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::unique_ptr<MutexObject> open_mutex(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, Failure& failure) {
  // One implementation on every POSIX system; only its WordWaiter (futex or
  // named semaphore) and its liveness check (pidfd or start time) differ.
  return open_owner_word_mutex(name, options, mode, failure);
}

std::unique_ptr<EventObject> open_event(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, EventReset reset, Failure& failure) {
  return open_shared_event(name, options, mode, reset, failure);
}

std::unique_ptr<SemaphoreObject> open_semaphore(const std::string& name,
                                                const SegmentOptions& options, OpenMode mode,
                                                std::uint32_t initial, Failure& failure) {
  return open_shared_semaphore(name, options, mode, initial, failure);
}

bool remove_sync_object(const std::string& name, const SegmentOptions& options, Failure& failure) {
  return remove_sync_segment(name, options, 1, failure);
}

bool sync_object_exists(const std::string& name, ObjectKind, const SegmentOptions& options,
                        Failure& failure) {
  // The object is a segment of its kind; any segment under the name takes
  // it, whatever its kind.
  std::error_code ec;
  const bool found = NamedSharedMemory::exists(name, options, ec);
  if (ec) failure.set(ec, "cannot tell whether " + quoted(name) + " exists");
  return found;
}

std::atomic<std::uint32_t> g_fork_generation{0};

namespace {

void count_fork_in_child() noexcept {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

[[maybe_unused]] const int g_fork_counter_registered =
    ::pthread_atfork(nullptr, nullptr, &count_fork_in_child);

}  // namespace

}  // namespace detail
SHMKIT_END_NAMESPACE
