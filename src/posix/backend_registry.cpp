// Which backends exist on POSIX systems.
#include <shmkit/config.hpp>
#include "posix/posix_segment_backend.hpp"
#include "posix/sysv_segment_backend.hpp"

SHMKIT_BEGIN_NAMESPACE

Backend native_backend() noexcept {
  return Backend::posix;
}

namespace detail {

SegmentBackend* find_backend(Backend backend, Failure& failure) {
  static PosixSegmentBackend posix;
  static SysvSegmentBackend sysv;
  switch (backend) {
    case Backend::native:
    case Backend::posix:
      return &posix;
    case Backend::sysv:
      return &sysv;
    case Backend::win32:
      break;
  }
  failure.set(errc::backend_unavailable,
              std::string("the ") + to_string(backend) +
                  " backend is not available on this platform; use Backend::native, posix or sysv");
  return nullptr;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
