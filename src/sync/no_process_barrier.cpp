// Where no system call orders another process's threads, there is no heavy
// barrier and wakers keep their fence: the portable POSIX path (Cygwin,
// macOS, the BSDs) and Win32 (FlushProcessWriteBuffers orders the threads of
// the calling process only, not those of the process that wakes us).
#include "sync/process_barrier.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

bool register_for_heavy_barrier() noexcept {
  return false;
}

bool heavy_barrier_exists() noexcept {
  return false;
}

bool heavy_barrier() noexcept {
  return false;
}

void break_heavy_barrier_for_testing(bool) noexcept {}

}  // namespace detail
SHMKIT_END_NAMESPACE
