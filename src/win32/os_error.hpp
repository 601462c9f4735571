// GetLastError() codes turned into Failures whose messages name the object and
// the fix, plus the UTF-8 <-> UTF-16 conversions every Win32 call needs.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

using Win32Error = unsigned long;  // a DWORD, without pulling <windows.h> into every user

// Win32 codes stay in std::system_category(), as errno does on POSIX.
inline std::error_code win32_code(Win32Error error) noexcept {
  return {static_cast<int>(error), std::system_category()};
}

// UTF-8 to UTF-16 and back; names are ASCII, SDDL strings and paths may not be.
std::wstring widen(const std::string& text);
std::string narrow(const std::wstring& text);

// "Win32 error 5: Access is denied.", for a failure reported under a shmkit
// code (a bad SDDL string, a name of the wrong kind), so that the Win32
// reason is not lost. A system_category() code needs none: what() already
// ends with its text.
std::string describe_win32_error(Win32Error error);

// Sets `failure` for `error` from `operation` on `object` ("segment 'x'
// (win32, Local\x)"). ERROR_FILE_NOT_FOUND and ERROR_ALREADY_EXISTS become
// errc::not_found / already_exists; the rest keep their Win32 code.
void set_win32_failure(Failure& failure, Win32Error error, const std::string& object,
                       const std::string& operation);

}  // namespace detail
SHMKIT_END_NAMESPACE
