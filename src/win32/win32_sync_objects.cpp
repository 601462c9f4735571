// Win32: named kernel mutexes, events and semaphores. The kernel already does
// what the POSIX side builds in shared memory, including telling the next
// owner that a mutex was abandoned (WAIT_ABANDONED).
#include <shmkit/config.hpp>
#include "sync/sync_impl.hpp"

#include "messaging/wait_hook.hpp"

#include "win32/kernel_object_name.hpp"
#include "win32/os_error.hpp"
#include "win32/owner_trust.hpp"
#include "win32/security_attributes.hpp"

#include <windows.h>

#include <algorithm>
#include <climits>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

class Handle {
 public:
  explicit Handle(HANDLE h) noexcept : h_(h) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (h_ != nullptr) ::CloseHandle(h_);
  }
  HANDLE get() const noexcept { return h_; }

 private:
  HANDLE h_;
};

std::string describe(const char* kind, const std::string& name, const SegmentOptions& options) {
  return std::string(kind) + " " + quoted(name) + " (win32, " +
         narrow(kernel_object_name(name, options.scope)) + ")";
}

// A second handle, with READ_CONTROL only, to read the owner of an object
// that open_kernel_object() found; nullptr if the DACL does not grant it.
HANDLE open_for_owner(const char* kind, const wchar_t* os_name) {
  const std::string k(kind);
  if (k == "mutex") return ::OpenMutexW(READ_CONTROL, FALSE, os_name);
  if (k == "event") return ::OpenEventW(READ_CONTROL, FALSE, os_name);
  return ::OpenSemaphoreW(READ_CONTROL, FALSE, os_name);
}

// Creates or opens a named kernel object with `create_fn` / `open_fn`, with
// the same create/open/open_or_create rules as segments.
template <typename CreateFn, typename OpenFn>
HANDLE open_kernel_object(const char* kind, const std::string& name, const SegmentOptions& options,
                          OpenMode mode, CreateFn create_fn, OpenFn open_fn, Failure& failure) {
  const std::string what = describe(kind, name, options);
  // SyncOptions has neither field; the check guards internal callers.
  if (options.raw || options.access == Access::read_only) {
    failure.set(errc::invalid_argument,
                what + ": SegmentOptions::raw and Access::read_only apply to segments only");
    return nullptr;
  }
  if (options.backend != Backend::native && options.backend != Backend::win32) {
    failure.set(errc::backend_unavailable,
                what + ": only the win32 backend exists here; use Backend::native");
    return nullptr;
  }
  const std::wstring os_name = kernel_object_name(name, options.scope);
  HANDLE h;
  DWORD create_error = ERROR_SUCCESS;
  if (mode == OpenMode::open) {
    h = open_fn(os_name.c_str());
  } else {
    SecurityAttributes security;
    if (!security.parse(options.security_descriptor, what, failure)) return nullptr;
    h = create_fn(security.get(), os_name.c_str());
    create_error = ::GetLastError();
    if (h != nullptr && mode == OpenMode::create && create_error == ERROR_ALREADY_EXISTS) {
      ::CloseHandle(h);
      failure.set(errc::already_exists,
                  what + " already exists; open it, use open_or_create, or pick another name");
      return nullptr;
    }
  }
  const bool existed =
      h != nullptr && (mode == OpenMode::open || create_error == ERROR_ALREADY_EXISTS);
  if (existed) {
    // Made by someone else: use it only if its owner is trusted.
    HANDLE owner_handle = open_for_owner(kind, os_name.c_str());
    check_win32_owner(owner_handle, what, options, failure);
    if (owner_handle != nullptr) ::CloseHandle(owner_handle);
    if (failure) {
      ::CloseHandle(h);
      return nullptr;
    }
  }
  if (h == nullptr) {
    const DWORD e = mode == OpenMode::open ? ::GetLastError() : create_error;
    if (e == ERROR_INVALID_HANDLE) {
      // Mappings, events, mutexes and semaphores share one namespace.
      failure.set(errc::wrong_kind, "'" + name +
                                        "' is already used by another kind of object "
                                        "(a segment, event, mutex or semaphore), not a " +
                                        kind + ": every shmkit object needs a name of its own");
    } else {
      set_win32_failure(failure, e, what, mode == OpenMode::open ? "open" : "create");
    }
  }
  return h;
}

// Opens with SYNCHRONIZE | `modify`, or, if the object's DACL refuses that,
// with SYNCHRONIZE alone: a handle that can wait but not signal, which is all
// a service's DACL typically grants user-session consumers. Signalling
// through it then fails with ERROR_ACCESS_DENIED.
// The right to read the state without waiting (EVENT_QUERY_STATE,
// SEMAPHORE_QUERY_STATE), asked for first so that a WaitSet can look without
// taking; a DACL that refuses it costs only that.
constexpr DWORD k_query_state = 0x0001;

template <typename OpenFn>
HANDLE open_or_wait_only(const wchar_t* os_name, DWORD modify, OpenFn open_fn) {
  HANDLE h = open_fn(SYNCHRONIZE | modify | k_query_state, os_name);
  if (h == nullptr && ::GetLastError() == ERROR_ACCESS_DENIED) {
    h = open_fn(SYNCHRONIZE | modify, os_name);
  }
  if (h == nullptr && ::GetLastError() == ERROR_ACCESS_DENIED) {
    h = open_fn(SYNCHRONIZE, os_name);
    if (h == nullptr) ::SetLastError(ERROR_ACCESS_DENIED);
  }
  return h;
}

// Waits for `h` until `deadline`; WaitForSingleObject takes at most
// INFINITE - 1 milliseconds at a time.
DWORD wait_until(HANDLE h, Deadline deadline) {
  for (;;) {
    DWORD ms = INFINITE;
    if (deadline != k_forever) {
      const auto left = deadline - std::chrono::steady_clock::now();
      const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      ms = static_cast<DWORD>(std::clamp<long long>(left_ms, 0, INFINITE - 1));
    }
    const DWORD result = ::WaitForSingleObject(h, ms);
    if (result != WAIT_TIMEOUT || ms == 0 || std::chrono::steady_clock::now() >= deadline) {
      return result;
    }
  }
}

class Win32Mutex final : public MutexObject {
 public:
  Win32Mutex(HANDLE h, std::string name) : handle_(h), name_(std::move(name)) {}

  LockStatus lock_until(Deadline deadline, Failure& failure) override {
    switch (wait_until(handle_.get(), deadline)) {
      case WAIT_OBJECT_0:
        return LockStatus::acquired;
      case WAIT_ABANDONED:
        return LockStatus::acquired_owner_died;
      case WAIT_TIMEOUT:
        return LockStatus::timed_out;
      default:
        set_win32_failure(failure, ::GetLastError(), "mutex " + quoted(name_), "lock");
        return LockStatus::timed_out;
    }
  }

  void unlock(Failure& failure) override {
    if (!::ReleaseMutex(handle_.get())) {
      set_win32_failure(failure, ::GetLastError(), "mutex " + quoted(name_), "unlock");
    }
  }

 private:
  Handle handle_;
  std::string name_;
};

// ---- WaitSet hooks -------------------------------------------------------
//
// A WaitSet looks at an event or semaphore with NtQueryEvent /
// NtQuerySemaphore, which take nothing; a handle without the query right
// (EVENT_QUERY_STATE, SEMAPHORE_QUERY_STATE) is refused by add(). Looking
// through a wait of 0 ms instead would take the signal and have to give it
// back, without knowing an event's kind: a SetEvent given back to a
// manual-reset event could set it again after another process reset it, and
// a handle opened for waiting only could not give anything back at all.
// Its sleep (one WaitForMultipleObjects over everything) takes the signal
// that wakes it from an auto-reset event or a semaphore, and gives it back
// at once (the consequence, that another waiter can miss it in between, is
// documented in wait_set.hpp); a manual-reset event loses nothing.

using NtStatus = LONG;
struct EventBasicInformation {
  int type;  // EVENT_TYPE: 0 NotificationEvent (manual reset), 1 SynchronizationEvent (auto)
  LONG state;
};
struct SemaphoreBasicInformation {
  LONG count;
  LONG maximum;
};
using NtQueryFn = NtStatus(NTAPI*)(HANDLE, int, void*, ULONG, ULONG*);

// ntdll's NtQueryEvent or NtQuerySemaphore; null if missing.
NtQueryFn nt_query(const char* function) {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  FARPROC address = ntdll != nullptr ? ::GetProcAddress(ntdll, function) : nullptr;
  // Through void(*)(), the one cast GCC does not warn about.
  return reinterpret_cast<NtQueryFn>(reinterpret_cast<void (*)()>(address));
}

// The basic information (information class 0) of an event or semaphore;
// false without the query right (or without ntdll's function).
bool query(HANDLE h, EventBasicInformation& info) {
  static const NtQueryFn fn = nt_query("NtQueryEvent");
  return fn != nullptr && fn(h, 0, &info, sizeof info, nullptr) >= 0;
}
bool query(HANDLE h, SemaphoreBasicInformation& info) {
  static const NtQueryFn fn = nt_query("NtQuerySemaphore");
  return fn != nullptr && fn(h, 0, &info, sizeof info, nullptr) >= 0;
}

void give_back_event(void* h) {
  ::SetEvent(static_cast<HANDLE>(h));
}
void give_back_semaphore(void* h) {
  ::ReleaseSemaphore(static_cast<HANDLE>(h), 1, nullptr);
}

void refuse_unqueryable(Failure& failure, const char* kind, const std::string& name,
                        const char* right) {
  failure.set(win32_code(ERROR_ACCESS_DENIED),
              std::string("WaitSet::add(): this handle of ") + kind + " " + quoted(name) +
                  " lacks the " + right +
                  " right, without which a WaitSet cannot look at it without taking its "
                  "signal; have the creator's SDDL security_descriptor grant it (0x0001) to "
                  "this user, then open the " +
                  kind + " again");
}

// `query_ready(h, ready)`: false if it could not read the state, which
// counts as ready (the object's own call then reports what is wrong).
template <typename Query>
WaitHook kernel_hook(HANDLE h, void (*give_back)(void*), Query query_ready) {
  WaitHook hook;
  hook.ready = [h, query_ready] {
    bool ready = false;
    return !query_ready(h, ready) || ready;
  };
  hook.native_handle = h;
  hook.give_back = give_back;
  return hook;
}

class Win32Event final : public EventObject {
 public:
  Win32Event(HANDLE h, std::string name) : handle_(h), name_(std::move(name)) {}

  WaitHook wait_hook(Failure& failure) override {
    EventBasicInformation info{};
    if (!query(handle_.get(), info)) {
      refuse_unqueryable(failure, "event", name_, "EVENT_QUERY_STATE");
      return WaitHook();
    }
    // Waiting on a manual-reset event takes nothing: nothing to give back.
    return kernel_hook(handle_.get(), info.type == 0 ? nullptr : &give_back_event,
                       [](HANDLE h, bool& ready) {
                         EventBasicInformation state{};
                         if (!query(h, state)) return false;
                         ready = state.state != 0;
                         return true;
                       });
  }

  void set(Failure& failure) override {
    if (!::SetEvent(handle_.get())) fail(failure, "set");
  }
  void reset(Failure& failure) override {
    if (!::ResetEvent(handle_.get())) fail(failure, "reset");
  }
  bool wait_until(Deadline deadline, Failure& failure) override {
    const DWORD result = detail::wait_until(handle_.get(), deadline);
    if (result == WAIT_OBJECT_0) return true;
    if (result != WAIT_TIMEOUT) fail(failure, "wait for");
    return false;
  }

 private:
  void fail(Failure& failure, const char* operation) {
    set_win32_failure(failure, ::GetLastError(), "event " + quoted(name_), operation);
  }

  Handle handle_;
  std::string name_;
};

class Win32Semaphore final : public SemaphoreObject {
 public:
  Win32Semaphore(HANDLE h, std::string name) : handle_(h), name_(std::move(name)) {}

  WaitHook wait_hook(Failure& failure) override {
    SemaphoreBasicInformation info{};
    if (!query(handle_.get(), info)) {
      refuse_unqueryable(failure, "semaphore", name_, "SEMAPHORE_QUERY_STATE");
      return WaitHook();
    }
    return kernel_hook(handle_.get(), &give_back_semaphore, [](HANDLE h, bool& ready) {
      SemaphoreBasicInformation state{};
      if (!query(h, state)) return false;
      ready = state.count > 0;
      return true;
    });
  }

  void post(std::uint32_t count, Failure& failure) override {
    if (count > k_semaphore_max) {  // LONG would turn it negative
      failure.set(errc::overflow, "semaphore " + quoted(name_) + ": posting " +
                                      std::to_string(count) + " would pass its maximum of " +
                                      std::to_string(k_semaphore_max));
      return;
    }
    if (::ReleaseSemaphore(handle_.get(), static_cast<LONG>(count), nullptr)) return;
    const DWORD e = ::GetLastError();
    if (e == ERROR_TOO_MANY_POSTS) {
      failure.set(errc::overflow, "semaphore " + quoted(name_) + ": posting " +
                                      std::to_string(count) + " would pass its maximum of " +
                                      std::to_string(k_semaphore_max));
    } else {
      set_win32_failure(failure, e, "semaphore " + quoted(name_), "post");
    }
  }

  bool wait_until(Deadline deadline, Failure& failure) override {
    const DWORD result = detail::wait_until(handle_.get(), deadline);
    if (result == WAIT_OBJECT_0) return true;
    if (result != WAIT_TIMEOUT) {
      set_win32_failure(failure, ::GetLastError(), "semaphore " + quoted(name_), "wait for");
    }
    return false;
  }

 private:
  Handle handle_;
  std::string name_;
};

}  // namespace

std::unique_ptr<MutexObject> open_mutex(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, Failure& failure) {
  HANDLE h = open_kernel_object(
      "mutex", name, options, mode,
      [](SECURITY_ATTRIBUTES* sa, const wchar_t* n) { return ::CreateMutexW(sa, FALSE, n); },
      [](const wchar_t* n) { return ::OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, n); },
      failure);
  if (h == nullptr) return nullptr;
  return std::make_unique<Win32Mutex>(h, name);
}

std::unique_ptr<EventObject> open_event(const std::string& name, const SegmentOptions& options,
                                        OpenMode mode, EventReset reset, Failure& failure) {
  const BOOL manual = reset == EventReset::manual_reset;
  HANDLE h = open_kernel_object(
      "event", name, options, mode,
      [manual](SECURITY_ATTRIBUTES* sa, const wchar_t* n) {
        return ::CreateEventW(sa, manual, FALSE, n);
      },
      [](const wchar_t* n) {
        return open_or_wait_only(n, EVENT_MODIFY_STATE, [](DWORD rights, const wchar_t* os_name) {
          return ::OpenEventW(rights, FALSE, os_name);
        });
      },
      failure);
  if (h == nullptr) return nullptr;
  // Its kind, for a WaitSet, is asked of the kernel (NtQueryEvent).
  return std::make_unique<Win32Event>(h, name);
}

std::unique_ptr<SemaphoreObject> open_semaphore(const std::string& name,
                                                const SegmentOptions& options, OpenMode mode,
                                                std::uint32_t initial, Failure& failure) {
  HANDLE h = open_kernel_object(
      "semaphore", name, options, mode,
      [initial](SECURITY_ATTRIBUTES* sa, const wchar_t* n) {
        return ::CreateSemaphoreW(sa, static_cast<LONG>(initial),
                                  static_cast<LONG>(k_semaphore_max), n);
      },
      [](const wchar_t* n) {
        return open_or_wait_only(n, SEMAPHORE_MODIFY_STATE,
                                 [](DWORD rights, const wchar_t* os_name) {
                                   return ::OpenSemaphoreW(rights, FALSE, os_name);
                                 });
      },
      failure);
  if (h == nullptr) return nullptr;
  return std::make_unique<Win32Semaphore>(h, name);
}

bool remove_sync_object(const std::string&, const SegmentOptions&, Failure&) {
  return false;  // a Win32 kernel object dies with its last handle
}

bool sync_object_exists(const std::string& name, ObjectKind kind, const SegmentOptions& options,
                        Failure& failure) {
  const std::wstring os_name = kernel_object_name(name, options.scope);
  HANDLE h;
  switch (kind) {
    case ObjectKind::mutex:
      h = ::OpenMutexW(SYNCHRONIZE, FALSE, os_name.c_str());
      break;
    case ObjectKind::event:
      h = ::OpenEventW(SYNCHRONIZE, FALSE, os_name.c_str());
      break;
    default:
      h = ::OpenSemaphoreW(SYNCHRONIZE, FALSE, os_name.c_str());
      break;
  }
  if (h != nullptr) {
    ::CloseHandle(h);
    return true;
  }
  const DWORD e = ::GetLastError();
  // Another kind of object holds the name (the kinds share one namespace),
  // or one this user may not open: either way the name is taken.
  if (e == ERROR_INVALID_HANDLE || e == ERROR_ACCESS_DENIED) return true;
  if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return false;
  set_win32_failure(failure, e, "'" + name + "'", "look up");
  return false;
}

// There is no fork() on Windows: it stays 0.
std::atomic<std::uint32_t> g_fork_generation{0};

}  // namespace detail
SHMKIT_END_NAMESPACE
