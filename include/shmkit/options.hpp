// How a named object is opened or created: ObjectOptions for what every kind
// shares, and one struct per class for what only that class means.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

enum class Backend : std::uint8_t {
  native,  // posix on POSIX systems, win32 on Windows
  posix,   // shm_open + mmap
  sysv,    // shmget + shmat
  win32,   // CreateFileMapping on the paging file
};

enum class Access : std::uint8_t { read_only, read_write };

// Win32 only: which kernel namespace a name lives in.
enum class Scope : std::uint8_t {
  local,   // Local\name: this logon session
  global,  // Global\name: every session (creating needs SeCreateGlobalPrivilege)
};

// What every named object takes: who may use it, and how an existing one is
// judged. Each class has its own options struct deriving from this one, so a
// field that means nothing to a class cannot be set on it.
struct ObjectOptions {
  // POSIX mode bits for a created object. Owner-only by default; widen it
  // deliberately (e.g. 0640) when another user must open the object.
  unsigned permissions = 0600;
  // How long open() and open_or_create() wait for an object that another
  // process is still creating. Any std::chrono duration converts to it.
  std::chrono::nanoseconds open_timeout = std::chrono::seconds(1);
  // open_or_create(): when the existing object is stale (its creator and
  // every process attached to it have exited) AND cannot be used as asked
  // (another size, or its creator died before finishing it), remove it and
  // create a fresh one instead of failing. A stale object that can be used is
  // opened with its data. create() and open() never reclaim. See
  // docs/lifecycle.md.
  bool reclaim_stale = true;
  // Whose objects this handle may use when it did not create them in this
  // call (open, open_or_create finding one, taking over a role). The
  // caller's own user and the administrator (root; on Windows SYSTEM and
  // Administrators) are always trusted; add others by user name or number
  // ("postgres", "1000"; on Windows an account name or SID string), or "*"
  // for anyone. Any other owner is errc::untrusted_owner: a name another
  // user created first may be a trap (docs/security.md).
  std::vector<std::string> trusted_owners;
  // open_or_create(): accept an existing object whose permissions are wider
  // than `permissions` (someone else may have written to it). Off by
  // default: such an object is errc::insecure_permissions.
  bool accept_wider_permissions = false;
  // Win32 only: the kernel namespace the name lives in.
  Scope scope = Scope::local;
  // Win32 only: an SDDL string for created objects; empty = the default DACL.
  std::string security_descriptor;
};

// NamedSharedMemory.
struct SegmentOptions : ObjectOptions {
  Backend backend = Backend::native;
  Access access = Access::read_write;
  // No shmkit header: the object is exactly what shm_open/shmget/
  // CreateFileMapping would make, for interop with programs that do not use
  // shmkit. size() is then what the OS reports.
  bool raw = false;
  // Remove the name when this handle closes (POSIX and SysV). Win32 objects
  // always die with their last handle, so it changes nothing there.
  bool unlink_on_close = false;
  // Fault every page in at open, so the first access does not pay for it.
  bool populate = false;
};

// Backend::native resolved for this platform.
SHMKIT_EXPORT Backend native_backend() noexcept;

constexpr const char* to_string(Backend b) noexcept {
  switch (b) {
    case Backend::native:
      return "native";
    case Backend::posix:
      return "posix";
    case Backend::sysv:
      return "sysv";
    case Backend::win32:
      return "win32";
  }
  return "unknown";
}

SHMKIT_END_NAMESPACE
