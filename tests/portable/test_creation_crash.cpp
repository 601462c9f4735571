// A creator killed in the middle of creating an object leaves something that
// names it (the stamped header), so the leftover is judged stale and
// replaced instead of blocking the name for ever.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "common/segment_access.hpp"
#include "common/segment_header.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace shmkit;

namespace {

// Never returns: the creator stays inside creation until it is killed.
void block_forever(void*, std::size_t, const void*, detail::Failure&) {
  std::mutex m;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(m);
  never.wait(lock, [] { return false; });
}

// True once the object's header is stamped by process `pid`.
bool stamped_by(const std::string& name, std::uint64_t pid) {
  Options raw;
  raw.raw = true;
  raw.access = Access::read_only;
  std::error_code ec;
  // Opened and closed each time: on Win32 a handle kept open here would keep
  // the object alive after its creator dies.
  auto bytes = NamedSharedMemory::open(name, raw, ec);
  if (ec || bytes.size() < detail::k_header_size) return false;
  const auto& h = *static_cast<const detail::SegmentHeader*>(bytes.data());
  return h.magic.load(std::memory_order_acquire) == detail::k_segment_magic && h.creator_pid == pid;
}

}  // namespace

// args: name. Creates a 4096-byte segment whose initialisation never ends.
SHMKIT_CHILD_ROLE(create_and_hang) {
  detail::SegmentRequest request;
  request.initialize = &block_forever;
  detail::Failure failure;
  (void)detail::open_segment(args.at(0), 4096, {}, detail::OpenMode::create, request, failure);
  return 1;
}

TEST_SUITE("creation") {
  TEST_CASE("a creator killed during creation leaves an object open_or_create replaces") {
    test::NameGuard guard(test::unique_name("crkill"));
    auto creator = test::Child::spawn("create_and_hang", {guard.name()});
    REQUIRE(test::eventually([&] { return stamped_by(guard.name(), creator.pid()); }));
    creator.kill();
    (void)creator.wait();

    // open() says who never finished it, at once rather than at its timeout.
    Options patient;
    patient.open_timeout = std::chrono::seconds(60);
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    NamedSharedMemory::open(guard.name(), patient, ec);
    if (ec) {  // on Win32 the object died with its creator: not_found
      CHECK((ec == errc::not_ready || ec == errc::not_found));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));

    auto fresh = NamedSharedMemory::open_or_create(guard.name(), 4096, patient);
    CHECK(fresh.created());
    CHECK(fresh.size() == 4096);
  }

  TEST_CASE("the not_ready message names the dead creator") {
    test::NameGuard guard(test::unique_name("crmsg"));
    auto creator = test::Child::spawn("create_and_hang", {guard.name()});
    REQUIRE(test::eventually([&] { return stamped_by(guard.name(), creator.pid()); }));
    const std::string pid = std::to_string(creator.pid());
    creator.kill();
    (void)creator.wait();
    try {
      (void)NamedSharedMemory::open(guard.name());
    } catch (const std::system_error& e) {
      const std::string what = e.what();
      CAPTURE(what);
      if (e.code() == errc::not_ready) {
        CHECK(what.find("pid " + pid + ", has exited") != std::string::npos);
      } else {
        CHECK(e.code() == errc::not_found);  // Win32
      }
    }
  }

  TEST_CASE("a queue whose creator was killed while it initialised is reclaimed") {
    test::NameGuard guard(test::unique_name("crq"));
    auto creator = test::Child::spawn("create_big_queue", {guard.name()});
    // Killed at whatever point of its creation it has reached once the
    // object names it (on a fast machine it may already be finished).
    REQUIRE(test::eventually([&] { return stamped_by(guard.name(), creator.pid()); }));
    creator.kill();
    (void)creator.wait();
    auto queue = Queue<long>::open_or_create(guard.name(), std::size_t{1} << 20);
    CHECK(queue.capacity() == std::size_t{1} << 20);
  }
}

// args: name. A queue large enough that initialising its cells takes a while.
SHMKIT_CHILD_ROLE(create_big_queue) {
  auto queue = Queue<long>::open_or_create(args.at(0), std::size_t{1} << 20);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // until killed
}
