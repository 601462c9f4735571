// Which backends exist on POSIX systems.
#include "posix_segment_backend.hpp"
#include "sysv_segment_backend.hpp"

namespace shmkit {

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
}  // namespace shmkit
