// NamedSemaphore counting across processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <chrono>
#include <vector>

using namespace shmkit;

// args: semaphore done-semaphore. Takes one unit, then reports on `done`.
SHMKIT_CHILD_ROLE(semaphore_taker) {
  auto sem = NamedSemaphore::open(args.at(0));
  auto done = NamedSemaphore::open(args.at(1));
  if (!sem.wait_for(std::chrono::seconds(60))) return 3;
  done.post();
  return 0;
}

TEST_SUITE("semaphore") {
  TEST_CASE("posts release exactly as many waiting processes as they count") {
    test::NameGuard guard(test::unique_name("sem"));
    test::NameGuard done_guard(test::unique_name("semd"));
    auto sem = NamedSemaphore::create(guard.name(), 0);
    auto done = NamedSemaphore::create(done_guard.name(), 0);
    std::vector<test::Child> takers;
    for (int i = 0; i < 4; ++i) {
      takers.push_back(test::Child::spawn("semaphore_taker", {guard.name(), done_guard.name()}));
    }
    sem.post(2);
    CHECK(done.wait_for(std::chrono::seconds(30)));
    CHECK(done.wait_for(std::chrono::seconds(30)));
    CHECK_FALSE(done.wait_for(std::chrono::milliseconds(100)));  // only two units so far
    sem.post();
    sem.post();
    for (auto& taker : takers) CHECK(taker.wait().code == 0);
    CHECK_FALSE(sem.try_wait());
  }

  TEST_CASE("the initial count, try_wait, and the maximum") {
    test::NameGuard guard(test::unique_name("semi"));
    auto sem = NamedSemaphore::create(guard.name(), 3);
    auto other = NamedSemaphore::open_or_create(guard.name(), 100);  // keeps the count of 3
    CHECK(other.try_wait());
    CHECK(sem.try_wait());
    CHECK(other.try_wait());
    CHECK_FALSE(sem.try_wait());
    CHECK_FALSE(sem.wait_for(std::chrono::milliseconds(10)));

    sem.post(NamedSemaphore::k_max);
    std::error_code ec;
    try {
      sem.post();
      FAIL("expected errc::overflow");
    } catch (const std::system_error& e) {
      CHECK(e.code() == errc::overflow);
    }
    test::NameGuard bad_guard(test::unique_name("semb"));
    NamedSemaphore::create(bad_guard.name(), NamedSemaphore::k_max + 1, {}, ec);
    CHECK(ec == errc::overflow);
  }
}
