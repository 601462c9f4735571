#include "win32/os_error.hpp"
#include <shmkit/config.hpp>

#include <windows.h>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::wstring widen(const std::string& text) {
  if (text.empty()) return {};
  const int length = static_cast<int>(text.size());
  const int needed = ::MultiByteToWideChar(CP_UTF8, 0, text.data(), length, nullptr, 0);
  if (needed <= 0) return std::wstring(text.begin(), text.end());  // not UTF-8: keep the bytes
  std::wstring wide(static_cast<std::size_t>(needed), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, text.data(), length, wide.data(), needed);
  return wide;
}

std::string narrow(const std::wstring& text) {
  if (text.empty()) return {};
  const int length = static_cast<int>(text.size());
  const int needed =
      ::WideCharToMultiByte(CP_UTF8, 0, text.data(), length, nullptr, 0, nullptr, nullptr);
  if (needed <= 0) return {};
  std::string utf8(static_cast<std::size_t>(needed), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, text.data(), length, utf8.data(), needed, nullptr, nullptr);
  return utf8;
}

std::string describe_win32_error(Win32Error error) {
  wchar_t* buffer = nullptr;
  const DWORD length = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, error, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::wstring text(buffer != nullptr ? buffer : L"", length);
  if (buffer != nullptr) ::LocalFree(buffer);
  while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r' || text.back() == L' ')) {
    text.pop_back();
  }
  std::string result = "Win32 error " + std::to_string(error);
  if (!text.empty()) result += ": " + narrow(text);
  return result;
}

void set_win32_failure(Failure& failure, Win32Error error, const std::string& object,
                       const std::string& operation) {
  // system_error::what() appends the system's text; the number is what a
  // search for the failure needs.
  const std::string detail = " (Win32 error " + std::to_string(error) + ")";
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      failure.set(errc::not_found, object +
                                       " does not exist; create it first (a Win32 object "
                                       "disappears when its last handle closes)");
      return;
    case ERROR_ALREADY_EXISTS:
      failure.set(errc::already_exists, object + " already exists; open it, or use open_or_create");
      return;
    case ERROR_ACCESS_DENIED:
      if (operation == "create") {
        // Create*W also opens an existing object, so this is either the
        // Global\ privilege or a taken name whose DACL shuts us out.
        failure.set(win32_code(error),
                    operation + " " + object +
                        ": access denied; creating under Global\\ needs SeCreateGlobalPrivilege "
                        "(run elevated or as a service), otherwise another user holds the name: "
                        "choose another name" +
                        detail);
        return;
      }
      failure.set(win32_code(error),
                  operation + " " + object +
                      ": access denied; run as the creator's user or have the creator pass an "
                      "SDDL ObjectOptions::security_descriptor granting access" +
                      detail);
      return;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_DISK_FULL:
      failure.set(win32_code(error),
                  operation + " " + object +
                      ": out of memory or paging-file space; ask for less, close other objects, or "
                      "enlarge the paging file" +
                      detail);
      return;
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_NO_SYSTEM_RESOURCES:
      failure.set(win32_code(error), operation + " " + object +
                                         ": out of system resources; close some handles" + detail);
      return;
    default:
      failure.set(win32_code(error), operation + " " + object + " failed" + detail);
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
