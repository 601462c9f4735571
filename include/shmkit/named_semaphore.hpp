// A counting semaphore shared by processes.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/sync_options.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct NamedSemaphoreImpl;
template <typename Traits>
struct SyncFactory;
}  // namespace detail

// Threads: every call except moving, assigning and destroying may run
// concurrently on one handle from several threads.
//
// fork(): a handle inherited by a fork() child is dead in the child: every
// call on it fails with errc::invalid_state, and destroying it leaves the
// semaphore and the parent's registration as they are. Open the semaphore
// again in the child.
//
// The throwing form of each call raises shmkit::Error (a std::system_error)
// whose what() names the semaphore and says what to do; its twin taking
// std::error_code& is noexcept, and shmkit::error_message(ec) gives the same
// sentence.
class SHMKIT_EXPORT NamedSemaphore {
 public:
  // The count never exceeds k_max; post() past it fails with errc::overflow.
  static constexpr std::uint32_t k_max = 0x7fffffff;

  // Creates a new semaphore holding `initial`.
  // Errors: errc::invalid_name, errc::overflow (initial > k_max),
  // errc::already_exists, errc::wrong_kind (the name holds another kind of
  // object), OS errors (no permission, no space).
  [[nodiscard]] static NamedSemaphore create(std::string_view name, std::uint32_t initial,
                                             const SyncOptions& options = {});
  [[nodiscard]] static NamedSemaphore create(std::string_view name, std::uint32_t initial,
                                             const SyncOptions& options,
                                             std::error_code& ec) noexcept;
  // Opens an existing semaphore, waiting up to options.open_timeout for a
  // creator that is still making it. On Win32, if the semaphore's DACL grants
  // this user only SYNCHRONIZE, the handle can wait but not post.
  // Errors: errc::invalid_name, errc::not_found, errc::wrong_kind,
  // errc::not_ready, errc::incompatible_layout (another shmkit version or
  // build), errc::corrupted, errc::untrusted_owner, OS errors.
  [[nodiscard]] static NamedSemaphore open(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static NamedSemaphore open(std::string_view name, const SyncOptions& options,
                                           std::error_code& ec) noexcept;
  // Opens the semaphore, or creates it if there is none. An existing
  // semaphore keeps its count; `initial` applies only if it is created.
  // Errors: those of create() and open(), and errc::insecure_permissions.
  [[nodiscard]] static NamedSemaphore open_or_create(std::string_view name, std::uint32_t initial,
                                                     const SyncOptions& options = {});
  [[nodiscard]] static NamedSemaphore open_or_create(std::string_view name, std::uint32_t initial,
                                                     const SyncOptions& options,
                                                     std::error_code& ec) noexcept;
  // Removes the name; open handles keep working. Returns false if there was
  // nothing to remove. Always false on Win32, where the semaphore dies with
  // its last handle.
  // Errors: errc::invalid_name, OS errors.
  static bool remove(std::string_view name, const SyncOptions& options = {});
  static bool remove(std::string_view name, const SyncOptions& options,
                     std::error_code& ec) noexcept;
  // True if the name is taken: by a semaphore, or by another kind of object
  // (the kinds share one namespace, so create() would fail either way).
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const SyncOptions& options,
                                   std::error_code& ec) noexcept;

  NamedSemaphore() noexcept = default;  // an empty handle
  NamedSemaphore(NamedSemaphore&& other) noexcept;
  NamedSemaphore& operator=(NamedSemaphore&& other) noexcept;
  NamedSemaphore(const NamedSemaphore&) = delete;
  NamedSemaphore& operator=(const NamedSemaphore&) = delete;
  ~NamedSemaphore();

  // Adds `count` and releases that many waiters. post(0) does nothing.
  // Errors: errc::invalid_state (an empty handle, or a handle inherited
  // through fork()), errc::overflow (the count would pass k_max; nothing
  // changed), OS errors (Win32, e.g. a wait-only handle).
  void post(std::uint32_t count = 1) { post_count(count, nullptr); }
  void post(std::uint32_t count, std::error_code& ec) noexcept { post_count(count, &ec); }
  void post(std::error_code& ec) noexcept { post_count(1, &ec); }

  // Waits for ever until the count is above zero, and takes one.
  // Errors: errc::invalid_state (an empty handle, or a handle inherited
  // through fork()), OS errors (Win32).
  void wait() { (void)wait_deadline(k_forever, nullptr); }
  void wait(std::error_code& ec) noexcept { (void)wait_deadline(k_forever, &ec); }
  // Does not wait. True: one was taken. Errors: as wait().
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

  explicit NamedSemaphore(detail::NamedSemaphoreImpl* impl) noexcept : impl_(impl) {}
  // The forms of each operation: throw if `ec` is null, else never throw.
  void post_count(std::uint32_t count, std::error_code* ec);
  bool wait_deadline(Deadline deadline, std::error_code* ec);

  detail::NamedSemaphoreImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
