// What a WaitSet needs from one object it waits on: a cheap readiness check
// that takes nothing, and how a sleeper on that object is woken.
//
// Objects whose waiters sleep on a shared word (every ring, queue, topic
// and, on POSIX, every sync object) give the eventcount words of
// peer_wait.hpp: a WaitSet announces itself in `sleepers`, re-checks
// `ready`, and sleeps on `signal` through `waiter`. Objects that are kernel
// objects of their own (Win32 events and semaphores) give the kernel handle
// instead, which the WaitSet waits on directly.
#pragma once

#include <shmkit/config.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class WordWaiter;

struct WaitHook {
  // True when the object's operation would not block now. Never consumes
  // anything, never throws; may be called from the WaitSet's watcher thread.
  std::function<bool()> ready;
  std::atomic<std::uint32_t>* sleepers = nullptr;  // null for a kernel-handle hook
  std::atomic<std::uint32_t>* signal = nullptr;
  WordWaiter* waiter = nullptr;
  // The object's wakers may skip their fence (peer_wait.hpp, rings): a
  // sleeper runs the heavy barrier after announcing itself.
  bool fenceless_wakers = false;
  void* native_handle = nullptr;  // Win32 HANDLE for a kernel-handle hook, else null
  // Undoes what a successful wait on native_handle took (SetEvent on an
  // auto-reset event, ReleaseSemaphore on a semaphore); null if nothing.
  void (*give_back)(void* native_handle) = nullptr;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
