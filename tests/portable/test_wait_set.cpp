// WaitSet: waiting on rings, channels, a server, events, semaphores and a
// topic's subscriber at once, with child processes making them ready; and its pollable handle.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"

#include "sync/sync_segment.hpp"
#include "sync/word_waiter.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "segment/segment_header.hpp"
#include "sync/shared_event.hpp"
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

// One object of every kind, each named after `base`, and a WaitSet on them.
struct Objects {
  explicit Objects(const std::string& base_name)
      : base(base_name),
        guard(base + "r"),
        ring(RingConsumer::create(base + "r", 4096)),
        channel(Channel::create(base + "c", 4096)),
        server(Server::create(base + "s")),
        event(NamedEvent::create(base + "e", EventReset::auto_reset)),
        semaphore(NamedSemaphore::create(base + "m", 0)),
        topic(Topic::create(base + "t", TopicConfig{64, 4})),
        subscriber(Subscriber::open(base + "t")) {
    guard.add(base + "c");
    guard.add(base + "t");
    guard.add(base + "s");
    guard.add(base + "e");
    guard.add(base + "m");
    keys.push_back(set.add(ring));
    keys.push_back(set.add(channel));
    keys.push_back(set.add(server));
    keys.push_back(set.add(event));
    keys.push_back(set.add(semaphore));
    keys.push_back(set.add(subscriber));
  }

  std::string base;
  test::NameGuard guard;
  RingConsumer ring;
  Channel channel;
  Server server;
  NamedEvent event;
  NamedSemaphore semaphore;
  Topic topic;
  Subscriber subscriber;
  WaitSet set;  // after the objects: destroyed before them
  std::vector<std::size_t> keys;
};

const std::vector<std::string> k_kinds = {"ring",  "channel",   "server",
                                          "event", "semaphore", "topic"};

// Whether the pollable handle is signaled within `timeout_ms`.
bool signaled(std::intptr_t handle, int timeout_ms) {
#if defined(_WIN32)
  return ::WaitForSingleObject(reinterpret_cast<HANDLE>(handle), static_cast<DWORD>(timeout_ms)) ==
         WAIT_OBJECT_0;
#else
  pollfd entry{static_cast<int>(handle), POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1 && (entry.revents & POLLIN) != 0;
#endif
}

// Waits until someone sleeps in the event's wait (POSIX, where its state is
// in shared memory); at once on Win32, where the kernel keeps it.
bool someone_waits_on(const std::string& event) {
#if defined(_WIN32)
  (void)event;
  return true;
#else
  SegmentOptions raw;
  raw.raw = true;
  std::error_code ec;
  NamedSharedMemory memory = NamedSharedMemory::open(event, raw, ec);
  if (ec) return false;
  const auto* bytes = static_cast<const std::byte*>(memory.data()) + detail::k_header_size;
  const auto* preamble = reinterpret_cast<const detail::SyncPreamble*>(bytes);
  const auto* state =
      reinterpret_cast<const detail::EventState*>(bytes + sizeof(detail::SyncPreamble));
  // The thread, and with futex the WaitSet too (the portable path's WaitSet
  // polls without announcing itself).
  const std::uint32_t sleepers = preamble->waiter_kind == 1 ? 2 : 1;
  return test::eventually([&] { return state->waiters.load() >= sleepers; },
                          std::chrono::seconds(60));
#endif
}

// For each kind in turn: a child makes that object ready while the set
// sleeps, and the wait returns exactly its key.
void check_each_kind_wakes_its_key() {
  for (std::size_t i = 0; i < k_kinds.size(); ++i) {
    const std::string& kind = k_kinds[i];
    CAPTURE(kind);
    const std::string base = test::unique_name("ws");
    Objects objects(base);
    CHECK(objects.set.size() == k_kinds.size());
    CHECK(objects.set.try_wait().empty());

    auto child = test::Child::spawn("wait_set_signal", {kind, base});
    const std::vector<std::size_t> ready = objects.set.wait_for(std::chrono::seconds(60));
    CHECK(ready == std::vector<std::size_t>{objects.keys[i]});

    // Readiness took nothing: the object's own try_ call gets it.
    char buffer[16];
    Channel connection;  // held until the client has seen it accepted
    if (kind == "ring") {
      CHECK(objects.ring.try_receive(buffer, sizeof buffer) == std::optional<std::size_t>(2));
    } else if (kind == "channel") {
      CHECK(objects.channel.try_receive(buffer, sizeof buffer) == std::optional<std::size_t>(2));
    } else if (kind == "server") {
      connection = objects.server.try_accept();
      CHECK(connection.is_open());
    } else if (kind == "event") {
      CHECK(objects.event.try_wait());
    } else if (kind == "topic") {
      const Sample sample = objects.subscriber.try_receive();
      CHECK(sample.size() == 2);
    } else {
      CHECK(objects.semaphore.try_wait());
    }
    const auto status = child.wait();
    CHECK(status.exited);
    CHECK(status.code == 0);
    // Taken: no longer ready (a ring, channel or subscriber whose writer
    // has left stays ready: its receive reports peer_gone).
    if (kind != "ring" && kind != "channel" && kind != "topic") {
      CHECK(objects.set.try_wait().empty());
    }
  }
}

}  // namespace

// args: kind base. Makes the object of `kind` (named as Objects names it)
// ready, once.
SHMKIT_CHILD_ROLE(wait_set_signal) {
  const std::string& kind = args.at(0);
  const std::string& base = args.at(1);
  if (kind == "ring") {
    auto ring = RingProducer::open(base + "r");
    ring.send("hi", 2);
  } else if (kind == "channel") {
    auto channel = Channel::open(base + "c");
    channel.send("hi", 2);
  } else if (kind == "server") {
    // Returns once the test accepts.
    auto channel = Client::connect_for(base + "s", std::chrono::seconds(60));
    if (!channel.is_open()) return 2;
  } else if (kind == "event") {
    NamedEvent::open(base + "e").set();
  } else if (kind == "semaphore") {
    NamedSemaphore::open(base + "m").post();
  } else if (kind == "topic") {
    Publisher::open(base + "t").publish_copy("hi", 2);
  } else {
    return 3;
  }
  return 0;
}

// args: ring event. Takes the producer end, says so, and waits to be killed.
SHMKIT_CHILD_ROLE(wait_set_producer_hangs) {
  auto ring = RingProducer::open(args.at(0));
  NamedEvent::open(args.at(1)).set();
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 1;
}

TEST_SUITE("wait_set") {
  TEST_CASE("a child makes one of mixed objects ready: the wait returns exactly its key") {
    check_each_kind_wakes_its_key();
  }

  TEST_CASE("nothing ready: try_wait is empty at once, wait_for at its deadline") {
    Objects objects(test::unique_name("ws"));
    CHECK(objects.set.try_wait().empty());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    CHECK(objects.set.wait_until(deadline).empty());
    CHECK(std::chrono::steady_clock::now() >= deadline);  // it waited, and returned
    const auto before = std::chrono::steady_clock::now();
    CHECK(objects.set.wait_for(std::chrono::milliseconds(20)).empty());
    CHECK(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(20));
    // A point on another clock, and the error_code forms.
    std::error_code ec;
    CHECK(objects.set.wait_until(std::chrono::system_clock::now(), ec).empty());
    CHECK(!ec);
    CHECK(objects.set.try_wait(ec).empty());
    CHECK(objects.set.wait_for(std::chrono::milliseconds(1), ec).empty());
    CHECK(!ec);
  }

  TEST_CASE("several ready at once: every key, in key order") {
    Objects objects(test::unique_name("ws"));
    objects.semaphore.post(2);
    objects.event.set();
    const std::vector<std::size_t> expected{objects.keys[3], objects.keys[4]};
    CHECK(objects.set.wait() == expected);
    CHECK(objects.set.try_wait() == expected);  // nothing was taken
    CHECK(objects.semaphore.try_wait());
    CHECK(objects.set.try_wait() == expected);  // one unit left
    CHECK(objects.semaphore.try_wait());
    CHECK(objects.set.try_wait() == std::vector<std::size_t>{objects.keys[3]});
    CHECK(objects.event.try_wait());
    CHECK(objects.set.try_wait().empty());
  }

  TEST_CASE("remove: the entry is no longer reported, and its key is reused") {
    Objects objects(test::unique_name("ws"));
    const std::size_t event_key = objects.keys[3];
    objects.set.remove(event_key);
    objects.set.remove(event_key);  // twice: nothing
    objects.set.remove(1000);       // never used: nothing
    CHECK(objects.set.size() == k_kinds.size() - 1);
    objects.event.set();
    CHECK(objects.set.try_wait().empty());
    CHECK(objects.set.add(objects.event) == event_key);
    CHECK(objects.set.try_wait() == std::vector<std::size_t>{event_key});
  }

  TEST_CASE("a ring whose producer died is ready, and its receive reports peer_gone") {
    const std::string ring_name = test::unique_name("wsd");
    test::NameGuard guard(ring_name);
    guard.add(ring_name + "e");
    auto consumer = RingConsumer::create(ring_name, 4096);
    auto attached = NamedEvent::create(ring_name + "e", EventReset::manual_reset);
    WaitSet set;
    const std::size_t key = set.add(consumer);
    auto child = test::Child::spawn("wait_set_producer_hangs", {ring_name, ring_name + "e"});
    REQUIRE(attached.wait_for(std::chrono::seconds(60)));
    CHECK(set.try_wait().empty());  // a live producer, no message
    child.kill();
    child.wait();
    CHECK(set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{key});
    char buffer[8];
    std::error_code ec;
    CHECK(!consumer.try_receive(buffer, sizeof buffer, ec));
    CHECK(ec == errc::peer_gone);
  }

  TEST_CASE("a producer is ready while a message of its size fits") {
    const std::string name = test::unique_name("wsp");
    test::NameGuard guard(name);
    auto consumer = RingConsumer::create(name, 256);
    auto producer = RingProducer::open(name);
    WaitSet set;
    const std::size_t key = set.add(producer, 120);
    CHECK(set.try_wait() == std::vector<std::size_t>{key});
    const std::string message(120, 'x');
    producer.send(message.data(), message.size());
    CHECK(set.try_wait() == std::vector<std::size_t>{key});
    producer.send(message.data(), message.size());
    CHECK(set.try_wait().empty());  // full: 2 records of 8 + 120 bytes
    char buffer[128];
    CHECK(consumer.try_receive(buffer, sizeof buffer));
    CHECK(set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{key});
    std::error_code ec;
    CHECK(set.add(producer, 1000, ec) == WaitSet::k_no_key);
    CHECK(ec == errc::message_too_large);
  }

  TEST_CASE("the pollable handle is signaled while an entry is ready") {
    Objects objects(test::unique_name("ws"));
    const std::intptr_t handle = objects.set.pollable_handle();
    CHECK(objects.set.pollable_handle() == handle);  // started once
    CHECK_FALSE(signaled(handle, 0));
    auto child = test::Child::spawn("wait_set_signal", {"event", objects.base});
    CHECK(signaled(handle, 60000));
    CHECK(child.wait().code == 0);
    CHECK(signaled(handle, 0));  // level-triggered: still ready
    CHECK(objects.event.wait_for(std::chrono::seconds(60)));
    // The watcher notices that it was taken by itself...
    CHECK(test::eventually([&] { return !signaled(handle, 0); }));
    // ...and a wait call on the set updates the handle at once. (On Windows
    // the watcher's sleep takes the unit that wakes it and gives it back: a
    // try_wait at that instant could miss it, so the waits here have time.)
    objects.semaphore.post();
    CHECK(objects.set.wait_for(std::chrono::seconds(60)) ==
          std::vector<std::size_t>{objects.keys[4]});
    CHECK(signaled(handle, 60000));
    CHECK(objects.semaphore.wait_for(std::chrono::seconds(60)));
    CHECK(objects.set.try_wait().empty());
    CHECK_FALSE(signaled(handle, 0));
    // Entries added and removed while the watcher runs.
    objects.guard.add(objects.base + "x");
    NamedEvent extra = NamedEvent::create(objects.base + "x", EventReset::manual_reset);
    const std::size_t extra_key = objects.set.add(extra);
    extra.set();
    CHECK(signaled(handle, 60000));
    objects.set.remove(extra_key);
    CHECK(test::eventually([&] { return !signaled(handle, 0); }));
    CHECK(objects.set.wait_for(std::chrono::milliseconds(1)).empty());
  }

  TEST_CASE("a wake-up reaches the object's own waiter while a WaitSet waits beside it") {
    const std::string base = test::unique_name("ws");
    Objects objects(base);
    // A manual-reset event: both the thread and the WaitSet see it set.
    const std::string name = base + "v";
    objects.guard.add(name);
    auto event = NamedEvent::create(name, EventReset::manual_reset);
    const std::size_t key = objects.set.add(event);
    std::atomic<bool> woke{false};
    // The threads' waits are bounded and use the error_code forms: nothing
    // throws on them, and the joins end.
    test::JoiningThread waiter([&] {
      std::error_code ec;
      NamedEvent own = NamedEvent::open(name, {}, ec);
      woke = !ec && own.wait_for(std::chrono::seconds(60), ec);
    });
    test::JoiningThread setter([&] {
      // Once both the thread and the WaitSet sleep on it (POSIX can tell).
      std::error_code ec;
      if (someone_waits_on(name)) NamedEvent::open(name, {}, ec).set(ec);
    });
    CHECK(objects.set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{key});
    setter.join();
    waiter.join();
    CHECK(woke);

    // The same with a ring: a thread peeking (and holding what it peeked)
    // and the WaitSet, both asleep when the message comes.
    RingOptions blocking;
    blocking.wait.strategy = WaitStrategy::blocking;
    const std::string ring_name = base + "b";
    objects.guard.add(ring_name);
    auto consumer = RingConsumer::create(ring_name, 4096, blocking);
    WaitSet ring_set;
    const std::size_t ring_key = ring_set.add(consumer);
    std::atomic<bool> peeked{false};
    test::JoiningThread reader([&] {
      std::error_code ec;
      peeked = static_cast<bool>(consumer.peek_for(std::chrono::seconds(60), ec));
    });
    auto producer = RingProducer::open(ring_name);
    producer.send("x", 1);
    CHECK(ring_set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{ring_key});
    reader.join();
    CHECK(peeked);
  }

  TEST_CASE("misuse: empty handles, an empty set waited on for ever") {
    WaitSet set;
    std::error_code ec;
    CHECK(set.add(RingConsumer(), ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK(set.add(RingProducer(), 0, ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK(set.add(Channel(), ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK(set.add(Server(), ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK(set.add(NamedEvent(), ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK(set.add(NamedSemaphore(), ec) == WaitSet::k_no_key);
    CHECK(ec == errc::invalid_state);
    CHECK_THROWS_AS((void)set.add(NamedEvent()), Error);
    CHECK(set.size() == 0);
    CHECK(set.wait(ec).empty());
    CHECK(ec == errc::invalid_state);
    CHECK(set.try_wait().empty());
    CHECK(set.wait_for(std::chrono::milliseconds(1)).empty());

    // At most k_max_wait_set_entries entries.
    const std::string name = test::unique_name("wsf");
    test::NameGuard guard(name);
    auto event = NamedEvent::create(name, EventReset::auto_reset);
    for (std::size_t i = 0; i < k_max_wait_set_entries; ++i) CHECK(set.add(event) == i);
    CHECK(set.add(event, ec) == WaitSet::k_no_key);
    CHECK(ec == errc::overflow);
    WaitSet moved(std::move(set));
    CHECK(moved.size() == k_max_wait_set_entries);
    CHECK(set.size() == 0);  // NOLINT(bugprone-use-after-move): a moved-from set is empty
  }

  TEST_CASE("the same objects added twice: waited on once, reported under both keys") {
    // Win32: WaitForMultipleObjects refuses a handle given twice; Linux:
    // futex_waitv gets the same word twice.
    const std::string base = test::unique_name("ws");
    test::NameGuard guard(base + "e");
    guard.add(base + "r");
    auto event = NamedEvent::create(base + "e", EventReset::auto_reset);
    auto ring = RingConsumer::create(base + "r", 4096);
    WaitSet set;
    const std::size_t event_a = set.add(event);
    const std::size_t ring_a = set.add(ring);
    const std::size_t event_b = set.add(event);
    const std::size_t ring_b = set.add(ring);
    CHECK(set.try_wait().empty());
    CHECK(set.wait_for(std::chrono::milliseconds(20)).empty());  // at its deadline

    auto child = test::Child::spawn("wait_set_signal", {"event", base});
    CHECK(set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{event_a, event_b});
    CHECK(child.wait().code == 0);
    CHECK(event.try_wait());  // nothing was taken: the signal is still there
    CHECK(set.try_wait().empty());

    child = test::Child::spawn("wait_set_signal", {"ring", base});
    CHECK(set.wait_for(std::chrono::seconds(60)) == std::vector<std::size_t>{ring_a, ring_b});
    CHECK(child.wait().code == 0);
    char buffer[8];
    CHECK(ring.try_receive(buffer, sizeof buffer) == std::optional<std::size_t>(2));
  }

  TEST_CASE("a multi-wait that fails is polled around: the waits still work") {
    // Linux: futex_waitv fails with EINVAL, as under a seccomp filter or an
    // odd kernel; the process then polls (and must not spin on the error).
    // Win32: WaitForMultipleObjects fails (WAIT_FAILED). Portable: no change.
    struct Mend {
      ~Mend() { detail::break_wait_any_for_testing(false); }
    } mend;
    detail::break_wait_any_for_testing(true);
    {
      Objects objects(test::unique_name("ws"));
      CHECK(objects.set.wait_for(std::chrono::milliseconds(20)).empty());
    }
    // futex: the failure is remembered, and the sets poll from then on.
    if (detail::word_waiter_kind() == 1) CHECK(detail::wait_any_polls());
    check_each_kind_wakes_its_key();

    Objects objects(test::unique_name("ws"));
    const std::intptr_t handle = objects.set.pollable_handle();
    auto child = test::Child::spawn("wait_set_signal", {"semaphore", objects.base});
    CHECK(signaled(handle, 60000));
    CHECK(child.wait().code == 0);
    CHECK(objects.semaphore.wait_for(std::chrono::seconds(60)));
    CHECK(test::eventually([&] { return !signaled(handle, 0); }));
  }

#if !defined(_WIN32)
  TEST_CASE("a WaitSet inherited through fork() belongs to the parent") {
    Objects objects(test::unique_name("ws"));
    (void)objects.set.pollable_handle();  // a watcher thread, which the child does not have
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::error_code ec;
      const bool refused =
          objects.set.try_wait(ec).empty() && ec == errc::invalid_state && objects.set.size() == 0;
      {
        WaitSet inherited(std::move(objects.set));  // destroyed without joining anything
      }
      ::_exit(refused ? 0 : 1);
    }
    REQUIRE(pid > 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    objects.event.set();  // the parent's set is untouched
    CHECK(objects.set.wait_for(std::chrono::seconds(60)) ==
          std::vector<std::size_t>{objects.keys[3]});
  }
  TEST_CASE("in a fork() child, a WaitSet refuses every handle the child inherited") {
    Objects objects(test::unique_name("ws"));
    auto producer = RingProducer::open(objects.base + "r");
    const pid_t pid = ::fork();
    if (pid == 0) {
      WaitSet set;
      int failed = 0;
      const auto refused = [&](std::size_t key, const std::error_code& ec, int bit) {
        if (key != WaitSet::k_no_key || ec != errc::invalid_state) failed |= bit;
      };
      std::error_code ec;
      refused(set.add(objects.ring, ec), ec, 1);
      refused(set.add(producer, 0, ec), ec, 2);
      refused(set.add(objects.channel, ec), ec, 4);
      refused(set.add(objects.server, ec), ec, 8);
      refused(set.add(objects.event, ec), ec, 16);
      refused(set.add(objects.semaphore, ec), ec, 32);
      refused(set.add(objects.subscriber, ec), ec, 64);
      // What the child opens itself is taken.
      NamedEvent own = NamedEvent::open(objects.base + "e", {}, ec);
      if (ec || set.add(own, ec) != 0 || ec) failed |= 128;
      ::_exit(failed);
    }
    REQUIRE(pid > 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
#endif

#if defined(_WIN32)
  TEST_CASE("Windows: an event or semaphore handle without the query right is refused") {
    // Everyone may wait, signal and read the owner, but not query the state:
    // open() asks for the query right first and settles for less.
    SyncOptions strict;
    strict.security_descriptor = "D:P(A;;0x100002;;;WD)(A;;RC;;;WD)";
    const std::string base = test::unique_name("wsq");
    test::NameGuard guard(base + "e");
    guard.add(base + "m");
    auto event = NamedEvent::create(base + "e", EventReset::manual_reset, strict);
    auto semaphore = NamedSemaphore::create(base + "m", 0, strict);
    auto opened_event = NamedEvent::open(base + "e");
    auto opened_semaphore = NamedSemaphore::open(base + "m");
    WaitSet set;
    // The creator's handles have every right.
    CHECK(set.add(event) == 0);
    CHECK(set.add(semaphore) == 1);
    std::error_code ec;
    CHECK(set.add(opened_event, ec) == WaitSet::k_no_key);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    CHECK(ec == std::errc::permission_denied);
    ec.clear();
    CHECK(set.add(opened_semaphore, ec) == WaitSet::k_no_key);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    try {
      (void)set.add(opened_event);
      FAIL("add() took a handle it cannot look at");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK(what.find("EVENT_QUERY_STATE") != std::string::npos);
      CHECK(what.find(base + "e") != std::string::npos);
    }
    // The opened handles still work for what they were opened for.
    opened_event.set();
    CHECK(set.try_wait() == std::vector<std::size_t>{0});
  }
#endif
}
