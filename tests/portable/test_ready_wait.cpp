// open() waits for a creator that has made the OS object but not yet
// published the header, and gives up cleanly when it never does.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "segment/segment_header.hpp"

#include <chrono>
#include <string>
#include <thread>

using namespace shmkit;

// args: name backend timeout-ms. Exit 0 = opened with size 777, 10 = not_ready.
SHMKIT_CHILD_ROLE(ready_waiter) {
  SegmentOptions options;
  options.backend = args.at(1) == "sysv" ? Backend::sysv : native_backend();
  options.open_timeout = std::chrono::milliseconds(std::stoi(args.at(2)));
  std::error_code ec;
  auto shm = NamedSharedMemory::open(args.at(0), options, ec);
  if (ec == errc::not_ready) return 10;
  if (ec) return 11;
  return shm.size() == 777 ? 0 : 12;
}

TEST_SUITE("ready") {
  TEST_CASE("an opener waits for a slow creator's ready flag") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("slow"));
      // A raw object with room for a header: to an opener it looks exactly
      // like a segment whose creator has not finished.
      SegmentOptions raw;
      raw.backend = backend;
      raw.raw = true;
      auto creator = NamedSharedMemory::create(guard.name(), detail::k_header_size + 777, raw);

      auto waiter = test::Child::spawn("ready_waiter", {guard.name(), to_string(backend), "20000"});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      CHECK(waiter.running());
      detail::stamp_header(creator.data(), 777, backend, ObjectKind::segment, guard.name());
      detail::publish_header(creator.data());
      const auto status = waiter.wait();
      REQUIRE(status.exited);
      CHECK(status.code == 0);
    }
  }

  TEST_CASE("an opener times out cleanly when the creator never finishes") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("dead"));
      SegmentOptions raw;
      raw.backend = backend;
      raw.raw = true;
      auto creator = NamedSharedMemory::create(guard.name(), detail::k_header_size + 777, raw);

      const auto started = std::chrono::steady_clock::now();
      const auto status =
          test::run_child("ready_waiter", {guard.name(), to_string(backend), "300"});
      REQUIRE(status.exited);
      CHECK(status.code == 10);
      CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));

      SegmentOptions options;
      options.backend = backend;
      options.open_timeout = std::chrono::milliseconds(50);
      try {
        (void)NamedSharedMemory::open(guard.name(), options);
        FAIL("expected not_ready");
      } catch (const std::system_error& e) {
        CHECK(e.code() == errc::not_ready);
        CHECK(std::string(e.what()).find("remove it") != std::string::npos);
      }
    }
  }
}
