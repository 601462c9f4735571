// Backend::win32: CreateFileMappingW on the paging file + MapViewOfFile.
#include "win32/win32_segment_backend.hpp"
#include <shmkit/config.hpp>

#include "win32/kernel_object_name.hpp"
#include "win32/os_error.hpp"
#include "win32/owner_trust.hpp"
#include "win32/security_attributes.hpp"

#include <windows.h>

#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::wstring os_name(const std::string& name, const SegmentOptions& options) {
  return kernel_object_name(name, options.scope);
}

std::string object(const std::string& name, const SegmentOptions& options) {
  return "segment " + quoted(name) + " (win32, " + narrow(os_name(name, options)) + ")";
}

// Mappings, events, mutexes, semaphores and waitable timers share one
// namespace; CreateFileMappingW and OpenFileMappingW fail with
// ERROR_INVALID_HANDLE when the name is held by one of the others.
void set_failure(Failure& failure, DWORD error, const std::string& name,
                 const SegmentOptions& options, const std::string& operation) {
  if (error == ERROR_INVALID_HANDLE) {
    failure.set(errc::wrong_kind,
                "'" + name + "' (" + narrow(os_name(name, options)) +
                    ") is already used by another kind of Win32 object (an event, mutex, "
                    "semaphore or waitable timer), not a segment: every shmkit object needs a "
                    "name of its own (" +
                    describe_win32_error(error) + ")");
    return;
  }
  set_win32_failure(failure, error, object(name, options), operation);
}

// A view's full length: the sum of its regions, which VirtualQuery splits
// wherever page protections differ. Whole pages, since Windows keeps no
// exact size for a paging-file section; the header holds the exact one.
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

}  // namespace

Backend Win32SegmentBackend::id() const noexcept {
  return Backend::win32;
}

Mapping Win32SegmentBackend::create(const std::string& name, std::size_t length,
                                    const SegmentOptions& options, Failure& failure) {
  const std::string what = object(name, options);
  SecurityAttributes security;
  if (!security.parse(options.security_descriptor, what, failure)) return {};

  const auto size = static_cast<std::uint64_t>(length);
  HANDLE handle = ::CreateFileMappingW(
      INVALID_HANDLE_VALUE, security.get(), PAGE_READWRITE, static_cast<DWORD>(size >> 32),
      static_cast<DWORD>(size & 0xffffffffu), os_name(name, options).c_str());
  const DWORD e = ::GetLastError();
  if (handle == nullptr) {
    set_failure(failure, e, name, options, "create");
    return {};
  }
  if (e == ERROR_ALREADY_EXISTS) {
    // Windows handed us the existing object and ignored our size and
    // security descriptor: it is not ours to initialise.
    ::CloseHandle(handle);
    set_win32_failure(failure, e, what, "create");
    return {};
  }
  void* base = ::MapViewOfFile(handle, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, length);
  if (base == nullptr) {
    const DWORD map_error = ::GetLastError();
    ::CloseHandle(handle);  // the only handle: the object goes with it
    set_win32_failure(failure, map_error, what, "map");
    return {};
  }
  return Mapping{base, length, reinterpret_cast<NativeHandle>(handle), false};
}

Mapping Win32SegmentBackend::open(const std::string& name, const SegmentOptions& options,
                                  Failure& failure) {
  const std::string what = object(name, options);
  const DWORD access =
      options.access == Access::read_write ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
  HANDLE handle = ::OpenFileMappingW(access, FALSE, os_name(name, options).c_str());
  if (handle == nullptr) {
    set_failure(failure, ::GetLastError(), name, options, "open");
    return {};
  }
  void* base = ::MapViewOfFile(handle, access, 0, 0, 0);
  if (base == nullptr) {
    const DWORD e = ::GetLastError();
    ::CloseHandle(handle);
    set_win32_failure(failure, e, what, "map");
    return {};
  }
  const std::size_t length = view_length(base);
  if (length == 0) {
    const DWORD e = ::GetLastError();
    ::UnmapViewOfFile(base);
    ::CloseHandle(handle);
    set_win32_failure(failure, e, what, "measure the view of");
    return {};
  }
  return Mapping{base, length, reinterpret_cast<NativeHandle>(handle), false};
}

// Nothing to do: a paging-file section is committed whole when
// CreateFileMappingW makes it (SEC_COMMIT, the default), so a full commit
// limit already failed create() with ERROR_COMMITMENT_LIMIT.
void Win32SegmentBackend::reserve(const std::string&, Mapping&, Failure&) {}

// Win32 keeps no mode bits to compare: a DACL wider than the caller's own is
// not detected (docs/security.md); only the owner is checked.
void Win32SegmentBackend::check_trust(const std::string& name, const Mapping&,
                                      const SegmentOptions& options, bool, Failure& failure) {
  // The mapping's own handle has no READ_CONTROL; while it is open the name
  // still leads to the same section, so a second handle reads its owner.
  HANDLE owner_handle = ::OpenFileMappingW(READ_CONTROL, FALSE, os_name(name, options).c_str());
  check_win32_owner(owner_handle, object(name, options), options, failure);
  if (owner_handle != nullptr) ::CloseHandle(owner_handle);
}

void Win32SegmentBackend::close(Mapping& mapping) noexcept {
  if (mapping.base != nullptr) ::UnmapViewOfFile(mapping.base);
  // -1 is "no handle" to common code (and INVALID_HANDLE_VALUE, which a
  // mapping handle never is).
  if (mapping.handle != -1 && mapping.handle != 0) {
    ::CloseHandle(reinterpret_cast<HANDLE>(mapping.handle));
  }
  mapping = Mapping{};
}

bool Win32SegmentBackend::remove(const std::string&, const SegmentOptions&, Failure&) {
  return false;
}

bool Win32SegmentBackend::exists(const std::string& name, const SegmentOptions& options,
                                 Failure& failure) {
  // FILE_MAP_READ is the least access there is; a denial still proves that
  // the mapping is there.
  HANDLE handle = ::OpenFileMappingW(FILE_MAP_READ, FALSE, os_name(name, options).c_str());
  if (handle != nullptr) {
    ::CloseHandle(handle);
    return true;
  }
  const DWORD e = ::GetLastError();
  switch (e) {
    // Held by an event, mutex or semaphore: the name is taken, as on POSIX,
    // where those objects are segments too; open() then says wrong_kind.
    case ERROR_INVALID_HANDLE:
    case ERROR_ACCESS_DENIED:
      return true;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return false;
    default:
      set_win32_failure(failure, e, object(name, options), "look up");
      return false;
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
