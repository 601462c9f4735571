// An event shared by processes, in the Win32 sense.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
class EventImpl;
}

enum class EventReset {
  // set() releases exactly one waiter; with none waiting, it stays set until
  // one comes. Several set() calls with nobody waiting count once.
  auto_reset,
  // set() releases every waiter, present and future, until reset().
  manual_reset,
};

class SHMKIT_EXPORT NamedEvent {
 public:
  static NamedEvent create(std::string_view name, EventReset reset, const Options& options = {});
  static NamedEvent create(std::string_view name, EventReset reset, const Options& options,
                           std::error_code& ec) noexcept;
  static NamedEvent open(std::string_view name, const Options& options = {});
  static NamedEvent open(std::string_view name, const Options& options,
                         std::error_code& ec) noexcept;
  // An existing event keeps the reset mode it was created with.
  static NamedEvent open_or_create(std::string_view name, EventReset reset,
                                   const Options& options = {});
  static NamedEvent open_or_create(std::string_view name, EventReset reset, const Options& options,
                                   std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const Options& options = {});
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  NamedEvent() noexcept;
  NamedEvent(NamedEvent&& other) noexcept;
  NamedEvent& operator=(NamedEvent&& other) noexcept;
  ~NamedEvent();

  void set();
  void reset();
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
  NamedEvent(std::unique_ptr<detail::EventImpl> impl, std::string name) noexcept;

  std::unique_ptr<detail::EventImpl> impl_;
  std::string name_;
};

SHMKIT_END_NAMESPACE
