// Stale segments: found after their processes die, removed only then, never
// while a live process uses them, and reclaimed by open_or_create.
#include <doctest/doctest.h>

#include <shmkit/lifecycle.hpp>
#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/joining_thread.hpp"
#include "../support/test_names.hpp"
#include "core/failure.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

Backend parse_backend(const std::string& text) {
  if (text == "sysv") return Backend::sysv;
  if (text == "win32") return Backend::win32;
  return Backend::posix;
}

SegmentOptions on(Backend backend) {
  SegmentOptions options;
  options.backend = backend;
  return options;
}

ListOptions only(const std::string& prefix, Backend backend) {
  ListOptions options;
  options.backends = {backend};
  options.name_prefix = prefix;
  return options;
}

// The segment as list_segments sees it; REQUIREs that it is listed once.
SegmentInfo listed(const std::string& name, Backend backend) {
  const auto all = list_segments(only(name, backend));
  std::vector<SegmentInfo> same;
  for (const auto& s : all) {
    if (s.name == name) same.push_back(s);
  }
  REQUIRE(same.size() == 1);
  return same.front();
}

// A dead object's listing, once it reads stale. A lister in another test
// binary running beside this one attaches SysV segments for a moment (their
// headers can only be read through shmat), which rightly keeps them from
// being stale until it detaches: wait that out instead of failing on it.
SegmentInfo listed_stale(const std::string& name, Backend backend) {
  SegmentInfo info = listed(name, backend);
  (void)test::eventually([&] {
    info = listed(name, backend);
    return info.stale;
  });
  return info;
}

// remove_stale for one name, retried past such a passing lister.
std::vector<SegmentInfo> removed_stale(const std::string& name, Backend backend) {
  std::vector<SegmentInfo> removed;
  (void)test::eventually([&] {
    removed = remove_stale(only(name, backend));
    return !removed.empty();
  });
  return removed;
}

// remove_if_stale, retried past such a passing lister.
bool removed_if_stale(const std::string& name, Backend backend) {
  return test::eventually([&] { return remove_if_stale(name, on(backend)); });
}

bool lists_alive(const SegmentInfo& s, std::uint64_t pid) {
  return std::any_of(s.attached.begin(), s.attached.end(),
                     [&](const AttachedProcess& p) { return p.pid == pid && p.alive; });
}

// Waits until `name` shows `pid` as its creator, or as an attached process.
bool shows(const std::string& name, Backend backend, std::uint64_t pid, bool as_creator) {
  return test::eventually([&] {
    std::error_code ec;
    const SegmentInfo s = inspect_segment(name, on(backend), ec);
    if (ec || s.state != HeaderState::ready) return false;
    return as_creator ? s.creator.pid == pid : lists_alive(s, pid);
  });
}

std::uint64_t random_token() {
  static std::mt19937_64 random{std::random_device{}()};
  std::uint64_t token = 0;
  while (token == 0) token = random();
  return token;
}

std::atomic<std::uint64_t>* words(const NamedSharedMemory& shm) {
  return static_cast<std::atomic<std::uint64_t>*>(shm.data());
}

// Rewrites the header of `name` as a process that died while removing it
// would have left it.
void leave_abandoned_mark(const std::string& name, Backend backend, std::uint64_t dead_pid) {
  SegmentOptions raw = on(backend);
  raw.raw = true;
  auto shm = NamedSharedMemory::open(name, raw);
  auto* header = static_cast<detail::SegmentHeader*>(shm.data());
  // The low bits are a start time no process of that pid ever had.
  header->remover.store((dead_pid << 32) | 0x5eed);
  header->state.store(static_cast<std::uint32_t>(detail::SegmentState::removing));
}

std::uint32_t state_of(const std::string& name, Backend backend) {
  SegmentOptions raw = on(backend);
  raw.raw = true;
  raw.access = Access::read_only;
  auto shm = NamedSharedMemory::open(name, raw);
  return static_cast<const detail::SegmentHeader*>(shm.data())->state.load();
}

// A pid that no running process has, with no process left behind.
std::uint64_t dead_pid();

// macOS and the BSDs cannot enumerate POSIX segments (no /dev/shm) nor SysV
// ones here; tests that list skip those backends there.
bool can_list(Backend backend) {
  ListOptions options;
  options.backends = {backend};
  options.name_prefix = "\x01";  // matches nothing: only asks whether listing works
  std::error_code ec;
  (void)list_segments(options, ec);
  if (ec) MESSAGE("skipped for " << to_string(backend) << ": " << ec.message());
  return !ec;
}

}  // namespace

// args: name backend size. Creates the segment, then waits to be killed.
SHMKIT_CHILD_ROLE(lc_create_hold) {
  auto shm =
      NamedSharedMemory::create(args.at(0), std::stoul(args.at(2)), on(parse_backend(args.at(1))));
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

// args: name backend. Opens the segment read-write, then waits to be killed.
SHMKIT_CHILD_ROLE(lc_attach_hold) {
  auto shm = NamedSharedMemory::open(args.at(0), on(parse_backend(args.at(1))));
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

// args: name backend size text. Creates the segment, writes `text` and
// exits without removing it: a stale leftover.
SHMKIT_CHILD_ROLE(lc_create_exit) {
  auto shm =
      NamedSharedMemory::create(args.at(0), std::stoul(args.at(2)), on(parse_backend(args.at(1))));
  std::snprintf(static_cast<char*>(shm.data()), shm.size(), "%s", args.at(3).c_str());
  return 0;
}

// args: name backend [lock]. Creates a mutex (always on the native backend:
// SyncOptions has none) and exits, holding it if asked.
SHMKIT_CHILD_ROLE(lc_mutex_exit) {
  auto mutex = NamedMutex::create(args.at(0));
  if (args.size() > 2) {
    mutex.lock();
    std::_Exit(0);  // dies holding it
  }
  return 0;
}

SHMKIT_CHILD_ROLE(lc_nothing) {
  return 0;
}

// args: name backend kind size. Creates the object through the segment
// layer with an initializer that never returns: the child stays inside
// creation, after the OS object exists and before it is published, until
// the test kills it (as a creator killed while a big Queue initialises).
SHMKIT_CHILD_ROLE(lc_create_stuck) {
  detail::SegmentRequest request;
  request.kind = static_cast<ObjectKind>(std::stoul(args.at(2)));
  request.initialize = [](void*, std::size_t, const void*, detail::Failure&) {
    std::promise<void> never;
    never.get_future().wait();
  };
  detail::Failure failure;
  auto shm = detail::open_segment(args.at(0), std::stoul(args.at(3)), on(parse_backend(args.at(1))),
                                  detail::OpenMode::create, request, failure);
  if (failure) std::fprintf(stderr, "lc_create_stuck: %s\n", failure.message.c_str());
  return failure ? 2 : 3;
}

// args: name backend lane iterations. Opens (or creates) the segment, puts a
// token in its lane, and checks that the name still leads to the same
// memory while it is attached; then closes. A remover that removed a segment
// in use would break the second open or the token.
SHMKIT_CHILD_ROLE(lc_churn) {
  const SegmentOptions options = on(parse_backend(args.at(1)));
  const std::size_t lane = std::stoul(args.at(2));
  const int iterations = std::stoi(args.at(3));
  for (int i = 0; i < iterations; ++i) {
    std::error_code ec;
    auto first = NamedSharedMemory::open_or_create(args.at(0), 64, options, ec);
    if (ec) {
      std::fprintf(stderr, "lc_churn: open_or_create: %s\n", ec.message().c_str());
      return 3;
    }
    const std::uint64_t token = random_token();
    words(first)[lane].store(token);
    auto second = NamedSharedMemory::open(args.at(0), options, ec);
    if (ec) {
      std::fprintf(stderr, "lc_churn: removed while attached: %s\n", ec.message().c_str());
      return 4;
    }
    if (words(second)[lane].load() != token) {
      std::fprintf(stderr, "lc_churn: the name leads to other memory while attached\n");
      return 5;
    }
  }
  return 0;
}

namespace {

std::uint64_t dead_pid() {
  auto child = test::Child::spawn("lc_nothing");
  const std::uint64_t pid = child.pid();
  child.wait();
  return pid;
}

// Starts lc_create_stuck and waits until the object's header names the
// child while still initializing: the child is then inside creation, past
// the point where its identity is in the object.
test::Child stuck_creator(const std::string& name, Backend backend, ObjectKind kind,
                          std::size_t size) {
  auto child = test::Child::spawn(
      "lc_create_stuck", {name, to_string(backend), std::to_string(static_cast<unsigned>(kind)),
                          std::to_string(size)});
  const bool inside = test::eventually([&] {
    std::error_code ec;
    const SegmentInfo s = inspect_segment(name, on(backend), ec);
    return !ec && s.state == HeaderState::initializing && s.creator.pid == child.pid();
  });
  if (!inside) {
    std::error_code ec;
    const SegmentInfo s = inspect_segment(name, on(backend), ec);
    MESSAGE("the header never named the creator: kind "
            << std::string(to_string(s.kind)) << ", state " << std::string(to_string(s.state))
            << ", creator " << s.creator.pid);
  }
  REQUIRE(inside);
  return child;
}

// The same, killed: what a creator killed during a slow creation leaves.
void leave_killed_creation(const std::string& name, Backend backend, ObjectKind kind,
                           std::size_t size) {
  auto child = stuck_creator(name, backend, kind, size);
  child.kill();
  child.wait();
}

}  // namespace

TEST_SUITE("lifecycle") {
  TEST_CASE("a segment is stale once its creator and every attacher are killed") {
    for (Backend backend : test::segment_backends()) {
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcs"));
      const std::string& name = guard.name();
      auto creator = test::Child::spawn("lc_create_hold", {name, to_string(backend), "4096"});
      REQUIRE(shows(name, backend, creator.pid(), true));
      auto attacher = test::Child::spawn("lc_attach_hold", {name, to_string(backend)});
      REQUIRE(shows(name, backend, attacher.pid(), false));

      SegmentInfo live = listed(name, backend);
      CHECK(live.kind == ObjectKind::segment);
      CHECK(live.size == 4096);
      CHECK(live.os_size >= 4096 + detail::k_header_size);
      CHECK(live.creator.alive);
      CHECK(live.created_unix_ns != 0);
      CHECK_FALSE(live.stale);
      CHECK(remove_stale(only(name, backend)).empty());

      creator.kill();
      creator.wait();
      // The attacher alone keeps it alive.
      CHECK_FALSE(listed(name, backend).stale);
      CHECK_FALSE(remove_if_stale(name, on(backend)));

      attacher.kill();
      attacher.wait();
      if (backend == Backend::win32) {
        // A Win32 section dies with its last handle: nothing is left to be stale.
        CHECK_FALSE(NamedSharedMemory::exists(name, on(backend)));
        continue;
      }
      const SegmentInfo dead = listed_stale(name, backend);
      CHECK_FALSE(dead.creator.alive);
      CHECK(dead.creator.pid == creator.pid());
      REQUIRE(dead.attached.size() == 2);  // the creator's own slot and the attacher's
      CHECK(std::none_of(dead.attached.begin(), dead.attached.end(),
                         [](const AttachedProcess& p) { return p.alive; }));
      CHECK(dead.stale);

      const auto removed = removed_stale(name, backend);
      REQUIRE(removed.size() == 1);
      CHECK(removed.front().name == name);
      CHECK_FALSE(NamedSharedMemory::exists(name, on(backend)));
      CHECK(remove_stale(only(name, backend)).empty());
    }
  }

  TEST_CASE("open_or_create keeps a stale segment's data, and replaces it only when unusable") {
    for (Backend backend : test::segment_backends()) {
      if (backend == Backend::win32) continue;  // nothing outlives its processes there
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcr"));
      const std::string& name = guard.name();
      REQUIRE(test::run_child("lc_create_exit", {name, to_string(backend), "64", "old"}).code == 0);

      {
        // Of the same size, a stale leftover is opened with its data: POSIX
        // segments are meant to outlive their processes.
        auto kept = NamedSharedMemory::open_or_create(name, 64, on(backend));
        CHECK_FALSE(kept.created());
        CHECK(std::string(static_cast<const char*>(kept.data())) == "old");
      }
      SegmentOptions keep = on(backend);
      keep.reclaim_stale = false;
      {
        auto old = NamedSharedMemory::open_or_create(name, 64, keep);
        CHECK_FALSE(old.created());
        CHECK(std::string(static_cast<const char*>(old.data())) == "old");
        // Of another size, a kept leftover is a mismatch...
        std::error_code ec;
        (void)NamedSharedMemory::open_or_create(name, 128, keep, ec);
        CHECK(ec == errc::size_mismatch);
      }
      // ...and a reclaimed one is replaced by a fresh segment of the new size.
      auto fresh = NamedSharedMemory::open_or_create(name, 128, on(backend));
      CHECK(fresh.created());
      CHECK(fresh.size() == 128);
      CHECK(static_cast<const char*>(fresh.data())[0] == '\0');
      // Now this process is its creator: a second open_or_create opens it.
      auto again = NamedSharedMemory::open_or_create(name, 128, on(backend));
      CHECK_FALSE(again.created());
      // open() never reclaims.
      auto plain = NamedSharedMemory::open(name, on(backend));
      CHECK(plain.size() == 128);
    }
  }

  TEST_CASE("a stale mutex goes, even one its dead owner still holds") {
    for (Backend backend : test::segment_backends()) {
      if (backend == Backend::win32) continue;    // a Win32 mutex is a kernel object
      if (backend != native_backend()) continue;  // sync objects live on the native one
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcm"));
      const std::string& name = guard.name();
      REQUIRE(test::run_child("lc_mutex_exit", {name, to_string(backend), "lock"}).exited);
      const SegmentInfo info = listed_stale(name, backend);
      CHECK(info.kind == ObjectKind::mutex);
      CHECK(info.stale);
      CHECK(removed_stale(name, backend).size() == 1);
      std::error_code ec;
      (void)NamedMutex::open(name, {}, ec);
      CHECK(ec == errc::not_found);

      // open_or_create of a stale mutex opens it: it is still a working
      // mutex (only objects that cannot be used as asked are replaced).
      REQUIRE(test::run_child("lc_mutex_exit", {name, to_string(backend)}).exited);
      auto mutex = NamedMutex::open_or_create(name);
      CHECK(listed(name, backend).creator.pid != detail::current_process().pid);
      CHECK(mutex.try_lock());
      mutex.unlock();
    }
  }

  TEST_CASE("a removal abandoned by a dead remover is undone or finished") {
    for (Backend backend : test::segment_backends()) {
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      const std::uint64_t gone = dead_pid();
      const auto removing = static_cast<std::uint32_t>(detail::SegmentState::removing);
      const auto ready = static_cast<std::uint32_t>(detail::SegmentState::ready);

      // A live segment: the next opener takes the lock over and unmarks it.
      test::NameGuard live_guard(test::unique_name("lca"));
      auto live = NamedSharedMemory::create(live_guard.name(), 64, on(backend));
      leave_abandoned_mark(live_guard.name(), backend, gone);
      CHECK(state_of(live_guard.name(), backend) == removing);
      auto opened = NamedSharedMemory::open(live_guard.name(), on(backend));
      CHECK(opened.size() == 64);
      CHECK(state_of(live_guard.name(), backend) == ready);

      // A mark held by a live remover makes openers wait, then say why.
      leave_abandoned_mark(live_guard.name(), backend, gone);
      {
        SegmentOptions raw = on(backend);
        raw.raw = true;
        auto shm = NamedSharedMemory::open(live_guard.name(), raw);
        static_cast<detail::SegmentHeader*>(shm.data())
            ->remover.store(detail::pack_slot(detail::current_process()));
      }
      SegmentOptions quick = on(backend);
      quick.open_timeout = std::chrono::milliseconds(100);
      std::error_code ec;
      (void)NamedSharedMemory::open(live_guard.name(), quick, ec);
      CHECK(ec == errc::not_ready);
      try {
        (void)NamedSharedMemory::open(live_guard.name(), quick);
        FAIL("open() of a segment being removed succeeded");
      } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("being removed as stale") != std::string::npos);
      }
      if (backend == Backend::win32) continue;

      // A stale one: open() undoes the mark, open_or_create finishes the job.
      test::NameGuard stale_guard(test::unique_name("lcb"));
      const std::string& name = stale_guard.name();
      REQUIRE(test::run_child("lc_create_exit", {name, to_string(backend), "64", "x"}).code == 0);
      leave_abandoned_mark(name, backend, gone);
      {
        auto reopened = NamedSharedMemory::open(name, on(backend));
        CHECK_FALSE(reopened.created());
      }
      CHECK(state_of(name, backend) == ready);
      leave_abandoned_mark(name, backend, gone);
      auto replaced = NamedSharedMemory::open_or_create(name, 64, on(backend));
      CHECK(replaced.created());
    }
  }

  TEST_CASE("live segments survive remove_stale while processes attach and detach beside them") {
    for (Backend backend : test::segment_backends()) {
      if (backend == Backend::win32) continue;  // nothing can go stale there
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      const std::string base = test::unique_name("lcc") + ".";
      test::NameGuard guard(base + "live");
      guard.add(base + "held");
      guard.add(base + "churn");

      // Created by this (live) process.
      auto live = NamedSharedMemory::create(base + "live", 64, on(backend));
      const std::uint64_t live_token = random_token();
      words(live)[0].store(live_token);
      // Creator gone, but a live process keeps it open throughout.
      REQUIRE(test::run_child("lc_create_exit", {base + "held", to_string(backend), "64", "held"})
                  .code == 0);
      auto holder = test::Child::spawn("lc_attach_hold", {base + "held", to_string(backend)});
      {
        // Seen through a handle, which works where listing does not.
        auto probe = NamedSharedMemory::open(base + "held", on(backend));
        REQUIRE(test::eventually([&] {
          const auto table = probe.attached_processes();
          return std::any_of(table.begin(), table.end(), [&](const AttachedProcess& p) {
            return p.pid == holder.pid() && p.alive;
          });
        }));
      }

      std::atomic<bool> stop{false};
      std::mutex removed_mutex;
      std::vector<std::string> removed;
      test::JoiningThread remover([&] {
        // Both ways in: by listing (where the system can list) and by name.
        ListOptions options = only(base, backend);
        const std::string names[] = {base + "live", base + "held", base + "churn"};
        while (!stop.load()) {
          std::error_code ec;
          std::vector<std::string> gone;
          for (const auto& s : remove_stale(options, ec)) gone.push_back(s.name);
          for (const auto& name : names) {
            if (remove_if_stale(name, on(backend), ec)) gone.push_back(name);
          }
          std::lock_guard<std::mutex> lock(removed_mutex);
          removed.insert(removed.end(), gone.begin(), gone.end());
        }
      });
      // Waves of short-lived processes: each may create the churn segment,
      // and its death leaves the segment stale for the remover or for the
      // next wave's open_or_create to reclaim.
      int failures = 0;
      for (int wave = 0; wave < 10; ++wave) {
        std::vector<test::Child> lanes;
        for (int lane = 0; lane < 3; ++lane) {
          lanes.push_back(test::Child::spawn(
              "lc_churn", {base + "churn", to_string(backend), std::to_string(lane), "25"}));
        }
        for (auto& child : lanes) {
          const auto status = child.wait();
          if (!status.exited || status.code != 0) ++failures;
        }
      }
      stop.store(true);
      remover.join();

      CHECK(failures == 0);
      std::set<std::string> names(removed.begin(), removed.end());
      CHECK(names.count(base + "live") == 0);
      CHECK(names.count(base + "held") == 0);
      MESSAGE("remove_stale removed the churn segment " << removed.size() << " times");
      CHECK(words(live)[0].load() == live_token);
      auto reopened = NamedSharedMemory::open(base + "live", on(backend));
      CHECK(words(reopened)[0].load() == live_token);
      CHECK(NamedSharedMemory::exists(base + "held", on(backend)));
      holder.kill();
      holder.wait();
    }
  }

  TEST_CASE("what is not shmkit's is listed with `all` and never stale") {
    for (Backend backend : test::segment_backends()) {
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcf"));
      SegmentOptions raw = on(backend);
      raw.raw = true;
      auto shm = NamedSharedMemory::create(guard.name(), 1000, raw);
      std::memcpy(shm.data(), "not a header", 12);

      CHECK(list_segments(only(guard.name(), backend)).empty());
      ListOptions all = only(guard.name(), backend);
      all.all = true;
      const auto found = list_segments(all);
      const auto it = std::find_if(found.begin(), found.end(), [&](const SegmentInfo& s) {
        return s.name == guard.name() || (s.sysv && s.name.empty());
      });
      if (backend == Backend::sysv) {
        // A raw SysV segment has no name to match a prefix; by name it does.
        const SegmentInfo by_name = inspect_segment(guard.name(), on(backend));
        CHECK(by_name.kind == ObjectKind::raw);
        CHECK(by_name.size == 1000);
        CHECK_FALSE(by_name.stale);
      } else {
        REQUIRE(it != found.end());
        CHECK(it->kind == ObjectKind::raw);
        CHECK(it->state == HeaderState::none);
        CHECK(it->size >= 1000);
        CHECK_FALSE(it->stale);
      }
      CHECK(remove_stale(all).empty());
      CHECK(NamedSharedMemory::exists(guard.name(), raw));
      CHECK_FALSE(remove_if_stale(guard.name(), on(backend)));
    }
  }

  TEST_CASE("a header full of lies is reported, never trusted") {
    for (Backend backend : test::segment_backends()) {
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcx"));
      SegmentOptions raw = on(backend);
      raw.raw = true;
      auto shm = NamedSharedMemory::create(guard.name(), 4096, raw);
      auto* bytes = static_cast<unsigned char*>(shm.data());
      std::mt19937 random{42};
      for (std::size_t i = 0; i < 4096; ++i) bytes[i] = static_cast<unsigned char>(random());
      const std::uint64_t magic = detail::k_segment_magic;
      std::memcpy(bytes, &magic, sizeof magic);  // shmkit's magic, garbage after it

      const SegmentInfo info = inspect_segment(guard.name(), on(backend));
      CHECK(info.state == HeaderState::incompatible);
      CHECK_FALSE(info.stale);
      CHECK_FALSE(remove_if_stale(guard.name(), on(backend)));
      CHECK(NamedSharedMemory::exists(guard.name(), raw));
    }
  }

  TEST_CASE("the lifecycle API reports bad arguments without throwing") {
    std::error_code ec;
    ListOptions foreign;
    foreign.backends = {test::segment_backends().front() == Backend::win32 ? Backend::posix
                                                                           : Backend::win32};
    CHECK(list_segments(foreign, ec).empty());
    CHECK(ec == errc::backend_unavailable);
    CHECK_THROWS_AS((void)list_segments(foreign), std::system_error);

    CHECK_FALSE(remove_if_stale("no/slash", {}, ec));
    CHECK(ec == errc::invalid_name);
    CHECK_FALSE(remove_object("", {}, ec));
    CHECK(ec == errc::invalid_name);

    const std::string missing = test::unique_name("lcn");
    (void)inspect_segment(missing, {}, ec);
    CHECK(ec == errc::not_found);
    CHECK_FALSE(remove_if_stale(missing, {}, ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(remove_object(missing, {}, ec));
    CHECK_FALSE(ec);
  }

  TEST_CASE("listing finds this process's segment with the facts of its header") {
    for (Backend backend : test::segment_backends()) {
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcl"));
      auto shm = NamedSharedMemory::create(guard.name(), 300, on(backend));
      const SegmentInfo s = listed(guard.name(), backend);
      CHECK(s.backend == backend);
      CHECK(s.kind == ObjectKind::segment);
      CHECK(s.state == HeaderState::ready);
      CHECK(s.size == 300);
      CHECK(s.creator.pid == detail::current_process().pid);
      CHECK(s.creator.alive);
      REQUIRE(s.attached.size() == 1);
      CHECK(s.attached.front().pid == detail::current_process().pid);
      CHECK_FALSE(s.stale);
      const auto now =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
      CHECK(s.created_unix_ns <= now);
      CHECK(s.created_unix_ns + 60'000'000'000ULL > now);
      CHECK(remove_object(guard.name(), on(backend)) == (backend != Backend::win32));
    }
  }

  TEST_CASE("a creator killed inside creation leaves a stale object that every remover removes") {
    for (Backend backend : test::segment_backends()) {
      if (backend == Backend::win32) continue;  // a section dies with its creator there
      if (!can_list(backend)) continue;
      // Where objects are named only once finished (posix on Linux), a
      // killed creator leaves nothing: test_creation_crash.cpp checks that.
      detail::Failure no_backend;
      if (detail::find_backend(backend, no_backend)->creates_unnamed()) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      const std::string base = test::unique_name("lck") + ".";
      test::NameGuard guard(base + "a");
      for (const char* n : {"b", "c", "d", "e"}) guard.add(base + n);
      constexpr std::size_t k_size = 1 << 20;

      // While its creator is alive (and stuck) it is listed, never stale.
      {
        auto creator = stuck_creator(base + "a", backend, ObjectKind::queue, k_size);
        const SegmentInfo live = listed(base + "a", backend);
        CHECK(live.kind == ObjectKind::queue);
        CHECK(live.state == HeaderState::initializing);
        CHECK(live.size == k_size);
        CHECK(live.creator.alive);
        CHECK_FALSE(live.stale);
        CHECK_FALSE(remove_if_stale(base + "a", on(backend)));
        CHECK(remove_stale(only(base + "a", backend)).empty());
        CHECK(NamedSharedMemory::exists(base + "a", on(backend)));

        creator.kill();
        creator.wait();
        const SegmentInfo dead = listed_stale(base + "a", backend);
        CHECK(dead.kind == ObjectKind::queue);
        CHECK(dead.state == HeaderState::initializing);
        CHECK(dead.creator.pid == creator.pid());
        CHECK_FALSE(dead.creator.alive);
        CHECK(dead.stale);
      }
      // remove_stale (shmkit clean) removes it...
      const auto removed = removed_stale(base + "a", backend);
      REQUIRE(removed.size() == 1);
      CHECK(removed.front().kind == ObjectKind::queue);
      CHECK_FALSE(NamedSharedMemory::exists(base + "a", on(backend)));

      // ...and so do remove_if_stale and remove_object (shmkit rm).
      leave_killed_creation(base + "b", backend, ObjectKind::ring, 4096);
      CHECK(removed_if_stale(base + "b", backend));
      CHECK_FALSE(NamedSharedMemory::exists(base + "b", on(backend)));
      leave_killed_creation(base + "c", backend, ObjectKind::segment, 4096);
      CHECK(remove_object(base + "c", on(backend)));
      CHECK_FALSE(NamedSharedMemory::exists(base + "c", on(backend)));

      // open_or_create reclaims it, of its own kind or another size.
      leave_killed_creation(base + "d", backend, ObjectKind::segment, 4096);
      auto fresh = NamedSharedMemory::open_or_create(base + "d", 4096, on(backend));
      CHECK(fresh.created());
      CHECK(fresh.size() == 4096);
      if (backend == native_backend()) {  // a Queue lives on the native backend
        leave_killed_creation(base + "e", backend, ObjectKind::queue, k_size);
        auto queue = Queue<long>::open_or_create(base + "e", 16);
        CHECK(queue.try_push(42));
      }
    }
  }

  TEST_CASE(
      "a blank object is listed as blank, left by remove_stale and removed by remove_object") {
    for (Backend backend : test::segment_backends()) {
      if (backend == Backend::win32) continue;
      if (!can_list(backend)) continue;
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("lcz"));
      // What a creator killed between making the OS object and its first
      // header write leaves: zeros, named by nobody.
      SegmentOptions raw = on(backend);
      raw.raw = true;
      NamedSharedMemory::create(guard.name(), 4096, raw).close();

      const SegmentInfo info = inspect_segment(guard.name(), on(backend));
      CHECK(info.kind == ObjectKind::raw);
      CHECK(info.state == HeaderState::blank);
      CHECK(info.size == info.os_size);
      CHECK_FALSE(info.stale);
      ListOptions all = only(guard.name(), backend);
      all.all = true;
      CHECK(remove_stale(all).empty());
      CHECK_FALSE(remove_if_stale(guard.name(), on(backend)));
      CHECK(NamedSharedMemory::exists(guard.name(), raw));

      // Without SegmentOptions::raw: nothing in it can tell whose it is, and
      // nothing can be lost.
      CHECK(remove_object(guard.name(), on(backend)));
      CHECK_FALSE(NamedSharedMemory::exists(guard.name(), raw));
    }
  }
}
