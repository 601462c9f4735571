// What a NamedSharedMemory handle is worth in a forked child, as its header
// promises: the same memory, and a close() that touches only the child's copy.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/test_names.hpp"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace shmkit;

TEST_SUITE("segment") {
  TEST_CASE(
      "a forked child shares the memory, and its close() leaves the parent's entry and name") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("fork"));
      SegmentOptions options;
      options.backend = backend;
      options.unlink_on_close = true;
      auto shm = NamedSharedMemory::create(guard.name(), 4096, options);
      auto* bytes = static_cast<char*>(shm.data());

      const pid_t child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        // The child: write through the inherited mapping, close its copy
        // (with unlink_on_close set) and leave without running destructors.
        const bool inherited = shm.data() == bytes && shm.size() == 4096;
        bytes[0] = 'c';
        shm.close();
        ::_exit(inherited && !shm.is_open() ? 0 : 1);
      }
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);

      CHECK(bytes[0] == 'c');
      const auto attached = shm.attached_processes();
      REQUIRE(attached.size() == 1);
      CHECK(attached.front().pid == static_cast<std::uint64_t>(::getpid()));
      CHECK(attached.front().alive);
      CHECK(NamedSharedMemory::exists(guard.name(), options));
      // The parent's own close still removes the name.
      shm.close();
      CHECK_FALSE(NamedSharedMemory::exists(guard.name(), options));
    }
  }
}
