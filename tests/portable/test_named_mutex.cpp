// NamedMutex across real processes: mutual exclusion, owner death, timeouts,
// the portable rules (not recursive, thread-owned), and whatever another
// process writes into the mutex's shared state.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"
#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_lockers = 8;
constexpr int k_increments = 10000;

struct Shared {
  std::uint64_t counter;  // only touched under the mutex
  std::atomic<std::uint32_t> ready;
};

}  // namespace

// args: mutex-name segment-name. Increments the shared counter under the lock.
SHMKIT_CHILD_ROLE(mutex_counter) {
  auto mutex = NamedMutex::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& shared = *static_cast<Shared*>(shm.data());
  // Start together, so that the lockers really contend.
  shared.ready.fetch_add(1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (shared.ready.load() < static_cast<std::uint32_t>(k_lockers) &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  for (int i = 0; i < k_increments; ++i) {
    std::lock_guard<NamedMutex> guard(mutex);
    shared.counter = shared.counter + 1;  // a read-modify-write the lock must protect
  }
  return 0;
}

// args: mutex-name segment-name. Takes the lock, says so, then waits to be killed.
SHMKIT_CHILD_ROLE(mutex_hold_forever) {
  auto mutex = NamedMutex::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& shared = *static_cast<Shared*>(shm.data());
  mutex.lock();
  shared.counter = 12345;  // "half-updated" data for the next owner to repair
  shared.ready.store(1);
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

struct DeathShared {
  Shared base;
  std::atomic<std::uint32_t> waiting;   // waiters about to block
  std::atomic<std::uint32_t> told;      // waiters that got acquired_owner_died
  std::atomic<std::uint32_t> acquired;  // waiters that got the lock at all
};

// args: mutex-name segment-name (a DeathShared). Blocks until it gets the
// lock, and counts whether it was told of the death.
SHMKIT_CHILD_ROLE(mutex_wait_for_death) {
  auto mutex = NamedMutex::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& shared = *static_cast<DeathShared*>(shm.data());
  shared.waiting.fetch_add(1);
  const LockStatus status = mutex.lock_for(std::chrono::seconds(60));
  if (status == LockStatus::timed_out) return 1;
  if (status == LockStatus::acquired_owner_died) shared.told.fetch_add(1);
  shared.acquired.fetch_add(1);
  mutex.unlock();
  return 0;
}

// args: mutex-name segment-name. Creates the mutex, waits until the parent
// has opened it, then exits without removing it.
SHMKIT_CHILD_ROLE(mutex_create_and_exit) {
  auto mutex = NamedMutex::create(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& shared = *static_cast<Shared*>(shm.data());
  shared.ready.store(1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (shared.ready.load() != 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

TEST_SUITE("mutex") {
  TEST_CASE("8 processes x 10,000 increments under the mutex give the exact total") {
    test::NameGuard guard(test::unique_name("mtx"));
    test::NameGuard data_guard(test::unique_name("mtxd"));
    auto mutex = NamedMutex::create(guard.name());
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(Shared));
    std::vector<test::Child> lockers;
    for (int i = 0; i < k_lockers; ++i) {
      lockers.push_back(test::Child::spawn("mutex_counter", {guard.name(), data_guard.name()}));
    }
    for (auto& locker : lockers) {
      const auto status = locker.wait(std::chrono::seconds(240));
      CHECK(status.exited);
      CHECK(status.code == 0);
    }
    std::lock_guard<NamedMutex> lock(mutex);
    CHECK(static_cast<Shared*>(shm.data())->counter ==
          static_cast<std::uint64_t>(k_lockers) * k_increments);
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("the owner dies holding it: the next locker is told, repairs, and it works on") {
    test::NameGuard guard(test::unique_name("mtxk"));
    test::NameGuard data_guard(test::unique_name("mtxkd"));
    auto mutex = NamedMutex::create(guard.name());
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(Shared));
    auto& shared = *static_cast<Shared*>(shm.data());

    auto holder = test::Child::spawn("mutex_hold_forever", {guard.name(), data_guard.name()});
    REQUIRE(test::eventually([&] { return shared.ready.load() == 1; }));
    CHECK_FALSE(mutex.try_lock());
    holder.kill();
    CHECK(holder.wait().killed);

    const LockStatus status = mutex.lock_for(std::chrono::seconds(30));
    REQUIRE(status == LockStatus::acquired_owner_died);
    CHECK(mutex.owner_died());
    CHECK(shared.counter == 12345);
    shared.counter = 0;  // the repair
    mutex.unlock();
    CHECK_FALSE(mutex.owner_died());

    // Normal from now on, for this process and for others.
    CHECK(mutex.lock_for(std::chrono::seconds(30)) == LockStatus::acquired);
    CHECK_FALSE(mutex.owner_died());
    mutex.unlock();
    shared.ready.store(k_lockers);  // no start barrier for a lone locker
    const auto counter = test::run_child("mutex_counter", {guard.name(), data_guard.name()});
    CHECK(counter.code == 0);
    CHECK(shared.counter == static_cast<std::uint64_t>(k_increments));
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("try_lock_for on a held mutex gives up after the timeout") {
    test::NameGuard guard(test::unique_name("mtxt"));
    test::NameGuard data_guard(test::unique_name("mtxtd"));
    auto mutex = NamedMutex::create(guard.name());
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(Shared));
    auto holder = test::Child::spawn("mutex_hold_forever", {guard.name(), data_guard.name()});
    REQUIRE(test::eventually([&] { return static_cast<Shared*>(shm.data())->ready.load() == 1; }));

    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(100)));
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= std::chrono::milliseconds(100));
    CHECK(waited < std::chrono::seconds(20));  // generous: only "it did return"
    CHECK(mutex.lock_for(std::chrono::milliseconds(0)) == LockStatus::timed_out);
    CHECK_FALSE(
        mutex.try_lock_until(std::chrono::system_clock::now() + std::chrono::milliseconds(20)));
    holder.kill();
    holder.wait();
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("not recursive, owned by a thread, usable with std::unique_lock") {
    test::NameGuard guard(test::unique_name("mtxr"));
    auto mutex = NamedMutex::create(guard.name());
    {
      std::unique_lock<NamedMutex> lock(mutex, std::chrono::seconds(5));
      REQUIRE(lock.owns_lock());
      try {
        mutex.lock();
        FAIL("a second lock from the owning thread must throw");
      } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::resource_deadlock_would_occur);
      }
      test::JoiningThread other([&] {
        CHECK_FALSE(mutex.try_lock());  // held by the main thread
        // Misuse: unlock() does nothing, unlock(ec) says so; the lock stays.
        mutex.unlock();
        std::error_code ec;
        mutex.unlock(ec);
        CHECK(ec == errc::invalid_state);
        CHECK_FALSE(mutex.try_lock());
      });
      other.join();
    }
    // Another thread can take it once released.
    test::JoiningThread taker([&] {
      CHECK(mutex.try_lock_for(std::chrono::seconds(5)));
      mutex.unlock();
    });
    taker.join();
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("a mutex outlives its creator; names, kinds and options are checked") {
    test::NameGuard guard(test::unique_name("mtxo"));
    test::NameGuard data_guard(test::unique_name("mtxod"));
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(Shared));
    auto& shared = *static_cast<Shared*>(shm.data());
    auto creator = test::Child::spawn("mutex_create_and_exit", {guard.name(), data_guard.name()});
    REQUIRE(test::eventually([&] { return shared.ready.load() == 1; }));
    auto mutex = NamedMutex::open(guard.name());
    shared.ready.store(2);
    CHECK(creator.wait().code == 0);
    // The creator is gone; the mutex works (on Win32: because we hold a handle).
    CHECK(mutex.try_lock());
    mutex.unlock();

    std::error_code ec;
    (void)NamedMutex::create(guard.name(), {}, ec);
    CHECK(ec == errc::already_exists);
    (void)NamedMutex::open("no/slash", {}, ec);
    CHECK(ec == errc::invalid_name);
    (void)NamedEvent::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
    (void)NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
    if (native_backend() != Backend::win32) {  // Win32: dies with its last handle instead
      CHECK(NamedMutex::remove(guard.name()));
      CHECK_FALSE(NamedMutex::remove(guard.name()));
      (void)NamedMutex::open(guard.name(), {}, ec);
      CHECK(ec == errc::not_found);
    }
    NamedMutex empty;
    CHECK_FALSE(empty.is_open());
    CHECK_THROWS_AS(empty.lock(), std::system_error);
  }
}

// ---- hostile shared state ----------------------------------------------------
// Anyone who may write a mutex's segment may write anything into its state.
// Whatever they write, every call in every process returns by its deadline
// with a result or a clear error: no crash, no abort, no hang.

namespace {

using Clock = std::chrono::steady_clock;

// How late a call may return past its deadline on a loaded machine (ASan,
// other builds): only "it returned" is asserted, never a tight bound.
constexpr auto k_slack = std::chrono::seconds(10);

// Where the mutex's own state starts in the raw bytes of its segment.
constexpr std::size_t k_state_offset = detail::k_header_size + sizeof(detail::SyncPreamble);

struct HostileControl {
  std::atomic<std::uint32_t> holding;  // the holder child has the lock
  std::atomic<std::uint32_t> waiting;  // the waiter child is about to wait
  std::atomic<std::uint32_t> go;       // the state has been overwritten
};

// A 64-bit owner word as the attach table packs a process (pid, start time).
std::uint64_t identity_word(std::uint64_t pid, std::uint64_t start_time) {
  return detail::pack_slot(detail::ProcessIdentity{pid, start_time});
}

// A running process that has nothing to do with the mutex: pid 1.
std::uint64_t live_unrelated_process() {
  const auto start = detail::process_start_time(1);
  REQUIRE(start.has_value());
  return identity_word(1, *start);
}

bool is_allowed_error(const std::system_error& e) {
  // A clear error: the state was changed under the caller.
  return e.code() == errc::corrupted;
}

// Runs every call on a mutex whose state may hold anything. Returns 0 when
// each returned in time with an acceptable outcome; otherwise a code naming
// the call, after saying on stderr what happened. `live_owner`: the state
// names a running process as owner, so nobody may take the lock; otherwise
// the lock must be obtainable (free, or taken over from a dead owner).
// `untimed`: also call lock(), which has no deadline (children only: their
// parent kills a child that hangs).
int probe_hostile(NamedMutex& mutex, bool live_owner, bool untimed) {
  bool got_it = false;
  int failure = 0;
  auto run = [&](int code, const char* what, std::chrono::milliseconds timeout,
                 const std::function<LockStatus()>& call) {
    if (failure != 0) return;
    const auto started = Clock::now();
    try {
      const LockStatus status = call();
      const auto took = Clock::now() - started;
      if (took > timeout + k_slack) {
        std::fprintf(stderr, "%s returned after %lld ms, its timeout was %lld ms\n", what,
                     static_cast<long long>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
                     static_cast<long long>(timeout.count()));
        failure = code;
        return;
      }
      if (status == LockStatus::timed_out) return;
      got_it = true;
      if (live_owner) {
        std::fprintf(stderr, "%s took a mutex that a live process owns\n", what);
        failure = code + 1;
        return;
      }
      mutex.unlock();  // we just took it ourselves: nothing may have changed since
    } catch (const std::system_error& e) {
      if (!is_allowed_error(e)) {
        std::fprintf(stderr, "%s threw an unexpected error %d (%s)\n", what, e.code().value(),
                     e.what());
        failure = code + 2;
      }
    }
  };
  const auto zero = std::chrono::milliseconds(0);
  run(10, "try_lock", zero,
      [&] { return mutex.try_lock() ? LockStatus::acquired : LockStatus::timed_out; });
  run(20, "acquire(100ms)", std::chrono::milliseconds(100),
      [&] { return mutex.lock_for(std::chrono::milliseconds(100)); });
  run(30, "try_lock_for(50ms)", std::chrono::milliseconds(50), [&] {
    return mutex.try_lock_for(std::chrono::milliseconds(50)) ? LockStatus::acquired
                                                             : LockStatus::timed_out;
  });
  if (!live_owner) {
    if (untimed) {
      run(40, "lock()", std::chrono::seconds(30), [&] {
        mutex.lock();
        return LockStatus::acquired;
      });
    } else {
      run(40, "acquire(5s)", std::chrono::seconds(5),
          [&] { return mutex.lock_for(std::chrono::seconds(5)); });
    }
  }
  if (failure == 0 && !live_owner && !got_it) {
    std::fprintf(stderr, "no call took a mutex that no live process owns\n");
    failure = 50;
  }
  return failure;
}

// A way to overwrite a live mutex's state; `live_owner` as for probe_hostile.
struct Hostile {
  const char* what;
  bool live_owner;
  std::function<void(unsigned char* state, std::size_t size)> write;
};

void put64(unsigned char* state, std::size_t size, std::size_t offset, std::uint64_t value) {
  if (offset + 8 <= size) std::memcpy(state + offset, &value, 8);
}
void put32(unsigned char* state, std::size_t size, std::size_t offset, std::uint32_t value) {
  if (offset + 4 <= size) std::memcpy(state + offset, &value, 4);
}
void every64(unsigned char* state, std::size_t size, std::uint64_t value) {
  for (std::size_t offset = 0; offset + 8 <= size; offset += 8) put64(state, size, offset, value);
}
void every32(unsigned char* state, std::size_t size, std::uint32_t value) {
  for (std::size_t offset = 0; offset + 4 <= size; offset += 4) put32(state, size, offset, value);
}

std::vector<Hostile> hostile_states() {
  static int stack_variable = 0;
  static const auto heap_variable = std::make_unique<int>(0);
  const auto stack_address = reinterpret_cast<std::uintptr_t>(&stack_variable);
  const auto heap_address = reinterpret_cast<std::uintptr_t>(heap_variable.get());
  const std::uint64_t live = live_unrelated_process();
  const std::uint64_t self =
      identity_word(detail::current_process().pid, detail::current_process().start_time);
  const std::uint64_t earlier_self =
      identity_word(detail::current_process().pid, detail::current_process().start_time ^ 0x5a5a);
  // glibc's robust pthread mutex, which the Linux build used to keep here:
  // __lock at 0, __owner at 8, __kind at 16, __list.__prev/__next at 24/32.
  // PTHREAD_MUTEX_PP_ERRORCHECK_NP | PTHREAD_MUTEX_PSHARED_BIT, and a
  // priority ceiling in __lock's top bits that no scheduler accepts.
  constexpr std::uint32_t k_pp_errorcheck_pshared = 66 | 128;
  constexpr std::uint32_t k_bogus_ceiling = 0xfff80000u;
  std::vector<Hostile> states = {
      {"every byte 0xff", false, [](unsigned char* s, std::size_t n) { std::memset(s, 0xff, n); }},
      {"every byte 0x00", false, [](unsigned char* s, std::size_t n) { std::memset(s, 0, n); }},
      {"every 64-bit word a pointer into this process", false,
       [=](unsigned char* s, std::size_t n) { every64(s, n, heap_address); }},
      {"every 64-bit word a kernel address", false,
       [](unsigned char* s, std::size_t n) { every64(s, n, 0xffff888000000000ULL); }},
      {"the words where glibc kept __list.__prev/__next set to pointers, the rest kept", false,
       [=](unsigned char* s, std::size_t n) {
         put64(s, n, 24, stack_address);
         put64(s, n, 32, heap_address - 8);
       }},
      {"the word where glibc kept __kind set to a priority-protect type, the rest kept", false,
       [](unsigned char* s, std::size_t n) { put32(s, n, 16, k_pp_errorcheck_pshared); }},
      {"every 32-bit word a priority-protect type", false,
       [](unsigned char* s, std::size_t n) { every32(s, n, k_pp_errorcheck_pshared); }},
      {"a priority-protect type with a bogus ceiling", false,
       [](unsigned char* s, std::size_t n) {
         put32(s, n, 0, k_bogus_ceiling);
         put32(s, n, 16, k_pp_errorcheck_pshared);
       }},
      {"the owner word names a live unrelated process", true,
       [=](unsigned char* s, std::size_t n) { put64(s, n, 0, live); }},
      {"every 64-bit word names a live unrelated process", true,
       [=](unsigned char* s, std::size_t n) { every64(s, n, live); }},
      {"the owner word names the test process", true,
       [=](unsigned char* s, std::size_t n) { put64(s, n, 0, self); }},
      {"the owner word names an earlier process with the test's pid", false,
       [=](unsigned char* s, std::size_t n) { put64(s, n, 0, earlier_self); }},
      {"the owner word has pid 0", false,
       [](unsigned char* s, std::size_t n) { put64(s, n, 0, 0x00000000deadbeefULL); }},
      {"the owner word has a pid past any pid_max", false,
       [](unsigned char* s, std::size_t n) { put64(s, n, 0, 0x7ffffff0deadbeefULL); }},
      {"every word after the owner word 0xff, the owner word kept", false,
       [](unsigned char* s, std::size_t n) {
         if (n > 8) std::memset(s + 8, 0xff, n - 8);
       }},
      {"every word after the owner word 0, the owner word kept", false,
       [](unsigned char* s, std::size_t n) {
         if (n > 8) std::memset(s + 8, 0, n - 8);
       }},
  };
  for (unsigned seed = 1; seed <= 4; ++seed) {
    states.push_back({"random bytes", false, [seed](unsigned char* s, std::size_t n) {
                        std::mt19937 random(seed);
                        for (std::size_t i = 0; i < n; ++i)
                          s[i] = static_cast<unsigned char>(random());
                        // Not a live process by chance: pid 0x7fff_xxxx is past any pid_max.
                        if (n >= 8) s[7] = 0x7f;
                      }});
  }
  return states;
}

// The mutex's state, through a raw read-write mapping of its segment.
struct RawState {
  NamedSharedMemory bytes;
  unsigned char* state = nullptr;
  std::size_t size = 0;
};

RawState raw_state(const std::string& name) {
  SegmentOptions raw;
  raw.raw = true;
  RawState result{NamedSharedMemory::open(name, raw)};
  REQUIRE(result.bytes.size() > k_state_offset);
  result.state = static_cast<unsigned char*>(result.bytes.data()) + k_state_offset;
  result.size = result.bytes.size() - k_state_offset;
  return result;
}

// After the state was repaired by whoever took the lock: a plain acquire.
bool acquire_normally(NamedMutex& mutex) {
  try {
    const LockStatus status = mutex.lock_for(std::chrono::seconds(10));
    if (status != LockStatus::timed_out) mutex.unlock();
    return status == LockStatus::acquired;
  } catch (const std::system_error& e) {
    MESSAGE("acquire threw " << e.what());
    return false;
  }
}

bool hostile_tests_apply() {
  // Win32 mutexes are kernel objects: nothing of them is in shared memory.
  return native_backend() != Backend::win32;
}

}  // namespace

// args: mutex-name control-name live(0|1) opened(before|after). Opens the
// mutex before or after the parent overwrites its state, then probes it.
SHMKIT_CHILD_ROLE(mutex_hostile_probe) {
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& control = *static_cast<HostileControl*>(shm.data());
  NamedMutex mutex;
  std::error_code ec;
  if (args.at(3) == "before") {
    mutex = NamedMutex::open(args.at(0));
    control.waiting.store(1);
    if (!test::eventually([&] { return control.go.load() == 1; }, std::chrono::seconds(60))) {
      return 2;
    }
  } else {
    mutex = NamedMutex::open(args.at(0), {}, ec);
    // Like a damaged header, a state that contradicts itself may be refused
    // at open (the creator's PID namespace was overwritten): a clear error.
    if (ec == errc::incompatible_layout || ec == errc::corrupted) return 0;
    if (ec) {
      std::fprintf(stderr, "open failed with an unexpected error %d (%s)\n", ec.value(),
                   ec.message().c_str());
      return 1;
    }
  }
  return probe_hostile(mutex, args.at(2) == "1", true);
}

// args: mutex-name control-name live(0|1). Holds the lock while the parent
// overwrites the state, then unlocks and probes.
SHMKIT_CHILD_ROLE(mutex_hostile_holder) {
  auto mutex = NamedMutex::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& control = *static_cast<HostileControl*>(shm.data());
  mutex.lock();
  control.holding.store(1);
  if (!test::eventually([&] { return control.go.load() == 1; }, std::chrono::seconds(60))) return 2;
  try {
    mutex.unlock();
  } catch (const std::system_error& e) {
    if (!is_allowed_error(e)) {
      std::fprintf(stderr, "the holder's unlock threw an unexpected error %d (%s)\n",
                   e.code().value(), e.what());
      return 3;
    }
  }
  return probe_hostile(mutex, args.at(2) == "1", false);
}

// args: mutex-name control-name. Waits for the held mutex while the parent
// overwrites the state: the wait must end by its deadline.
SHMKIT_CHILD_ROLE(mutex_hostile_waiter) {
  auto mutex = NamedMutex::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& control = *static_cast<HostileControl*>(shm.data());
  control.waiting.store(1);
  const auto timeout = std::chrono::milliseconds(1500);
  const auto started = Clock::now();
  try {
    const LockStatus status = mutex.lock_for(timeout);
    if (Clock::now() - started > timeout + k_slack) {
      std::fprintf(stderr, "the waiter returned long after its deadline\n");
      return 4;
    }
    if (status != LockStatus::timed_out) mutex.unlock();
  } catch (const std::system_error& e) {
    if (!is_allowed_error(e)) {
      std::fprintf(stderr, "the waiter got an unexpected error %d (%s)\n", e.code().value(),
                   e.what());
      return 5;
    }
  }
  return 0;
}

TEST_SUITE("mutex") {
  TEST_CASE("hostile state in a free mutex: every call in every process returns in time") {
    if (!hostile_tests_apply()) return;
    for (const Hostile& hostile : hostile_states()) {
      CAPTURE(std::string(hostile.what));
      test::NameGuard guard(test::unique_name("mtxh"));
      test::NameGuard control_guard(test::unique_name("mtxhc"));
      auto mutex = NamedMutex::create(guard.name());
      auto shm = NamedSharedMemory::create(control_guard.name(), sizeof(HostileControl));
      auto& control = *static_cast<HostileControl*>(shm.data());
      const std::string live = hostile.live_owner ? "1" : "0";
      // One process has it open when the state is overwritten, one opens it after.
      auto early = test::Child::spawn("mutex_hostile_probe",
                                      {guard.name(), control_guard.name(), live, "before"});
      REQUIRE(test::eventually([&] { return control.waiting.load() == 1; }));
      {
        auto raw = raw_state(guard.name());
        hostile.write(raw.state, raw.size);
      }
      control.go.store(1);
      const auto early_status = early.wait();
      CHECK_MESSAGE(early_status.exited, "the child died of signal " << early_status.signal);
      CHECK(early_status.code == 0);
      {
        auto raw = raw_state(guard.name());
        hostile.write(raw.state, raw.size);
      }
      const auto late_status = test::run_child("mutex_hostile_probe",
                                               {guard.name(), control_guard.name(), live, "after"});
      CHECK_MESSAGE(late_status.exited, "the child died of signal " << late_status.signal);
      CHECK(late_status.code == 0);
      // This process would fail the same way; it only probes what its
      // children survived.
      if (!early_status.exited || !late_status.exited || early_status.code != 0 ||
          late_status.code != 0) {
        continue;
      }
      {
        auto raw = raw_state(guard.name());
        hostile.write(raw.state, raw.size);
      }
      CHECK(probe_hostile(mutex, hostile.live_owner, false) == 0);
      if (!hostile.live_owner) {
        // Usable again, and normal once the death has been reported.
        CHECK(acquire_normally(mutex));
      }
      NamedMutex::remove(guard.name());
    }
  }

  TEST_CASE(
      "hostile state written while a process holds the mutex: its unlock and every waiter "
      "return in time") {
    if (!hostile_tests_apply()) return;
    for (const Hostile& hostile : hostile_states()) {
      CAPTURE(std::string(hostile.what));
      test::NameGuard guard(test::unique_name("mtxhh"));
      test::NameGuard control_guard(test::unique_name("mtxhc"));
      auto mutex = NamedMutex::create(guard.name());
      auto shm = NamedSharedMemory::create(control_guard.name(), sizeof(HostileControl));
      auto& control = *static_cast<HostileControl*>(shm.data());
      auto holder = test::Child::spawn("mutex_hostile_holder", {guard.name(), control_guard.name(),
                                                                hostile.live_owner ? "1" : "0"});
      REQUIRE(test::eventually([&] { return control.holding.load() == 1; }));
      auto waiter =
          test::Child::spawn("mutex_hostile_waiter", {guard.name(), control_guard.name()});
      REQUIRE(test::eventually([&] { return control.waiting.load() == 1; }));
      {
        auto raw = raw_state(guard.name());
        hostile.write(raw.state, raw.size);
      }
      control.go.store(1);
      const auto held = holder.wait();
      CHECK_MESSAGE(held.exited, "the holder died of signal " << held.signal);
      CHECK(held.code == 0);
      const auto waited = waiter.wait();
      CHECK_MESSAGE(waited.exited, "the waiter died of signal " << waited.signal);
      CHECK(waited.code == 0);
      // This process would fail the same way; it only probes what its
      // children survived.
      if (!held.exited || !waited.exited || held.code != 0 || waited.code != 0) continue;
      CHECK(probe_hostile(mutex, hostile.live_owner, false) == 0);
      if (!hostile.live_owner) CHECK(acquire_normally(mutex));
      NamedMutex::remove(guard.name());
    }
  }

  TEST_CASE("a mutex made by an earlier shmkit is refused, not misread") {
    if (!hostile_tests_apply()) return;
    // What earlier builds created: "MTXR", a 40-byte robust pthread_mutex_t
    // (Linux); "MTXO", a 16-byte owner word with one waiter slot (portable).
    const detail::SyncRequest old_layouts[] = {
        {ObjectKind::mutex, 0x4d545852, 40, 0, true, nullptr, nullptr},
        {ObjectKind::mutex, 0x4d54584f, 16, 1, true, nullptr, nullptr},
    };
    for (const auto& old_layout : old_layouts) {
      CAPTURE(old_layout.layout);
      test::NameGuard guard(test::unique_name("mtxv"));
      detail::Failure failure;
      auto old = detail::open_sync_segment(guard.name(), {}, detail::OpenMode::create, old_layout,
                                           failure);
      REQUIRE_FALSE(failure);
      std::error_code ec;
      auto mutex = NamedMutex::open(guard.name(), {}, ec);
      CHECK(ec == errc::incompatible_layout);
      CHECK_FALSE(mutex.is_open());
      (void)NamedMutex::open_or_create(guard.name(), {}, ec);
      CHECK(ec == errc::incompatible_layout);
      NamedMutex::remove(guard.name());
    }
  }

  TEST_CASE("the owner dies while two processes wait: exactly one of them is told") {
    test::NameGuard guard(test::unique_name("mtx2"));
    test::NameGuard data_guard(test::unique_name("mtx2d"));
    auto mutex = NamedMutex::create(guard.name());
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(DeathShared));
    auto& shared = *static_cast<DeathShared*>(shm.data());
    auto holder = test::Child::spawn("mutex_hold_forever", {guard.name(), data_guard.name()});
    REQUIRE(test::eventually([&] { return shared.base.ready.load() == 1; }));
    std::vector<test::Child> waiters;
    for (int i = 0; i < 2; ++i) {
      waiters.push_back(
          test::Child::spawn("mutex_wait_for_death", {guard.name(), data_guard.name()}));
    }
    REQUIRE(test::eventually([&] { return shared.waiting.load() == 2; }));
    holder.kill();
    CHECK(holder.wait().killed);
    for (auto& waiter : waiters) {
      const auto status = waiter.wait();
      CHECK(status.exited);
      CHECK(status.code == 0);
    }
    CHECK(shared.told.load() == 1);
    CHECK(shared.acquired.load() == 2);
    CHECK(mutex.lock_for(std::chrono::seconds(30)) == LockStatus::acquired);
    mutex.unlock();
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("a handle destroyed while its thread holds the lock releases it") {
    test::NameGuard guard(test::unique_name("mtxd"));
    auto mutex = NamedMutex::create(guard.name());
    {
      auto other = NamedMutex::open(guard.name());
      other.lock();
      CHECK_FALSE(std::async(std::launch::async, [&] { return mutex.try_lock(); }).get());
    }
    CHECK(mutex.lock_for(std::chrono::seconds(0)) == LockStatus::acquired);
    mutex.unlock();
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("a mutex whose creator saw other pids (another PID namespace) is refused") {
    if (!hostile_tests_apply()) return;
    test::NameGuard guard(test::unique_name("mtxn"));
    auto mutex = NamedMutex::create(guard.name());
    {
      // The state's third word: the creator's PID namespace.
      auto raw = raw_state(guard.name());
      const std::uint64_t elsewhere = 0x0123456789abcdefULL;
      std::memcpy(raw.state + 16, &elsewhere, sizeof elsewhere);
    }
    std::error_code ec;
    auto opened = NamedMutex::open(guard.name(), {}, ec);
#if defined(__linux__)
    CHECK(ec == errc::incompatible_layout);
#else
    CHECK_FALSE(ec);  // no PID namespaces here
#endif
    // The handle opened before still works.
    CHECK(mutex.try_lock());
    mutex.unlock();
    NamedMutex::remove(guard.name());
  }
}

// ---- API 1.0: every form, its error_code twin, misuse ----------------------

TEST_SUITE("mutex") {
  TEST_CASE("every lock form and its error_code twin") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    using std::chrono::steady_clock;
    using std::chrono::system_clock;
    test::NameGuard guard(test::unique_name("mtxf"));
    std::error_code ec;
    CHECK_FALSE(NamedMutex::exists(guard.name(), {}, ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(NamedMutex::exists(guard.name()));
    auto mutex = NamedMutex::create(guard.name(), {}, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(mutex.is_open());
    CHECK(mutex.name() == guard.name());
    CHECK(NamedMutex::exists(guard.name(), {}, ec));
    CHECK(NamedMutex::exists(guard.name()));
    auto second = NamedMutex::open(guard.name(), {}, ec);
    REQUIRE_FALSE(ec);
    auto third = NamedMutex::open_or_create(guard.name(), {}, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(third);

    mutex.lock(ec);
    REQUIRE_FALSE(ec);
    // Held by this thread: another thread's every form gives up, with no error.
    test::JoiningThread other([&] {
      std::error_code tec;
      CHECK_FALSE(second.try_lock(tec));
      CHECK_FALSE(tec);
      CHECK_FALSE(second.try_lock_for(milliseconds(10), tec));
      CHECK_FALSE(tec);
      CHECK_FALSE(second.try_lock_until(steady_clock::now() + milliseconds(10), tec));
      CHECK_FALSE(tec);
      CHECK(second.lock_for(milliseconds(10), tec) == LockStatus::timed_out);
      CHECK_FALSE(tec);
      CHECK(second.lock_until(system_clock::now() + milliseconds(10), tec) ==
            LockStatus::timed_out);
      CHECK_FALSE(tec);
      CHECK(third.lock_for(milliseconds(10)) == LockStatus::timed_out);
      CHECK(third.lock_until(system_clock::now() + milliseconds(10)) == LockStatus::timed_out);
    });
    other.join();
    // Not recursive, on the error_code path too.
    mutex.lock(ec);
    CHECK(ec == std::errc::resource_deadlock_would_occur);
    CHECK_FALSE(mutex.try_lock(ec));
    CHECK(ec == std::errc::resource_deadlock_would_occur);
    CHECK(mutex.lock_for(milliseconds(1), ec) == LockStatus::timed_out);
    CHECK(ec == std::errc::resource_deadlock_would_occur);
    mutex.unlock(ec);
    CHECK_FALSE(ec);
    // Unlocking what this thread does not hold: reported, nothing changes.
    mutex.unlock(ec);
    CHECK(ec == errc::invalid_state);
    mutex.unlock();

    CHECK(mutex.try_lock(ec));
    CHECK_FALSE(ec);
    mutex.unlock();
    CHECK(mutex.try_lock_for(seconds(5), ec));
    mutex.unlock();
    CHECK(mutex.try_lock_until(system_clock::now() + seconds(5), ec));
    mutex.unlock();
    CHECK(mutex.lock_for(seconds(5), ec) == LockStatus::acquired);
    CHECK_FALSE(mutex.owner_died());
    mutex.unlock();
    CHECK(mutex.lock_until(steady_clock::now() + seconds(5), ec) == LockStatus::acquired);
    CHECK_FALSE(ec);
    mutex.unlock();
    CHECK(mutex.lock_for(seconds(5)) == LockStatus::acquired);
    mutex.unlock();
    CHECK(mutex.lock_until(system_clock::now() + seconds(5)) == LockStatus::acquired);
    mutex.unlock();

    // A moved-from handle is empty; the moved-to one works.
    NamedMutex moved = std::move(second);
    CHECK_FALSE(second.is_open());
    CHECK(moved.try_lock());
    moved.unlock();

    const bool removable = native_backend() != Backend::win32;
    CHECK(NamedMutex::remove(guard.name(), {}, ec) == removable);
    CHECK_FALSE(ec);
    CHECK_FALSE(NamedMutex::remove(guard.name(), {}, ec));
    CHECK_FALSE(ec);
  }

  TEST_CASE("an empty handle: every call is errc::invalid_state, unlock() does nothing") {
    NamedMutex mutex;
    CHECK_FALSE(mutex.is_open());
    CHECK_FALSE(mutex);
    CHECK(mutex.name().empty());
    CHECK_FALSE(mutex.owner_died());
    std::error_code ec;
    mutex.lock(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(mutex.try_lock(ec));
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(1), ec));
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK(mutex.lock_until(std::chrono::steady_clock::now(), ec) == LockStatus::timed_out);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    mutex.unlock(ec);
    CHECK(ec == errc::invalid_state);
    mutex.unlock();  // noexcept, and nothing to do
    try {
      mutex.lock();
      FAIL("lock() on an empty handle must throw");
    } catch (const Error& e) {
      CHECK(e.code() == errc::invalid_state);
    }
    // The error_code caller gets the sentence the exception carries.
    std::string thrown;
    try {
      (void)mutex.try_lock();
    } catch (const Error& e) {
      thrown = e.what();
    }
    CHECK_FALSE(mutex.try_lock(ec));
    CHECK_FALSE(thrown.empty());
    CHECK(error_message(ec) == thrown);
  }

  TEST_CASE("error_message(ec) is the sentence the exception carries") {
    test::NameGuard guard(test::unique_name("mtxm"));
    auto mutex = NamedMutex::create(guard.name());
    std::string thrown;
    try {
      (void)NamedMutex::create(guard.name());
    } catch (const Error& e) {
      thrown = e.what();
      CHECK(e.code() == errc::already_exists);
    }
    std::error_code ec;
    auto again = NamedMutex::create(guard.name(), {}, ec);
    CHECK_FALSE(again.is_open());
    CHECK(ec == errc::already_exists);
    CHECK(thrown.find(guard.name()) != std::string::npos);
    CHECK(error_message(ec) == thrown);
    NamedMutex::remove(guard.name());
  }

  TEST_CASE("std::unique_lock takes over a dead owner's lock, and owner_died() says so") {
    test::NameGuard guard(test::unique_name("mtxu"));
    test::NameGuard data_guard(test::unique_name("mtxud"));
    auto mutex = NamedMutex::create(guard.name());
    auto shm = NamedSharedMemory::create(data_guard.name(), sizeof(Shared));
    auto& shared = *static_cast<Shared*>(shm.data());
    auto holder = test::Child::spawn("mutex_hold_forever", {guard.name(), data_guard.name()});
    REQUIRE(test::eventually([&] { return shared.ready.load() == 1; }));
    holder.kill();
    holder.wait();
    {
      std::unique_lock<NamedMutex> lock(mutex);
      REQUIRE(lock.owns_lock());
      CHECK(mutex.owner_died());
      CHECK(shared.counter == 12345);  // what the dead owner left
      shared.counter = 0;              // the repair
    }  // unlock() through unique_lock: noexcept, as BasicLockable requires
    CHECK_FALSE(mutex.owner_died());
    {
      std::unique_lock<NamedMutex> lock(mutex, std::try_to_lock);
      CHECK(lock.owns_lock());
      CHECK_FALSE(mutex.owner_died());
    }
    {
      std::unique_lock<NamedMutex> lock(mutex, std::defer_lock);
      CHECK(lock.try_lock_until(std::chrono::system_clock::now() + std::chrono::seconds(5)));
      // Releasing twice through the lock object and the mutex: the second
      // unlock() is misuse and does nothing.
      lock.unlock();
      mutex.unlock();
    }
    NamedMutex::remove(guard.name());
  }
}
