// Finding segments, and removing the ones nobody can use any more.
//
// A segment is stale when its creator and every process in its attach table
// have exited (pid and start time, so a recycled pid does not count as
// alive) and, where the OS can tell, no process maps it. remove_stale()
// removes only such segments, and a process that opens one at the same
// moment either backs out cleanly or keeps it alive: a live segment is never
// removed. docs/lifecycle.md has the protocol and why it is safe.
//
// Stale detection trusts pids, so every process that uses a segment must
// share the pid namespace of the process that judges it (on Linux, run
// `shmkit clean` in the same container as the users of /dev/shm).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/segment_info.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

struct ListOptions {
  // Backends to look at. Empty means every backend this platform can list:
  // posix and sysv on Linux and Cygwin (posix needs /dev/shm), win32 on
  // Windows.
  std::vector<Backend> backends;
  // Also list segments that shmkit did not make (raw ones, and anything
  // other programs put in /dev/shm, SysV or the Win32 namespace).
  bool all = false;
  // Only names that start with this. A SysV segment without a shmkit header
  // has no name and only matches an empty prefix.
  std::string name_prefix;
  // Linux: fill SegmentInfo::mapped_by by reading every process's
  // /proc/PID/maps. Costs a pass over all processes.
  bool find_mappers = false;
  // Win32: the namespace to list, Local\ (this session) or Global\.
  Scope scope = Scope::local;
};

// Every segment that matches, sorted by backend, then name. Headers are
// read from a copy (pread() on POSIX), never through a mapping another user
// could truncate under the caller. Reading a SysV segment's header attaches
// to it read-only for a moment, which the kernel records as its last pid
// (lpid). With `all`, names are whatever other programs chose: escape them
// before printing. Errors: errc::backend_unavailable (a backend in
// ListOptions::backends that this platform does not have),
// std::errc::function_not_supported (one that this system cannot list), OS
// errors.
[[nodiscard]] SHMKIT_EXPORT std::vector<SegmentInfo> list_segments(const ListOptions& options = {});
[[nodiscard]] SHMKIT_EXPORT std::vector<SegmentInfo> list_segments(const ListOptions& options,
                                                                   std::error_code& ec) noexcept;

// One segment by name, of any kind (a mutex, a raw segment, ...), in
// SegmentOptions::backend (native: posix on POSIX) and ObjectOptions::scope.
// Errors: errc::not_found (there is none), errc::invalid_name,
// errc::backend_unavailable, OS errors.
[[nodiscard]] SHMKIT_EXPORT SegmentInfo inspect_segment(std::string_view name,
                                                        const SegmentOptions& options = {});
[[nodiscard]] SHMKIT_EXPORT SegmentInfo inspect_segment(std::string_view name,
                                                        const SegmentOptions& options,
                                                        std::error_code& ec) noexcept;

// Removes every stale segment that `options` selects (ListOptions::all is
// ignored: only shmkit's segments can be judged) and returns what it
// removed. A segment it may not remove (another user's) is skipped. A
// mutex, a ring or any other object goes with the named OS objects it owns.
// Nothing is removed on Win32, where a segment dies with its last handle.
// Errors: those of list_segments().
SHMKIT_EXPORT std::vector<SegmentInfo> remove_stale(const ListOptions& options = {});
SHMKIT_EXPORT std::vector<SegmentInfo> remove_stale(const ListOptions& options,
                                                    std::error_code& ec) noexcept;

// Removes the segment `name` if, and only if, it is stale. Returns false if
// it is in use or absent; fails if it is stale but may not be removed (e.g.
// std::errc::permission_denied). A copy of its header is judged first; the
// object is mapped (to run the removal protocol) only if that copy says it
// is stale. Errors: errc::invalid_name, errc::backend_unavailable, OS errors
// (std::errc::permission_denied).
SHMKIT_EXPORT bool remove_if_stale(std::string_view name, const SegmentOptions& options = {});
SHMKIT_EXPORT bool remove_if_stale(std::string_view name, const SegmentOptions& options,
                                   std::error_code& ec) noexcept;

// Removes `name` whatever it holds (a segment, a mutex with its wake-up
// semaphore, ...) and whoever uses it, like NamedSharedMemory::remove():
// open mappings stay valid. A blank object (all zero: a creator killed
// before its first header write) goes as raw; a symbolic link or FIFO
// planted under the name goes itself, never what a link points to. Any
// other object without a shmkit header this version can read fails with
// errc::incompatible_layout unless SegmentOptions::raw says to remove it anyway.
// Returns false if there was nothing to remove. Errors: errc::invalid_name,
// errc::backend_unavailable, errc::incompatible_layout, errc::name_collision
// (SysV: the key belongs to another name), OS errors.
SHMKIT_EXPORT bool remove_object(std::string_view name, const SegmentOptions& options = {});
SHMKIT_EXPORT bool remove_object(std::string_view name, const SegmentOptions& options,
                                 std::error_code& ec) noexcept;

SHMKIT_END_NAMESPACE
