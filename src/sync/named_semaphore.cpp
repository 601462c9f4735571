#include <shmkit/named_semaphore.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "sync/sync_impl.hpp"

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;

static_assert(NamedSemaphore::k_max == detail::k_semaphore_max);

namespace {

std::unique_ptr<detail::SemaphoreImpl> open_impl(std::string_view name, const Options& options,
                                                 OpenMode mode, std::uint32_t initial, Failure& f) {
  if (!detail::check_name(name, f)) return nullptr;
  if (initial > NamedSemaphore::k_max) {
    f.set(errc::overflow, "semaphore '" + std::string(name) + "': an initial count of " +
                              std::to_string(initial) + " is past the maximum of " +
                              std::to_string(NamedSemaphore::k_max));
    return nullptr;
  }
  return detail::open_semaphore(std::string(name), options, mode, initial, f);
}

}  // namespace

NamedSemaphore::NamedSemaphore(std::unique_ptr<detail::SemaphoreImpl> impl,
                               std::string name) noexcept
    : impl_(std::move(impl)), name_(impl_ ? std::move(name) : std::string()) {}

NamedSemaphore NamedSemaphore::create(std::string_view name, std::uint32_t initial,
                                      const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::create, initial, f),
                          std::string(name));
  });
}
NamedSemaphore NamedSemaphore::create(std::string_view name, std::uint32_t initial,
                                      const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::create, initial, f),
                          std::string(name));
  });
}
NamedSemaphore NamedSemaphore::open(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::open, 0, f), std::string(name));
  });
}
NamedSemaphore NamedSemaphore::open(std::string_view name, const Options& options,
                                    std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::open, 0, f), std::string(name));
  });
}
NamedSemaphore NamedSemaphore::open_or_create(std::string_view name, std::uint32_t initial,
                                              const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::open_or_create, initial, f),
                          std::string(name));
  });
}
NamedSemaphore NamedSemaphore::open_or_create(std::string_view name, std::uint32_t initial,
                                              const Options& options,
                                              std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedSemaphore(open_impl(name, options, OpenMode::open_or_create, initial, f),
                          std::string(name));
  });
}
bool NamedSemaphore::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}
bool NamedSemaphore::remove(std::string_view name, const Options& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}

NamedSemaphore::NamedSemaphore() noexcept = default;
NamedSemaphore::NamedSemaphore(NamedSemaphore&&) noexcept = default;
NamedSemaphore& NamedSemaphore::operator=(NamedSemaphore&&) noexcept = default;
NamedSemaphore::~NamedSemaphore() = default;

namespace {
detail::SemaphoreImpl& checked(const std::unique_ptr<detail::SemaphoreImpl>& impl) {
  if (!impl) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                            "use of an empty NamedSemaphore handle");
  }
  return *impl;
}
}  // namespace

void NamedSemaphore::post(std::uint32_t count) {
  if (count == 0) return;
  detail::throwing([&](Failure& f) { checked(impl_).post(count, f); });
}
void NamedSemaphore::wait() {
  wait_until_deadline(k_forever);
}
bool NamedSemaphore::try_wait() {
  return wait_until_deadline(std::chrono::steady_clock::now());
}
bool NamedSemaphore::wait_until_deadline(Deadline deadline) {
  return detail::throwing([&](Failure& f) { return checked(impl_).wait_until(deadline, f); });
}

SHMKIT_END_NAMESPACE
