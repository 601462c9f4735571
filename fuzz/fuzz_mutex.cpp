// NamedMutex: the input overwrites a live mutex's segment (held or not), then
// the mutex is opened, listed and locked with 1 ms deadlines.
#include "fuzz_support.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

void use(NamedMutex& mutex) {
  if (!mutex.is_open()) return;
  attempt("try_lock", [&] {
    if (mutex.try_lock()) mutex.unlock();
  });
  attempt("lock_for 1 ms", [&] {
    if (mutex.lock_for(k_short) != LockStatus::timed_out) mutex.unlock();
  });
  attempt("try_lock_for 1 ms", [&] {
    if (mutex.try_lock_for(k_short)) mutex.unlock();
  });
  attempt("lock_until 1 ms, error_code", [&] {
    std::error_code ec;
    if (mutex.lock_until(std::chrono::steady_clock::now() + k_short, ec) != LockStatus::timed_out) {
      mutex.unlock(ec);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 hold the lock while the input is written, bit 1 release it after.
  const std::string name = next_name("m");
  const SyncOptions options{quick_options()};
  std::error_code ec;

  NamedMutex creator;
  attempt("create", [&] { creator = NamedMutex::create(name, options, ec); });
  if (creator.is_open()) {
    bool held = false;
    if (input.flag(0)) attempt("lock", [&] { held = creator.try_lock(); });
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    if (held && input.flag(1)) attempt("unlock after damage", [&] { creator.unlock(); });
    NamedMutex second;
    attempt("open", [&] { second = NamedMutex::open(name, options, ec); });
    use(second);
    NamedMutex third;
    attempt("open_or_create", [&] { third = NamedMutex::open_or_create(name, options, ec); });
    use(third);
    if (!held || input.flag(1)) use(creator);
    attempt("close", [&] {
      creator = NamedMutex();
      second = NamedMutex();
      third = NamedMutex();
    });
  }
  remove_all(name);
  return 0;
}
