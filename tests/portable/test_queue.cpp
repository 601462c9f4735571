// Queue<T>: a user-defined message type between many producer and consumer
// processes, delivered exactly once.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
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

TEST_SUITE("queue") {
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
    Queue<int>::open(guard.name(), v1, {}, ec);
    CHECK(ec == errc::type_mismatch);
    QueueOptions v2;
    v2.schema_id = 2;
    try {
      Queue<Order>::open(guard.name(), v2);
      FAIL("expected type_mismatch");
    } catch (const std::system_error& e) {
      CHECK(e.code() == errc::type_mismatch);
      CHECK(std::string(e.what()).find("schema 1") != std::string::npos);
    }
    CHECK(Queue<Order>::open(guard.name(), v1).is_open());
    Queue<Order>::create(guard.name(), 8, v1, {}, ec);
    CHECK(ec == errc::already_exists);
    (void)NamedMutex::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
  }
}
