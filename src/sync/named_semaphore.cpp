#include <shmkit/named_semaphore.hpp>

#include "sync/sync_handle.hpp"

#include <utility>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;
using Factory = detail::SyncFactory<detail::SemaphoreTraits>;

static_assert(NamedSemaphore::k_max == detail::k_semaphore_max);

NamedSemaphore NamedSemaphore::create(std::string_view name, std::uint32_t initial,
                                      const SyncOptions& options) {
  return Factory::open(name, OpenMode::create, initial, options, nullptr);
}
NamedSemaphore NamedSemaphore::create(std::string_view name, std::uint32_t initial,
                                      const SyncOptions& options, std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::create, initial, options, &ec);
}
NamedSemaphore NamedSemaphore::open(std::string_view name, const SyncOptions& options) {
  return Factory::open(name, OpenMode::open, 0, options, nullptr);
}
NamedSemaphore NamedSemaphore::open(std::string_view name, const SyncOptions& options,
                                    std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open, 0, options, &ec);
}
NamedSemaphore NamedSemaphore::open_or_create(std::string_view name, std::uint32_t initial,
                                              const SyncOptions& options) {
  return Factory::open(name, OpenMode::open_or_create, initial, options, nullptr);
}
NamedSemaphore NamedSemaphore::open_or_create(std::string_view name, std::uint32_t initial,
                                              const SyncOptions& options,
                                              std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open_or_create, initial, options, &ec);
}
bool NamedSemaphore::remove(std::string_view name, const SyncOptions& options) {
  return Factory::remove(name, options, nullptr);
}
bool NamedSemaphore::remove(std::string_view name, const SyncOptions& options,
                            std::error_code& ec) noexcept {
  return Factory::remove(name, options, &ec);
}
bool NamedSemaphore::exists(std::string_view name, const SyncOptions& options) {
  return Factory::exists(name, options, nullptr);
}
bool NamedSemaphore::exists(std::string_view name, const SyncOptions& options,
                            std::error_code& ec) noexcept {
  return Factory::exists(name, options, &ec);
}

NamedSemaphore::NamedSemaphore(NamedSemaphore&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}

NamedSemaphore& NamedSemaphore::operator=(NamedSemaphore&& other) noexcept {
  if (this != &other) {
    detail::close_sync_handle(impl_);
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

NamedSemaphore::~NamedSemaphore() {
  detail::close_sync_handle(impl_);
}

void NamedSemaphore::post_count(std::uint32_t count, std::error_code* ec) {
  detail::run_sync_call(ec, [&](Failure& f) {
    if (!detail::check_usable(impl_, "NamedSemaphore", f) || count == 0) return;
    impl_->object->post(count, f);
  });
}

bool NamedSemaphore::wait_deadline(Deadline deadline, std::error_code* ec) {
  return detail::run_sync_call(ec, [&](Failure& f) {
    return detail::check_usable(impl_, "NamedSemaphore", f) &&
           impl_->object->wait_until(deadline, f);
  });
}

const std::string& NamedSemaphore::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->name : empty;
}

SHMKIT_END_NAMESPACE
