// Crash consistency of a managed segment: processes killed (SIGKILL /
// TerminateProcess) at random instants while they allocate, free,
// construct and destroy; a constructor and a destructor killed half-way;
// and a ProcessMutex + ProcessCondition living in a named object, its
// holder killed. Each child publishes what it holds in the segment, so the
// parent can account for every block afterwards.
#include <doctest/doctest.h>

#include <shmkit/errc.hpp>
#include <shmkit/managed_segment.hpp>
#include <shmkit/process_condition.hpp>
#include <shmkit/process_mutex.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "managed/heap_layout.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <system_error>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_churners = 2;
constexpr int k_slots = 16;
constexpr std::size_t k_max_request = 3000;
constexpr int k_rounds = 40;

// One churning child's bookkeeping, in the segment: the blocks it holds (as
// offsets from the segment's start), and the one it is freeing. Each block
// starts with a token unique to its allocation, so that the parent can tell
// a block a killed child was freeing from one that was freed and reused.
struct ChurnRecord {
  std::atomic<std::uint64_t> iterations;
  std::atomic<std::uint64_t> slots[k_slots];
  std::atomic<std::uint64_t> freeing;
  std::atomic<std::uint64_t> freeing_token;  // the first word of the block being freed
};

struct ChurnRecords {
  ChurnRecord children[k_churners];
};

struct Payload {
  explicit Payload(std::uint64_t seed) {
    for (std::uint64_t& word : words) word = seed++;
  }
  std::uint64_t words[24];
};

std::uint64_t offset_in(ManagedSegment& seg, const void* p) {
  return static_cast<std::uint64_t>(static_cast<const char*>(p) -
                                    static_cast<const char*>(seg.segment().data()));
}

// The objects whose constructor or destructor the parent kills the child in.
struct Gate {
  std::atomic<std::uint32_t> hang_in_constructor{0};
  std::atomic<std::uint32_t> hang_in_destructor{0};
  std::atomic<std::uint32_t> inside{0};
};

struct Stubborn {
  explicit Stubborn(Gate* gate) : gate_offset(0) {
    if (gate->hang_in_constructor.load() != 0) {
      gate->inside.store(1);
      for (;;) std::atomic_signal_fence(std::memory_order_seq_cst);  // until killed
    }
    value = 42;
  }
  ~Stubborn() {
    Gate* gate = gate_of();
    if (gate != nullptr && gate->hang_in_destructor.load() != 0) {
      gate->inside.store(2);
      for (;;) std::atomic_signal_fence(std::memory_order_seq_cst);
    }
  }
  Gate* gate_of() const { return t_gate; }
  static inline Gate* t_gate = nullptr;
  std::uint64_t gate_offset;
  std::uint64_t value = 0;
  std::uint64_t padding[30] = {};
};

// A producer/consumer channel living in a named object.
struct Channel {
  ProcessMutex mutex;
  ProcessCondition changed;
  std::uint64_t produced = 0;  // under mutex
  std::uint64_t consumed = 0;
  std::uint64_t items[8] = {};
  std::atomic<std::uint32_t> holding{0};  // outside the lock: the test's own signal
};

constexpr std::uint64_t k_channel_items = 3000;

}  // namespace

// Allocates, frees, constructs and destroys in a tight loop until killed.
SHMKIT_CHILD_ROLE(managed_churn) {
  auto seg = ManagedSegment::open(args.at(0));
  const int index = std::stoi(args.at(1));
  std::mt19937_64 random(std::stoull(args.at(2)));
  ChurnRecord& me = seg.find<ChurnRecords>("records")->children[index];
  char* base = static_cast<char*>(seg.segment().data());
  std::uint64_t token =
      (static_cast<std::uint64_t>(index) + 1) << 56 | (std::stoull(args.at(2)) & 0xffff) << 40;
  for (;;) {
    const std::uint64_t op = random() % 10;
    const int slot = static_cast<int>(random() % k_slots);
    if (op < 7) {
      const std::uint64_t held = me.slots[slot].load();
      if (held == 0) {
        const std::size_t bytes = 8 + static_cast<std::size_t>(random() % k_max_request);
        void* p = seg.allocate(bytes, random() % 4 == 0 ? 64 : 16);
        std::memset(p, 0x3c, bytes);
        ++token;
        std::memcpy(p, &token, sizeof token);
        me.slots[slot].store(offset_in(seg, p));
      } else {
        std::uint64_t first = 0;
        std::memcpy(&first, base + held, sizeof first);
        me.freeing_token.store(first);
        me.freeing.store(held);
        me.slots[slot].store(0);
        seg.deallocate(base + held);
        me.freeing.store(0);
      }
    } else {
      const std::string name = "c" + std::to_string(index) + "-" + std::to_string(slot % 2);
      if (op < 9) {
        (void)seg.find_or_construct<Payload>(name, random());
      } else {
        (void)seg.destroy<Payload>(name);
      }
    }
    me.iterations.fetch_add(1);
  }
}

SHMKIT_CHILD_ROLE(managed_stubborn) {
  auto seg = ManagedSegment::open(args.at(0));
  Gate* gate = seg.find<Gate>("gate");
  Stubborn::t_gate = gate;
  if (args.at(1) == "construct") {
    (void)seg.construct<Stubborn>("stubborn", gate);
  } else {
    (void)seg.destroy<Stubborn>("stubborn");
  }
  return 1;  // never reached: killed inside
}

SHMKIT_CHILD_ROLE(managed_channel_holder) {
  auto seg = ManagedSegment::open(args.at(0));
  Channel* channel = seg.find<Channel>("channel");
  channel->mutex.lock();
  channel->holding.store(1);
  for (;;) std::atomic_signal_fence(std::memory_order_seq_cst);  // until killed, holding it
}

SHMKIT_CHILD_ROLE(managed_channel_producer) {
  auto seg = ManagedSegment::open(args.at(0));
  Channel* channel = seg.find<Channel>("channel");
  for (std::uint64_t i = 0; i < k_channel_items; ++i) {
    std::unique_lock<ProcessMutex> lock(channel->mutex);
    (void)channel->changed.wait(lock.mutex() != nullptr ? *lock.mutex() : channel->mutex,
                                [&] { return channel->produced - channel->consumed < 8; });
    channel->items[channel->produced % 8] = i * 3;
    ++channel->produced;
    channel->changed.notify_all();
  }
  return 0;
}

TEST_SUITE("managed_crash") {
  TEST_CASE(
      "processes killed at random instants leave a consistent heap, every block accounted for") {
    test::NameGuard guard(test::unique_name("mk"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 20);
    ChurnRecords* records = seg.construct<ChurnRecords>("records");
    const HeapCheck baseline = seg.check();
    REQUIRE(baseline.consistent);

    std::mt19937_64 random(20261202);
    std::vector<test::Child> children(k_churners);
    std::uint64_t seed = 1;
    for (int i = 0; i < k_churners; ++i) {
      children[i] = test::Child::spawn("managed_churn",
                                       {guard.name(), std::to_string(i), std::to_string(seed++)});
    }
    int kills = 0;
    for (int round = 0; round < k_rounds; ++round) {
      const int victim = static_cast<int>(random() % k_churners);
      ChurnRecord& record = records->children[victim];
      // A random instant: after 1-300 more iterations of its loop.
      const std::uint64_t target = record.iterations.load() + 1 + random() % 300;
      REQUIRE(test::eventually([&] { return record.iterations.load() >= target; }));
      children[victim].kill();
      (void)children[victim].wait();
      ++kills;
      children[victim] = test::Child::spawn(
          "managed_churn", {guard.name(), std::to_string(victim), std::to_string(seed++)});
    }
    for (auto& child : children) {
      const std::uint64_t target =
          records->children[&child - children.data()].iterations.load() + 1;
      REQUIRE(test::eventually(
          [&] { return records->children[&child - children.data()].iterations.load() >= target; }));
      child.kill();
      (void)child.wait();
      ++kills;
    }
    MESSAGE("kill rounds: " << kills);

    // Repaired by this first locker if a child died holding the lock.
    HeapCheck after = seg.check();
    CHECK(after.consistent);
    CHECK(after.problem == "");

    // Give back everything the children recorded; what remains beyond the
    // baseline is what they allocated and died before recording: at most
    // one block each time one was killed.
    char* base = static_cast<char*>(seg.segment().data());
    for (ChurnRecord& record : records->children) {
      for (auto& slot : record.slots) {
        const std::uint64_t held = slot.load();
        if (held != 0) {
          std::error_code ec;
          seg.deallocate(base + held, ec);
          CHECK(!ec);
        }
      }
    }
    // A block a killed child was freeing is still its own only if it still
    // starts with the token it had (freed, it was merged or reused).
    for (ChurnRecord& record : records->children) {
      const std::uint64_t freeing = record.freeing.load();
      std::uint64_t first = 0;
      if (freeing != 0) std::memcpy(&first, base + freeing, sizeof first);
      if (freeing != 0 && first == record.freeing_token.load()) {
        std::error_code ec;  // a merged block's stale token: not a block any more
        seg.deallocate(base + freeing, ec);
        CHECK((!ec || ec == errc::invalid_argument));
      }
    }
    for (int i = 0; i < k_churners; ++i) {
      for (int j = 0; j < 2; ++j)
        (void)seg.destroy<Payload>("c" + std::to_string(i) + "-" + std::to_string(j));
    }
    const HeapCheck end = seg.check();
    CHECK(end.consistent);
    CHECK(end.named_objects == 1);
    const std::size_t leaked_blocks = end.used_blocks - baseline.used_blocks;
    const std::size_t leaked_bytes = end.used_bytes - baseline.used_bytes;
    MESSAGE("leaked blocks " << leaked_blocks << ", bytes " << leaked_bytes << " after " << kills
                             << " kills");
    CHECK(end.used_blocks >= baseline.used_blocks);
    CHECK(leaked_blocks <= static_cast<std::size_t>(kills));
    CHECK(leaked_bytes <= static_cast<std::size_t>(kills) * (k_max_request + 64 + 64));
    CHECK(end.free_bytes + end.used_bytes + 16 * end.blocks == end.heap_bytes);
  }

  TEST_CASE("a constructor or destructor killed half-way is rolled back or finished") {
    test::NameGuard guard(test::unique_name("mk"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    Gate* gate = seg.construct<Gate>("gate");
    const HeapCheck baseline = seg.check();

    gate->hang_in_constructor.store(1);
    test::Child child = test::Child::spawn("managed_stubborn", {guard.name(), "construct"});
    REQUIRE(test::eventually([&] { return gate->inside.load() == 1; }));
    child.kill();
    (void)child.wait();
    gate->hang_in_constructor.store(0);
    gate->inside.store(0);
    // The next user repairs: the name is free again, its block is gone.
    CHECK(seg.find<Stubborn>("stubborn") == nullptr);
    HeapCheck check = seg.check();
    CHECK(check.consistent);
    CHECK(check.used_blocks == baseline.used_blocks);
    CHECK(check.used_bytes == baseline.used_bytes);
    Stubborn::t_gate = gate;
    Stubborn* made = seg.construct<Stubborn>("stubborn", gate);
    REQUIRE(made != nullptr);
    CHECK(made->value == 42);

    gate->hang_in_destructor.store(1);
    child = test::Child::spawn("managed_stubborn", {guard.name(), "destroy"});
    REQUIRE(test::eventually([&] { return gate->inside.load() == 2; }));
    child.kill();
    (void)child.wait();
    gate->hang_in_destructor.store(0);
    // The destroy is finished: the name and the block are gone.
    CHECK(seg.find<Stubborn>("stubborn") == nullptr);
    check = seg.check();
    CHECK(check.consistent);
    CHECK(check.used_blocks == baseline.used_blocks);
    Stubborn::t_gate = nullptr;
  }

  TEST_CASE(
      "a ProcessMutex and ProcessCondition in a named object: holder killed, then "
      "producer/consumer") {
    test::NameGuard guard(test::unique_name("mk"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    Channel* channel = seg.construct<Channel>("channel");
    REQUIRE(channel != nullptr);

    test::Child holder = test::Child::spawn("managed_channel_holder", {guard.name()});
    REQUIRE(test::eventually([&] { return channel->holding.load() == 1; }));
    holder.kill();
    (void)holder.wait();
    CHECK(channel->mutex.lock_for(std::chrono::seconds(30)) == LockStatus::acquired_owner_died);
    CHECK(channel->mutex.owner_died());
    channel->produced = channel->consumed = 0;  // the repair this data needs
    channel->mutex.unlock();

    test::Child producer = test::Child::spawn("managed_channel_producer", {guard.name()});
    std::uint64_t expected = 0;
    bool in_order = true;
    for (std::uint64_t i = 0; i < k_channel_items; ++i) {
      std::unique_lock<ProcessMutex> lock(channel->mutex);
      const bool got = channel->changed.wait_for(channel->mutex, std::chrono::seconds(30), [&] {
        return channel->produced != channel->consumed;
      });
      REQUIRE(got);
      if (channel->items[channel->consumed % 8] != expected) in_order = false;
      expected += 3;
      ++channel->consumed;
      channel->changed.notify_all();
    }
    CHECK(in_order);
    const test::ExitStatus status = producer.wait();
    CHECK(status.exited);
    CHECK(status.code == 0);
    CHECK(seg.check().consistent);
  }

  TEST_CASE(
      "a free killed between coalescing into the previous block and clearing its tag: the next "
      "locker repairs, and freeing the pointer again fails") {
    test::NameGuard guard(test::unique_name("mk"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    void* front = seg.allocate(64);
    void* victim = seg.allocate(64);
    void* back = seg.allocate(64);  // keeps the victim from merging with the free tail
    REQUIRE(front != nullptr);
    REQUIRE(victim != nullptr);
    REQUIRE(back != nullptr);
    seg.deallocate(front);
    const HeapCheck before = seg.check();
    REQUIRE(before.consistent);

    // What a process killed inside deallocate(victim) leaves right after the
    // one store growing the free predecessor over the victim: the journal
    // says free(victim), the victim's header is still allocated and tagged.
    auto* base = static_cast<char*>(seg.segment().data());
    auto word = [&](std::uint64_t at) -> std::atomic<std::uint64_t>& {
      return *reinterpret_cast<std::atomic<std::uint64_t>*>(base + at);
    };
    auto& header = *reinterpret_cast<detail::HeapHeader*>(base);
    const std::uint64_t prev = offset_in(seg, front) - detail::k_block_header;
    const std::uint64_t block = offset_in(seg, victim) - detail::k_block_header;
    const std::uint64_t prev_word = word(prev).load();
    const std::uint64_t block_size = word(block).load() & detail::k_size_mask;
    REQUIRE((prev_word & detail::k_allocated_bit) == 0);
    REQUIRE((word(block).load() & detail::k_allocated_bit) != 0);
    REQUIRE(prev + (prev_word & detail::k_size_mask) == block);
    header.journal_block.store(block);
    header.journal_op.store(static_cast<std::uint64_t>(detail::JournalOp::free));
    word(prev).store(((prev_word & detail::k_size_mask) + block_size) |
                     (prev_word & detail::k_prev_free_bit));

    // No owner death is reported (the mutex was never held by the "dead"
    // process): the non-empty journal alone makes the next locker repair.
    const HeapCheck after = seg.check();
    CHECK(after.consistent);
    CHECK(after.used_blocks == before.used_blocks - 1);
    CHECK(header.journal_op.load() == static_cast<std::uint64_t>(detail::JournalOp::none));
    std::error_code ec;
    seg.deallocate(victim, ec);
    CHECK(ec == errc::invalid_argument);
    CHECK(seg.check().consistent);
    seg.deallocate(back);
    CHECK(seg.check().used_blocks == before.used_blocks - 2);
  }
}
