// NamedSemaphore counting across processes.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#if !defined(_WIN32)
#include "segment/segment_header.hpp"
#include "sync/shared_semaphore.hpp"
#endif

#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
#include <vector>

using namespace shmkit;

namespace {

// Waits until the semaphore `name` holds no units and exactly `count`
// processes sleep on it, read from its state in shared memory (a raw mapping
// of its segment). Win32 keeps semaphores in the kernel, where nothing can be
// seen: there it returns true at once.
bool settled(const std::string& name, std::uint32_t count) {
#if !defined(_WIN32)
  SegmentOptions raw;
  raw.raw = true;
  const auto memory = NamedSharedMemory::open(name, raw);
  const auto* state = reinterpret_cast<const detail::SemaphoreState*>(
      static_cast<const std::byte*>(memory.data()) + detail::k_header_size +
      sizeof(detail::SyncPreamble));
  return test::eventually(
      [&] { return state->count.load() == 0 && state->waiters.load() == count; },
      std::chrono::seconds(60));
#else
  (void)name;
  (void)count;
  return true;
#endif
}

}  // namespace

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
    // Only two units so far: the other two takers are asleep, and a third
    // release would have left one fewer of them.
    REQUIRE(settled(guard.name(), 2));
    CHECK_FALSE(done.try_wait());
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
    (void)NamedSemaphore::create(bad_guard.name(), NamedSemaphore::k_max + 1, {}, ec);
    CHECK(ec == errc::overflow);
  }
}

// ---- API 1.0: every form, its error_code twin, misuse ----------------------

TEST_SUITE("semaphore") {
  TEST_CASE("every form and its error_code twin") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    using std::chrono::steady_clock;
    using std::chrono::system_clock;
    test::NameGuard guard(test::unique_name("semf"));
    std::error_code ec;
    CHECK_FALSE(NamedSemaphore::exists(guard.name(), {}, ec));
    CHECK_FALSE(ec);
    auto semaphore = NamedSemaphore::create(guard.name(), 2, {}, ec);
    REQUIRE_FALSE(ec);
    CHECK(semaphore.name() == guard.name());
    CHECK(NamedSemaphore::exists(guard.name()));
    auto other = NamedSemaphore::open(guard.name(), {}, ec);
    REQUIRE_FALSE(ec);
    // An existing semaphore keeps its count: 2, not 100.
    auto third = NamedSemaphore::open_or_create(guard.name(), 100, {}, ec);
    REQUIRE_FALSE(ec);

    other.wait(ec);
    CHECK_FALSE(ec);
    CHECK(third.try_wait(ec));
    CHECK_FALSE(other.try_wait(ec));
    CHECK_FALSE(other.wait_for(milliseconds(5), ec));
    CHECK_FALSE(other.wait_until(system_clock::now() + milliseconds(5), ec));
    CHECK_FALSE(ec);
    semaphore.post(ec);
    semaphore.post(2, ec);
    semaphore.post(0, ec);  // nothing
    CHECK_FALSE(ec);
    CHECK(other.wait_for(seconds(5), ec));
    CHECK(other.wait_until(steady_clock::now() + seconds(5), ec));
    CHECK(other.try_wait());
    CHECK_FALSE(other.try_wait());
    semaphore.post();
    semaphore.post(3);
    other.wait();
    CHECK(other.wait_for(seconds(5)));
    CHECK(other.wait_until(system_clock::now() + seconds(5)));
    CHECK(other.try_wait());
    CHECK_FALSE(other.wait_for(milliseconds(1)));

    const bool removable = native_backend() != Backend::win32;
    CHECK(NamedSemaphore::remove(guard.name(), {}, ec) == removable);
    CHECK_FALSE(ec);
  }

  TEST_CASE("an empty handle: every call is errc::invalid_state") {
    NamedSemaphore semaphore;
    CHECK_FALSE(semaphore.is_open());
    CHECK(semaphore.name().empty());
    std::error_code ec;
    semaphore.post(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    semaphore.wait(ec);
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(semaphore.try_wait(ec));
    CHECK(ec == errc::invalid_state);
    ec.clear();
    CHECK_FALSE(semaphore.wait_until(std::chrono::steady_clock::now(), ec));
    CHECK(ec == errc::invalid_state);
    try {
      semaphore.post();
      FAIL("post() on an empty handle must throw");
    } catch (const Error& e) {
      CHECK(e.code() == errc::invalid_state);
    }
  }

  TEST_CASE("error_message(ec) is the sentence the exception carries") {
    test::NameGuard guard(test::unique_name("semm"));
    auto semaphore = NamedSemaphore::create(guard.name(), 1);
    std::string thrown;
    try {
      semaphore.post(NamedSemaphore::k_max);
    } catch (const Error& e) {
      thrown = e.what();
      CHECK(e.code() == errc::overflow);
    }
    std::error_code ec;
    semaphore.post(NamedSemaphore::k_max, ec);
    CHECK(ec == errc::overflow);
    CHECK_FALSE(thrown.empty());
    CHECK(error_message(ec) == thrown);
    // Nothing changed: the count is still 1.
    CHECK(semaphore.try_wait());
    CHECK_FALSE(semaphore.try_wait());
    NamedSemaphore::remove(guard.name());
  }
}
