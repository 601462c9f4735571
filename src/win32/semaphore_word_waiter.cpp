// Win32: a named kernel semaphore per waiter slot carries wake-ups (there is
// no cross-process WaitOnAddress). Its name adds ".w<slot>" because mappings
// and semaphores share one kernel namespace.
#include <shmkit/config.hpp>
#include "sync/sync_segment.hpp"
#include "sync/word_waiter.hpp"

#include "win32/kernel_object_name.hpp"
#include "win32/os_error.hpp"
#include "win32/security_attributes.hpp"

#include <windows.h>

#include <algorithm>
#include <climits>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::wstring waiter_name(const std::string& name, unsigned slot, const SegmentOptions& options) {
  return kernel_object_name(name + ".w" + std::to_string(slot), options.scope);
}

class KernelSemaphoreWaiter final : public WordWaiter {
 public:
  explicit KernelSemaphoreWaiter(HANDLE h) : h_(h) {}
  ~KernelSemaphoreWaiter() override { ::CloseHandle(h_); }

  void wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
            Deadline deadline) override {
    if (word.load(std::memory_order_acquire) != expected) return;
    DWORD ms = INFINITE;
    if (deadline != k_forever) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
              .count();
      ms = static_cast<DWORD>(std::clamp<long long>(left, 0, INFINITE - 1));
    }
    ::WaitForSingleObject(h_, ms);  // a timeout or a token: the caller re-checks
  }

  void wake(std::atomic<std::uint32_t>&, std::uint32_t count) override {
    // `count` may come from shared memory: bound it (sleepers wake in slices).
    const LONG n = static_cast<LONG>(std::min<std::uint32_t>(count, 1024));
    ::ReleaseSemaphore(h_, n, nullptr);  // ERROR_TOO_MANY_POSTS: enough tokens are pending
  }

  void* native_handle() noexcept override { return h_; }

 private:
  HANDLE h_;
};

}  // namespace

std::uint32_t word_waiter_kind() noexcept {
  return 3;
}  // named kernel semaphore

std::unique_ptr<WordWaiter> make_word_waiter(const std::string& name, unsigned slot, bool create,
                                             const SegmentOptions& options, Failure& failure) {
  const std::wstring os_name = waiter_name(name, slot, options);
  const std::string what = "the wake-up semaphore of " + quoted(name);
  HANDLE h = nullptr;
  if (!create) {
    h = ::OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, os_name.c_str());
  }
  // The semaphore dies with its last handle while its segment may live on
  // (a client still holds a registry its server has left): nobody can be
  // asleep on a semaphore that no longer exists, so a fresh one serves.
  if (h == nullptr && (create || ::GetLastError() == ERROR_FILE_NOT_FOUND)) {
    SecurityAttributes security;
    if (!security.parse(options.security_descriptor, what, failure)) return nullptr;
    h = ::CreateSemaphoreW(security.get(), 0, LONG_MAX, os_name.c_str());
  }
  if (h == nullptr) {
    set_win32_failure(failure, ::GetLastError(), what, create ? "create" : "open");
    return nullptr;
  }
  return std::make_unique<KernelSemaphoreWaiter>(h);
}

void remove_word_waiter(const std::string&, unsigned, const SegmentOptions&) noexcept {
  // A kernel semaphore dies with its last handle.
}

// ---- wait_any: WaitForMultipleObjectsEx -------------------------------------
//
// The word waiters' semaphores and the events' and semaphores' own handles,
// in one wait. A token taken from a word waiter's semaphore is a wake-up
// meant for an announced sleeper, which the caller was; what is taken from a
// user's event or semaphore is given back. The wait is alertable so that
// WaitInterrupt::kick() can end it with an APC: no handle of its own, so a
// WaitSet can hold as many objects as the wait takes handles.

namespace {

void CALLBACK wake_only(ULONG_PTR) {}

// break_wait_any_for_testing(): every wait gets a null handle too, and fails.
std::atomic<bool> g_break_wait{false};

// The most a failed wait sleeps (WaitSet's k_peer_check_interval).
constexpr DWORD k_max_failed_sleep_ms = 100;

}  // namespace

void wait_any(const WaitTarget* targets, std::size_t count, const WaitInterrupt* interrupt,
              std::uint32_t interrupt_seen, Deadline deadline) {
  HANDLE handles[k_max_wait_targets + 1];
  const WaitTarget* owners[k_max_wait_targets + 1];
  DWORD n = 0;
  for (std::size_t i = 0; i < count && n < k_max_wait_targets; ++i) {
    const WaitTarget& target = targets[i];
    if (target.word != nullptr && target.word->load(std::memory_order_acquire) != target.expected) {
      return;  // woken before we slept
    }
    HANDLE h = target.native_handle != nullptr ? static_cast<HANDLE>(target.native_handle)
               : target.waiter != nullptr      ? static_cast<HANDLE>(target.waiter->native_handle())
                                               : nullptr;
    if (h == nullptr) continue;
    // Each handle once: WaitForMultipleObjects fails at once on duplicates
    // (the same object added twice, two entries sharing a waiter). The
    // entries of one handle are of one object, with the same give-back.
    if (std::find(handles, handles + n, h) != handles + n) continue;
    handles[n] = h;
    owners[n] = &target;
    ++n;
  }
  if (interrupt != nullptr && interrupt->seen() != interrupt_seen) return;
  DWORD ms = INFINITE;
  if (deadline != k_forever) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    ms = static_cast<DWORD>(std::clamp<long long>(left, 0, INFINITE - 1));
  }
  const BOOL alertable = interrupt != nullptr ? TRUE : FALSE;
  if (n == 0) {
    ::SleepEx(ms, alertable);
    return;
  }
  DWORD waited = n;
  if (g_break_wait.load(std::memory_order_relaxed)) handles[waited++] = nullptr;
  const DWORD result = ::WaitForMultipleObjectsEx(waited, handles, FALSE, ms, alertable);
  if (result >= WAIT_OBJECT_0 && result < WAIT_OBJECT_0 + n) {
    const WaitTarget& target = *owners[result - WAIT_OBJECT_0];
    if (target.give_back != nullptr) target.give_back(target.native_handle);
  } else if (result == WAIT_FAILED) {
    // A handle the wait refuses (closed under us, or no SYNCHRONIZE right)
    // would make it fail at once on every call: sleep out the slice
    // instead, so that the caller polls readiness rather than spins.
    ::SleepEx(std::min(ms, k_max_failed_sleep_ms), alertable);
  }
}

bool wait_any_polls() noexcept {
  return false;
}

void break_wait_any_for_testing(bool broken) noexcept {
  g_break_wait.store(broken, std::memory_order_relaxed);
}

WaitInterrupt::~WaitInterrupt() {
  if (void* thread = thread_.load()) ::CloseHandle(static_cast<HANDLE>(thread));
}

void WaitInterrupt::bind_current_thread() noexcept {
  if (thread_.load() != nullptr) return;
  HANDLE thread = nullptr;
  if (::DuplicateHandle(::GetCurrentProcess(), ::GetCurrentThread(), ::GetCurrentProcess(), &thread,
                        THREAD_SET_CONTEXT, FALSE, 0)) {
    thread_.store(thread);
  }
}

void WaitInterrupt::kick() noexcept {
  word_.fetch_add(1, std::memory_order_release);
  // Queued before the thread waits, the APC ends its next alertable wait.
  if (void* thread = thread_.load()) ::QueueUserAPC(&wake_only, static_cast<HANDLE>(thread), 0);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
