// Finding segments on Windows: the Section objects of the session's
// \Sessions\<id>\BaseNamedObjects directory (Local\) or of \BaseNamedObjects
// (Global\), through ntdll's directory-object calls, which the Win32 API
// does not wrap. Nothing is ever removed here: a section dies with its last
// handle.
#include <shmkit/config.hpp>
#include "core/process_identity.hpp"
#include "lifecycle/lifecycle_internal.hpp"
#include "win32/os_error.hpp"

#include <windows.h>

#include <winternl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// What NtQueryDirectoryObject returns per entry.
struct DirectoryEntry {
  UNICODE_STRING name;
  UNICODE_STRING type;
};

using OpenDirectoryFn = LONG(NTAPI*)(HANDLE*, ACCESS_MASK, OBJECT_ATTRIBUTES*);
using QueryDirectoryFn = LONG(NTAPI*)(HANDLE, void*, ULONG, BOOLEAN, BOOLEAN, ULONG*, ULONG*);

constexpr ACCESS_MASK k_directory_query = 0x0001;
constexpr LONG k_status_no_more_entries = static_cast<LONG>(0x8000001AL);

template <typename Fn>
Fn ntdll_function(const char* name) {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  if (ntdll == nullptr) return nullptr;
  FARPROC proc = ::GetProcAddress(ntdll, name);
  Fn fn = nullptr;
  static_assert(sizeof fn == sizeof proc, "function pointers have one size");
  std::memcpy(&fn, &proc, sizeof fn);
  return fn;
}

std::wstring directory_path(Scope scope) {
  DWORD session = 0;
  if (scope == Scope::global || !::ProcessIdToSessionId(::GetCurrentProcessId(), &session) ||
      session == 0) {
    return L"\\BaseNamedObjects";
  }
  return L"\\Sessions\\" + std::to_wstring(session) + L"\\BaseNamedObjects";
}

std::wstring to_wstring(const UNICODE_STRING& text) {
  if (text.Buffer == nullptr) return {};
  return std::wstring(text.Buffer, text.Length / sizeof(wchar_t));
}

// The names of the Section objects in the scope's directory.
std::vector<std::wstring> section_names(Scope scope, Failure& failure) {
  const auto open_directory = ntdll_function<OpenDirectoryFn>("NtOpenDirectoryObject");
  const auto query_directory = ntdll_function<QueryDirectoryFn>("NtQueryDirectoryObject");
  if (open_directory == nullptr || query_directory == nullptr) {
    failure.set(std::make_error_code(std::errc::function_not_supported),
                "cannot list win32 segments: ntdll has no NtOpenDirectoryObject / "
                "NtQueryDirectoryObject here");
    return {};
  }
  std::wstring path = directory_path(scope);
  UNICODE_STRING unicode_path;
  unicode_path.Buffer = path.data();
  unicode_path.Length = static_cast<USHORT>(path.size() * sizeof(wchar_t));
  unicode_path.MaximumLength = unicode_path.Length;
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &unicode_path, 0, nullptr, nullptr);
  HANDLE directory = nullptr;
  const LONG opened = open_directory(&directory, k_directory_query, &attributes);
  if (opened < 0) {
    char status[16];
    std::snprintf(status, sizeof status, "0x%08lx", static_cast<unsigned long>(opened));
    failure.set(win32_code(ERROR_ACCESS_DENIED),
                "cannot list win32 segments: opening the object "
                "directory " +
                    narrow(path) + " failed with NTSTATUS " + status);
    return {};
  }
  std::vector<std::wstring> names;
  // Entries are variable-length and point into this buffer; 8-byte aligned.
  std::vector<ULONGLONG> buffer(8192);
  ULONG context = 0;
  for (BOOLEAN restart = TRUE;; restart = FALSE) {
    ULONG returned = 0;
    const LONG status =
        query_directory(directory, buffer.data(), static_cast<ULONG>(buffer.size() * 8), TRUE,
                        restart, &context, &returned);
    if (status == k_status_no_more_entries || status < 0) break;
    const auto* entry = reinterpret_cast<const DirectoryEntry*>(buffer.data());
    if (to_wstring(entry->type) == L"Section") names.push_back(to_wstring(entry->name));
  }
  ::CloseHandle(directory);
  return names;
}

// A view's full length, in whole pages.
std::size_t view_length(const void* base) noexcept {
  std::size_t length = 0;
  const auto* cursor = static_cast<const char*>(base);
  MEMORY_BASIC_INFORMATION info{};
  while (::VirtualQuery(cursor + length, &info, sizeof info) == sizeof info &&
         info.AllocationBase == base && info.State != MEM_FREE && info.RegionSize != 0) {
    length += info.RegionSize;
  }
  return length;
}

// Opens `name` read-only and copies its first bytes. False if it is gone.
bool describe(const std::wstring& name, Scope scope, OsObject& object) {
  const std::wstring full = (scope == Scope::global ? L"Global\\" : L"Local\\") + name;
  object.name = narrow(name);
  object.backend = Backend::win32;
  object.scope = scope;
  HANDLE mapping = ::OpenFileMappingW(FILE_MAP_READ, FALSE, full.c_str());
  if (mapping == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
  void* base = ::MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
  if (base != nullptr) {
    object.os_size = view_length(base);
    const std::size_t want = std::min<std::size_t>(object.os_size, k_header_size);
    object.head.assign(static_cast<const unsigned char*>(base),
                       static_cast<const unsigned char*>(base) + want);
    object.readable = true;
    ::UnmapViewOfFile(base);
  }
  ::CloseHandle(mapping);
  return true;
}

bool still_running(HANDLE process) {
  DWORD code = 0;
  return ::GetExitCodeProcess(process, &code) && code == STILL_ACTIVE;
}

}  // namespace

std::vector<Backend> listable_backends() {
  return {Backend::win32};
}

void list_os_objects(Backend backend, const ListQuery& query, std::vector<OsObject>& out,
                     Failure& failure) {
  if (backend != Backend::win32 && backend != Backend::native) {
    failure.set(errc::backend_unavailable,
                std::string("the ") + to_string(backend) +
                    " backend is not available on Windows; list Backend::win32");
    return;
  }
  if (!query.exact.empty()) {
    // No directory walk needed for one name.
    OsObject object;
    if (describe(widen(query.exact), query.scope, object)) out.push_back(std::move(object));
    return;
  }
  for (const auto& name : section_names(query.scope, failure)) {
    if (narrow(name).compare(0, query.prefix.size(), query.prefix) != 0) continue;
    OsObject object;
    if (describe(name, query.scope, object)) out.push_back(std::move(object));
  }
}

bool remove_os_entry(Backend, const std::string& name, Failure& failure) {
  // Only Section objects are listed here, and nothing is removed on Windows.
  failure.set(std::make_error_code(std::errc::function_not_supported),
              "remove " + quoted(name) + " (win32): a section goes when its last handle closes");
  return false;
}

void find_mappers(std::vector<OsObject*>&) {
  // Windows does not say which processes hold a section.
}

bool may_be_alive(std::uint64_t pid, std::uint64_t start_time, std::uint64_t mask) noexcept {
  if (pid == 0 || pid > 0xffffffffu) return false;
  if (const auto actual = process_start_time(pid)) return ((*actual ^ start_time) & mask) == 0;
  return pid_may_exist(pid);
}

bool pid_may_exist(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > 0xffffffffu) return false;
  HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  // Another user's or a protected process may refuse even this: it exists.
  if (process == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
  const bool running = still_running(process);
  ::CloseHandle(process);
  return running;
}

bool used_by_others(Backend, const Mapping&) noexcept {
  // Unknowable on Windows; nothing is removed here anyway.
  return true;
}

bool still_named(Backend, const std::string&, const Mapping&) noexcept {
  return false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
