// Ring: zero-copy SPSC messaging between real processes, and what happens
// when the other side crashes or the memory is scribbled on.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "messaging/ring_core.hpp"
#include "segment/segment_header.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

// A message that proves it arrived whole: a sequence number, a length that
// depends on it, and a checksum over every byte.
std::vector<unsigned char> make_message(std::uint64_t sequence, std::size_t size) {
  std::vector<unsigned char> bytes(std::max<std::size_t>(size, 16));
  std::memcpy(bytes.data(), &sequence, 8);
  for (std::size_t i = 16; i < bytes.size(); ++i)
    bytes[i] = static_cast<unsigned char>(sequence * 31 + i);
  std::uint64_t sum = 0;
  for (std::size_t i = 16; i < bytes.size(); ++i) sum = sum * 131 + bytes[i];
  std::memcpy(bytes.data() + 8, &sum, 8);
  return bytes;
}

bool check_message(const void* data, std::size_t size, std::uint64_t expected_sequence) {
  if (size < 16) return false;
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t sequence;
  std::uint64_t stored_sum;
  std::memcpy(&sequence, bytes, 8);
  std::memcpy(&stored_sum, bytes + 8, 8);
  std::uint64_t sum = 0;
  for (std::size_t i = 16; i < size; ++i) sum = sum * 131 + bytes[i];
  return sequence == expected_sequence && sum == stored_sum;
}

std::size_t size_for(std::uint64_t sequence) {
  return 16 + (sequence * 7919) % 300;
}

struct Progress {
  std::atomic<std::uint64_t> committed;
};

WaitOptions strategy_from(const std::string& text) {
  WaitOptions wait;
  if (text == "busy") wait.strategy = WaitStrategy::busy;
  if (text == "blocking") wait.strategy = WaitStrategy::blocking;
  return wait;
}

}  // namespace

// args: ring progress-segment count. Sends `count` messages (or forever if 0),
// recording how many it committed.
SHMKIT_CHILD_ROLE(ring_producer) {
  auto ring = Ring::open(args.at(0), RingRole::producer);
  auto shm = NamedSharedMemory::open(args.at(1));
  auto& progress = *static_cast<Progress*>(shm.data());
  const std::uint64_t count = std::stoull(args.at(2));
  for (std::uint64_t sequence = 0; count == 0 || sequence < count; ++sequence) {
    const auto message = make_message(sequence, size_for(sequence));
    ByteSpan span = ring.reserve(message.size());
    std::memcpy(span.data, message.data(), message.size());
    ring.commit();
    progress.committed.store(sequence + 1);
  }
  return 0;
}

// args: ring. Receives messages until told to stop by a zero-length one.
SHMKIT_CHILD_ROLE(ring_consumer_until_empty_message) {
  auto ring = Ring::open(args.at(0), RingRole::consumer);
  std::vector<unsigned char> buffer(1 << 16);
  for (std::uint64_t sequence = 0;; ++sequence) {
    const std::size_t size = ring.receive(buffer.data(), buffer.size());
    if (size == 0) return 0;
    if (!check_message(buffer.data(), size, sequence)) return 3;
  }
}

// args: ring strategy rounds. Echoes every message back on "<ring>r".
SHMKIT_CHILD_ROLE(ring_echo) {
  const WaitOptions wait = strategy_from(args.at(1));
  auto in = Ring::open(args.at(0), RingRole::consumer, wait);
  auto out = Ring::open(args.at(0) + "r", RingRole::producer, wait);
  char buffer[256];
  for (int i = 0; i < std::stoi(args.at(2)); ++i) {
    const std::size_t size = in.receive(buffer, sizeof buffer);
    out.send(buffer, size);
  }
  return 0;
}

// args: ring. Takes two messages, then waits to be killed.
SHMKIT_CHILD_ROLE(ring_slow_consumer) {
  auto ring = Ring::open(args.at(0), RingRole::consumer);
  char buffer[64];
  ring.receive(buffer, sizeof buffer);
  ring.receive(buffer, sizeof buffer);
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

TEST_SUITE("ring") {
  TEST_CASE("messages of every size from 1 to 3/4 of the capacity wrap around intact") {
    test::NameGuard guard(test::unique_name("rw"));
    auto producer = Ring::create(guard.name(), RingRole::producer, 1024);
    auto consumer = Ring::open(guard.name(), RingRole::consumer);
    REQUIRE(producer.capacity() == 1024);
    constexpr std::size_t k_largest = 3 * 1024 / 4;
    auto pattern = [](std::size_t size, std::size_t i) {
      return static_cast<unsigned char>(size * 7 + i);
    };
    // Two rounds, so that every size meets the end of the ring at another offset.
    std::thread sender([&] {
      for (int round = 0; round < 2; ++round) {
        for (std::size_t size = 1; size <= k_largest; ++size) {
          ByteSpan span = producer.reserve_for(size, std::chrono::seconds(30));
          if (!span) return;
          for (std::size_t i = 0; i < size; ++i) span.data[i] = std::byte{pattern(size, i)};
          producer.commit();
        }
      }
    });
    std::vector<unsigned char> buffer(1024);
    bool intact = true;
    std::size_t failed_size = 0;
    for (int round = 0; round < 2 && intact; ++round) {
      for (std::size_t size = 1; size <= k_largest && intact; ++size) {
        const auto received =
            consumer.receive_for(buffer.data(), buffer.size(), std::chrono::seconds(30));
        intact = received.has_value() && *received == size;
        for (std::size_t i = 0; intact && i < size; ++i) intact = buffer[i] == pattern(size, i);
        if (!intact) failed_size = size;
      }
    }
    sender.join();
    CHECK_MESSAGE(intact, "first bad message: " << failed_size << " bytes");
  }

  TEST_CASE("a producer process streams to a consumer, zero-copy on both sides") {
    test::NameGuard guard(test::unique_name("rs"));
    test::NameGuard progress_guard(test::unique_name("rsp"));
    auto consumer = Ring::create(guard.name(), RingRole::consumer, 4096);
    auto progress = NamedSharedMemory::create(progress_guard.name(), sizeof(Progress));
    auto child =
        test::Child::spawn("ring_producer", {guard.name(), progress_guard.name(), "20000"});
    for (std::uint64_t sequence = 0; sequence < 20000; ++sequence) {
      const ConstByteSpan message = consumer.peek_for(std::chrono::seconds(30));
      REQUIRE(message);
      REQUIRE(message.size == size_for(sequence));
      REQUIRE(check_message(message.data, message.size, sequence));
      consumer.release();
    }
    CHECK(child.wait().code == 0);
  }

  TEST_CASE("producer killed mid-stream: every committed message arrives whole, then peer_gone") {
    test::NameGuard guard(test::unique_name("rk"));
    test::NameGuard progress_guard(test::unique_name("rkp"));
    auto consumer = Ring::create(guard.name(), RingRole::consumer, 8192);
    auto progress_shm = NamedSharedMemory::create(progress_guard.name(), sizeof(Progress));
    auto& progress = *static_cast<Progress*>(progress_shm.data());
    auto child = test::Child::spawn("ring_producer", {guard.name(), progress_guard.name(), "0"});

    std::uint64_t received = 0;
    std::vector<unsigned char> buffer(1024);
    while (received < 5000) {
      const auto size =
          consumer.receive_for(buffer.data(), buffer.size(), std::chrono::seconds(30));
      REQUIRE(size.has_value());
      REQUIRE(check_message(buffer.data(), *size, received));
      ++received;
    }
    child.kill();  // somewhere between reserve, memcpy and commit
    CHECK(child.wait().killed);
    std::error_code ec;
    for (;;) {
      const auto size = consumer.receive_until(buffer.data(), buffer.size(),
                                               deadline_after(std::chrono::seconds(30)), ec);
      if (!size) break;
      REQUIRE(check_message(buffer.data(), *size, received));
      ++received;
    }
    CHECK(ec == errc::peer_gone);
    // The producer records a commit just after making it, so it can die in between.
    const std::uint64_t committed = progress.committed.load();
    CHECK((received == committed || received == committed + 1));
  }

  TEST_CASE("consumer killed: a blocked producer gets peer_gone instead of hanging") {
    test::NameGuard guard(test::unique_name("rc"));
    auto producer = Ring::create(guard.name(), RingRole::producer, 256);
    Options raw;
    raw.raw = true;
    auto bytes = NamedSharedMemory::open(guard.name(), raw);
    const auto& shared = *reinterpret_cast<const detail::RingShared*>(
        static_cast<const std::byte*>(bytes.data()) + detail::k_header_size + 64);
    auto child = test::Child::spawn("ring_slow_consumer", {guard.name()});
    const char message[40] = "fill me";
    producer.send(message, sizeof message);
    producer.send(message, sizeof message);
    // Kill it only once it has attached and taken both messages (it then
    // sleeps): killed earlier, it would not be the consumer whose death the
    // producer has to notice, and the producer would rightly wait for one.
    REQUIRE(test::eventually(
        [&] {
          return shared.consumer.load() > detail::k_endpoint_closed &&
                 shared.tail.load() == shared.head.load();
        },
        std::chrono::seconds(60)));
    // Fill the ring; the sleeping consumer takes nothing more.
    while (producer.try_send(message, sizeof message)) {
    }
    child.kill();
    child.wait();
    std::error_code ec;
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(
        producer.send_until(message, sizeof message, deadline_after(std::chrono::seconds(60)), ec));
    CHECK(ec == errc::peer_gone);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
  }

  TEST_CASE("round trips between processes with every wait strategy") {
    for (const char* strategy : {"busy", "adaptive", "blocking"}) {
      const std::string strategy_name = strategy;
      CAPTURE(strategy_name);
      test::NameGuard guard(test::unique_name("re"));
      guard.add(guard.name() + "r");
      const WaitOptions wait = strategy_from(strategy);
      auto out = Ring::create(guard.name(), RingRole::producer, 4096, wait);
      auto in = Ring::create(guard.name() + "r", RingRole::consumer, 4096, wait);
      auto echo = test::Child::spawn("ring_echo", {guard.name(), strategy, "2000"});
      char buffer[64];
      for (int i = 0; i < 2000; ++i) {
        const std::string text = "ping " + std::to_string(i);
        out.send(text.data(), text.size());
        const auto size = in.receive_for(buffer, sizeof buffer, std::chrono::seconds(30));
        REQUIRE(size.has_value());
        REQUIRE(std::string(buffer, *size) == text);
      }
      CHECK(echo.wait().code == 0);
    }
  }

  TEST_CASE("batches: send_batch publishes together, peek without release reads ahead") {
    test::NameGuard guard(test::unique_name("rb"));
    auto producer = Ring::create(guard.name(), RingRole::producer, 1024);
    auto consumer = Ring::open(guard.name(), RingRole::consumer);
    const char* words[] = {"alpha", "beta", "gamma", "delta"};
    ConstByteSpan spans[4];
    for (int i = 0; i < 4; ++i) spans[i] = ConstByteSpan(words[i], std::strlen(words[i]));
    CHECK(producer.send_batch(spans, 4) == 4);
    for (const char* word : words) {
      const ConstByteSpan message = consumer.try_peek();
      REQUIRE(message);
      CHECK(std::string(reinterpret_cast<const char*>(message.data), message.size) == word);
    }
    CHECK_FALSE(consumer.try_peek());
    consumer.release();
    // Deferred commits stay invisible until flush().
    ByteSpan span = producer.reserve(3);
    std::memcpy(span.data, "abc", 3);
    producer.commit_deferred(3);
    CHECK_FALSE(consumer.try_peek());
    producer.flush();
    CHECK(consumer.try_peek().size == 3);
  }

  TEST_CASE("sizes, roles and timeouts are checked") {
    test::NameGuard guard(test::unique_name("rz"));
    auto producer = Ring::create(guard.name(), RingRole::producer, 300);  // rounded up
    CHECK(producer.capacity() == 512);
    CHECK(producer.max_message_size() == 504);
    auto consumer = Ring::open(guard.name(), RingRole::consumer);
    std::error_code ec;
    std::vector<char> big(505);
    CHECK_FALSE(producer.send_until(big.data(), big.size(), Deadline(), ec));
    CHECK(ec == errc::message_too_large);
    CHECK(producer.try_send(big.data(), 504));
    char small[10];
    consumer.receive_until(small, sizeof small, Deadline(), ec);
    CHECK(ec == errc::message_too_large);  // and the message stays
    CHECK(consumer.try_receive(big.data(), big.size()) == std::optional<std::size_t>(504));
    CHECK_FALSE(consumer.try_peek());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(consumer.peek_for(std::chrono::milliseconds(30)));
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(30));

    Ring::open(guard.name(), RingRole::producer, {}, {}, ec);
    CHECK(ec == errc::role_taken);
    producer = Ring();  // closes: the role is free again
    auto second = Ring::open(guard.name(), RingRole::producer);
    CHECK(second.try_send("x", 1));
    CHECK_THROWS_AS(second.peek(), std::system_error);  // not the consumer
    Ring::create(std::string(29, 'r'), RingRole::producer, 256, {}, {}, ec);
    CHECK(ec == errc::invalid_name);
    Ring::open_or_create(guard.name(), RingRole::consumer, 4096, {}, {}, ec);
    CHECK(ec == errc::size_mismatch);
  }

  TEST_CASE("corrupted indices or record lengths give errc::corrupted, never a crash") {
    using detail::RingShared;
    struct Damage {
      const char* what;
      void (*apply)(RingShared&, std::byte* data);
      bool on_consumer;
    };
    const Damage damages[] = {
        {"head far ahead", [](RingShared& r, std::byte*) { r.head = r.tail + (1u << 20); }, true},
        {"head unaligned", [](RingShared& r, std::byte*) { r.head = r.head + 3; }, true},
        {"record too long",
         [](RingShared&, std::byte* d) {
           const std::uint32_t huge = 1u << 30;
           std::memcpy(d, &huge, 4);
         },
         true},
        {"unknown record type",
         [](RingShared&, std::byte* d) {
           const std::uint32_t type = 0xdeadbeef;
           std::memcpy(d + 4, &type, 4);
         },
         true},
        {"padding that lies",
         [](RingShared&, std::byte* d) {
           const std::uint32_t pad[2] = {8, detail::k_record_padding};
           std::memcpy(d, pad, 8);
         },
         true},
        {"tail beyond head", [](RingShared& r, std::byte*) { r.tail = r.head + (1u << 30); },
         false},
        {"tail unaligned", [](RingShared& r, std::byte*) { r.tail = 3; }, false},
    };
    for (const Damage& damage : damages) {
      const std::string damage_name = damage.what;
      CAPTURE(damage_name);
      test::NameGuard guard(test::unique_name("rx"));
      auto producer = Ring::create(guard.name(), RingRole::producer, 1024);
      auto consumer = Ring::open(guard.name(), RingRole::consumer);
      producer.send("hello", 5);
      Options raw;
      raw.raw = true;
      auto bytes = NamedSharedMemory::open(guard.name(), raw);
      auto& shared = *reinterpret_cast<RingShared*>(static_cast<std::byte*>(bytes.data()) +
                                                    detail::k_header_size + 64);
      damage.apply(shared, reinterpret_cast<std::byte*>(&shared) + sizeof(RingShared));
      std::error_code ec;
      char buffer[2048];
      if (damage.on_consumer) {
        consumer.receive_until(buffer, sizeof buffer, deadline_after(std::chrono::milliseconds(50)),
                               ec);
      } else {
        std::vector<char> fill(600);  // the second one needs the (damaged) tail
        for (int i = 0; i < 3 && !ec; ++i) {
          producer.send_until(fill.data(), fill.size(),
                              deadline_after(std::chrono::milliseconds(50)), ec);
        }
      }
      CHECK(ec == errc::corrupted);
    }
  }
}
