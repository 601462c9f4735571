// A named block of memory shared between processes.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/attached_process.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct SegmentAccess;
struct NamedSharedMemoryImpl;
}  // namespace detail

// POSIX: the shm_open descriptor; SysV: the shmid; Win32: the HANDLE's value.
using NativeHandle = std::intptr_t;

// A move-only handle to a mapped segment. The mapping lives until the handle is
// closed or destroyed; whether the segment itself outlives it depends on the
// backend (POSIX and SysV: until remove(); Win32: until its last handle closes).
//
// Errors: every call that can fail comes in two forms, like std::filesystem.
// One throws shmkit::Error, whose what() is one sentence that names the segment
// and says what to do; its twin takes a trailing std::error_code&, is noexcept,
// returns an empty handle (or false, or an empty list) on failure, and
// shmkit::error_message(ec) gives the same sentence (docs/segments.md,
// "Errors"). Every name-taking call can fail with errc::invalid_name (not 1-24
// characters of [A-Za-z0-9._-]) and errc::backend_unavailable (the backend does
// not exist on this platform), and with the OS's own code (std::system_category,
// e.g. permission denied) for what the OS refuses; each member lists the others.
// A call on an empty handle that can fail fails with errc::invalid_state.
//
// Threads: the static functions may be called from any number of threads at
// once. The const members of one handle may be called concurrently; close(),
// assignment and destruction must not run concurrently with any other call on
// the same handle. Distinct handles to one segment may be used from distinct
// threads and processes. The memory behind data() is shared as is: the caller
// synchronises access to it (a NamedMutex, atomics, ...).
//
// fork(): a child inherits the mapping, so data() in the child addresses the
// same memory as in the parent, until the child closes its copy. The child is
// not recorded in the segment's attach table, and its close() or destructor
// only unmaps its own copy: it leaves the parent's attach-table entry alone and
// does not remove the name even with SegmentOptions::unlink_on_close. A child
// that needs to be known as a user of the segment opens a handle of its own.
class SHMKIT_EXPORT NamedSharedMemory {
 public:
  // Creates a new segment of exactly `size` bytes, filled with zeros.
  // Errors: errc::already_exists (the name is taken), errc::invalid_size (0, or
  // more than can be mapped), errc::invalid_argument (Access::read_only: a
  // segment is created read-write), errc::not_ready (a stale-segment remover
  // marked it while it was being created), and OS errors (no space in
  // /dev/shm, a SysV limit, permission denied).
  [[nodiscard]] static NamedSharedMemory create(std::string_view name, std::size_t size,
                                                const SegmentOptions& options = {});
  [[nodiscard]] static NamedSharedMemory create(std::string_view name, std::size_t size,
                                                const SegmentOptions& options,
                                                std::error_code& ec) noexcept;

  // Opens an existing segment, waiting up to ObjectOptions::open_timeout for
  // its creator to finish. Errors: errc::not_found (no such segment),
  // errc::not_ready (its creator did not finish in time, or it is being
  // removed as stale), errc::wrong_kind (the name holds a mutex, a ring, ...),
  // errc::incompatible_layout (no shmkit header: open it with
  // SegmentOptions::raw), errc::corrupted (the header contradicts itself),
  // errc::name_collision (SysV: another name has the same key),
  // errc::untrusted_owner (another user made it: ObjectOptions::trusted_owners),
  // and OS errors.
  [[nodiscard]] static NamedSharedMemory open(std::string_view name,
                                              const SegmentOptions& options = {});
  [[nodiscard]] static NamedSharedMemory open(std::string_view name, const SegmentOptions& options,
                                              std::error_code& ec) noexcept;

  // Opens the segment, or creates it if there is none; created() tells which.
  // Safe against any number of processes racing on the same name. A stale
  // segment that cannot be used as asked is replaced (ObjectOptions::
  // reclaim_stale, docs/lifecycle.md). Errors: those of create() and open(),
  // and errc::size_mismatch (it exists with another size),
  // errc::insecure_permissions (it exists with wider permissions than
  // ObjectOptions::permissions: ObjectOptions::accept_wider_permissions).
  [[nodiscard]] static NamedSharedMemory open_or_create(std::string_view name, std::size_t size,
                                                        const SegmentOptions& options = {});
  [[nodiscard]] static NamedSharedMemory open_or_create(std::string_view name, std::size_t size,
                                                        const SegmentOptions& options,
                                                        std::error_code& ec) noexcept;

  // Removes the name; mappings that are open stay valid. Returns false if
  // there was nothing to remove (not an error, as std::filesystem::remove).
  // A no-op that returns false on Win32, where a segment dies with its last
  // handle. Removes any OS object under the name, whatever it holds: to
  // remove a mutex, ring, ... with the OS objects it owns, use that class's
  // remove() or shmkit::remove_object(). Errors: OS errors (permission
  // denied).
  static bool remove(std::string_view name, const SegmentOptions& options = {});
  static bool remove(std::string_view name, const SegmentOptions& options,
                     std::error_code& ec) noexcept;

  // Whether an OS object has the name (in SegmentOptions::backend), whatever
  // it holds and whether or not its creator has finished. Errors: OS errors
  // other than "no such name".
  [[nodiscard]] static bool exists(std::string_view name, const SegmentOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const SegmentOptions& options,
                                   std::error_code& ec) noexcept;

  NamedSharedMemory() noexcept = default;  // an empty handle
  NamedSharedMemory(NamedSharedMemory&& other) noexcept;
  NamedSharedMemory& operator=(NamedSharedMemory&& other) noexcept;
  NamedSharedMemory(const NamedSharedMemory&) = delete;
  NamedSharedMemory& operator=(const NamedSharedMemory&) = delete;
  ~NamedSharedMemory();

  // Unmaps (and, with unlink_on_close, removes the name) now instead of at
  // destruction; the handle is empty afterwards. Nothing happens on an empty
  // handle. Never fails: a name it could not remove stays listed by
  // `shmkit list` and removable by hand.
  void close() noexcept;

  bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // The accessors below never fail: on an empty handle they return nullptr,
  // 0, an empty name, and the defaults of SegmentOptions.

  // At least 64-byte aligned. Writing through a read_only handle faults.
  void* data() const noexcept;
  // Exactly the size the creator asked for. For a raw segment: what the OS
  // reports (on Win32 that is rounded up to whole pages).
  std::size_t size() const noexcept;
  const std::string& name() const noexcept;
  // The backend actually used (Backend::native resolved).
  Backend backend() const noexcept;
  Access access() const noexcept;
  // True when this handle's factory call created the segment.
  bool created() const noexcept;
  bool raw() const noexcept;
  // -1 on an empty handle.
  NativeHandle native_handle() const noexcept;

  // The processes that have this segment open read-write, including this one
  // and processes that died without closing it (alive == false). A process
  // that opened it read-only is not listed (it cannot write its entry).
  // Empty for a raw segment, which has no attach table. Errors:
  // errc::invalid_state (an empty handle).
  std::vector<AttachedProcess> attached_processes() const;
  std::vector<AttachedProcess> attached_processes(std::error_code& ec) const noexcept;

 private:
  friend struct detail::SegmentAccess;  // src/segment fills in an opened handle

  detail::NamedSharedMemoryImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
