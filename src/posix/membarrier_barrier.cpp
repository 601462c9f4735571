// Linux: the heavy barrier is membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED),
// which interrupts every CPU that runs a thread of a registered process
// (about 10-15 us per call on the machines measured). Registration belongs
// to the address space: a forked child inherits it, exec clears it (and no
// handle survives exec). It is still made once per pid, because it is
// idempotent and costs one system call per process.
#include "sync/process_barrier.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

long membarrier(int command) noexcept {
  return ::syscall(__NR_membarrier, command, 0u, 0);
}

// Whether this kernel lets processes register for and issue global
// expedited barriers (kernel 4.16 or later, and no seccomp filter against
// it). Asked once; the answer cannot change while the process runs.
bool kernel_has_barrier() noexcept {
  static const bool has = [] {
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    const long wanted = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
    return supported >= 0 && (supported & wanted) == wanted;
  }();
  return has;
}

// No lock: registering twice is harmless, and a lock held by another thread
// at fork() would deadlock the child here.
std::atomic<pid_t> g_registered_pid{0};
std::atomic<bool> g_broken{false};

}  // namespace

bool register_for_heavy_barrier() noexcept {
  const pid_t self = ::getpid();
  if (g_registered_pid.load(std::memory_order_acquire) == self) return true;
  if (!kernel_has_barrier()) return false;
  if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0) return false;
  g_registered_pid.store(self, std::memory_order_release);
  return true;
}

// Where the kernel has none, no process can register, so no waker skips its
// fence and a sleeper needs neither the barrier nor the backstop's short
// slices.
bool heavy_barrier_exists() noexcept {
  return kernel_has_barrier();
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
