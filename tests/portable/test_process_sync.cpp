// ProcessMutex and ProcessCondition inside a struct in a NamedSharedMemory:
// mutual exclusion and a producer/consumer across real processes, a holder
// killed, garbage written over the state, deadlines, and the rules they share
// with NamedMutex (not recursive, owned by a thread).
#include <doctest/doctest.h>

#include <shmkit/errc.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/process_condition.hpp>
#include <shmkit/process_mutex.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

constexpr int k_lockers = 4;
constexpr int k_increments = 2000;
constexpr int k_capacity = 4;
constexpr std::int64_t k_items = 2000;

// What the processes share: a lock, two conditions and the data they guard.
struct SyncData {
  ProcessMutex mutex;
  ProcessCondition not_empty;
  ProcessCondition not_full;
  // Under `mutex`:
  std::uint64_t counter;
  std::int64_t queue[k_capacity];
  std::int32_t head;
  std::int32_t count;
  std::int64_t consumed_sum;
  // Outside the lock, for the test's own synchronisation:
  std::atomic<std::uint32_t> ready;
  std::atomic<std::uint32_t> outcome;
};

// Maps the segment and checks the struct fits (the values are the test's own).
SyncData& data_of(NamedSharedMemory& shm) {
  REQUIRE(shm.size() >= sizeof(SyncData));
  return *static_cast<SyncData*>(shm.data());
}

NamedSharedMemory make_segment(const std::string& name) {
  auto shm = NamedSharedMemory::create(name, sizeof(SyncData));
  new (shm.data()) SyncData{};  // the memory is zero-filled; construct it anyway
  return shm;
}

void wait_until_ready(SyncData& data, std::uint32_t at_least) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (data.ready.load() < at_least && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
}

template <typename Fn>
std::chrono::steady_clock::duration time_of(Fn&& fn) {
  const auto started = std::chrono::steady_clock::now();
  fn();
  return std::chrono::steady_clock::now() - started;
}

}  // namespace

// args: segment-name. Increments the counter under the lock.
SHMKIT_CHILD_ROLE(process_mutex_counter) {
  auto shm = NamedSharedMemory::open(args.at(0));
  auto& data = *static_cast<SyncData*>(shm.data());
  data.ready.fetch_add(1);
  wait_until_ready(data, k_lockers);  // start together, so that they contend
  for (int i = 0; i < k_increments; ++i) {
    std::lock_guard<ProcessMutex> guard(data.mutex);
    data.counter = data.counter + 1;  // a read-modify-write the lock must protect
  }
  return 0;
}

// args: segment-name. Takes the lock, marks the data half-updated, says so,
// optionally notifies `not_empty`, then waits to be killed.
SHMKIT_CHILD_ROLE(process_mutex_hold_forever) {
  auto shm = NamedSharedMemory::open(args.at(0));
  auto& data = *static_cast<SyncData*>(shm.data());
  data.mutex.lock();
  data.counter = 12345;
  data.not_empty.notify_all();
  data.ready.store(1);
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

// args: segment-name. Pushes 1..k_items through the bounded queue.
SHMKIT_CHILD_ROLE(process_condition_producer) {
  auto shm = NamedSharedMemory::open(args.at(0));
  auto& data = *static_cast<SyncData*>(shm.data());
  for (std::int64_t item = 1; item <= k_items; ++item) {
    std::unique_lock<ProcessMutex> lock(data.mutex);
    if (!data.not_full.wait_for(data.mutex, std::chrono::seconds(60),
                                [&] { return data.count < k_capacity; })) {
      return 2;
    }
    data.queue[(data.head + data.count) % k_capacity] = item;
    ++data.count;
    data.not_empty.notify_one();
  }
  return 0;
}

// args: segment-name. Takes k_items items out of the queue and sums them.
SHMKIT_CHILD_ROLE(process_condition_consumer) {
  auto shm = NamedSharedMemory::open(args.at(0));
  auto& data = *static_cast<SyncData*>(shm.data());
  for (std::int64_t taken = 0; taken < k_items; ++taken) {
    std::unique_lock<ProcessMutex> lock(data.mutex);
    if (!data.not_empty.wait_for(data.mutex, std::chrono::seconds(60),
                                 [&] { return data.count > 0; })) {
      return 2;
    }
    data.consumed_sum += data.queue[data.head];
    data.head = (data.head + 1) % k_capacity;
    --data.count;
    data.not_full.notify_one();
  }
  return 0;
}

TEST_SUITE("process_sync") {
  TEST_CASE("4 processes x 2,000 increments under a ProcessMutex give the exact total") {
    test::NameGuard guard(test::unique_name("psc"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    std::vector<test::Child> lockers;
    for (int i = 0; i < k_lockers; ++i) {
      lockers.push_back(test::Child::spawn("process_mutex_counter", {guard.name()}));
    }
    for (auto& locker : lockers) {
      const auto status = locker.wait(std::chrono::seconds(240));
      CHECK(status.exited);
      CHECK(status.code == 0);
    }
    std::lock_guard<ProcessMutex> lock(data.mutex);
    CHECK(data.counter == static_cast<std::uint64_t>(k_lockers) * k_increments);
  }

  TEST_CASE("a producer and a consumer process through a bounded queue") {
    test::NameGuard guard(test::unique_name("pspc"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    auto consumer = test::Child::spawn("process_condition_consumer", {guard.name()});
    auto producer = test::Child::spawn("process_condition_producer", {guard.name()});
    const auto produced = producer.wait(std::chrono::seconds(240));
    const auto consumed = consumer.wait(std::chrono::seconds(240));
    CHECK(produced.exited);
    CHECK(produced.code == 0);
    CHECK(consumed.exited);
    CHECK(consumed.code == 0);
    std::lock_guard<ProcessMutex> lock(data.mutex);
    CHECK(data.count == 0);
    CHECK(data.consumed_sum == k_items * (k_items + 1) / 2);
  }

  TEST_CASE("the holder is killed: the next locker is told once, then it works on") {
    test::NameGuard guard(test::unique_name("psk"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    auto holder = test::Child::spawn("process_mutex_hold_forever", {guard.name()});
    REQUIRE(test::eventually([&] { return data.ready.load() == 1; }));
    CHECK_FALSE(data.mutex.try_lock());
    holder.kill();
    CHECK(holder.wait().killed);

    const LockStatus status = data.mutex.lock_for(std::chrono::seconds(30));
    REQUIRE(status == LockStatus::acquired_owner_died);
    CHECK(data.mutex.owner_died());
    CHECK(data.counter == 12345);
    data.counter = 0;  // the repair
    data.mutex.unlock();
    CHECK_FALSE(data.mutex.owner_died());
    CHECK(data.mutex.lock_for(std::chrono::seconds(30)) == LockStatus::acquired);
    CHECK_FALSE(data.mutex.owner_died());
    data.mutex.unlock();

    // And for other processes.
    data.ready.store(k_lockers);  // no start barrier for a lone locker
    const auto counter = test::run_child("process_mutex_counter", {guard.name()});
    CHECK(counter.code == 0);
    CHECK(data.counter == static_cast<std::uint64_t>(k_increments));
  }

  TEST_CASE("a waiter on the condition learns that the holder it relocks after died") {
    test::NameGuard guard(test::unique_name("pscd"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    std::atomic<int> result{-1};
    std::atomic<bool> waiting{false};
    std::atomic<bool> flag_owner_died{false};
    {
      test::JoiningThread waiter([&] {
        std::unique_lock<ProcessMutex> lock(data.mutex);
        waiting.store(true);
        // Woken by the holder's notify, then blocked on the relock until the
        // holder is killed.
        result.store(
            static_cast<int>(data.not_empty.wait_for(data.mutex, std::chrono::seconds(60))));
        flag_owner_died.store(data.mutex.owner_died());
      });
      REQUIRE(test::eventually([&] { return waiting.load(); }));
      // The waiter has released the mutex once the child can take it.
      auto holder = test::Child::spawn("process_mutex_hold_forever", {guard.name()});
      const bool held = test::eventually([&] { return data.ready.load() == 1; });
      holder.kill();
      holder.wait();
      CHECK(held);
    }
    CHECK(result.load() == static_cast<int>(ConditionStatus::owner_died));
    CHECK(flag_owner_died.load());
    CHECK(data.counter == 12345);
    // The waiter's unique_lock released it.
    CHECK(data.mutex.lock_for(std::chrono::seconds(30)) == LockStatus::acquired);
    data.mutex.unlock();
  }

  TEST_CASE("garbage written over the mutex: taken over as from a dead owner, never a hang") {
    test::NameGuard guard(test::unique_name("psg"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    std::mt19937_64 random(0x5eed);
    const std::uint64_t words[] = {
        0xffffffffffffffffULL,              // the sleepers bit and a pid past any range
        0x7fffffff00000001ULL,              // a pid past the OS's range
        0x8000000000000000ULL,              // only the sleepers bit: free, with a waiter announced
        (std::uint64_t{1} << 32) | 0x1234,  // pid 1 (init), another start time
        random(),
        random() | (std::uint64_t{1} << 63),
    };
    for (const std::uint64_t word : words) {
      CAPTURE(word);
      std::memcpy(static_cast<void*>(&data.mutex), &word, sizeof word);  // the owner word
      std::error_code ec;
      LockStatus status{};
      const auto took = time_of([&] { status = data.mutex.lock_for(std::chrono::seconds(5), ec); });
      CHECK_FALSE(ec);
      CHECK(status != LockStatus::timed_out);
      CHECK(took < std::chrono::seconds(5));
      data.mutex.unlock(ec);
      CHECK_FALSE(ec);
      // Then it is a mutex again.
      CHECK(data.mutex.lock_for(std::chrono::seconds(5)) == LockStatus::acquired);
      data.mutex.unlock();
    }
    // Random bytes over the whole of both objects: every call returns by its
    // deadline, with a result or an error.
    for (int round = 0; round < 20; ++round) {
      unsigned char bytes[sizeof(ProcessMutex) + sizeof(ProcessCondition)];
      for (auto& byte : bytes) byte = static_cast<unsigned char>(random());
      std::memcpy(static_cast<void*>(&data.mutex), bytes, sizeof(ProcessMutex));
      std::memcpy(static_cast<void*>(&data.not_empty), bytes + sizeof(ProcessMutex),
                  sizeof(ProcessCondition));
      std::error_code ec;
      const auto took = time_of([&] {
        const LockStatus status = data.mutex.lock_for(std::chrono::milliseconds(200), ec);
        if (!ec && status != LockStatus::timed_out) {
          (void)data.not_empty.wait_for(data.mutex, std::chrono::milliseconds(20), ec);
          data.not_empty.notify_all();
          data.mutex.unlock(ec);
        }
      });
      CHECK(took < std::chrono::seconds(10));
      new (&data.mutex) ProcessMutex();
      new (&data.not_empty) ProcessCondition();
    }
  }

  TEST_CASE("timed locks on a held mutex give up by their deadline") {
    test::NameGuard guard(test::unique_name("pst"));
    auto shm = make_segment(guard.name());
    auto& data = data_of(shm);
    auto holder = test::Child::spawn("process_mutex_hold_forever", {guard.name()});
    REQUIRE(test::eventually([&] { return data.ready.load() == 1; }));

    bool locked = true;
    const auto waited =
        time_of([&] { locked = data.mutex.try_lock_for(std::chrono::milliseconds(100)); });
    CHECK_FALSE(locked);
    CHECK(waited >= std::chrono::milliseconds(100));
    CHECK(waited < std::chrono::seconds(20));  // generous: only "it did return"
    CHECK(data.mutex.lock_for(std::chrono::milliseconds(0)) == LockStatus::timed_out);
    CHECK(data.mutex.lock_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(20)) ==
          LockStatus::timed_out);
    CHECK_FALSE(data.mutex.try_lock_until(std::chrono::system_clock::now() +
                                          std::chrono::milliseconds(20)));
    CHECK_FALSE(data.mutex.try_lock());
    std::error_code ec;
    CHECK_FALSE(data.mutex.try_lock_for(std::chrono::milliseconds(10), ec));
    CHECK_FALSE(ec);
    holder.kill();
    holder.wait();
  }

  TEST_CASE("condition waits time out by their deadline, holding the mutex again") {
    ProcessMutex mutex;
    ProcessCondition condition;
    std::unique_lock<ProcessMutex> lock(mutex);
    ConditionStatus status = ConditionStatus::notified;
    auto waited =
        time_of([&] { status = condition.wait_for(mutex, std::chrono::milliseconds(50)); });
    CHECK(status == ConditionStatus::timed_out);
    CHECK(waited >= std::chrono::milliseconds(50));
    CHECK(waited < std::chrono::seconds(20));
    bool predicate_held = true;
    waited = time_of([&] {
      predicate_held = condition.wait_until(
          mutex, std::chrono::system_clock::now() + std::chrono::milliseconds(30),
          [] { return false; });
    });
    CHECK_FALSE(predicate_held);
    CHECK(waited >= std::chrono::milliseconds(25));  // system_clock to steady_clock: allow a tick
    CHECK(condition.wait_for(mutex, std::chrono::milliseconds(0)) == ConditionStatus::timed_out);
    // Still held by this thread: unlocking works.
    std::error_code ec;
    lock.release();
    mutex.unlock(ec);
    CHECK_FALSE(ec);
  }

  TEST_CASE("a notify before the wait is not lost when the predicate is used") {
    ProcessMutex mutex;
    ProcessCondition condition;
    bool ready = false;
    {
      std::lock_guard<ProcessMutex> lock(mutex);
      ready = true;
      condition.notify_one();  // nobody waits yet
    }
    std::unique_lock<ProcessMutex> lock(mutex);
    bool got = false;
    const auto waited = time_of(
        [&] { got = condition.wait_for(mutex, std::chrono::seconds(30), [&] { return ready; }); });
    CHECK(got);
    CHECK(waited < std::chrono::seconds(1));
  }

  TEST_CASE("notify_one and notify_all wake threads waiting with a predicate") {
    ProcessMutex mutex;
    ProcessCondition condition;
    int stage = 0;
    std::atomic<int> woken{0};
    std::atomic<int> waiting{0};
    {
      std::vector<std::unique_ptr<test::JoiningThread>> threads;
      for (int i = 0; i < 3; ++i) {
        threads.push_back(std::make_unique<test::JoiningThread>([&] {
          std::unique_lock<ProcessMutex> lock(mutex);
          waiting.fetch_add(1);
          if (condition.wait_for(mutex, std::chrono::seconds(60), [&] { return stage == 1; })) {
            woken.fetch_add(1);
          }
        }));
      }
      REQUIRE(test::eventually([&] { return waiting.load() == 3; }));
      {
        std::lock_guard<ProcessMutex> lock(mutex);
        stage = 1;
      }
      condition.notify_all();
    }
    CHECK(woken.load() == 3);

    // notify_one, a thread at a time.
    int turns = 0;
    {
      test::JoiningThread waiter([&] {
        std::unique_lock<ProcessMutex> lock(mutex);
        for (int i = 0; i < 5; ++i) {
          if (!condition.wait_for(mutex, std::chrono::seconds(60), [&] { return turns > i; })) {
            return;
          }
        }
      });
      for (int i = 1; i <= 5; ++i) {
        std::lock_guard<ProcessMutex> lock(mutex);
        turns = i;
        condition.notify_one();
      }
    }
    CHECK(turns == 5);
  }

  TEST_CASE("not recursive, owned by a thread, usable with std::unique_lock and lock_guard") {
    ProcessMutex mutex;
    ProcessCondition condition;
    {
      std::unique_lock<ProcessMutex> lock(mutex, std::chrono::seconds(5));
      REQUIRE(lock.owns_lock());
      try {
        mutex.lock();
        FAIL("a second lock from the owning thread must throw");
      } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::resource_deadlock_would_occur);
      }
      std::error_code ec;
      CHECK_FALSE(mutex.try_lock(ec));
      CHECK(ec == std::errc::resource_deadlock_would_occur);
      test::JoiningThread other([&] {
        CHECK_FALSE(mutex.try_lock());  // held by the main thread
        // Misuse: unlock() does nothing, unlock(ec) says so; the lock stays.
        mutex.unlock();
        std::error_code unlock_ec;
        mutex.unlock(unlock_ec);
        CHECK(unlock_ec == errc::invalid_state);
        // Waiting on a condition without holding the mutex.
        std::error_code wait_ec;
        CHECK(condition.wait_for(mutex, std::chrono::milliseconds(10), wait_ec) ==
              ConditionStatus::timed_out);
        CHECK(wait_ec == errc::invalid_state);
        CHECK_FALSE(mutex.try_lock());
      });
    }
    // Unlocked by the unique_lock: free for another thread.
    {
      test::JoiningThread other([&] {
        std::lock_guard<ProcessMutex> guard(mutex);
        CHECK_FALSE(mutex.owner_died());
      });
    }
    std::error_code ec;
    mutex.unlock(ec);
    CHECK(ec == errc::invalid_state);
    std::unique_lock<ProcessMutex> deferred(mutex, std::defer_lock);
    CHECK(deferred.try_lock());
    CHECK(condition.wait_for(*deferred.mutex(), std::chrono::milliseconds(1), ec) ==
          ConditionStatus::timed_out);
    CHECK_FALSE(ec);
  }
}
