#include <shmkit/named_event.hpp>

#include "sync/sync_handle.hpp"

#include <utility>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;
using Factory = detail::SyncFactory<detail::EventTraits>;

NamedEvent NamedEvent::create(std::string_view name, EventReset reset, const SyncOptions& options) {
  return Factory::open(name, OpenMode::create, reset, options, nullptr);
}
NamedEvent NamedEvent::create(std::string_view name, EventReset reset, const SyncOptions& options,
                              std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::create, reset, options, &ec);
}
NamedEvent NamedEvent::open(std::string_view name, const SyncOptions& options) {
  return Factory::open(name, OpenMode::open, EventReset::auto_reset, options, nullptr);
}
NamedEvent NamedEvent::open(std::string_view name, const SyncOptions& options,
                            std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open, EventReset::auto_reset, options, &ec);
}
NamedEvent NamedEvent::open_or_create(std::string_view name, EventReset reset,
                                      const SyncOptions& options) {
  return Factory::open(name, OpenMode::open_or_create, reset, options, nullptr);
}
NamedEvent NamedEvent::open_or_create(std::string_view name, EventReset reset,
                                      const SyncOptions& options, std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open_or_create, reset, options, &ec);
}
bool NamedEvent::remove(std::string_view name, const SyncOptions& options) {
  return Factory::remove(name, options, nullptr);
}
bool NamedEvent::remove(std::string_view name, const SyncOptions& options,
                        std::error_code& ec) noexcept {
  return Factory::remove(name, options, &ec);
}
bool NamedEvent::exists(std::string_view name, const SyncOptions& options) {
  return Factory::exists(name, options, nullptr);
}
bool NamedEvent::exists(std::string_view name, const SyncOptions& options,
                        std::error_code& ec) noexcept {
  return Factory::exists(name, options, &ec);
}

NamedEvent::NamedEvent(NamedEvent&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}

NamedEvent& NamedEvent::operator=(NamedEvent&& other) noexcept {
  if (this != &other) {
    detail::close_sync_handle(impl_);
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

NamedEvent::~NamedEvent() {
  detail::close_sync_handle(impl_);
}

void NamedEvent::signal(bool set, std::error_code* ec) {
  detail::run_sync_call(ec, [&](Failure& f) {
    if (!detail::check_usable(impl_, "NamedEvent", f)) return;
    if (set) {
      impl_->object->set(f);
    } else {
      impl_->object->reset(f);
    }
  });
}

bool NamedEvent::wait_deadline(Deadline deadline, std::error_code* ec) {
  return detail::run_sync_call(ec, [&](Failure& f) {
    return detail::check_usable(impl_, "NamedEvent", f) && impl_->object->wait_until(deadline, f);
  });
}

const std::string& NamedEvent::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->name : empty;
}

SHMKIT_END_NAMESPACE
