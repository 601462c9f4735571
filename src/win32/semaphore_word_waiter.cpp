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

}  // namespace detail
SHMKIT_END_NAMESPACE
