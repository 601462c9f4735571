// What NamedMutex, NamedEvent and NamedSemaphore share: the data behind
// their one pointer, and the one mechanism behind their factories and
// operations (create/open/open_or_create/remove/exists, the empty-handle and
// fork() checks, the throwing and error_code forms).
//
// Each class describes itself with a traits struct (its handle and impl
// types, its kind, what sizes it, and how the platform opens it); the
// factory members are then one line each.
#pragma once

#include <shmkit/config.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "segment/segment_options.hpp"
#include "sync/sync_impl.hpp"

#include <shmkit/named_event.hpp>
#include <shmkit/named_mutex.hpp>
#include <shmkit/named_semaphore.hpp>
#include <shmkit/sync_options.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// The data of one handle: its name, the platform object, and the fork()
// generation it was opened in.
template <typename Object>
struct SyncHandleState {
  std::string name;
  std::unique_ptr<Object> object;
  std::uint32_t forks = fork_generation();

  // False in a fork() child of the process that opened it.
  bool usable() const noexcept { return forks == fork_generation(); }
};

struct NamedMutexImpl : SyncHandleState<MutexObject> {
  // The thread that holds the lock through this handle, if any.
  std::atomic<std::thread::id> owner{};
  // Written by the owning thread only, after it took the lock; atomic so
  // that owner_died() from any thread is not a data race.
  std::atomic<bool> owner_died{false};
};

struct NamedEventImpl : SyncHandleState<EventObject> {};

struct NamedSemaphoreImpl : SyncHandleState<SemaphoreObject> {};

// The throwing form when `ec` is null, else the error_code form.
template <typename Fn>
auto run_sync_call(std::error_code* ec, Fn&& fn) -> decltype(fn(std::declval<Failure&>())) {
  if (ec != nullptr) return without_throwing(*ec, std::forward<Fn>(fn));
  return throwing(std::forward<Fn>(fn));
}

// Sets errc::invalid_state unless `impl` is a handle this process opened.
// The check is on every lock and unlock: the test stays inline, the message
// is built on the cold branch.
template <typename Impl>
bool report_unusable(const Impl* impl, const char* kind, Failure& failure) {
  if (impl == nullptr) {
    failure.set(errc::invalid_state,
                std::string("this ") + kind + " handle is empty; create or open one into it first");
    return false;
  }
  if (!impl->usable()) {
    failure.set(errc::invalid_state, std::string(kind) + " " + quoted(impl->name) +
                                         ": this handle was inherited through fork(), and "
                                         "belongs to the parent; open it again in the child");
  }
  return false;
}

template <typename Impl>
inline bool check_usable(const Impl* impl, const char* kind, Failure& failure) {
  if (impl != nullptr && impl->usable()) return true;
  return report_unusable(impl, kind, failure);
}

// Destroys a handle's data, except in a fork() child: there closing it
// would release the parent's entry in the object's attach table, so the
// child leaves it (and a lock the parent holds) alone.
template <typename Impl>
void close_sync_handle(Impl* impl) noexcept {
  if (impl == nullptr || !impl->usable()) return;
  delete impl;
}

struct NoSizing {};

struct MutexTraits {
  using Handle = NamedMutex;
  using Impl = NamedMutexImpl;
  using Sizing = NoSizing;
  static constexpr ObjectKind kind = ObjectKind::mutex;
  static std::unique_ptr<MutexObject> open(const std::string& name, const SegmentOptions& options,
                                           OpenMode mode, NoSizing, Failure& failure) {
    return open_mutex(name, options, mode, failure);
  }
};

struct EventTraits {
  using Handle = NamedEvent;
  using Impl = NamedEventImpl;
  using Sizing = EventReset;  // ignored by open()
  static constexpr ObjectKind kind = ObjectKind::event;
  static std::unique_ptr<EventObject> open(const std::string& name, const SegmentOptions& options,
                                           OpenMode mode, EventReset reset, Failure& failure) {
    return open_event(name, options, mode, reset, failure);
  }
};

struct SemaphoreTraits {
  using Handle = NamedSemaphore;
  using Impl = NamedSemaphoreImpl;
  using Sizing = std::uint32_t;  // the initial count; ignored by open()
  static constexpr ObjectKind kind = ObjectKind::semaphore;
  static std::unique_ptr<SemaphoreObject> open(const std::string& name,
                                               const SegmentOptions& options, OpenMode mode,
                                               std::uint32_t initial, Failure& failure) {
    if (mode != OpenMode::open && initial > k_semaphore_max) {
      failure.set(errc::overflow, "semaphore " + quoted(name) + ": an initial count of " +
                                      std::to_string(initial) + " is past the maximum of " +
                                      std::to_string(k_semaphore_max) + "; ask for less");
      return nullptr;
    }
    return open_semaphore(name, options, mode, initial, failure);
  }
};

// The five factories of every sync class.
template <typename Traits>
struct SyncFactory {
  using Handle = typename Traits::Handle;
  using Impl = typename Traits::Impl;
  using Sizing = typename Traits::Sizing;

  static Handle open(std::string_view name, OpenMode mode, Sizing sizing,
                     const SyncOptions& options, std::error_code* ec) {
    return run_sync_call(ec, [&](Failure& f) {
      if (!check_name(name, f)) return Handle();
      std::string owned(name);
      auto object = Traits::open(owned, segment_options_for(options), mode, sizing, f);
      if (f || object == nullptr) return Handle();
      auto impl = std::make_unique<Impl>();
      impl->name = std::move(owned);
      impl->object = std::move(object);
      return Handle(impl.release());
    });
  }

  static bool remove(std::string_view name, const SyncOptions& options, std::error_code* ec) {
    return run_sync_call(ec, [&](Failure& f) {
      return check_name(name, f) &&
             remove_sync_object(std::string(name), segment_options_for(options), f);
    });
  }

  // The data behind a handle, or null (empty, or inherited through fork()).
  static Impl* usable_impl(const Handle& handle) noexcept {
    return handle.impl_ != nullptr && handle.impl_->usable() ? handle.impl_ : nullptr;
  }

  static bool exists(std::string_view name, const SyncOptions& options, std::error_code* ec) {
    return run_sync_call(ec, [&](Failure& f) {
      return check_name(name, f) &&
             sync_object_exists(std::string(name), Traits::kind, segment_options_for(options), f);
    });
  }
};

}  // namespace detail
SHMKIT_END_NAMESPACE
