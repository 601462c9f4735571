// A registry of accounts shared by processes: a SharedHashMap from names to
// records in a ManagedSegment, guarded by a ProcessMutex that lives in the
// segment next to the map. Writers move money between accounts; one is
// killed half-way through a transfer, holding the lock; the next writer is
// told (owner_died()), rolls the half-done transfer back and goes on; a
// reader prints the registry, verifies it and has the heap checked.
//
//   shared_registry create NAME            a fresh registry: 4 accounts of 1000
//   shared_registry writer NAME WHO N [S]  N transfers between accounts; with S,
//                                          stops half-way through transfer S
//                                          holding the lock, says so, and waits
//                                          to be killed
//   shared_registry wait-stalled NAME      returns once a writer has said so
//   shared_registry show NAME              prints and verifies the registry,
//                                          checks the heap, removes the segment
//   shared_registry remove NAME
//
// run_demo.sh runs the story (ci/demo.sh and ctest use it):
//   shared_registry create reg
//   shared_registry writer reg w1 400 & shared_registry writer reg w2 400 & wait
//   shared_registry writer reg w3 400 150 & victim=$!
//   shared_registry wait-stalled reg; shared_registry writer reg w4 400 &
//   kill -9 $victim; wait
//   shared_registry show reg
// (POSIX segments outlive their processes. On Win32 one dies with its last
// handle: keep a process holding it across the steps, and kill the victim
// with `taskkill /F /PID`.)
#include <shmkit/managed_segment.hpp>
#include <shmkit/process_mutex.hpp>
#include <shmkit/shared_hash_map.hpp>
#include <shmkit/shared_string.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t k_segment_size = 256 * 1024;
constexpr std::int64_t k_opening_balance = 1000;
constexpr const char* k_seeded[] = {"alice", "bob", "carol", "dave"};
constexpr std::int64_t k_total = 4 * k_opening_balance;  // transfers never change it
// Writers also open these accounts (balance 0) on first use: the map grows.
constexpr const char* k_accounts[] = {"alice", "bob",   "carol", "dave",    "erin", "frank",
                                      "grace", "heidi", "ivan",  "mallory", "niaj", "olivia"};
constexpr std::size_t k_account_count = sizeof(k_accounts) / sizeof(k_accounts[0]);

// A value in the map: fixed-width fields only (safe in a segment). The
// checksum seals the other fields and the key: a record a writer was killed
// in the middle of updating does not match it.
struct Record {
  std::int64_t balance = 0;
  std::uint64_t updates = 0;
  char last_writer[16] = {};
  std::uint64_t checksum = 0;
};

std::uint64_t checksum_of(std::string_view key, const Record& r) {
  unsigned char fields[32];
  std::memcpy(fields, &r.balance, 8);
  std::memcpy(fields + 8, &r.updates, 8);
  std::memcpy(fields + 16, r.last_writer, 16);
  return shmkit::stable_hash_mix(shmkit::stable_hash_bytes(key.data(), key.size()) ^
                                 shmkit::stable_hash_bytes(fields, sizeof fields));
}
void seal(std::string_view key, Record& r) {
  r.checksum = checksum_of(key, r);
}
bool sealed(std::string_view key, const Record& r) {
  return r.checksum == checksum_of(key, r);
}

// What a transfer changes, saved before its first store: the next holder of
// the lock rolls a half-done transfer back from it.
struct UndoEntry {
  char key[16] = {};
  Record before;
};

using Records = shmkit::SharedHashMap<shmkit::SharedString, Record>;

// The one named object: the lock, the undo log and the map it guards.
struct Registry {
  shmkit::ProcessMutex mutex;
  std::atomic<std::uint32_t> undo_active{0};  // 1 while a transfer is under way
  UndoEntry undo[2];
  std::uint64_t undo_transfers = 0;
  std::uint64_t transfers = 0;  // committed transfers
  // Set by a writer told to stall: "I hold the lock, half-way through a
  // transfer". wait-stalled watches it (the demo's only synchronisation).
  std::atomic<std::uint32_t> stalled{0};
  Records records;
  explicit Registry(const shmkit::Allocator<char>& alloc) : records(alloc) {}
};

// The bytes are untrusted (another process wrote them): never read past
// the array looking for a NUL.
std::string_view key_of(const UndoEntry& e) {
  return {e.key, static_cast<std::size_t>(std::find(e.key, e.key + sizeof e.key, '\0') - e.key)};
}

void say(const char* who, const std::string& line) {
  std::printf("[%s] %s\n", who, line.c_str());
  std::fflush(stdout);
}

Registry& registry_in(shmkit::ManagedSegment& seg) {
  auto* reg = seg.find<Registry>("registry");
  if (reg == nullptr) throw std::runtime_error("segment " + seg.name() + " holds no registry");
  return *reg;
}

// The repair, by the first holder of the lock after a holder died.
void repair(const char* who, shmkit::ManagedSegment& seg, Registry& reg) {
  say(who, "the lock's last holder died holding it: repairing the registry");
  std::error_code ec;
  reg.records.validate(ec);
  if (ec) {
    reg.records.repair();
    say(who, "  the map was damaged (" + ec.message() + "): repaired, " +
                 std::to_string(reg.records.size()) + " records kept");
  } else {
    say(who,
        "  the map's structure is intact (" + std::to_string(reg.records.size()) + " records)");
  }
  if (reg.undo_active.load(std::memory_order_acquire) != 0) {
    for (const UndoEntry& e : reg.undo) {
      const std::string_view key = key_of(e);
      auto it = reg.records.find(key);
      if (it == reg.records.end()) {
        reg.records.try_emplace(key, e.before);
        continue;
      }
      const bool changed = std::memcmp(&it->second, &e.before, sizeof(Record)) != 0;
      say(who, "  rolled back " + std::string(key) + ": " +
                   (changed ? "balance " + std::to_string(it->second.balance) + " (checksum " +
                                  (sealed(key, it->second) ? "good" : "BAD") + ") -> " +
                                  std::to_string(e.before.balance)
                            : "untouched (" + std::to_string(e.before.balance) + ")"));
      it->second = e.before;
    }
    reg.transfers = reg.undo_transfers;
    reg.undo_active.store(0, std::memory_order_release);
  }
  std::size_t bad = 0;
  for (auto& [key, record] : reg.records) {
    if (sealed(key, record)) continue;
    ++bad;  // damaged outside any transfer: nothing to restore it from
    say(who, "  " + std::string(key.view()) + " fails its checksum: reset to 0");
    record = Record{};
    seal(key, record);
  }
  if (bad == 0) say(who, "  every record matches its checksum");
  const shmkit::HeapCheck heap = seg.check();
  say(who, std::string("  heap: ") + (heap.consistent ? "consistent" : heap.problem));
}

// Locks the registry, repairing it first if the last holder died.
std::unique_lock<shmkit::ProcessMutex> lock(const char* who, shmkit::ManagedSegment& seg,
                                            Registry& reg) {
  std::unique_lock<shmkit::ProcessMutex> held(reg.mutex);
  if (reg.mutex.owner_died()) repair(who, seg, reg);
  return held;
}

Record& account(Registry& reg, std::string_view key) {
  auto [it, inserted] = reg.records.try_emplace(key);
  if (inserted) seal(key, it->second);
  return it->second;
}

void stamp(Record& r, const char* who) {
  ++r.updates;
  std::memset(r.last_writer, 0, sizeof r.last_writer);
  std::memcpy(r.last_writer, who, std::min(std::strlen(who), sizeof r.last_writer - 1));
}

[[noreturn]] void stall(const char* who, Registry& reg) {
  say(who, "holding the lock, half-way through a transfer (debited, not yet credited)");
  reg.stalled.store(1, std::memory_order_release);
  // Parked until killed: run_demo.sh watches `stalled`, not the clock. A
  // minute without being killed means nobody is running the demo.
  for (int i = 0; i < 600; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "shared_registry: %s was not killed within a minute\n", who);
  std::exit(1);
}

int create(const std::string& name) {
  (void)shmkit::ManagedSegment::remove(name);
  auto seg = shmkit::ManagedSegment::create(name, k_segment_size);
  auto* reg = seg.construct<Registry>("registry", seg.get_allocator<char>());
  std::lock_guard<shmkit::ProcessMutex> held(reg->mutex);
  for (const char* key : k_seeded) {
    Record& r = account(*reg, key);
    r.balance = k_opening_balance;
    seal(key, r);
  }
  say("create", "registry '" + name + "': 4 accounts of " + std::to_string(k_opening_balance) +
                    " in a " + std::to_string(k_segment_size / 1024) + " KiB managed segment");
  return 0;
}

int writer(const std::string& name, const char* who, long count, long stall_at) {
  auto seg = shmkit::ManagedSegment::open(name);
  Registry& reg = registry_in(seg);
  // A fixed sequence per writer: the same run every time.
  std::uint64_t state = shmkit::stable_hash_bytes(who, std::strlen(who));
  const auto next = [&state](std::uint64_t bound) {
    state = shmkit::stable_hash_mix(state + 0x9e3779b97f4a7c15ULL);
    return state % bound;
  };
  for (long i = 1; i <= count; ++i) {
    const std::string_view from = k_accounts[next(k_account_count)];
    std::string_view to = k_accounts[next(k_account_count - 1)];
    if (to == from) to = k_accounts[k_account_count - 1];
    auto amount = static_cast<std::int64_t>(1 + next(50));

    auto held = lock(who, seg, reg);
    Record& a = account(reg, from);
    Record& b = account(reg, to);
    amount = std::min(amount, a.balance);
    std::memcpy(reg.undo[0].key, from.data(), from.size() + 1);
    std::memcpy(reg.undo[1].key, to.data(), to.size() + 1);
    reg.undo[0].before = a;
    reg.undo[1].before = b;
    reg.undo_transfers = reg.transfers;
    reg.undo_active.store(1, std::memory_order_release);

    a.balance -= amount;
    stamp(a, who);
    if (i == stall_at) stall(who, reg);
    seal(from, a);
    b.balance += amount;
    stamp(b, who);
    seal(to, b);
    ++reg.transfers;
    reg.undo_active.store(0, std::memory_order_release);
  }
  say(who, std::to_string(count) + " transfers done");
  return 0;
}

int wait_stalled(const std::string& name) {
  auto seg = shmkit::ManagedSegment::open(name);
  Registry& reg = registry_in(seg);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (reg.stalled.load(std::memory_order_acquire) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "shared_registry: no writer stalled within 30 s\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polls the word
  }
  return 0;
}

int show(const std::string& name) {
  bool ok = true;
  {
    auto seg = shmkit::ManagedSegment::open(name);
    Registry& reg = registry_in(seg);
    auto held = lock("reader", seg, reg);
    std::error_code ec;
    reg.records.validate(ec);
    if (ec) {
      std::printf("[reader] the map is damaged: %s\n", ec.message().c_str());
      return 1;
    }
    std::vector<std::pair<std::string, Record>> rows;
    for (const auto& [key, record] : reg.records)
      rows.emplace_back(std::string(key.view()), record);
    std::sort(rows.begin(), rows.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    std::printf("[reader] %-8s %8s %8s  %-6s %s\n", "account", "balance", "updates", "last",
                "checksum");
    std::int64_t total = 0;
    std::uint64_t updates = 0;
    for (const auto& [key, r] : rows) {
      const bool good = sealed(key, r);
      ok = ok && good;
      total += r.balance;
      updates += r.updates;
      std::printf("[reader] %-8s %8lld %8llu  %-6s %s\n", key.c_str(),
                  static_cast<long long>(r.balance), static_cast<unsigned long long>(r.updates),
                  r.last_writer, good ? "good" : "BAD");
    }
    const bool balanced = total == k_total;
    const bool counted = updates == 2 * reg.transfers;
    ok = ok && balanced && counted && reg.undo_active.load() == 0;
    std::printf(
        "[reader] %zu accounts, total %lld (%s), %llu transfers, %llu record updates "
        "(%s)\n",
        rows.size(), static_cast<long long>(total), balanced ? "as created" : "WRONG",
        static_cast<unsigned long long>(reg.transfers), static_cast<unsigned long long>(updates),
        counted ? "2 per transfer" : "WRONG");
    const shmkit::HeapCheck heap = seg.check();
    ok = ok && heap.consistent;
    std::printf(
        "[reader] heap check: %s; %zu blocks (%zu used, %zu free), %zu bytes used, %zu "
        "free, %zu named object(s)\n",
        heap.consistent ? "consistent" : heap.problem.c_str(), heap.blocks, heap.used_blocks,
        heap.free_blocks, heap.used_bytes, heap.free_bytes, heap.named_objects);
  }
  (void)shmkit::ManagedSegment::remove(name);
  std::printf("[reader] %s\n",
              ok ? "registry verified; segment removed" : "registry INCONSISTENT; segment removed");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string role = argc >= 3 ? argv[1] : "";
    const std::string name = argc >= 3 ? argv[2] : "";
    if (argc == 3 && role == "create") return create(name);
    if (argc == 3 && role == "wait-stalled") return wait_stalled(name);
    if (argc == 3 && role == "show") return show(name);
    if (argc == 3 && role == "remove") return shmkit::ManagedSegment::remove(name) ? 0 : 1;
    if ((argc == 5 || argc == 6) && role == "writer" && std::strlen(argv[3]) < 16) {
      return writer(name, argv[3], std::atol(argv[4]), argc == 6 ? std::atol(argv[5]) : 0);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shared_registry: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: shared_registry create|wait-stalled|show|remove NAME\n"
               "       shared_registry writer NAME WHO COUNT [STALL_AT]\n");
  return 2;
}
