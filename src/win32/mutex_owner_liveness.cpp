// Win32 side of the owner-word lock (used by ProcessMutex; NamedMutex uses a
// kernel mutex there): this process's owner word, and whether the process
// another owner word names still runs.
#include "sync/mutex_owner_liveness.hpp"
#include <shmkit/config.hpp>

#include "core/process_identity.hpp"
#include "segment/segment_header.hpp"

#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::uint64_t mutex_owner_word() noexcept {
  // No fork() on Windows: one value per process.
  static const std::uint64_t word = pack_slot(current_process());
  return word;
}

std::uint64_t mutex_pid_namespace() noexcept {
  return 0;  // one pid space per machine (a container's are checked by the OS)
}

MutexOwnerLiveness::~MutexOwnerLiveness() {
  forget();
}

void MutexOwnerLiveness::forget() noexcept {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  cached_owner_ = 0;
  pidfd_ = -1;  // no pidfds here
}

bool MutexOwnerLiveness::alive(std::uint64_t owner,
                               std::chrono::steady_clock::duration trust_recent) noexcept {
  const std::uint64_t pid = owner >> 32;
  const std::uint64_t start_time = owner & k_slot_start_time_mask;
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return is_alive(pid, start_time, k_slot_start_time_mask);
  const auto now = std::chrono::steady_clock::now();
  if (cached_owner_ == owner && now - confirmed_at_ < trust_recent) return true;
  if (!is_alive(pid, start_time, k_slot_start_time_mask)) {
    cached_owner_ = 0;
    return false;
  }
  cached_owner_ = owner;
  confirmed_at_ = now;
  return true;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
