// NamedEvent semantics with several waiting processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#if !defined(_WIN32)
#include "segment/segment_header.hpp"
#include "sync/shared_event.hpp"
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_waiters = 3;

struct Tally {
  std::atomic<std::uint32_t> released;
};

// The event's state in shared memory, read through a raw mapping of its
// segment, so that a test can wait until its waiters really sleep instead of
// guessing how long that takes. Win32 keeps events in the kernel, where
// nothing can be seen: there settled() holds at once, and the tests still
// pass because a set() that finds nobody waiting is kept for the next waiter.
class EventProbe {
 public:
  explicit EventProbe(const std::string& name) {
#if !defined(_WIN32)
    Options raw;
    raw.raw = true;
    memory_ = NamedSharedMemory::open(name, raw);
    state_ = reinterpret_cast<const detail::EventState*>(
        static_cast<const std::byte*>(memory_.data()) + detail::k_header_size +
        sizeof(detail::SyncPreamble));
#else
    (void)name;
#endif
  }

  // Waits until exactly `count` processes sit in wait() and the event is not
  // set; false if that does not happen within a minute.
  bool settled(std::uint32_t count) const {
#if !defined(_WIN32)
    return test::eventually(
        [&] { return state_->waiters.load() == count && state_->signaled.load() == 0; },
        std::chrono::seconds(60));
#else
    (void)count;
    return true;
#endif
  }

 private:
#if !defined(_WIN32)
  NamedSharedMemory memory_;
  const detail::EventState* state_ = nullptr;
#endif
};

// Starts `k_waiters` children blocked on the event and returns once each is
// asleep in wait().
std::vector<test::Child> start_waiters(const std::string& event, const std::string& ready,
                                       const std::string& tally) {
  auto ready_sem = NamedSemaphore::open(ready);
  std::vector<test::Child> waiters;
  for (int i = 0; i < k_waiters; ++i) {
    waiters.push_back(test::Child::spawn("event_waiter", {event, ready, tally}));
  }
  for (int i = 0; i < k_waiters; ++i) REQUIRE(ready_sem.wait_for(std::chrono::seconds(30)));
  // They announced themselves just before waiting: wait until they do.
  REQUIRE(EventProbe(event).settled(k_waiters));
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
    const EventProbe probe(guard.name());
    for (std::uint32_t round = 1; round <= k_waiters; ++round) {
      event.set();
      REQUIRE(test::eventually([&] { return tally.released.load() >= round; }));
      // The others are asleep again and the set() is used up: nobody else
      // can be released by it (a second release would leave one fewer asleep).
      REQUIRE(probe.settled(k_waiters - round));
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
    REQUIRE(EventProbe(guard.name()).settled(1));  // asleep, so set() must wake it
    event.set();
    waiter.join();
    CHECK(woke.load());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(event.wait_until(std::chrono::system_clock::now() + std::chrono::milliseconds(50)));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  }
}
