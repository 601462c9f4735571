// Many processes racing open_or_create on one name: exactly one creates it,
// and every process sees the same, intact segment.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

constexpr std::size_t k_size = 10000;
constexpr int k_racers = 8;

struct RaceBoard {
  std::atomic<int> creators;
  std::atomic<int> openers;
  std::atomic<int> finished;  // Win32 only, see the role
  std::atomic<int> released;
};

}  // namespace

// args: race-name board-name backend. Exit 0 = created, 1 = opened, other = failure.
SHMKIT_CHILD_ROLE(race_open_or_create) {
  SegmentOptions options;
  options.backend = args.at(2) == "sysv" ? Backend::sysv : native_backend();
  options.open_timeout = std::chrono::seconds(10);
  auto board_shm = NamedSharedMemory::open(args.at(1));
  auto& board = *static_cast<RaceBoard*>(board_shm.data());
  // Start together: each racer announces itself and waits for the others.
  board.openers.fetch_add(1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (board.openers.load() < k_racers) {
    if (std::chrono::steady_clock::now() > give_up) return 5;
    std::this_thread::yield();
  }
  auto shm = NamedSharedMemory::open_or_create(args.at(0), k_size, options);
  if (shm.size() != k_size) return 3;
  if (shm.created()) board.creators.fetch_add(1);
  // Everybody writes its mark, then checks the header still validates.
  static_cast<unsigned char*>(shm.data())[k_size - 1] = 0xAB;
  auto again = NamedSharedMemory::open(args.at(0), options);
  if (again.size() != k_size) return 4;
  // Win32: a segment dies with its last handle, so a racer that is done and
  // exits could let a late one create the segment afresh. Everybody holds on
  // until the parent has opened it too.
  if (args.at(2) == "win32") {
    board.finished.fetch_add(1);
    const auto hold_until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (board.released.load() == 0) {
      if (std::chrono::steady_clock::now() > hold_until) return 6;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return shm.created() ? 0 : 1;
}

TEST_SUITE("race") {
  TEST_CASE("8 processes racing open_or_create: exactly one creates") {
    for (Backend backend : test::segment_backends()) {
      CAPTURE(std::string(to_string(backend)));
      test::NameGuard guard(test::unique_name("race"));
      test::NameGuard board_guard(test::unique_name("board"));
      const std::string& board_name = board_guard.name();
      auto board = NamedSharedMemory::create(board_name, sizeof(RaceBoard));

      std::vector<test::Child> racers;
      for (int i = 0; i < k_racers; ++i) {
        racers.push_back(test::Child::spawn("race_open_or_create",
                                            {guard.name(), board_name, to_string(backend)}));
      }
      NamedSharedMemory held;
      if (backend == Backend::win32) {
        // See the role: open it while the racers still hold it, then let them go.
        auto& shared_board = *static_cast<RaceBoard*>(board.data());
        REQUIRE(test::eventually([&] { return shared_board.finished.load() == k_racers; }));
        SegmentOptions options;
        options.backend = backend;
        held = NamedSharedMemory::open(guard.name(), options);
        shared_board.released.store(1);
      }
      int created = 0;
      int opened = 0;
      for (auto& racer : racers) {
        const auto status = racer.wait();
        REQUIRE(status.exited);
        CHECK(status.code <= 1);
        created += status.code == 0;
        opened += status.code == 1;
      }
      CHECK(created == 1);
      CHECK(opened == k_racers - 1);
      CHECK(static_cast<RaceBoard*>(board.data())->creators.load() == 1);

      SegmentOptions options;
      options.backend = backend;
      auto shm = NamedSharedMemory::open(guard.name(), options);
      CHECK(shm.size() == k_size);
      CHECK(static_cast<unsigned char*>(shm.data())[k_size - 1] == 0xAB);
    }
  }
}
