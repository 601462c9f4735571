// errno turned into Failures whose messages name the object and the fix.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// "owned by uid 1000 (alice), mode 0600" for a file path, or "" if unknown.
std::string describe_owner(const std::string& path);
std::string describe_owner(unsigned uid, unsigned mode);

// Sets `failure` for errno `error` from `operation` on `object` ("segment
// 'x'"). ENOENT and EEXIST become errc::not_found / already_exists; the rest
// keep their errno. `owner` is appended to permission errors.
void set_errno_failure(Failure& failure, int error, const std::string& object,
                       const std::string& operation, const std::string& owner = {});

}  // namespace detail
SHMKIT_END_NAMESPACE
