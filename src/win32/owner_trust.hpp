// Whether this process may use a kernel object another process created: the
// squatting defence of docs/security.md, for Win32 sections and the native
// mutex, event and semaphore.
#pragma once

#include "core/failure.hpp"

#include <shmkit/options.hpp>

#include <windows.h>

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Sets errc::untrusted_owner unless the owner of `handle` (which must carry
// READ_CONTROL; nullptr when none could be had) is this process's user, the
// token's default owner, SYSTEM, Administrators, or named in
// options.trusted_owners. `object` names it for the message.
void check_win32_owner(HANDLE handle, const std::string& object, const SegmentOptions& options,
                       Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
