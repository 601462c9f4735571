// NamedMutex across real processes: mutual exclusion, owner death, timeouts,
// and the portable rules (not recursive, thread-owned).
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
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

    const LockStatus status = mutex.acquire(std::chrono::seconds(30));
    REQUIRE(status == LockStatus::acquired_owner_died);
    CHECK(mutex.owner_died());
    CHECK(shared.counter == 12345);
    shared.counter = 0;  // the repair
    mutex.unlock();
    CHECK_FALSE(mutex.owner_died());

    // Normal from now on, for this process and for others.
    CHECK(mutex.acquire(std::chrono::seconds(30)) == LockStatus::acquired);
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
    CHECK(mutex.acquire(std::chrono::milliseconds(0)) == LockStatus::timed_out);
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
      std::thread other([&] {
        CHECK_FALSE(mutex.try_lock());  // held by the main thread
        try {
          mutex.unlock();
          FAIL("unlock from a thread that does not hold it must throw");
        } catch (const std::system_error& e) {
          CHECK(e.code() == std::errc::operation_not_permitted);
        }
      });
      other.join();
    }
    // Another thread can take it once released.
    std::thread taker([&] {
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
    NamedMutex::create(guard.name(), {}, ec);
    CHECK(ec == errc::already_exists);
    NamedMutex::open("no/slash", {}, ec);
    CHECK(ec == errc::invalid_name);
    NamedEvent::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
    NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
    if (native_backend() != Backend::win32) {  // Win32: dies with its last handle instead
      CHECK(NamedMutex::remove(guard.name()));
      CHECK_FALSE(NamedMutex::remove(guard.name()));
      NamedMutex::open(guard.name(), {}, ec);
      CHECK(ec == errc::not_found);
    }
    NamedMutex empty;
    CHECK_FALSE(empty.is_open());
    CHECK_THROWS_AS(empty.lock(), std::system_error);
  }
}
