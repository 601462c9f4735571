// A read-only handle maps the memory read-only: a write faults.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <csignal>
#include <cstring>

using namespace shmkit;

// args: name backend. Reads, then writes through a read-only mapping.
SHMKIT_CHILD_ROLE(read_only_writer) {
  SegmentOptions options;
  options.backend = args.at(1) == "sysv" ? Backend::sysv : Backend::posix;
  options.access = Access::read_only;
  auto shm = NamedSharedMemory::open(args.at(0), options);
  if (shm.access() != Access::read_only) return 2;
  if (std::strcmp(static_cast<const char*>(shm.data()), "read me") != 0) return 3;
  static_cast<volatile char*>(shm.data())[0] = 'X';  // must fault
  return 0;
}

TEST_SUITE("read_only") {
  TEST_CASE("a child that writes through a read-only mapping dies with SIGSEGV") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("ro"));
      SegmentOptions options;
      options.backend = backend;
      auto shm = NamedSharedMemory::create(guard.name(), 4096, options);
      std::strcpy(static_cast<char*>(shm.data()), "read me");

      // The sanitizers would turn the fault into a report and exit code 1.
      const auto status = test::run_child(
          "read_only_writer", {guard.name(), to_string(backend)},
          {"ASAN_OPTIONS=handle_segv=0:handle_sigbus=0", "UBSAN_OPTIONS=handle_segv=0"});
      CHECK(status.killed);
      CHECK(status.signal == SIGSEGV);
      CHECK(static_cast<char*>(shm.data())[0] == 'r');
      // Read-only openers cannot write their attach slot, so only we are listed.
      CHECK(shm.attached_processes().size() == 1);
    }
  }
}
