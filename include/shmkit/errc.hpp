// Library error codes. OS failures keep their native code (errno or
// GetLastError() in std::system_category()); these codes are for conditions
// the library itself detects, and for the few OS outcomes every platform must
// report the same way (a name that exists or does not).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>

#include <system_error>

SHMKIT_BEGIN_NAMESPACE

enum class errc {
  invalid_name = 1,      // not 1-k_max_name_length characters of [A-Za-z0-9._-]
  invalid_size,          // zero, or too large for the header + mapping
  invalid_argument,      // an option value that makes no sense here
  backend_unavailable,   // e.g. the win32 backend on Linux
  already_exists,        // create() on a name that is taken
  not_found,             // open() or remove() of a name that does not exist
  size_mismatch,         // open_or_create() found a segment of another size
  incompatible_layout,   // not a shmkit segment, or another layout version
  corrupted,             // a header field contradicts the mapping
  not_ready,             // the creator never finished creating the segment
  name_collision,        // a SysV key shared by two different names
  read_only,             // a write operation on a read-only handle
  wrong_kind,            // the name belongs to another kind of object (a mutex, not a segment)
  overflow,              // a semaphore count would pass its maximum
  peer_gone,             // the process at the other end exited or closed
  message_too_large,     // a message bigger than the ring or the caller's buffer
  role_taken,            // a live process already is this ring's producer (or consumer)
  type_mismatch,         // a Queue<T> opened with another T than it was created with
  untrusted_owner,       // the object belongs to a user this process was not told to trust
  insecure_permissions,  // open_or_create() found it with wider permissions than it would set
  invalid_state,  // the call does not fit the handle's state (empty handle, commit() with nothing
                  // reserved)
  out_of_space,   // a managed segment's heap has no free block that large
};

// The category of shmkit::errc; its messages say what to do next.
SHMKIT_EXPORT const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

SHMKIT_END_NAMESPACE

template <>
struct std::is_error_code_enum<shmkit::errc> : std::true_type {};
