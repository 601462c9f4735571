// inspect_topic(): what a read-only look at a topic tells about its
// publishers, subscribers (alive and dead), queues and pool, and that
// garbage in its control segment is errc::corrupted, never a crash.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>
#include <shmkit/topic_status.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace shmkit;

namespace {

TopicConfig small_config() {
  TopicConfig config;
  config.sample_size = 256;
  config.sample_count = 8;
  config.max_publishers = 2;
  config.max_subscribers = 4;
  config.max_queue_depth = 4;
  config.history = 2;
  return config;
}

// The topic's control segment mapped raw (header included), read-write:
// what a scribbler sees.
struct RawControl {
  explicit RawControl(const std::string& name) {
    SegmentOptions options;
    options.raw = true;
    memory = NamedSharedMemory::open(name, options);
  }
  detail::TopicControl& control() {
    return *reinterpret_cast<detail::TopicControl*>(
        static_cast<unsigned char*>(memory.data()) + detail::k_header_size +
        sizeof(detail::SyncPreamble) + detail::k_topic_state_offset);
  }
  NamedSharedMemory memory;
};

const TopicSubscriberStatus* find_subscriber(const TopicStatus& status, std::uint64_t pid) {
  for (const auto& s : status.subscribers) {
    if (s.pid == pid) return &s;
  }
  return nullptr;
}

}  // namespace

// args: topic. Subscribes, holds the first sample it receives, receives and
// drops the others, and waits to be killed (bounded: it gives up after a
// minute).
SHMKIT_CHILD_ROLE(topic_status_holder) {
  auto subscriber = Subscriber::open(args.at(0));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const Sample held = subscriber.receive_until(deadline);
  if (!held) return 2;
  while (std::chrono::steady_clock::now() < deadline) (void)subscriber.receive_until(deadline);
  return 3;
}

TEST_SUITE("topic_status") {
  TEST_CASE("a live publisher and subscriber: slots, queue, pool") {
    const std::string name = test::unique_name("ts");
    test::NameGuard guard(name);
    guard.add(name + ".p");
    const TopicConfig config = small_config();
    auto topic = Topic::create(name, config);

    TopicStatus empty = inspect_topic(name);
    CHECK(empty.name == name);
    CHECK(empty.config == config);
    CHECK(empty.publishers.empty());
    CHECK(empty.subscribers.empty());
    CHECK(empty.free_samples == config.sample_count);
    CHECK(empty.samples_in_use == 0);
    CHECK(empty.published == 0);
    CHECK(empty.stride == detail::topic_stride(config.sample_size));
    CHECK(empty.pool_bytes ==
          detail::k_topic_pool_data_offset + config.sample_count * empty.stride);
    CHECK_FALSE(empty.lock_held);

    auto publisher = Publisher::open(name);
    SubscriberOptions options;
    options.queue_depth = 3;
    options.overflow = OverflowPolicy::drop_oldest;
    auto subscriber = Subscriber::open(name, options);
    const std::uint64_t self = detail::current_process().pid;

    const char text[] = "hello";
    for (int i = 0; i < 5; ++i) publisher.publish_copy(text, sizeof text);  // 2 dropped
    Sample first = subscriber.receive();
    REQUIRE(first);
    auto loan = publisher.loan(10);

    const TopicStatus status = inspect_topic(name);
    REQUIRE(status.publishers.size() == 1);
    CHECK(status.publishers[0].pid == self);
    CHECK(status.publishers[0].alive);
    CHECK(status.publishers[0].generation == publisher.generation());
    CHECK(status.publishers[0].loans == 1);
    REQUIRE(status.subscribers.size() == 1);
    const TopicSubscriberStatus& s = status.subscribers[0];
    CHECK(s.slot == subscriber.slot());
    CHECK(s.pid == self);
    CHECK(s.alive);
    CHECK(s.queue_depth == 3);
    CHECK(s.overflow == OverflowPolicy::drop_oldest);
    CHECK(s.queued == 2);
    CHECK(s.held == 3);  // two queued, one received and still held
    CHECK(s.dropped == 2);
    CHECK(s.dropped == subscriber.dropped());
    CHECK(status.published == 5);
    CHECK(status.on_loan == 1);
    CHECK(status.in_history == 2);
    CHECK(status.free_samples == topic.free_samples());
    CHECK(status.samples_in_use + status.free_samples == config.sample_count);

    std::error_code ec;
    const TopicStatus twin = inspect_topic(name, {}, ec);
    CHECK_FALSE(ec);
    CHECK(twin.subscribers.size() == 1);
  }

  TEST_CASE("a killed subscriber is shown dead, in its slot, with what it held") {
    const std::string name = test::unique_name("ts");
    test::NameGuard guard(name);
    guard.add(name + ".p");
    auto topic = Topic::create(name, small_config());
    auto publisher = Publisher::open(name);
    auto child = test::Child::spawn("topic_status_holder", {name});
    REQUIRE(test::eventually([&] { return publisher.subscriber_count() == 1; }));
    const char text[] = "held";
    publisher.publish_copy(text, sizeof text);
    // The child holds the sample once its queue is empty again.
    REQUIRE(test::eventually([&] {
      const TopicStatus status = inspect_topic(name);
      const auto* s = find_subscriber(status, child.pid());
      return s != nullptr && s->queued == 0 && s->held == 1;
    }));
    const TopicStatus before = inspect_topic(name);
    const auto* alive = find_subscriber(before, child.pid());
    REQUIRE(alive != nullptr);
    CHECK(alive->alive);

    child.kill();
    const auto exit = child.wait();
    CHECK(exit.killed);
    const TopicStatus after = inspect_topic(name);
    const auto* dead = find_subscriber(after, child.pid());
    REQUIRE(dead != nullptr);
    CHECK_FALSE(dead->alive);
    CHECK(dead->generation == alive->generation);
    CHECK(dead->held == 1);
    CHECK(after.samples_in_use >= 1);
  }

  TEST_CASE("garbage in the control segment is errc::corrupted, in both forms") {
    const std::string name = test::unique_name("ts");
    test::NameGuard guard(name);
    guard.add(name + ".p");
    auto topic = Topic::create(name, small_config());
    auto publisher = Publisher::open(name);
    auto subscriber = Subscriber::open(name);
    const std::size_t slot = subscriber.slot();
    RawControl raw(name);

    const std::vector<std::pair<const char*, std::function<void(detail::TopicControl&)>>>
        scribbles = {
            {"sample_count 0", [](detail::TopicControl& c) { c.config.sample_count = 0; }},
            {"huge sample_size", [](detail::TopicControl& c) { c.config.sample_size = ~0ull; }},
            {"history > depth", [](detail::TopicControl& c) { c.config.history = 99; }},
            {"stride", [](detail::TopicControl& c) { c.config.stride = 7; }},
            {"more samples than the segment holds",
             [](detail::TopicControl& c) { c.config.sample_count = 4096; }},
            {"queue depth 0",
             [slot](detail::TopicControl& c) { c.subscribers[slot].queue_depth = 0; }},
            {"queue depth 5000",
             [slot](detail::TopicControl& c) { c.subscribers[slot].queue_depth = 5000; }},
            {"policy 9", [slot](detail::TopicControl& c) { c.subscribers[slot].policy = 9; }},
            {"head far past tail",
             [slot](detail::TopicControl& c) { c.subscribers[slot].head = 1u << 30; }},
            {"tail past head",
             [slot](detail::TopicControl& c) { c.subscribers[slot].tail = ~0ull; }},
        };
    for (const auto& [what, scribble] : scribbles) {
      CAPTURE(what);
      // Restore from a saved copy after each scribble.
      std::vector<unsigned char> saved(sizeof(detail::TopicControl));
      std::memcpy(saved.data(), &raw.control(), saved.size());
      scribble(raw.control());
      std::error_code ec;
      (void)inspect_topic(name, {}, ec);
      CHECK(ec == errc::corrupted);
      CHECK_THROWS_AS((void)inspect_topic(name), Error);
      std::memcpy(static_cast<void*>(&raw.control()), saved.data(), saved.size());
      std::error_code fine;
      (void)inspect_topic(name, {}, fine);
      CHECK_FALSE(fine);
    }

    // Garbage in an identity or lock word names no running process: shown
    // as a dead holder (publishers reclaim it), not as corruption.
    {
      auto& identity = raw.control().subscribers[slot].identity;
      const std::uint64_t kept_identity = identity;
      identity = 7;
      raw.control().lock_owner = 2;
      const TopicStatus garbage = inspect_topic(name);
      REQUIRE(garbage.subscribers.size() == 1);
      CHECK(garbage.subscribers[0].pid == 0);
      CHECK_FALSE(garbage.subscribers[0].alive);
      CHECK(garbage.lock_held);
      CHECK(garbage.lock_pid == 0);
      CHECK_FALSE(garbage.lock_holder_alive);
      identity = kept_identity;
      raw.control().lock_owner = 0;
    }

    // A queue entry and a holders word past the pool.
    const char text[] = "x";
    publisher.publish_copy(text, sizeof text);
    auto* bytes = reinterpret_cast<unsigned char*>(&raw.control());
    const auto offsets = detail::topic_offsets(raw.control().config);
    const auto depth = static_cast<std::size_t>(raw.control().config.max_queue_depth);
    auto* queue = reinterpret_cast<detail::TopicQueueEntry*>(bytes + offsets.queues) + slot * depth;
    const std::uint64_t tail = raw.control().subscribers[slot].tail;
    auto& entry = queue[tail % raw.control().subscribers[slot].queue_depth].index;
    const std::uint32_t kept_entry = entry;
    entry = 1000;
    std::error_code ec;
    (void)inspect_topic(name, {}, ec);
    CHECK(ec == errc::corrupted);
    entry = kept_entry;
    auto* holders = reinterpret_cast<std::uint64_t*>(bytes + offsets.holders);
    const std::uint64_t kept_holders = holders[0];
    holders[0] = std::uint64_t{1} << 50;
    (void)inspect_topic(name, {}, ec);
    CHECK(ec == errc::corrupted);
    holders[0] = kept_holders;
    (void)inspect_topic(name, {}, ec);
    CHECK_FALSE(ec);

    // The sync preamble's layout: another version.
    auto* preamble = reinterpret_cast<detail::SyncPreamble*>(
        static_cast<unsigned char*>(raw.memory.data()) + detail::k_header_size);
    const std::uint32_t layout = preamble->layout;
    preamble->layout = 0x12345678;
    (void)inspect_topic(name, {}, ec);
    CHECK(ec == errc::incompatible_layout);
    preamble->layout = layout;
  }

  TEST_CASE("names: invalid, missing, another kind") {
    std::error_code ec;
    (void)inspect_topic("not/valid", {}, ec);
    CHECK(ec == errc::invalid_name);
    const std::string name = test::unique_name("ts");
    test::NameGuard guard(name);
    (void)inspect_topic(name, {}, ec);
    CHECK(ec == errc::not_found);
    auto segment = NamedSharedMemory::create(name, 4096);
    (void)inspect_topic(name, {}, ec);
    CHECK(ec == errc::wrong_kind);
    CHECK_THROWS_AS((void)inspect_topic(name), Error);
  }
}
