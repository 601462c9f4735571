// Stale-segment removal as the segment layer uses it (open_or_create
// reclaims), and what each platform provides to list and judge OS objects.
// docs/lifecycle.md explains the protocol.
#pragma once

#include "core/failure.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/lifecycle.hpp>
#include <shmkit/segment_info.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// ---- common (src/lifecycle/stale_removal.cpp) -------------------------------

enum class Settled {
  in_use,   // not stale, or not judged: use it
  removed,  // the name is gone: create it afresh
  busy,     // another live process is removing it: wait and look again
};

// Whether `pool_name` is a topic's pool "<topic>.p" whose topic exists. Its
// subscribers map it read-only, so its attach table cannot list them: a pool
// is judged with its topic, whose removal takes the pool along.
bool pool_has_topic(SegmentBackend& backend, const std::string& pool_name,
                    const SegmentOptions& options);

// `m` maps the shmkit object `name` of kind `kind` (header published or
// being removed), not attached by this process. Takes over the removal lock
// from a remover that died, undoing its mark unless the object may go; with
// `remove`, removes the object if it is stale, by the mark-then-recheck
// protocol. Failures (no permission to remove, say) leave the object as it
// was and are reported in `failure`; the open path ignores them.
Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        ObjectKind kind, const SegmentOptions& options, bool remove,
                        Failure& failure);
Settled settle_if_stale(SegmentBackend& backend, const std::string& name, const Mapping& m,
                        ObjectKind kind, const SegmentOptions& options, bool remove) noexcept;

// ---- per platform (src/posix/segment_listing.cpp, src/win32/...) ---------

// What a name in the OS's namespace is. Only an `object` is ever opened;
// the others are described from lstat() alone (POSIX /dev/shm).
enum class EntryType { object, symlink, special };

// One OS object, before its header is judged.
struct OsObject {
  std::string name;  // empty for a SysV segment whose name is not known yet
  Backend backend = Backend::native;
  Scope scope = Scope::local;
  EntryType entry = EntryType::object;
  std::uint64_t os_size = 0;
  // `head` holds a copy of its first bytes, read with pread() (POSIX), a
  // read-only attach (SysV) or view (Win32), never through a mapping that
  // another user could truncate under us (SIGBUS).
  bool readable = false;
  // Up to min(os_size, k_header_size) bytes, read once; fewer if the object
  // shrank while it was read.
  std::vector<unsigned char> head;
  std::optional<std::uint32_t> owner_uid;
  std::uint32_t permissions = 0;
  std::optional<SysvDetails> sysv;
  std::optional<std::vector<std::uint64_t>> mapped_by;
  // What the platform needs to find mappers later (POSIX: device, inode).
  std::uint64_t os_device = 0;
  std::uint64_t os_inode = 0;
};

struct ListQuery {
  std::string prefix;         // names must start with it
  std::string exact;          // non-empty: only this name
  bool find_mappers = false;  // fill OsObject::mapped_by where the OS can tell
  Scope scope = Scope::local;
};

// The backends this platform can enumerate.
std::vector<Backend> listable_backends();

// Appends the objects of `backend` that `query` selects. Fails with
// std::errc::function_not_supported if this system cannot list them.
void list_os_objects(Backend backend, const ListQuery& query, std::vector<OsObject>& out,
                     Failure& failure);

// Removes the name `name` of `backend` when it is not an object (a symbolic
// link, a FIFO, ...: EntryType other than `object`) without following or
// opening it: the link goes, its target stays. Returns false if the name was
// gone. Fails with std::errc::is_a_directory for a directory, and with
// std::errc::function_not_supported where the backend has no such entries.
bool remove_os_entry(Backend backend, const std::string& name, Failure& failure);

// Fills mapped_by of `objects` where the OS can tell (Linux /proc).
void find_mappers(std::vector<OsObject*>& objects);

// Liveness for removal decisions, erring towards "alive": a process that
// exists but whose start time this process may not read counts as alive.
bool may_be_alive(std::uint64_t pid, std::uint64_t start_time, std::uint64_t mask) noexcept;
// Whether any process has this pid (or might: permission to tell is missing).
bool pid_may_exist(std::uint64_t pid) noexcept;

// Whether a process other than this one has the object behind `m` mapped,
// as far as the OS tells (Linux /proc/*/maps, SysV nattch).
bool used_by_others(Backend backend, const Mapping& m) noexcept;

// Whether `name` still names the object behind `m` (it was not removed and
// made again by someone else meanwhile).
bool still_named(Backend backend, const std::string& name, const Mapping& m) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
