// Queue<T>: a user-defined message type between many producer and consumer
// processes, delivered exactly once.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace shmkit;

namespace {

struct Order {
  std::uint32_t producer;
  std::uint32_t sequence;
  double price;
  char symbol[8];
};

struct Totals {
  std::atomic<std::uint64_t> count;
  std::atomic<std::uint64_t> checksum;  // sum of a hash of every element received
};

constexpr int k_producers = 4;
constexpr int k_consumers = 4;
constexpr std::uint32_t k_per_producer = 5000;

std::uint64_t hash(const Order& order) {
  return (std::uint64_t{order.producer} << 32 | order.sequence) * 0x9e3779b97f4a7c15ULL;
}

}  // namespace

// args: queue producer-number.
SHMKIT_CHILD_ROLE(queue_producer) {
  auto queue = Queue<Order>::open(args.at(0));
  const auto me = static_cast<std::uint32_t>(std::stoul(args.at(1)));
  for (std::uint32_t i = 0; i < k_per_producer; ++i) {
    Order order{me, i, 100.0 + i, "SHMK"};
    if (!queue.push_for(order, std::chrono::seconds(60))) return 3;
  }
  return 0;
}

// args: queue totals. Pops until a poison element (producer == ~0u).
SHMKIT_CHILD_ROLE(queue_consumer) {
  auto queue = Queue<Order>::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& totals = *static_cast<Totals*>(shm.data());
  for (;;) {
    const auto order = queue.pop_for(std::chrono::seconds(60));
    if (!order) return 3;
    if (order->producer == ~0u) return 0;
    if (order->price != 100.0 + order->sequence) return 4;
    totals.count.fetch_add(1);
    totals.checksum.fetch_add(hash(*order));
  }
}

// args: queue progress. Pushes 0, 1, 2, ... for ever, counting each push in
// `progress`; blocks (and is killed) once the queue is full.
SHMKIT_CHILD_ROLE(queue_fill) {
  auto queue = Queue<int>::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& pushed = *static_cast<std::atomic<std::uint64_t>*>(shm.data());
  for (int i = 0;; ++i) {
    queue.push(i);
    pushed.fetch_add(1);
  }
}

// args: queue progress first count. Pushes first, first+1, ... (count
// elements), then exits.
SHMKIT_CHILD_ROLE(queue_push_range) {
  auto queue = Queue<int>::open(args.at(0));
  const int first = std::stoi(args.at(2));
  for (int i = 0; i < std::stoi(args.at(3)); ++i) {
    if (!queue.push_for(first + i, std::chrono::seconds(60))) return 3;
  }
  return 0;
}

// args: queue progress. Pops for ever, storing each element in `progress`
// and counting pops in its second word; blocks (and is killed) once empty.
SHMKIT_CHILD_ROLE(queue_drain) {
  auto queue = Queue<int>::open(args.at(0));
  auto shm = NamedSharedMemory::open(args.at(1));
  auto* words = static_cast<std::atomic<std::uint64_t>*>(shm.data());
  for (;;) {
    const int value = queue.pop();
    words[0].store(static_cast<std::uint64_t>(value));
    words[1].fetch_add(1);
  }
}

TEST_SUITE("queue") {
  TEST_CASE("restart recipe: killed producers and consumers are restarted by reopening") {
    test::NameGuard guard(test::unique_name("qr"));
    test::NameGuard progress_guard(test::unique_name("qp"));
    auto queue = Queue<int>::create(guard.name(), 8);
    auto shm = NamedSharedMemory::create(progress_guard.name(), 64);
    auto* words = static_cast<std::atomic<std::uint64_t>*>(shm.data());

    // A producer is killed while it waits on a full queue: what it pushed
    // stays, complete.
    auto producer = test::Child::spawn("queue_fill", {guard.name(), progress_guard.name()});
    REQUIRE(test::eventually([&] { return words[0].load() == 8; }, std::chrono::seconds(60)));
    producer.kill();
    (void)producer.wait();
    // Its restart just opens the queue and pushes.
    auto restarted =
        test::Child::spawn("queue_push_range", {guard.name(), progress_guard.name(), "100", "8"});
    for (int i = 0; i < 8; ++i) CHECK(queue.pop_for(std::chrono::seconds(30)) == i);
    for (int i = 0; i < 8; ++i) CHECK(queue.pop_for(std::chrono::seconds(30)) == 100 + i);
    CHECK(restarted.wait().code == 0);

    // A consumer is killed while it waits on an empty queue; its restart
    // gets the elements pushed since.
    words[1].store(0);
    auto consumer = test::Child::spawn("queue_drain", {guard.name(), progress_guard.name()});
    for (int i = 0; i < 4; ++i) queue.push(200 + i);
    REQUIRE(test::eventually([&] { return words[1].load() == 4; }, std::chrono::seconds(60)));
    CHECK(words[0].load() == 203);
    consumer.kill();
    (void)consumer.wait();
    for (int i = 4; i < 8; ++i) queue.push(200 + i);
    auto consumer_again = test::Child::spawn("queue_drain", {guard.name(), progress_guard.name()});
    REQUIRE(test::eventually([&] { return words[1].load() == 8; }, std::chrono::seconds(60)));
    CHECK(words[0].load() == 207);
    consumer_again.kill();
    (void)consumer_again.wait();
    CHECK_FALSE(queue.try_pop());
  }

  TEST_CASE("error_code forms, exists, remove, and misuse of an empty handle") {
    test::NameGuard guard(test::unique_name("qe"));
    std::error_code ec;
    CHECK_FALSE(Queue<int>::exists(guard.name()));
    CHECK_FALSE(Queue<int>::open(guard.name(), {}, ec).is_open());
    CHECK(ec == errc::not_found);
    auto queue = Queue<int>::open_or_create(guard.name(), 2, {}, ec);
    CHECK_FALSE(ec);
    CHECK(Queue<int>::exists(guard.name(), {}, ec));
    queue.push(1, ec);
    CHECK_FALSE(ec);
    CHECK(queue.try_push(2, ec));
    CHECK_FALSE(queue.push_for(3, std::chrono::milliseconds(10), ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(queue.push_until(3, std::chrono::system_clock::now(), ec));
    CHECK(queue.pop(ec) == 1);
    CHECK(queue.try_pop(ec) == 2);
    CHECK_FALSE(queue.pop_for(std::chrono::milliseconds(10), ec));
    CHECK_FALSE(queue.pop_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
    CHECK_FALSE(ec);

    Queue<int> empty;
    CHECK_FALSE(empty.try_push(1, ec));
    CHECK(ec == errc::invalid_state);
    CHECK(empty.pop(ec) == 0);
    CHECK(ec == errc::invalid_state);
    CHECK_THROWS_AS(empty.push(1), Error);
    CHECK(empty.capacity() == 0);

    if (native_backend() != Backend::win32) {  // a Win32 name lives while a handle is open
      CHECK(Queue<int>::remove(guard.name()));
      CHECK_FALSE(Queue<int>::exists(guard.name()));
      CHECK_FALSE(Queue<int>::remove(guard.name(), {}, ec));
    }
    CHECK(queue.try_push(4));  // an open handle keeps working
  }

  TEST_CASE("4 producer and 4 consumer processes: every element exactly once") {
    test::NameGuard guard(test::unique_name("q"));
    test::NameGuard totals_guard(test::unique_name("qt"));
    auto queue = Queue<Order>::create(guard.name(), 64);
    auto shm = NamedSharedMemory::create(totals_guard.name(), sizeof(Totals));
    auto& totals = *static_cast<Totals*>(shm.data());

    std::vector<test::Child> consumers;
    for (int i = 0; i < k_consumers; ++i) {
      consumers.push_back(
          test::Child::spawn("queue_consumer", {guard.name(), totals_guard.name()}));
    }
    std::vector<test::Child> producers;
    for (int i = 0; i < k_producers; ++i) {
      producers.push_back(test::Child::spawn("queue_producer", {guard.name(), std::to_string(i)}));
    }
    for (auto& producer : producers) CHECK(producer.wait(std::chrono::seconds(240)).code == 0);
    for (int i = 0; i < k_consumers; ++i) queue.push(Order{~0u, 0, 0, ""});
    for (auto& consumer : consumers) CHECK(consumer.wait(std::chrono::seconds(240)).code == 0);

    std::uint64_t expected = 0;
    for (std::uint32_t p = 0; p < k_producers; ++p) {
      for (std::uint32_t i = 0; i < k_per_producer; ++i) expected += hash(Order{p, i, 0, ""});
    }
    CHECK(totals.count.load() == std::uint64_t{k_producers} * k_per_producer);
    CHECK(totals.checksum.load() == expected);
    CHECK_FALSE(queue.try_pop());
  }

  TEST_CASE("bounded: full and empty, with timeouts") {
    test::NameGuard guard(test::unique_name("qb"));
    auto queue = Queue<int>::create(guard.name(), 3);  // rounded up to 4
    CHECK(queue.capacity() == 4);
    for (int i = 0; i < 4; ++i) CHECK(queue.try_push(i));
    CHECK_FALSE(queue.try_push(99));
    CHECK_FALSE(queue.push_for(99, std::chrono::milliseconds(20)));
    for (int i = 0; i < 4; ++i) CHECK(queue.try_pop() == std::optional<int>(i));
    CHECK_FALSE(queue.try_pop());
    CHECK_FALSE(queue.pop_for(std::chrono::milliseconds(20)));
  }

  TEST_CASE("opening with another T or schema is errc::type_mismatch") {
    test::NameGuard guard(test::unique_name("qm"));
    QueueOptions v1;
    v1.schema_id = 1;
    auto queue = Queue<Order>::create(guard.name(), 8, v1);
    std::error_code ec;
    (void)Queue<int>::open(guard.name(), v1, ec);
    CHECK(ec == errc::type_mismatch);
    QueueOptions v2;
    v2.schema_id = 2;
    try {
      (void)Queue<Order>::open(guard.name(), v2);
      FAIL("expected type_mismatch");
    } catch (const std::system_error& e) {
      CHECK(e.code() == errc::type_mismatch);
      CHECK(std::string(e.what()).find("schema 1") != std::string::npos);
    }
    CHECK(Queue<Order>::open(guard.name(), v1).is_open());
    (void)Queue<Order>::create(guard.name(), 8, v1, ec);
    CHECK(ec == errc::already_exists);
    (void)Queue<Order>::open_or_create(guard.name(), 16, v1, ec);
    CHECK(ec == errc::size_mismatch);
    CHECK(Queue<Order>::open_or_create(guard.name(), 8, v1, ec).is_open());
    CHECK_FALSE(ec);
    (void)NamedMutex::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
  }
}
