// The one portable name every shmkit object is created under.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>

#include <cstddef>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

// One limit for every kind of object. An OS name may have 30 characters
// (macOS allows 31 bytes for a POSIX name, including the '/'); shmkit keeps 6
// of them for the companion objects it derives from a name (a ring's
// "<name>.1", a server's connections "<name>.<id>.1"), so that every name
// valid for one kind is valid for every other.
inline constexpr std::size_t k_max_name_length = 24;

// True for 1-24 characters of [A-Za-z0-9._-], except ".", ".." and names
// starting with "sem." (glibc's files for POSIX semaphores). The same rule on
// every platform, so a name that works on Linux also works on Windows and macOS.
SHMKIT_EXPORT bool is_valid_name(std::string_view name) noexcept;

// Sets ec to errc::invalid_name when !is_valid_name(name), clears it otherwise.
SHMKIT_EXPORT void validate_name(std::string_view name, std::error_code& ec) noexcept;

SHMKIT_END_NAMESPACE
