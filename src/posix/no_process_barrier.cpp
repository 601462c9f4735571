// The portable POSIX path (Cygwin, macOS, the BSDs): no system call orders
// another process's threads, so wakers keep their fence.
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
