// Linux: the WaitSet's pollable handle is an eventfd, readable while its
// counter is not zero.
#include <shmkit/config.hpp>
#include "sync/ready_signal.hpp"

#include "posix/os_error.hpp"

#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

ReadySignal::~ReadySignal() {
  if (read_ != k_none) ::close(static_cast<int>(read_));
}

bool ReadySignal::open(Failure& failure) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    set_errno_failure(failure, errno, "the pollable handle of a WaitSet", "create");
    return false;
  }
  read_ = write_ = fd;
  return true;
}

void ReadySignal::set() noexcept {
  if (set_ || read_ == k_none) return;
  const std::uint64_t one = 1;
  set_ = ::write(static_cast<int>(write_), &one, sizeof one) == sizeof one;
}

void ReadySignal::clear() noexcept {
  if (!set_) return;
  std::uint64_t count;
  (void)!::read(static_cast<int>(read_), &count, sizeof count);  // resets the counter to 0
  set_ = false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
