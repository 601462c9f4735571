// Win32: FlushProcessWriteBuffers orders the threads of this process only,
// not those of the process that wakes us, so there is no heavy barrier and
// wakers keep their fence.
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
