// Who a process is, in a form that survives pid reuse: a pid alone may name a
// different, newer process once the original has died, so every record of a
// process in shared memory also keeps its start time. Implemented per platform.
#pragma once

#include <shmkit/config.hpp>

#include <cstdint>
#include <optional>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct ProcessIdentity {
  std::uint64_t pid = 0;
  std::uint64_t start_time = 0;  // platform units; only compared for equality
};

// This process, computed once.
const ProcessIdentity& current_process() noexcept;

// The start time of a running process, or nullopt if `pid` is not running
// (a zombie counts as not running: it can no longer touch shared memory).
std::optional<std::uint64_t> process_start_time(std::uint64_t pid) noexcept;

// True if `pid` runs and started at `start_time`. Only the bits in `mask` of
// the start time are compared, for records that keep a truncated copy.
inline bool is_alive(std::uint64_t pid, std::uint64_t start_time,
                     std::uint64_t mask = ~std::uint64_t{0}) noexcept {
  if (pid == 0) return false;
  const auto actual = process_start_time(pid);
  return actual && ((*actual ^ start_time) & mask) == 0;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
