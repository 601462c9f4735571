// Lost wake-ups: blocking and briefly-spinning endpoints on tiny rings and
// queues, so that nearly every message is a sleep and a wake-up, both ways
// at once, between real processes. Wakers skip their fence where the
// platform has a heavy barrier (peer_wait.hpp); these tests make every sleep
// slice ten minutes long, so a lost wake-up hangs until an operation's
// deadline and fails the test instead of costing one 100 ms slice.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"
#include "messaging/peer_wait.hpp"
#include "sync/process_barrier.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

using namespace shmkit;

namespace {

constexpr std::uint64_t k_ring_messages = 30000;
constexpr std::uint64_t k_queue_messages = 20000;
// Far longer than any wake-up takes on a loaded machine, far shorter than
// the sleep slices: an operation that reaches it lost its wake-up.
constexpr auto k_operation_timeout = std::chrono::seconds(30);

// Sleep slices of ten minutes while it lives; in the parent and the child.
struct LongSleepSlices {
  LongSleepSlices() { detail::set_sleep_slice_for_testing(std::chrono::minutes(10)); }
  ~LongSleepSlices() { detail::set_sleep_slice_for_testing(detail::k_peer_check_interval); }
  LongSleepSlices(const LongSleepSlices&) = delete;
  LongSleepSlices& operator=(const LongSleepSlices&) = delete;
};

// Sleepers whose heavy barrier fails, as where membarrier is refused: the
// wakers still skip their fence, and the backstop slice must save them.
struct BrokenHeavyBarrier {
  explicit BrokenHeavyBarrier(bool broken) { detail::break_heavy_barrier_for_testing(broken); }
  ~BrokenHeavyBarrier() { detail::break_heavy_barrier_for_testing(false); }
  BrokenHeavyBarrier(const BrokenHeavyBarrier&) = delete;
  BrokenHeavyBarrier& operator=(const BrokenHeavyBarrier&) = delete;
};

RingOptions ring_options(const std::string& strategy) {
  RingOptions options;
  options.wait.strategy = strategy == "blocking" ? WaitStrategy::blocking : WaitStrategy::adaptive;
  options.wait.spin = std::chrono::microseconds(1);
  return options;
}

QueueOptions queue_options(const std::string& strategy) {
  QueueOptions options;
  options.wait = ring_options(strategy).wait;
  return options;
}

// Message `sequence`: the sequence, then 0-63 bytes that depend on it, so
// that records of many sizes wrap around the 256-byte ring with padding.
std::size_t make_message(std::uint64_t sequence, unsigned char* bytes) {
  std::memcpy(bytes, &sequence, sizeof sequence);
  const std::size_t extra = (sequence * 13) % 64;
  for (std::size_t i = 0; i < extra; ++i) bytes[8 + i] = static_cast<unsigned char>(sequence + i);
  return 8 + extra;
}

bool check_message(std::uint64_t sequence, const unsigned char* bytes, std::size_t size) {
  unsigned char expected[72];
  return size == make_message(sequence, expected) && std::memcmp(bytes, expected, size) == 0;
}

// Sends k_ring_messages on `out` while receiving as many on `in`. 0: every
// message arrived intact, in order and in time; 1 a send, 2 a receive ran
// into its deadline; 3 a message was wrong.
int exchange(RingProducer& out, RingConsumer& in) {
  std::atomic<int> send_result{0};
  int receive_result = 0;
  {
    test::JoiningThread sender([&] {
      unsigned char message[72];
      for (std::uint64_t sequence = 0; sequence < k_ring_messages; ++sequence) {
        const std::size_t size = make_message(sequence, message);
        if (!out.send_for(message, size, k_operation_timeout)) {
          send_result = 1;
          return;
        }
      }
    });
    unsigned char buffer[72];
    for (std::uint64_t sequence = 0; sequence < k_ring_messages; ++sequence) {
      const auto size = in.receive_for(buffer, sizeof buffer, k_operation_timeout);
      if (!size) {
        receive_result = 2;
        break;
      }
      if (!check_message(sequence, buffer, *size)) {
        receive_result = 3;
        break;
      }
    }
  }
  return receive_result != 0 ? receive_result : send_result.load();
}

struct Item {
  std::uint64_t sequence;
  std::uint64_t check;
};

constexpr std::uint64_t item_check(std::uint64_t sequence) {
  return sequence * 0x9e3779b97f4a7c15ULL;
}

// As exchange(), over two queues.
int exchange(Queue<Item>& out, Queue<Item>& in) {
  std::atomic<int> push_result{0};
  int pop_result = 0;
  {
    test::JoiningThread pusher([&] {
      for (std::uint64_t sequence = 0; sequence < k_queue_messages; ++sequence) {
        if (!out.push_for(Item{sequence, item_check(sequence)}, k_operation_timeout)) {
          push_result = 1;
          return;
        }
      }
    });
    for (std::uint64_t sequence = 0; sequence < k_queue_messages; ++sequence) {
      const auto item = in.pop_for(k_operation_timeout);
      if (!item) {
        pop_result = 2;
        break;
      }
      if (item->sequence != sequence || item->check != item_check(sequence)) {
        pop_result = 3;
        break;
      }
    }
  }
  return pop_result != 0 ? pop_result : push_result.load();
}

}  // namespace

// args: ring strategy broken. The far end of the ring test: receives on the
// ring, sends on "<ring>r".
SHMKIT_CHILD_ROLE(ring_wakeup_peer) {
  const LongSleepSlices slices;
  const BrokenHeavyBarrier broken(args.at(2) == "1");
  const RingOptions options = ring_options(args.at(1));
  auto in = RingConsumer::open(args.at(0), options);
  auto out = RingProducer::open(args.at(0) + "r", options);
  return exchange(out, in);
}

// args: ring broken. Sends k_ring_messages on the ring, sleeping when it is full.
SHMKIT_CHILD_ROLE(ring_wakeup_sender) {
  const LongSleepSlices slices;
  const BrokenHeavyBarrier broken(args.at(1) == "1");
  auto out = RingProducer::open(args.at(0), ring_options("blocking"));
  unsigned char message[72];
  for (std::uint64_t sequence = 0; sequence < k_ring_messages; ++sequence) {
    const std::size_t size = make_message(sequence, message);
    if (!out.send_for(message, size, k_operation_timeout)) return 1;
  }
  return 0;
}

// args: queue strategy broken. Pops from the queue, pushes to "<queue>r".
SHMKIT_CHILD_ROLE(queue_wakeup_peer) {
  const LongSleepSlices slices;
  const BrokenHeavyBarrier broken(args.at(2) == "1");
  const QueueOptions options = queue_options(args.at(1));
  auto in = Queue<Item>::open(args.at(0), options);
  auto out = Queue<Item>::open(args.at(0) + "r", options);
  return exchange(out, in);
}

TEST_SUITE("wakeups") {
  TEST_CASE("rings lose no wake-up: sleeping endpoints on a tiny ring, both ways at once") {
    for (const char* strategy : {"blocking", "adaptive"}) {
      for (const char* broken : {"0", "1"}) {
        const std::string strategy_name = strategy;
        const std::string broken_barrier = broken;
        CAPTURE(strategy_name);
        CAPTURE(broken_barrier);
        const LongSleepSlices slices;
        const BrokenHeavyBarrier breaker(broken_barrier == "1");
        test::NameGuard guard(test::unique_name("wr"));
        guard.add(guard.name() + "r");
        const RingOptions options = ring_options(strategy);
        auto out = RingProducer::create(guard.name(), 256, options);
        auto in = RingConsumer::create(guard.name() + "r", 256, options);
        auto peer = test::Child::spawn("ring_wakeup_peer", {guard.name(), strategy, broken});
        CHECK(exchange(out, in) == 0);
        CHECK(peer.wait(std::chrono::minutes(5)).code == 0);
      }
    }
  }

  TEST_CASE("a WaitSet loses no wake-up: it sleeps on a tiny ring a blocking producer fills") {
    for (const char* broken : {"0", "1"}) {
      const std::string broken_barrier = broken;
      CAPTURE(broken_barrier);
      const LongSleepSlices slices;
      const BrokenHeavyBarrier breaker(broken_barrier == "1");
      test::NameGuard guard(test::unique_name("ws"));
      auto in = RingConsumer::create(guard.name(), 256, ring_options("blocking"));
      WaitSet set;
      const std::size_t key = set.add(in);
      auto sender = test::Child::spawn("ring_wakeup_sender", {guard.name(), broken});
      unsigned char buffer[72];
      std::uint64_t sequence = 0;
      int failure = 0;
      while (sequence < k_ring_messages && failure == 0) {
        if (const auto size = in.try_receive(buffer, sizeof buffer)) {
          if (!check_message(sequence, buffer, *size)) failure = 3;
          ++sequence;
          continue;
        }
        const auto keys = set.wait_for(k_operation_timeout);
        if (keys.size() != 1 || keys[0] != key) failure = 2;
      }
      CHECK(failure == 0);
      CHECK(sender.wait(std::chrono::minutes(5)).code == 0);
    }
  }

  TEST_CASE("queues lose no wake-up: sleeping pushers and poppers on two-cell queues") {
    for (const char* strategy : {"blocking", "adaptive"}) {
      for (const char* broken : {"0", "1"}) {
        const std::string strategy_name = strategy;
        const std::string broken_barrier = broken;
        CAPTURE(strategy_name);
        CAPTURE(broken_barrier);
        const LongSleepSlices slices;
        const BrokenHeavyBarrier breaker(broken_barrier == "1");
        test::NameGuard guard(test::unique_name("wq"));
        guard.add(guard.name() + "r");
        const QueueOptions options = queue_options(strategy);
        auto out = Queue<Item>::create(guard.name(), 2, options);
        auto in = Queue<Item>::create(guard.name() + "r", 2, options);
        auto peer = test::Child::spawn("queue_wakeup_peer", {guard.name(), strategy, broken});
        CHECK(exchange(out, in) == 0);
        CHECK(peer.wait(std::chrono::minutes(5)).code == 0);
      }
    }
  }
}
