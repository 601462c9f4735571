// A handle an event loop can wait on, that its owner holds signaled while
// something is ready: the file descriptor or HANDLE behind
// WaitSet::pollable_handle().
//
// Linux: an eventfd (readable while set). Other POSIX systems: a pipe
// (its read end is readable while a byte sits in it). Win32: a manual-reset
// event without a name.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class ReadySignal {
 public:
  ReadySignal() = default;
  ReadySignal(const ReadySignal&) = delete;
  ReadySignal& operator=(const ReadySignal&) = delete;
  ~ReadySignal();

  bool open(Failure& failure);
  bool is_open() const noexcept { return read_ != k_none; }
  // Idempotent; one thread at a time (the WaitSet calls them under its lock).
  void set() noexcept;
  void clear() noexcept;
  // The descriptor (POSIX) or HANDLE (Win32) to wait on.
  std::intptr_t handle() const noexcept { return read_; }

 private:
  static constexpr std::intptr_t k_none = -1;
  std::intptr_t read_ = k_none;
  std::intptr_t write_ = k_none;  // POSIX pipe: its write end; else unused
  bool set_ = false;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
