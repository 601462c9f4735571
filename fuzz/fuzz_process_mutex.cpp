// ProcessMutex and ProcessCondition: the input overwrites a live pair inside
// a segment's data (the mutex held or not), then the pair is locked,
// unlocked, waited on and notified with 1 ms deadlines.
#include "fuzz_support.hpp"

#include <shmkit/process_condition.hpp>
#include <shmkit/process_mutex.hpp>

#include <new>

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

// What a user would put in a segment.
struct Guarded {
  ProcessMutex mutex;
  ProcessCondition condition;
  std::uint64_t value;
};

void use(Guarded& guarded) {
  attempt("try_lock", [&] {
    if (guarded.mutex.try_lock()) guarded.mutex.unlock();
  });
  attempt("lock_for 1 ms, wait_for 1 ms", [&] {
    if (guarded.mutex.lock_for(k_short) == LockStatus::timed_out) return;
    (void)guarded.condition.wait_for(guarded.mutex, k_short);
    (void)guarded.condition.wait_for(guarded.mutex, k_short, [] { return false; });
    guarded.mutex.unlock();
  });
  attempt("notify", [&] {
    guarded.condition.notify_one();
    guarded.condition.notify_all();
  });
  attempt("lock_until 1 ms, error_code", [&] {
    std::error_code ec;
    if (guarded.mutex.lock_until(std::chrono::steady_clock::now() + k_short, ec) !=
        LockStatus::timed_out) {
      (void)guarded.condition.wait_until(guarded.mutex, std::chrono::steady_clock::now() + k_short,
                                         ec);
      guarded.mutex.unlock(ec);
    }
  });
  attempt("unlock, not held", [&] {
    std::error_code ec;
    guarded.mutex.unlock(ec);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 hold the lock while the input is written, bit 1 release it
  // after, bit 2 notify while the input is in place.
  const std::string name = next_name("p");
  std::error_code ec;
  NamedSharedMemory shm;
  attempt("create",
          [&] { shm = NamedSharedMemory::create(name, sizeof(Guarded), quick_options(), ec); });
  if (shm.is_open()) {
    auto* guarded = new (shm.data()) Guarded{};
    bool held = false;
    if (input.flag(0)) attempt("lock", [&] { held = guarded->mutex.try_lock(); });
    // Every patch lands in the pair (and the value after it).
    input.apply(static_cast<std::byte*>(shm.data()), sizeof(Guarded), 0);
    if (input.flag(2)) attempt("notify after damage", [&] { guarded->condition.notify_all(); });
    if (held && input.flag(1)) attempt("unlock after damage", [&] { guarded->mutex.unlock(); });
    use(*guarded);
    // The same words seen through a second mapping at another address.
    NamedSharedMemory second;
    attempt("open", [&] { second = NamedSharedMemory::open(name, quick_options(), ec); });
    if (second.is_open() && second.size() >= sizeof(Guarded)) {
      use(*static_cast<Guarded*>(second.data()));
    }
    if (held && !input.flag(1)) {
      attempt("unlock at the end", [&] {
        std::error_code unlock_ec;
        guarded->mutex.unlock(unlock_ec);
      });
    }
  }
  remove_all(name);
  return 0;
}
