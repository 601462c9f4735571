// NamedMutex under kill -9: three processes take the mutex in turn and update
// a pair of counters under it in two steps (a, then b, with a pause between),
// and each is killed at any moment, with or without the lock. Whoever holds
// the lock must find a == b and nobody else inside, unless it was told that
// the previous owner died (then it repairs the pair).
#include "soak.hpp"

#include <unistd.h>
#include <thread>

namespace shmkit::soak {
namespace {

constexpr int k_lockers = 3;

struct MutexControl {
  Figures figures;
  std::atomic<std::uint64_t> a;
  std::atomic<std::uint64_t> b;
  std::atomic<std::uint64_t> holder;  // pid inside the critical section, or 0
  std::atomic<std::uint64_t> owner_died;
};

}  // namespace

// args: mutex control slot incarnation
SHMKIT_SOAK_ROLE(mutex_locker) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<MutexControl*>(control.data());
  Figures& f = c.figures;
  const int slot = std::stoi(args.at(2));
  std::atomic<std::uint64_t>& beat = f.heartbeat[slot];
  NamedMutex mutex;
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    std::error_code ec;
    mutex = NamedMutex::open_or_create(args.at(0), {}, ec);
    if (!ec) break;
    beat.fetch_add(1);
    if (Clock::now() > give_up) {
      report_error(f, "mutex locker", "cannot open: " + ec.message());
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto me = static_cast<std::uint64_t>(::getpid());
  std::uint64_t spin_seed = me;
  for (;;) {
    beat.fetch_add(1);
    LockStatus status = LockStatus::timed_out;
    const Deadline deadline = deadline_after(std::chrono::milliseconds(50));
    try {
      status = bounded_wait(f, deadline, "lock_until", [&] { return mutex.lock_until(deadline); });
    } catch (const std::system_error& e) {
      report_error(f, "mutex locker", e.what());
      continue;
    }
    if (status == LockStatus::timed_out) continue;
    if (status == LockStatus::acquired_owner_died) {
      c.owner_died.fetch_add(1);
      c.b.store(c.a.load());
      c.holder.store(0);
    } else if (c.holder.load() != 0 || c.a.load() != c.b.load()) {
      f.broken.fetch_add(1);
      std::fprintf(stderr, "soak: mutex: inside with holder %llu, a %llu, b %llu\n",
                   static_cast<unsigned long long>(c.holder.load()),
                   static_cast<unsigned long long>(c.a.load()),
                   static_cast<unsigned long long>(c.b.load()));
      c.b.store(c.a.load());
    }
    c.holder.store(me);
    c.a.store(c.a.load() + 1);
    // A pause of varying length inside, so that kills land there too.
    spin_seed = spin_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (std::uint64_t i = (spin_seed >> 33) % 4000; i > 0; --i) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    c.b.store(c.b.load() + 1);
    c.holder.store(0);
    f.checked.fetch_add(1);
    try {
      mutex.unlock();
    } catch (const std::system_error& e) {
      report_error(f, "mutex locker", e.what());
    }
  }
}

SHMKIT_SOAK_SCENARIO(mutex, 1) {
  Result result;
  result.unit = "locks";
  const std::string mutex_name = prefix + "m";
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(MutexControl));
  auto& c = *static_cast<MutexControl*>(control.data());
  Cast cast(c.figures, result);
  for (int i = 0; i < k_lockers; ++i) {
    cast.add("mutex_locker", [&, i] {
      return std::vector<std::string>{mutex_name, control_name, std::to_string(i)};
    });
  }
  cast.start_all();
  cast.run(budget, {1, 1, 1});
  cast.kill_all();
  collect(c.figures, result);
  if (verbose()) {
    std::fprintf(stderr, "soak: mutex: %llu owner deaths reported\n",
                 static_cast<unsigned long long>(c.owner_died.load()));
  }
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  return result;
}

}  // namespace shmkit::soak
