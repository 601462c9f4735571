// POSIX side of the owner-word mutex: this process's owner word, and whether
// the process another owner word names still runs.
#include "sync/mutex_owner_liveness.hpp"
#include <shmkit/config.hpp>

#include "core/process_identity.hpp"
#include "segment/segment_header.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

// pidfds exist from Linux 5.3 on. The portable build does without them: it
// is the code path of systems that have none (Cygwin, macOS).
#if defined(__linux__) && defined(SYS_pidfd_open) && !defined(SHMKIT_PORTABLE_POSIX)
#define SHMKIT_MUTEX_PIDFD 1
#else
#define SHMKIT_MUTEX_PIDFD 0
#endif

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// 0 until computed, and again in a child after fork(): the child is another
// process, and locking with its parent's word would lock as its parent.
std::atomic<std::uint64_t> g_owner_word{0};

void forget_owner_word_after_fork() noexcept {
  g_owner_word.store(0, std::memory_order_relaxed);
}

[[maybe_unused]] const int g_atfork_registered =
    ::pthread_atfork(nullptr, nullptr, &forget_owner_word_after_fork);

// Without /proc (or whatever gives start times here) this process's own
// start time reads as 0, and so would everyone else's: then a pid that
// exists is all there is to go on.
bool alive_by_start_time(std::uint64_t pid, std::uint64_t start_time) noexcept {
  if (current_process().start_time == 0 && !process_start_time(pid)) {
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
  }
  return is_alive(pid, start_time, k_slot_start_time_mask);
}

#if SHMKIT_MUTEX_PIDFD
// 1 when the process behind `pidfd` has exited (a zombie counts), 0 while it
// runs, -1 if the kernel cannot say.
int pidfd_exited(int pidfd) noexcept {
  pollfd entry{pidfd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&entry, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 || (entry.revents & POLLNVAL) != 0) return -1;
  return rc > 0 && (entry.revents & POLLIN) != 0 ? 1 : 0;
}
#endif

}  // namespace

std::uint64_t mutex_owner_word() noexcept {
  std::uint64_t word = g_owner_word.load(std::memory_order_relaxed);
  if (word == 0) {
    word = pack_slot(current_process());
    g_owner_word.store(word, std::memory_order_relaxed);
  }
  return word;
}

std::uint64_t mutex_pid_namespace() noexcept {
#if defined(__linux__)
  // Each PID namespace is one inode of the nsfs; its number names it.
  struct stat info {};
  if (::stat("/proc/self/ns/pid", &info) == 0) return static_cast<std::uint64_t>(info.st_ino);
#endif
  return 0;
}

MutexOwnerLiveness::~MutexOwnerLiveness() {
  forget();
}

void MutexOwnerLiveness::forget() noexcept {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is using it, and will keep it right
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  cached_owner_ = 0;
}

bool MutexOwnerLiveness::alive(std::uint64_t owner,
                               std::chrono::steady_clock::duration trust_recent) noexcept {
  const std::uint64_t pid = owner >> 32;
  const std::uint64_t start_time = owner & k_slot_start_time_mask;
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return alive_by_start_time(pid, start_time);
  const auto now = std::chrono::steady_clock::now();
  if (cached_owner_ == owner && now - confirmed_at_ < trust_recent) return true;
#if SHMKIT_MUTEX_PIDFD
  if (pidfd_ >= 0 && cached_owner_ == owner) {
    const int exited = pidfd_exited(pidfd_);
    if (exited == 0) confirmed_at_ = now;
    if (exited >= 0) return exited == 0;
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  cached_owner_ = 0;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (fd < 0) {
    if (errno == ESRCH) return false;
    // ENOSYS (before 5.3), EMFILE, a seccomp filter: ask /proc instead.
    return alive_by_start_time(pid, start_time);
  }
  // The pidfd pins the process that had `pid` when it was opened. If that
  // process still runs after the start time was read, the start time was its
  // own: a pid names one live process at a time.
  const bool same_start = alive_by_start_time(pid, start_time);
  const int exited = pidfd_exited(fd);
  if (!same_start || exited == 1) {
    ::close(fd);
    return false;
  }
  if (exited < 0) {
    ::close(fd);
    return true;  // the start time matched; the kernel's pidfd is of no use
  }
  pidfd_ = fd;
#else
  if (!alive_by_start_time(pid, start_time)) {
    cached_owner_ = 0;
    return false;
  }
#endif
  cached_owner_ = owner;
  confirmed_at_ = now;
  return true;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
