// Win32: the WaitSet's pollable handle is a manual-reset event without a
// name, signaled while something is ready.
#include <shmkit/config.hpp>
#include "sync/ready_signal.hpp"

#include "win32/os_error.hpp"

#include <windows.h>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

ReadySignal::~ReadySignal() {
  if (read_ != k_none) ::CloseHandle(reinterpret_cast<HANDLE>(read_));
}

bool ReadySignal::open(Failure& failure) {
  HANDLE h = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (h == nullptr) {
    set_win32_failure(failure, ::GetLastError(), "the pollable handle of a WaitSet", "create");
    return false;
  }
  read_ = write_ = reinterpret_cast<std::intptr_t>(h);
  return true;
}

void ReadySignal::set() noexcept {
  if (set_ || read_ == k_none) return;
  set_ = ::SetEvent(reinterpret_cast<HANDLE>(read_)) != 0;
}

void ReadySignal::clear() noexcept {
  if (!set_) return;
  ::ResetEvent(reinterpret_cast<HANDLE>(read_));
  set_ = false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
