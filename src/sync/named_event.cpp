#include <shmkit/named_event.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "sync/sync_impl.hpp"

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;

namespace {

std::unique_ptr<detail::EventImpl> open_impl(std::string_view name, const Options& options,
                                             OpenMode mode, EventReset reset, Failure& f) {
  if (!detail::check_name(name, f)) return nullptr;
  return detail::open_event(std::string(name), options, mode, reset, f);
}

}  // namespace

NamedEvent::NamedEvent(std::unique_ptr<detail::EventImpl> impl, std::string name) noexcept
    : impl_(std::move(impl)), name_(impl_ ? std::move(name) : std::string()) {}

NamedEvent NamedEvent::create(std::string_view name, EventReset reset, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::create, reset, f), std::string(name));
  });
}
NamedEvent NamedEvent::create(std::string_view name, EventReset reset, const Options& options,
                              std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::create, reset, f), std::string(name));
  });
}
NamedEvent NamedEvent::open(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::open, EventReset::auto_reset, f),
                      std::string(name));
  });
}
NamedEvent NamedEvent::open(std::string_view name, const Options& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::open, EventReset::auto_reset, f),
                      std::string(name));
  });
}
NamedEvent NamedEvent::open_or_create(std::string_view name, EventReset reset,
                                      const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::open_or_create, reset, f),
                      std::string(name));
  });
}
NamedEvent NamedEvent::open_or_create(std::string_view name, EventReset reset,
                                      const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedEvent(open_impl(name, options, OpenMode::open_or_create, reset, f),
                      std::string(name));
  });
}
bool NamedEvent::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}
bool NamedEvent::remove(std::string_view name, const Options& options,
                        std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}

NamedEvent::NamedEvent() noexcept = default;
NamedEvent::NamedEvent(NamedEvent&&) noexcept = default;
NamedEvent& NamedEvent::operator=(NamedEvent&&) noexcept = default;
NamedEvent::~NamedEvent() = default;

namespace {
detail::EventImpl& checked(const std::unique_ptr<detail::EventImpl>& impl) {
  if (!impl) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                            "use of an empty NamedEvent handle");
  }
  return *impl;
}
}  // namespace

void NamedEvent::set() {
  detail::throwing([&](Failure& f) { checked(impl_).set(f); });
}
void NamedEvent::reset() {
  detail::throwing([&](Failure& f) { checked(impl_).reset(f); });
}
void NamedEvent::wait() {
  wait_until_deadline(k_forever);
}
bool NamedEvent::try_wait() {
  return wait_until_deadline(std::chrono::steady_clock::now());
}
bool NamedEvent::wait_until_deadline(Deadline deadline) {
  return detail::throwing([&](Failure& f) { return checked(impl_).wait_until(deadline, f); });
}

SHMKIT_END_NAMESPACE
