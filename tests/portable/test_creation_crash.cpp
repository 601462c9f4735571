// A creator killed in the middle of creating an object must not block the
// name for ever. Where the backend creates objects without a name until they
// are finished (posix on Linux), nothing is left at all; elsewhere the
// leftover names its creator (the stamped header), so it is judged stale and
// replaced.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace shmkit;

namespace {

// The name of the marker a creator makes once it is inside creation.
std::string marker_of(const std::string& name) {
  return name + "w";
}

bool creates_unnamed(Backend backend = Backend::native) {
  detail::Failure failure;
  detail::SegmentBackend* b = detail::find_backend(backend, failure);
  return b != nullptr && b->creates_unnamed();
}

// Never returns: the creator says it is inside creation (a marker segment
// whose name the context holds), then stays there until it is killed.
void block_forever(void*, std::size_t, const void* context, detail::Failure&) {
  auto marker = NamedSharedMemory::create(*static_cast<const std::string*>(context), 1);
  std::mutex m;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(m);
  never.wait(lock, [] { return false; });
}

// True once the object's header is stamped by process `pid`.
bool stamped_by(const std::string& name, std::uint64_t pid) {
  SegmentOptions raw;
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

// True once `pid` is inside the creation of `name`: its marker exists, and
// where creation is named, the object's header names it.
bool inside_creation(const std::string& name, std::uint64_t pid) {
  if (!NamedSharedMemory::exists(marker_of(name))) return false;
  if (creates_unnamed()) return true;
  return stamped_by(name, pid);
}

}  // namespace

// args: name. Creates a 4096-byte segment whose initialisation never ends.
SHMKIT_CHILD_ROLE(create_and_hang) {
  const std::string marker = marker_of(args.at(0));
  detail::SegmentRequest request;
  request.initialize = &block_forever;
  request.context = &marker;
  detail::Failure failure;
  (void)detail::open_segment(args.at(0), 4096, {}, detail::OpenMode::create, request, failure);
  return 1;
}

TEST_SUITE("creation") {
  TEST_CASE("a creator killed during creation leaves an object open_or_create replaces") {
    test::NameGuard guard(test::unique_name("crkill"));
    guard.add(marker_of(guard.name()));
    auto creator = test::Child::spawn("create_and_hang", {guard.name()});
    REQUIRE(test::eventually([&] { return inside_creation(guard.name(), creator.pid()); }));
    // Unnamed creation: nobody can see the object until it is finished.
    if (creates_unnamed()) CHECK_FALSE(NamedSharedMemory::exists(guard.name()));
    creator.kill();
    (void)creator.wait();
    if (creates_unnamed()) CHECK_FALSE(NamedSharedMemory::exists(guard.name()));

    // open() says who never finished it, at once rather than at its timeout.
    SegmentOptions patient;
    patient.open_timeout = std::chrono::seconds(60);
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    (void)NamedSharedMemory::open(guard.name(), patient, ec);
    if (ec) {  // on Win32 the object died with its creator: not_found
      CHECK((ec == errc::not_ready || ec == errc::not_found));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));

    auto fresh = NamedSharedMemory::open_or_create(guard.name(), 4096, patient);
    CHECK(fresh.created());
    CHECK(fresh.size() == 4096);
  }

  TEST_CASE("the not_ready message names the dead creator") {
    if (creates_unnamed()) return;  // nothing is left to open
    test::NameGuard guard(test::unique_name("crmsg"));
    guard.add(marker_of(guard.name()));
    auto creator = test::Child::spawn("create_and_hang", {guard.name()});
    REQUIRE(test::eventually([&] { return inside_creation(guard.name(), creator.pid()); }));
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
    guard.add(marker_of(guard.name()));
    auto creator = test::Child::spawn("create_big_queue", {guard.name()});
    // Killed at whatever point of its creation it has reached once it has
    // started (on a fast machine it may already be finished).
    REQUIRE(test::eventually([&] { return NamedSharedMemory::exists(marker_of(guard.name())); }));
    creator.kill();
    (void)creator.wait();
    std::error_code ec;
    Queue<long> queue;
    try {
      queue = Queue<long>::open_or_create(guard.name(), std::size_t{1} << 20);
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    if (ec == errc::not_ready && !creates_unnamed()) {
      // Killed in the microseconds between making the named object and
      // stamping it: a blank object, which nothing can tell from another
      // program's (docs/lifecycle.md). `shmkit rm` removes it.
      MESSAGE("the creator was killed before it stamped the header; removing the blank object");
      CHECK(remove_object(guard.name()));
      queue = Queue<long>::open_or_create(guard.name(), std::size_t{1} << 20);
    } else {
      CHECK_FALSE(ec);
    }
    CHECK(queue.capacity() == std::size_t{1} << 20);
  }
}

// args: name. A queue large enough that initialising its cells takes a while.
SHMKIT_CHILD_ROLE(create_big_queue) {
  auto marker = NamedSharedMemory::create(marker_of(args.at(0)), 1);
  auto queue = Queue<long>::open_or_create(args.at(0), std::size_t{1} << 20);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // until killed
}
