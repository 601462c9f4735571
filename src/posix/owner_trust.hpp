// Whether this process may use an object that another process created: the
// squatting defence of docs/security.md, for the posix and sysv backends.
#pragma once

#include "core/failure.hpp"

#include <shmkit/options.hpp>

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// What the OS says about an existing object.
struct PosixOwner {
  unsigned owner_uid = 0;
  unsigned creator_uid = 0;  // SysV keeps both; for files it is the owner
  unsigned mode = 0;         // permission bits
};

// Sets errc::untrusted_owner unless the owner and the creator are this
// process's effective user, root, or named in options.trusted_owners; with
// `check_permissions`, sets errc::insecure_permissions when `mode` grants
// more than options.permissions. `object` is "segment 'x' (posix)".
void check_posix_owner(const std::string& object, const PosixOwner& owner,
                       const SegmentOptions& options, bool check_permissions, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
