// NamedEvent semantics with several waiting processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"

#if !defined(_WIN32)
#include "segment/segment_header.hpp"
#include "sync/shared_event.hpp"
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
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
    SegmentOptions raw;
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
    test::JoiningThread waiter([&] { woke = event.wait_for(std::chrono::seconds(30)); });
    REQUIRE(EventProbe(guard.name()).settled(1));  // asleep, so set() must wake it
    event.set();
    waiter.join();
    CHECK(woke.load());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(event.wait_until(std::chrono::system_clock::now() + std::chrono::milliseconds(50)));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  }
}

// ---- API 1.0: every form, its error_code twin, misuse ----------------------

TEST_SUITE("event") {
  TEST_CASE("every form and its error_code twin") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    using std::chrono::steady_clock;
    using std::chrono::system_clock;
    test::NameGuard guard(test::unique_name("evtf"));
    std::error_code ec;
    CHECK_FALSE(NamedEvent::exists(guard.name(), {}, ec));
    CHECK_FALSE(ec);
    auto event = NamedEvent::create(guard.name(), EventReset::manual_reset, {}, ec);
    REQUIRE_FALSE(ec);
    CHECK(event.name() == guard.name());
    CHECK(NamedEvent::exists(guard.name()));
    auto waiter = NamedEvent::open(guard.name(), {}, ec);
    REQUIRE_FALSE(ec);
    // An existing event keeps its mode: this one is manual reset too.
    auto third = NamedEvent::open_or_create(guard.name(), EventReset::auto_reset, {}, ec);
    REQUIRE_FALSE(ec);

    CHECK_FALSE(waiter.try_wait(ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(waiter.wait_for(milliseconds(5), ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(waiter.wait_until(system_clock::now() + milliseconds(5), ec));
    CHECK_FALSE(ec);
    event.set(ec);
    CHECK_FALSE(ec);
    waiter.wait(ec);
    CHECK_FALSE(ec);
    CHECK(waiter.try_wait(ec));
    CHECK(waiter.wait_for(seconds(5), ec));
    CHECK(waiter.wait_until(steady_clock::now() + seconds(5), ec));
    CHECK_FALSE(ec);
    CHECK(third.try_wait());  // still set: manual reset
    event.reset(ec);
    CHECK_FALSE(ec);
    CHECK_FALSE(waiter.try_wait());
    event.set();
    waiter.wait();
    CHECK(waiter.wait_for(seconds(5)));
    CHECK(waiter.wait_until(system_clock::now() + seconds(5)));
    event.reset();
    CHECK_FALSE(waiter.wait_for(milliseconds(1)));
    CHECK_FALSE(waiter.wait_until(steady_clock::now()));

    const bool removable = native_backend() != Backend::win32;
    CHECK(NamedEvent::remove(guard.name(), {}, ec) == removable);
    CHECK_FALSE(ec);
  }

  TEST_CASE("an empty handle: every call is errc::invalid_state") {
    NamedEvent event;
    CHECK_FALSE(event.is_open());
    CHECK(event.name().empty());
    std::error_code ec;
    event.set(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    event.reset(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    event.wait(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(event.try_wait(ec));
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(event.wait_for(std::chrono::milliseconds(1), ec));
    CHECK(ec == errc::invalid_state);
    try {
      event.set();
      FAIL("set() on an empty handle must throw");
    } catch (const Error& e) {
      CHECK(e.code() == errc::invalid_state);
    }
  }

  TEST_CASE("error_message(ec) is the sentence the exception carries") {
    test::NameGuard guard(test::unique_name("evtm"));
    std::string thrown;
    try {
      (void)NamedEvent::open(guard.name());
    } catch (const Error& e) {
      thrown = e.what();
      CHECK(e.code() == errc::not_found);
    }
    std::error_code ec;
    auto event = NamedEvent::open(guard.name(), {}, ec);
    CHECK_FALSE(event.is_open());
    CHECK(ec == errc::not_found);
    CHECK_FALSE(thrown.empty());
    CHECK(error_message(ec) == thrown);
  }
}
