// The attach table lists live openers and marks the ones that died.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

using namespace shmkit;

namespace {

bool lists(const NamedSharedMemory& shm, std::uint64_t pid, bool alive) {
  const auto table = shm.attached_processes();
  return std::any_of(table.begin(), table.end(),
                     [&](const AttachedProcess& p) { return p.pid == pid && p.alive == alive; });
}

bool lists_pid(const NamedSharedMemory& shm, std::uint64_t pid) {
  const auto table = shm.attached_processes();
  return std::any_of(table.begin(), table.end(),
                     [&](const AttachedProcess& p) { return p.pid == pid; });
}

}  // namespace

// args: name backend. Opens, says so in byte 0, then waits to be killed or
// told to close (byte 1).
SHMKIT_CHILD_ROLE(attach_and_wait) {
  SegmentOptions options;
  options.backend = args.at(1) == "sysv" ? Backend::sysv : native_backend();
  auto shm = NamedSharedMemory::open(args.at(0), options);
  auto* flags = static_cast<std::atomic<unsigned char>*>(shm.data());
  flags[0].store(1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (flags[1].load() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

TEST_SUITE("attach") {
  TEST_CASE(
      "the table shows a live child, forgets it when it closes, and marks a killed one dead") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("att"));
      SegmentOptions options;
      options.backend = backend;
      auto shm = NamedSharedMemory::create(guard.name(), 64, options);
      auto* flags = static_cast<std::atomic<unsigned char>*>(shm.data());

      // The creator itself is listed, alive.
      REQUIRE(shm.attached_processes().size() == 1);
      CHECK(shm.attached_processes()[0].alive);

      auto polite = test::Child::spawn("attach_and_wait", {guard.name(), to_string(backend)});
      REQUIRE(test::eventually([&] { return flags[0].load() == 1; }));
      CHECK(lists(shm, polite.pid(), true));
      flags[1].store(1);
      const auto status = polite.wait();
      CHECK(status.exited);
      CHECK_FALSE(lists_pid(shm, polite.pid()));  // a clean close frees the slot

      flags[0].store(0);
      flags[1].store(0);
      auto victim = test::Child::spawn("attach_and_wait", {guard.name(), to_string(backend)});
      REQUIRE(test::eventually([&] { return flags[0].load() == 1; }));
      CHECK(lists(shm, victim.pid(), true));
      victim.kill();
      const auto killed = victim.wait();
      CHECK(killed.killed);
      CHECK(lists(shm, victim.pid(), false));  // its slot remains, marked dead
      CHECK(shm.attached_processes().size() == 2);
    }
  }

  TEST_CASE("a full table reuses the slots of dead processes") {
    test::NameGuard guard(test::unique_name("full"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    std::vector<NamedSharedMemory> handles;
    for (int i = 0; i < 60; ++i) handles.push_back(NamedSharedMemory::open(guard.name()));
    // This process holds every slot (48), the rest overflowed; all are usable.
    CHECK(shm.attached_processes().size() == 48);
    handles.clear();
    CHECK(shm.attached_processes().size() == 1);
  }
}
