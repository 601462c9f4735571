// A counting semaphore shared by processes.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class SemaphoreImpl;
}

class SHMKIT_EXPORT NamedSemaphore {
 public:
  // The count never exceeds k_max; post() past it fails with errc::overflow.
  static constexpr std::uint32_t k_max = 0x7fffffff;

  static NamedSemaphore create(std::string_view name, std::uint32_t initial,
                               const Options& options = {});
  static NamedSemaphore create(std::string_view name, std::uint32_t initial, const Options& options,
                               std::error_code& ec) noexcept;
  static NamedSemaphore open(std::string_view name, const Options& options = {});
  static NamedSemaphore open(std::string_view name, const Options& options,
                             std::error_code& ec) noexcept;
  // An existing semaphore keeps its count; `initial` applies only if created.
  static NamedSemaphore open_or_create(std::string_view name, std::uint32_t initial,
                                       const Options& options = {});
  static NamedSemaphore open_or_create(std::string_view name, std::uint32_t initial,
                                       const Options& options, std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  NamedSemaphore() noexcept;
  NamedSemaphore(NamedSemaphore&& other) noexcept;
  NamedSemaphore& operator=(NamedSemaphore&& other) noexcept;
  ~NamedSemaphore();

  void post(std::uint32_t count = 1);
  void wait();
  bool try_wait();
  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) {
    return wait_until_deadline(deadline_after(timeout));
  }
  template <typename Clock, typename Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& when) {
    return wait_until_deadline(to_deadline(when));
  }
  bool wait_until_deadline(Deadline deadline);

  bool is_open() const noexcept { return impl_ != nullptr; }
  const std::string& name() const noexcept { return name_; }

 private:
  NamedSemaphore(std::unique_ptr<detail::SemaphoreImpl> impl, std::string name) noexcept;

  std::unique_ptr<detail::SemaphoreImpl> impl_;
  std::string name_;
};

SHMKIT_END_NAMESPACE
