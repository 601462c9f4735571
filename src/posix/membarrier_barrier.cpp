// Linux: the heavy barrier is membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED),
// which interrupts every CPU that runs a thread of a registered process
// (about 10-15 us per call on the machines measured). Registration is per
// address space and not inherited by a forked child, so it is remembered
// together with the pid that made it.
#include "sync/process_barrier.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

long membarrier(int command) noexcept {
  return ::syscall(__NR_membarrier, command, 0u, 0);
}

std::mutex g_register_lock;
std::atomic<pid_t> g_registered_pid{0};
std::atomic<bool> g_broken{false};

}  // namespace

bool register_for_heavy_barrier() noexcept {
  const pid_t self = ::getpid();
  if (g_registered_pid.load(std::memory_order_acquire) == self) return true;
  std::lock_guard<std::mutex> lock(g_register_lock);
  if (g_registered_pid.load(std::memory_order_relaxed) == self) return true;
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  const long wanted = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  if (supported < 0 || (supported & wanted) != wanted) return false;
  if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0) return false;
  g_registered_pid.store(self, std::memory_order_release);
  return true;
}

bool heavy_barrier_exists() noexcept {
  return true;
}

bool heavy_barrier() noexcept {
  if (g_broken.load(std::memory_order_relaxed)) return false;
  return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

void break_heavy_barrier_for_testing(bool broken) noexcept {
  g_broken.store(broken, std::memory_order_relaxed);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
