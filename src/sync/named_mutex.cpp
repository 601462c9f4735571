#include <shmkit/named_mutex.hpp>

#include "sync/sync_handle.hpp"

#include <utility>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;
using Factory = detail::SyncFactory<detail::MutexTraits>;

NamedMutex NamedMutex::create(std::string_view name, const SyncOptions& options) {
  return Factory::open(name, OpenMode::create, {}, options, nullptr);
}
NamedMutex NamedMutex::create(std::string_view name, const SyncOptions& options,
                              std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::create, {}, options, &ec);
}
NamedMutex NamedMutex::open(std::string_view name, const SyncOptions& options) {
  return Factory::open(name, OpenMode::open, {}, options, nullptr);
}
NamedMutex NamedMutex::open(std::string_view name, const SyncOptions& options,
                            std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open, {}, options, &ec);
}
NamedMutex NamedMutex::open_or_create(std::string_view name, const SyncOptions& options) {
  return Factory::open(name, OpenMode::open_or_create, {}, options, nullptr);
}
NamedMutex NamedMutex::open_or_create(std::string_view name, const SyncOptions& options,
                                      std::error_code& ec) noexcept {
  return Factory::open(name, OpenMode::open_or_create, {}, options, &ec);
}
bool NamedMutex::remove(std::string_view name, const SyncOptions& options) {
  return Factory::remove(name, options, nullptr);
}
bool NamedMutex::remove(std::string_view name, const SyncOptions& options,
                        std::error_code& ec) noexcept {
  return Factory::remove(name, options, &ec);
}
bool NamedMutex::exists(std::string_view name, const SyncOptions& options) {
  return Factory::exists(name, options, nullptr);
}
bool NamedMutex::exists(std::string_view name, const SyncOptions& options,
                        std::error_code& ec) noexcept {
  return Factory::exists(name, options, &ec);
}

// Releases the lock if the calling thread holds it through `impl`, then
// destroys it. Leaving it locked would block every other process until this
// one exits.
void NamedMutex::close(detail::NamedMutexImpl* impl) noexcept {
  if (impl == nullptr || !impl->usable()) return;  // see close_sync_handle
  if (impl->owner.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    try {
      Failure ignored;
      impl->object->unlock(ignored);
    } catch (...) {
      // Only a failure's message can throw (bad_alloc); the unlock happened.
    }
  }
  detail::close_sync_handle(impl);
}

NamedMutex::NamedMutex(NamedMutex&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}

NamedMutex& NamedMutex::operator=(NamedMutex&& other) noexcept {
  if (this != &other) {
    close(impl_);
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

NamedMutex::~NamedMutex() {
  close(impl_);
}

LockStatus NamedMutex::lock_deadline(Deadline deadline, std::error_code* ec) {
  return detail::run_sync_call(ec, [&](Failure& f) {
    if (!detail::check_usable(impl_, "NamedMutex", f)) return LockStatus::timed_out;
    // Checked here, not by the OS, so every platform behaves alike: Win32
    // mutexes would silently recurse, the POSIX one would wait for itself.
    if (impl_->owner.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
      f.set(std::make_error_code(std::errc::resource_deadlock_would_occur),
            "mutex " + detail::quoted(impl_->name) +
                " is already held by this thread; unlock it before locking it again");
      return LockStatus::timed_out;
    }
    const LockStatus status = impl_->object->lock_until(deadline, f);
    if (f || status == LockStatus::timed_out) return LockStatus::timed_out;
    impl_->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
    impl_->owner_died.store(status == LockStatus::acquired_owner_died, std::memory_order_relaxed);
    return status;
  });
}

namespace {

// unlock() and unlock(ec): misuse is errc::invalid_state and changes nothing.
void unlock_impl(detail::NamedMutexImpl* impl, Failure& f) {
  if (!detail::check_usable(impl, "NamedMutex", f)) return;
  if (impl->owner.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    f.set(errc::invalid_state, "mutex " + detail::quoted(impl->name) +
                                   " is not held by this thread through this handle; only the "
                                   "thread that locked it may unlock it");
    return;
  }
  impl->owner_died.store(false, std::memory_order_relaxed);
  impl->owner.store(std::thread::id(), std::memory_order_relaxed);
  impl->object->unlock(f);
}

}  // namespace

void NamedMutex::unlock() noexcept {
  try {
    Failure ignored;
    unlock_impl(impl_, ignored);
  } catch (...) {
    // Only a failure's message can throw (bad_alloc): nothing to report here.
  }
}

void NamedMutex::unlock(std::error_code& ec) noexcept {
  detail::without_throwing(ec, [&](Failure& f) { unlock_impl(impl_, f); });
}

bool NamedMutex::owner_died() const noexcept {
  return impl_ != nullptr &&
         impl_->owner.load(std::memory_order_relaxed) == std::this_thread::get_id() &&
         impl_->owner_died.load(std::memory_order_relaxed);
}

const std::string& NamedMutex::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->name : empty;
}

SHMKIT_END_NAMESPACE
