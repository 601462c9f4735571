// Which backends exist on Windows.
#include <shmkit/config.hpp>
#include "win32/win32_segment_backend.hpp"

SHMKIT_BEGIN_NAMESPACE

Backend native_backend() noexcept {
  return Backend::win32;
}

namespace detail {

SegmentBackend* find_backend(Backend backend, Failure& failure) {
  static Win32SegmentBackend win32;
  switch (backend) {
    case Backend::native:
    case Backend::win32:
      return &win32;
    case Backend::posix:
    case Backend::sysv:
      break;
  }
  failure.set(errc::backend_unavailable,
              std::string("the ") + to_string(backend) +
                  " backend is not available on Windows; use Backend::native or win32 (a native "
                  "Windows process cannot see Cygwin's POSIX or SysV objects)");
  return nullptr;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
