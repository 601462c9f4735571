#include <shmkit/named_mutex.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "sync/sync_impl.hpp"

#include <utility>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;

namespace {

std::unique_ptr<detail::MutexImpl> open_impl(std::string_view name, const Options& options,
                                             OpenMode mode, Failure& f) {
  if (!detail::check_name(name, f)) return nullptr;
  return detail::open_mutex(std::string(name), options, mode, f);
}

}  // namespace

NamedMutex::NamedMutex(std::unique_ptr<detail::MutexImpl> impl, std::string name) noexcept
    : impl_(std::move(impl)), name_(impl_ ? std::move(name) : std::string()) {}

NamedMutex NamedMutex::create(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::create, f), std::string(name));
  });
}
NamedMutex NamedMutex::create(std::string_view name, const Options& options,
                              std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::create, f), std::string(name));
  });
}
NamedMutex NamedMutex::open(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::open, f), std::string(name));
  });
}
NamedMutex NamedMutex::open(std::string_view name, const Options& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::open, f), std::string(name));
  });
}
NamedMutex NamedMutex::open_or_create(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::open_or_create, f), std::string(name));
  });
}
NamedMutex NamedMutex::open_or_create(std::string_view name, const Options& options,
                                      std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return NamedMutex(open_impl(name, options, OpenMode::open_or_create, f), std::string(name));
  });
}
bool NamedMutex::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}
bool NamedMutex::remove(std::string_view name, const Options& options,
                        std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::check_name(name, f) && detail::remove_sync_object(std::string(name), options, f);
  });
}

NamedMutex::NamedMutex() noexcept = default;

NamedMutex::NamedMutex(NamedMutex&& other) noexcept {
  *this = std::move(other);
}

NamedMutex& NamedMutex::operator=(NamedMutex&& other) noexcept {
  if (this != &other) {
    if (impl_ && owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
      Failure ignored;
      impl_->unlock(ignored);
    }
    impl_ = std::move(other.impl_);
    name_ = std::move(other.name_);
    owner_.store(other.owner_.exchange(std::thread::id()));
    owner_died_ = std::exchange(other.owner_died_, false);
  }
  return *this;
}

NamedMutex::~NamedMutex() {
  // Leaving it locked would block every other process until this one exits.
  if (impl_ && owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    Failure ignored;
    impl_->unlock(ignored);
  }
}

LockStatus NamedMutex::acquire_until(Deadline deadline) {
  if (!impl_) {
    Failure{std::make_error_code(std::errc::operation_not_permitted),
            "this NamedMutex handle is empty; create or open a mutex into it before locking"}
        .raise();
  }
  // Checked here, not by the OS, so every platform behaves alike: Win32
  // mutexes would silently recurse, the POSIX one would wait for itself.
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    Failure{std::make_error_code(std::errc::resource_deadlock_would_occur),
            "mutex " + detail::quoted(name_) +
                " is already held by this thread; unlock it before locking it again"}
        .raise();
  }
  Failure failure;
  const LockStatus status = impl_->lock_until(deadline, failure);
  if (failure) failure.raise();
  if (status != LockStatus::timed_out) {
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    owner_died_ = status == LockStatus::acquired_owner_died;
  }
  return status;
}

LockStatus NamedMutex::acquire(std::chrono::milliseconds timeout) {
  return acquire_until(deadline_after(timeout));
}

void NamedMutex::lock() {
  acquire_until(k_forever);
}

bool NamedMutex::try_lock() {
  return acquire_until(std::chrono::steady_clock::now()) != LockStatus::timed_out;
}

void NamedMutex::unlock() {
  if (!impl_ || owner_.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    Failure{std::make_error_code(std::errc::operation_not_permitted),
            "mutex " + detail::quoted(name_) +
                " is not held by this thread; only the thread that locked it may unlock it"}
        .raise();
  }
  owner_died_ = false;
  owner_.store(std::thread::id(), std::memory_order_relaxed);
  Failure failure;
  impl_->unlock(failure);
  if (failure) failure.raise();
}

SHMKIT_END_NAMESPACE
