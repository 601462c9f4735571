// POSIX without eventfd (the portable path: Cygwin, macOS): the WaitSet's
// pollable handle is the read end of a pipe, readable while one byte sits in
// it.
#include <shmkit/config.hpp>
#include "sync/ready_signal.hpp"

#include "posix/os_error.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

bool set_flags(int fd) {
  const int status = ::fcntl(fd, F_GETFL);
  const int descriptor = ::fcntl(fd, F_GETFD);
  return status >= 0 && descriptor >= 0 && ::fcntl(fd, F_SETFL, status | O_NONBLOCK) == 0 &&
         ::fcntl(fd, F_SETFD, descriptor | FD_CLOEXEC) == 0;
}

}  // namespace

ReadySignal::~ReadySignal() {
  if (read_ == k_none) return;
  ::close(static_cast<int>(read_));
  ::close(static_cast<int>(write_));
}

bool ReadySignal::open(Failure& failure) {
  int fds[2];
  if (::pipe(fds) != 0 || !set_flags(fds[0]) || !set_flags(fds[1])) {
    const int error = errno;
    set_errno_failure(failure, error, "the pollable handle of a WaitSet", "create");
    return false;
  }
  read_ = fds[0];
  write_ = fds[1];
  return true;
}

void ReadySignal::set() noexcept {
  if (set_ || read_ == k_none) return;
  const char byte = 1;
  set_ = ::write(static_cast<int>(write_), &byte, 1) == 1;
}

void ReadySignal::clear() noexcept {
  if (!set_) return;
  char bytes[16];
  while (::read(static_cast<int>(read_), bytes, sizeof bytes) > 0) {
  }
  set_ = false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
