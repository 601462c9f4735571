// The fork() contract of NamedMutex, NamedEvent and NamedSemaphore, as their
// headers state it: a handle inherited by a fork() child is dead there (every
// call is errc::invalid_state, unlock() does nothing), destroying it leaves
// the parent's lock and registration alone, and a handle the child opens
// itself works.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

using namespace shmkit;

namespace {

// What the child found, one bit per broken promise (0: all kept).
int child_checks(NamedMutex& mutex, NamedEvent& event, NamedSemaphore& semaphore,
                 const std::string& mutex_name, const std::string& event_name,
                 const std::string& semaphore_name) {
  int broken = 0;
  std::error_code ec;
  // Inherited handles: every call is invalid_state.
  if (mutex.try_lock(ec) || ec != errc::invalid_state) broken |= 1 << 0;
  mutex.unlock(ec);
  if (ec != errc::invalid_state) broken |= 1 << 1;
  mutex.unlock();  // does nothing
  event.set(ec);
  if (ec != errc::invalid_state) broken |= 1 << 2;
  if (event.try_wait(ec) || ec != errc::invalid_state) broken |= 1 << 3;
  semaphore.post(ec);
  if (ec != errc::invalid_state) broken |= 1 << 4;
  try {
    (void)semaphore.try_wait();
    broken |= 1 << 5;
  } catch (const Error& e) {
    if (e.code() != errc::invalid_state) broken |= 1 << 5;
  }
  // Destroying them leaves the parent's state alone.
  { NamedMutex gone = std::move(mutex); }
  { NamedEvent gone = std::move(event); }
  { NamedSemaphore gone = std::move(semaphore); }
  // Handles the child opens itself work; the parent's lock is the parent's.
  auto own_mutex = NamedMutex::open(mutex_name, {}, ec);
  if (ec || own_mutex.try_lock(ec) || ec) broken |= 1 << 6;
  auto own_event = NamedEvent::open(event_name, {}, ec);
  if (!ec) own_event.set(ec);
  if (ec) broken |= 1 << 7;
  auto own_semaphore = NamedSemaphore::open(semaphore_name, {}, ec);
  if (!ec) own_semaphore.post(ec);
  if (ec) broken |= 1 << 8;
  return broken;
}

bool lists_pid(const std::string& name, pid_t pid) {
  const SegmentInfo info = inspect_segment(name);
  return std::any_of(info.attached.begin(), info.attached.end(), [&](const AttachedProcess& p) {
    return p.pid == static_cast<std::uint64_t>(pid);
  });
}

}  // namespace

TEST_SUITE("sync_fork") {
  TEST_CASE("a handle inherited through fork() is dead in the child; the child opens its own") {
    test::NameGuard mutex_guard(test::unique_name("fkm"));
    test::NameGuard event_guard(test::unique_name("fke"));
    test::NameGuard semaphore_guard(test::unique_name("fks"));
    auto mutex = NamedMutex::create(mutex_guard.name());
    auto event = NamedEvent::create(event_guard.name(), EventReset::auto_reset);
    auto semaphore = NamedSemaphore::create(semaphore_guard.name(), 0);
    mutex.lock();

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // No doctest here: this is a copy of the test process.
      ::_exit(child_checks(mutex, event, semaphore, mutex_guard.name(), event_guard.name(),
                           semaphore_guard.name()));
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);

    // The parent's handles are as they were: it still holds the lock (the
    // child's destructor did not release it), and its registration in each
    // object's attach table survived the child's.
    std::error_code ec;
    mutex.unlock(ec);
    CHECK_FALSE(ec);
    CHECK(lists_pid(mutex_guard.name(), ::getpid()));
    CHECK(lists_pid(event_guard.name(), ::getpid()));
    CHECK(lists_pid(semaphore_guard.name(), ::getpid()));
    // What the child's own handles did is seen here.
    CHECK(event.try_wait());
    CHECK(semaphore.try_wait());
    CHECK(NamedMutex::remove(mutex_guard.name()));
    CHECK(NamedEvent::remove(event_guard.name()));
    CHECK(NamedSemaphore::remove(semaphore_guard.name()));
  }
}
