// NamedEvent semantics with several waiting processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_waiters = 3;

struct Tally {
  std::atomic<std::uint32_t> released;
};

// Starts `k_waiters` children blocked on the event and returns once each has
// announced itself on the `ready` semaphore.
std::vector<test::Child> start_waiters(const std::string& event, const std::string& ready,
                                       const std::string& tally) {
  auto ready_sem = NamedSemaphore::open(ready);
  std::vector<test::Child> waiters;
  for (int i = 0; i < k_waiters; ++i) {
    waiters.push_back(test::Child::spawn("event_waiter", {event, ready, tally}));
  }
  for (int i = 0; i < k_waiters; ++i) REQUIRE(ready_sem.wait_for(std::chrono::seconds(30)));
  // They announced themselves just before waiting; let them get there.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return waiters;
}

}  // namespace

// args: event ready-semaphore tally-segment. Waits for the event, counts itself.
SHMKIT_CHILD_ROLE(event_waiter) {
  auto event = NamedEvent::open(args.at(0));
  auto ready = NamedSemaphore::open(args.at(1));
  auto shm = NamedSharedMemory::open(args.at(2));
  ready.post();
  if (!event.wait_for(std::chrono::seconds(60))) return 3;
  static_cast<Tally*>(shm.data())->released.fetch_add(1);
  return 0;
}

TEST_SUITE("event") {
  TEST_CASE("auto reset: each set() releases exactly one of several waiting processes") {
    test::NameGuard guard(test::unique_name("eva"));
    test::NameGuard ready_guard(test::unique_name("evar"));
    test::NameGuard tally_guard(test::unique_name("evat"));
    auto event = NamedEvent::create(guard.name(), EventReset::auto_reset);
    auto ready = NamedSemaphore::create(ready_guard.name(), 0);
    auto shm = NamedSharedMemory::create(tally_guard.name(), sizeof(Tally));
    auto& tally = *static_cast<Tally*>(shm.data());

    auto waiters = start_waiters(guard.name(), ready_guard.name(), tally_guard.name());
    for (std::uint32_t round = 1; round <= k_waiters; ++round) {
      event.set();
      REQUIRE(test::eventually([&] { return tally.released.load() >= round; }));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      CHECK(tally.released.load() == round);  // one set, one release
    }
    for (auto& waiter : waiters) CHECK(waiter.wait().code == 0);
    CHECK_FALSE(event.try_wait());  // every set() was consumed
  }

  TEST_CASE("manual reset: set() releases every waiting process until reset()") {
    test::NameGuard guard(test::unique_name("evm"));
    test::NameGuard ready_guard(test::unique_name("evmr"));
    test::NameGuard tally_guard(test::unique_name("evmt"));
    auto event = NamedEvent::create(guard.name(), EventReset::manual_reset);
    auto ready = NamedSemaphore::create(ready_guard.name(), 0);
    auto shm = NamedSharedMemory::create(tally_guard.name(), sizeof(Tally));
    auto& tally = *static_cast<Tally*>(shm.data());

    auto waiters = start_waiters(guard.name(), ready_guard.name(), tally_guard.name());
    event.set();
    for (auto& waiter : waiters) CHECK(waiter.wait().code == 0);
    CHECK(tally.released.load() == k_waiters);
    CHECK(event.try_wait());  // still set
    CHECK(event.try_wait());
    event.reset();
    CHECK_FALSE(event.wait_for(std::chrono::milliseconds(20)));
  }

  TEST_CASE("an auto-reset event set with nobody waiting stays set for one waiter") {
    test::NameGuard guard(test::unique_name("evs"));
    auto event = NamedEvent::create(guard.name(), EventReset::auto_reset);
    auto other = NamedEvent::open(guard.name());
    CHECK_FALSE(other.try_wait());
    event.set();
    event.set();  // counts once
    CHECK(other.try_wait());
    CHECK_FALSE(other.try_wait());
    CHECK_FALSE(event.wait_for(std::chrono::milliseconds(10)));
    event.set();
    event.reset();
    CHECK_FALSE(other.try_wait());
  }

  TEST_CASE("a waiter in another thread is woken, and a timed wait returns") {
    test::NameGuard guard(test::unique_name("evt"));
    auto event = NamedEvent::open_or_create(guard.name(), EventReset::auto_reset);
    std::atomic<bool> woke{false};
    std::thread waiter([&] { woke = event.wait_for(std::chrono::seconds(30)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    event.set();
    waiter.join();
    CHECK(woke.load());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(event.wait_until(std::chrono::system_clock::now() + std::chrono::milliseconds(50)));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  }
}
