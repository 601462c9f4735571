#include "core/process_identity.hpp"
#include <shmkit/config.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__APPLE__) || defined(__FreeBSD__)
#include <sys/sysctl.h>
#include <sys/types.h>
#include <sys/user.h>
#endif

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

#if defined(__linux__) || defined(__CYGWIN__)
// Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot.
// The command name (field 2) may hold spaces and ')', so parse from the last ')'.
std::optional<std::uint64_t> read_start_time(std::uint64_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%llu/stat", static_cast<unsigned long long>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return std::nullopt;
  ++p;
  // p now points at " S ppid ...": field 3 (state) is the first token.
  int field = 2;
  const char* token = nullptr;
  while (*p != '\0' && field < 22) {
    while (*p == ' ') ++p;
    token = p;
    ++field;
    if (field == 3 && (*token == 'Z' || *token == 'X')) return std::nullopt;  // zombie or dead
    while (*p != '\0' && *p != ' ') ++p;
  }
  if (field != 22 || token == nullptr) return std::nullopt;
  return std::strtoull(token, nullptr, 10);
}
#elif defined(__APPLE__)
std::optional<std::uint64_t> read_start_time(std::uint64_t pid) noexcept {
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(pid)};
  struct kinfo_proc info;
  std::size_t size = sizeof info;
  if (sysctl(mib, 4, &info, &size, nullptr, 0) != 0 || size == 0) return std::nullopt;
  if (info.kp_proc.p_stat == SZOMB) return std::nullopt;
  const auto& tv = info.kp_proc.p_starttime;
  return static_cast<std::uint64_t>(tv.tv_sec) * 1000000u + static_cast<std::uint64_t>(tv.tv_usec);
}
#elif defined(__FreeBSD__)
std::optional<std::uint64_t> read_start_time(std::uint64_t pid) noexcept {
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(pid)};
  struct kinfo_proc info;
  std::size_t size = sizeof info;
  if (sysctl(mib, 4, &info, &size, nullptr, 0) != 0 || size == 0) return std::nullopt;
  if (info.ki_stat == SZOMB) return std::nullopt;
  return static_cast<std::uint64_t>(info.ki_start.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(info.ki_start.tv_usec);
}
#else
// No start time available: existence alone, and every process reports 0.
std::optional<std::uint64_t> read_start_time(std::uint64_t pid) noexcept {
  if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return 0;
  return std::nullopt;
}
#endif

}  // namespace

const ProcessIdentity& current_process() noexcept {
  // Not cached across fork(): a child computes its own identity.
  thread_local ProcessIdentity cached{};
  const auto pid = static_cast<std::uint64_t>(::getpid());
  if (cached.pid != pid) cached = ProcessIdentity{pid, read_start_time(pid).value_or(0)};
  return cached;
}

std::optional<std::uint64_t> process_start_time(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return std::nullopt;
  return read_start_time(pid);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
