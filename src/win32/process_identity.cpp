#include "core/process_identity.hpp"
#include <shmkit/config.hpp>

#include <windows.h>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::uint64_t to_u64(const FILETIME& time) noexcept {
  return (static_cast<std::uint64_t>(time.dwHighDateTime) << 32) | time.dwLowDateTime;
}

// The creation time in FILETIME units (100 ns since 1601), or nullopt.
std::optional<std::uint64_t> creation_time(HANDLE process) noexcept {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!::GetProcessTimes(process, &created, &exited, &kernel, &user)) return std::nullopt;
  return to_u64(created);
}

}  // namespace

const ProcessIdentity& current_process() noexcept {
  // No fork() on Windows: computing it once per process is enough.
  static const ProcessIdentity self{::GetCurrentProcessId(),
                                    creation_time(::GetCurrentProcess()).value_or(0)};
  return self;
}

std::optional<std::uint64_t> process_start_time(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > 0xffffffffu) return std::nullopt;
  // A process of another user may refuse even this limited right. It then
  // counts as not running: the attach table shows it dead, and a full table
  // may reuse its slot (its own release is a compare-exchange, so harmless).
  HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return std::nullopt;
  std::optional<std::uint64_t> result;
  DWORD exit_code = 0;
  // An exited process stays openable while anyone holds a handle to it. (A
  // process that exits with code 259 looks alive here; nobody should.)
  if (::GetExitCodeProcess(process, &exit_code) && exit_code == STILL_ACTIVE) {
    result = creation_time(process);
  }
  ::CloseHandle(process);
  return result;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
