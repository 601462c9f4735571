// An event shared by processes, in the Win32 sense.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/sync_options.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct NamedEventImpl;
template <typename Traits>
struct SyncFactory;
}  // namespace detail

enum class EventReset {
  // set() releases exactly one waiter; with none waiting, it stays set until
  // one comes. Several set() calls with nobody waiting count once.
  auto_reset,
  // set() releases every waiter, present and future, until reset().
  manual_reset,
};

// Threads: every call except moving, assigning and destroying may run
// concurrently on one handle from several threads (set() from one while
// others wait, several waiters on one handle).
//
// fork(): a handle inherited by a fork() child is dead in the child: every
// call on it fails with errc::invalid_state, and destroying it leaves the
// event and the parent's registration as they are. Open the event again in
// the child.
//
// The throwing form of each call raises shmkit::Error (a std::system_error)
// whose what() names the event and says what to do; its twin taking
// std::error_code& is noexcept, and shmkit::error_message(ec) gives the same
// sentence.
class SHMKIT_EXPORT NamedEvent {
 public:
  // Creates a new event, not set, with the given reset mode.
  // Errors: errc::invalid_name, errc::already_exists, errc::wrong_kind (the
  // name holds another kind of object), OS errors (no permission, no space).
  [[nodiscard]] static NamedEvent create(std::string_view name, EventReset reset,
                                         const SyncOptions& options = {});
  [[nodiscard]] static NamedEvent create(std::string_view name, EventReset reset,
                                         const SyncOptions& options, std::error_code& ec) noexcept;
  // Opens an existing event, waiting up to options.open_timeout for a
  // creator that is still making it. On Win32, if the event's DACL grants
  // this user only SYNCHRONIZE (a service's event seen from a user session),
  // the handle can wait but not set or reset (those fail with access denied).
  // Errors: errc::invalid_name, errc::not_found, errc::wrong_kind,
  // errc::not_ready, errc::incompatible_layout (another shmkit version or
  // build), errc::corrupted, errc::untrusted_owner, OS errors.
  [[nodiscard]] static NamedEvent open(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static NamedEvent open(std::string_view name, const SyncOptions& options,
                                       std::error_code& ec) noexcept;
  // Opens the event, or creates it if there is none. An existing event keeps
  // the reset mode it was created with.
  // Errors: those of create() and open(), and errc::insecure_permissions.
  [[nodiscard]] static NamedEvent open_or_create(std::string_view name, EventReset reset,
                                                 const SyncOptions& options = {});
  [[nodiscard]] static NamedEvent open_or_create(std::string_view name, EventReset reset,
                                                 const SyncOptions& options,
                                                 std::error_code& ec) noexcept;
  // Removes the name; open handles keep working. Returns false if there was
  // nothing to remove. Always false on Win32, where the event dies with its
  // last handle.
  // Errors: errc::invalid_name, OS errors.
  static bool remove(std::string_view name, const SyncOptions& options = {});
  static bool remove(std::string_view name, const SyncOptions& options,
                     std::error_code& ec) noexcept;
  // True if the name is taken: by an event, or by another kind of object
  // (the kinds share one namespace, so create() would fail either way).
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options,
                                   std::error_code& ec) noexcept;

  NamedEvent() noexcept = default;  // an empty handle
  NamedEvent(NamedEvent&& other) noexcept;
  NamedEvent& operator=(NamedEvent&& other) noexcept;
  NamedEvent(const NamedEvent&) = delete;
  NamedEvent& operator=(const NamedEvent&) = delete;
  ~NamedEvent();

  // Sets the event: releases one waiter (auto reset) or every waiter until
  // reset() (manual reset).
  // Errors: errc::invalid_state (an empty handle, or a handle inherited
  // through fork()), OS errors (Win32, e.g. a wait-only handle).
  void set() { signal(true, nullptr); }
  void set(std::error_code& ec) noexcept { signal(true, &ec); }
  // Unsets it. Errors: as set().
  void reset() { signal(false, nullptr); }
  void reset(std::error_code& ec) noexcept { signal(false, &ec); }

  // Waits for ever for the event to be set (an auto-reset event is unset
  // again by the wait that it releases).
  // Errors: errc::invalid_state (an empty handle, or a handle inherited
  // through fork()), OS errors (Win32).
  void wait() { (void)wait_deadline(k_forever, nullptr); }
  void wait(std::error_code& ec) noexcept { (void)wait_deadline(k_forever, &ec); }
  // Does not wait. True: it was set. Errors: as wait().
  [[nodiscard]] bool try_wait() { return wait_deadline(k_no_wait, nullptr); }
  [[nodiscard]] bool try_wait(std::error_code& ec) noexcept {
    return wait_deadline(k_no_wait, &ec);
  }
  // Waits up to `timeout` / until `deadline` (any clock). False: timed out.
  // Errors: as wait().
  template <typename Rep, typename Period>
  [[nodiscard]] bool wait_for(const std::chrono::duration<Rep, Period>& timeout) {
    return wait_deadline(deadline_after(timeout), nullptr);
  }
  template <typename Rep, typename Period>
  [[nodiscard]] bool wait_for(const std::chrono::duration<Rep, Period>& timeout,
                              std::error_code& ec) noexcept {
    return wait_deadline(deadline_after(timeout), &ec);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool wait_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return wait_deadline(to_deadline(deadline), nullptr);
  }
  template <typename Clock, typename Duration>
  [[nodiscard]] bool wait_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                std::error_code& ec) noexcept {
    return wait_deadline(to_deadline(deadline), &ec);
  }

  [[nodiscard]] bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }
  // Empty for an empty handle.
  [[nodiscard]] const std::string& name() const noexcept;

 private:
  template <typename Traits>
  friend struct detail::SyncFactory;

  // The epoch of the steady clock: always past, and far from overflowing.
  static constexpr Deadline k_no_wait = Deadline{};

  explicit NamedEvent(detail::NamedEventImpl* impl) noexcept : impl_(impl) {}
  // The forms of each operation: throw if `ec` is null, else never throw.
  void signal(bool set, std::error_code* ec);
  bool wait_deadline(Deadline deadline, std::error_code* ec);

  detail::NamedEventImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
