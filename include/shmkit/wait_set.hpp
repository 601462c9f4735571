// Waiting, with a deadline, until any of several objects is ready, and
// learning which: ring ends, channels, a server's pending connections, named
// events and semaphores, in any mix.
//
//   WaitSet set;
//   const std::size_t from_sensor = set.add(consumer);  // a message is waiting
//   const std::size_t stop = set.add(stop_event);        // the event is set
//   for (std::size_t key : set.wait_for(std::chrono::seconds(1))) {
//     if (key == from_sensor) consumer.try_receive(buffer, sizeof buffer);
//     if (key == stop) return;
//   }
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

SHMKIT_BEGIN_NAMESPACE

class Channel;
class NamedEvent;
class NamedSemaphore;
class RingConsumer;
class RingProducer;
class Server;
class Subscriber;

namespace detail {
class WaitSetImpl;
struct Failure;
struct WaitHook;
}  // namespace detail

// The most entries one WaitSet holds (Windows waits on at most 64 handles).
inline constexpr std::size_t k_max_wait_set_entries = 64;

// Readiness never takes anything: a ready entry means that the object's own
// try_ call (try_receive, try_accept, try_wait, ...) would not wait now; call
// it to take what is there. Another process (or thread) may take it first, so
// that call can still come back empty. What "ready" means for each kind is
// at its add().
//
// The objects are not owned: each must outlive its entry (remove() it, or
// destroy the WaitSet, before closing or moving from the object).
//
// Waits return the keys of every entry ready at that moment, in key order,
// and return empty only at their deadline (or at once, for try_wait()):
// spurious wake-ups are hidden. A wait never goes past its deadline and never
// hangs on a dead peer: a ring or channel whose other end died is ready (its
// receive or send reports errc::peer_gone at once), found within 100 ms.
//
// Cost: on Linux a wait sleeps in one futex_waitv call (kernel 5.16 or
// later; where the call is missing or refused, e.g. by a seccomp filter,
// it polls every millisecond, from the first failure on) and on Windows in one
// WaitForMultipleObjects call, in slices of at most 100 ms. The portable
// POSIX path (Cygwin, macOS) has no way to sleep on several objects at once:
// it polls readiness every 50 us, backing off to every 1 ms while nothing is
// ready, so a wait there costs some CPU and up to 1 ms of latency.
//
// Windows: a WaitSet looks at events and semaphores without taking anything
// (NtQueryEvent, NtQuerySemaphore), but its sleep, one WaitForMultipleObjects
// call, takes the signal that wakes it from an auto-reset event, or the unit
// from a semaphore, and gives it back at once (SetEvent, ReleaseSemaphore).
// A try_wait() (in any process) that comes in between finds the object
// unsignaled; a blocking or timed wait is released by the give-back. So,
// while a WaitSet sleeps on an object, prefer a short wait_for() to
// try_wait() on it where a miss matters. A manual-reset event loses nothing
// and is never given back. add() refuses a handle without the right to look
// (EVENT_QUERY_STATE, SEMAPHORE_QUERY_STATE; e.g. one that NamedEvent::open
// settled for SYNCHRONIZE only under a DACL that grants no more).
//
// Threads: one thread at a time waits on a WaitSet, and add()/remove() must
// not overlap a wait - except that once pollable_handle() has started the
// watcher thread, add(), remove() and the waits may run on any one thread
// while it watches. size() and pollable_handle() are safe from any thread.
//
// fork(): a WaitSet inherited through fork() belongs to the parent: every
// call on it fails with errc::invalid_state, and destroying it leaves the
// parent's watcher thread (which does not exist in the child) alone. In the
// child, a new WaitSet refuses the handles the child inherited (every kind:
// their roles and slots are the parent's) with errc::invalid_state, and
// takes those the child opens itself.
class SHMKIT_EXPORT WaitSet {
 public:
  // The key the ec twins of add() return on failure.
  static constexpr std::size_t k_no_key = static_cast<std::size_t>(-1);

  WaitSet() noexcept = default;  // empty; holds no resources until the first add()
  WaitSet(WaitSet&& other) noexcept;
  WaitSet& operator=(WaitSet&& other) noexcept;
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  // Stops the watcher thread if pollable_handle() started one (without
  // waiting for a slice to end). Never throws.
  ~WaitSet();

  // ---- entries --------------------------------------------------------------
  // Each add() returns a key, the smallest not in use (so a removed entry's
  // key is reused), which the waits report while the entry is ready.
  // Errors (every add): errc::invalid_state (an empty handle, or one
  // inherited through fork()), errc::overflow (k_max_wait_set_entries
  // entries already). The same object may be added more than once: each
  // entry has its own key, and all of them are reported while it is ready.

  // Ready: the ring holds a message this consumer has not released (a
  // message peeked and not released keeps it ready: release() before
  // waiting), or its producer is gone (receive reports errc::peer_gone), or
  // the ring is corrupt (receive reports errc::corrupted). A ring whose
  // message must wrap holds a padding record first: a receive frees it and
  // may then find nothing, once.
  std::size_t add(const RingConsumer& consumer);
  std::size_t add(const RingConsumer& consumer, std::error_code& ec) noexcept;
  // Ready: a message of `message_size` bytes can be reserved without
  // waiting (counting published messages; one that must wrap needs only room
  // for the padding that its try_send places first), or the consumer is gone
  // (a send to a full ring reports errc::peer_gone), or the ring is corrupt.
  // This handle's own deferred commits (commit_deferred() not yet flush()ed)
  // and open reservation are not counted: flush() and commit before waiting,
  // or the entry may be ready while try_send() finds no room.
  // Also errc::message_too_large: `message_size` > max_message_size().
  std::size_t add(const RingProducer& producer, std::size_t message_size = 0);
  std::size_t add(const RingProducer& producer, std::size_t message_size,
                  std::error_code& ec) noexcept;
  // Ready: as a RingConsumer, for the channel's inbound ring.
  std::size_t add(const Channel& channel);
  std::size_t add(const Channel& channel, std::error_code& ec) noexcept;
  // Ready: a client's connection request is pending, so accept() would not
  // wait (it may still refuse one whose channel cannot be opened).
  std::size_t add(const Server& server);
  std::size_t add(const Server& server, std::error_code& ec) noexcept;
  // Ready: the event is set (a wait would return at once).
  // Windows: also std::errc::permission_denied (ERROR_ACCESS_DENIED), a
  // handle without EVENT_QUERY_STATE (see above).
  std::size_t add(const NamedEvent& event);
  std::size_t add(const NamedEvent& event, std::error_code& ec) noexcept;
  // Ready: the count is above 0.
  // Windows: also std::errc::permission_denied (ERROR_ACCESS_DENIED), a
  // handle without SEMAPHORE_QUERY_STATE.
  std::size_t add(const NamedSemaphore& semaphore);
  std::size_t add(const NamedSemaphore& semaphore, std::error_code& ec) noexcept;

  // Ready: a sample is queued for this subscriber, or every publisher it
  // knew has gone (receive reports errc::peer_gone), or its queue is
  // corrupt (receive reports errc::corrupted).
  std::size_t add(const Subscriber& subscriber);
  std::size_t add(const Subscriber& subscriber, std::error_code& ec) noexcept;

  // Removes the entry of `key`; does nothing for a key not in use. Returns
  // once no wait (the watcher thread's included) uses the object any more.
  void remove(std::size_t key) noexcept;
  // The number of entries.
  std::size_t size() const noexcept;

  // ---- waiting --------------------------------------------------------------
  // The keys of every entry ready now, in key order; empty only at the
  // deadline (try_wait: when nothing is ready).
  // Errors: errc::invalid_state (wait() for ever on a set without entries,
  // which could never return; a WaitSet inherited through fork()).
  std::vector<std::size_t> wait() { return wait_at(k_forever, nullptr); }
  [[nodiscard]] std::vector<std::size_t> try_wait() { return wait_at(Deadline(), nullptr); }
  template <class Rep, class Period>
  [[nodiscard]] std::vector<std::size_t> wait_for(
      const std::chrono::duration<Rep, Period>& timeout) {
    return wait_at(deadline_after(timeout), nullptr);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::vector<std::size_t> wait_until(
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return wait_at(to_deadline(deadline), nullptr);
  }
  std::vector<std::size_t> wait(std::error_code& ec) noexcept { return wait_at(k_forever, &ec); }
  [[nodiscard]] std::vector<std::size_t> try_wait(std::error_code& ec) noexcept {
    return wait_at(Deadline(), &ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::vector<std::size_t> wait_for(const std::chrono::duration<Rep, Period>& timeout,
                                                  std::error_code& ec) noexcept {
    return wait_at(deadline_after(timeout), &ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] std::vector<std::size_t> wait_until(
      const std::chrono::time_point<Clock, Duration>& deadline, std::error_code& ec) noexcept {
    return wait_at(to_deadline(deadline), &ec);
  }

  // ---- for an event loop ------------------------------------------------------
  // A handle that an event loop can wait on, signaled while an entry is
  // ready: on POSIX a file descriptor, readable while an entry is ready (for
  // epoll, poll, select: `static_cast<int>(handle)`); on Windows an event
  // HANDLE, signaled while an entry is ready (for WaitForMultipleObjects:
  // `reinterpret_cast<HANDLE>(handle)`). Available on every platform. Do not
  // read from it, reset it or close it: the WaitSet owns it.
  //
  // The first call starts a watcher thread that waits on the entries and
  // sets the handle; it stays valid until the WaitSet is destroyed. Nothing
  // tells the watcher when the ready object is taken, so it looks again every
  // 50 us, backing off to 5 ms, and clears the handle once nothing is ready;
  // every wait call on the WaitSet (try_wait() after handling what was
  // ready) also sets or clears it at once. The handle is level-triggered but
  // may report ready a little after the object was taken: call try_wait()
  // and act on the keys it returns.
  // Errors: errc::invalid_state (inherited through fork()), OS errors
  // (no descriptor or thread left).
  [[nodiscard]] std::intptr_t pollable_handle();
  [[nodiscard]] std::intptr_t pollable_handle(std::error_code& ec) noexcept;

  // The one exported wait: Deadline() = do not wait, k_forever = for ever.
  // Throws shmkit::Error when `ec` is null, else never throws.
  [[nodiscard]] std::vector<std::size_t> wait_at(Deadline deadline, std::error_code* ec);

 private:
  // Makes the entry of `object` (with add()'s second argument, if any).
  using HookMaker = detail::WaitHook (*)(const void* object, std::size_t argument,
                                         detail::Failure& failure);
  // Every add() ends here: one more kind is one more add() pair calling it.
  std::size_t add_hook(HookMaker make, const void* object, std::size_t argument,
                       std::error_code* ec);

  detail::WaitSetImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
