// SharedString and SharedHashMap: their operations, StableHash's fixed
// values, a map built by a child process and read by the parent at another
// address, and damaged bytes (targeted and random) giving errc::corrupted,
// never a crash. The generic tests run with a bump arena over a plain
// segment (shared_test_arena.hpp) and with a ManagedSegment's Allocator.
#include <doctest/doctest.h>

#include <shmkit/managed_segment.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/shared_hash_map.hpp>
#include <shmkit/shared_string.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"
#include "shared_test_arena.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

using namespace shmkit;

namespace {

struct Record {
  std::int64_t id;
  double score;
  char tag[8];
};

template <class T>
using Arena = test::ArenaAllocator<T>;
using ArenaString = BasicSharedString<Arena<char>>;
using ArenaMap = SharedHashMap<ArenaString, Record, StableHash<ArenaString>, std::equal_to<>,
                               Arena<std::pair<const ArenaString, Record>>>;
using Map = SharedHashMap<SharedString, Record>;

static_assert(sizeof(SharedString) == 48, "the layout every process agrees on");
static_assert(std::uses_allocator_v<SharedString, Allocator<int>>);
static_assert(std::is_nothrow_move_constructible_v<SharedString>);

// Keys of both storage kinds: short ones fit inline, long ones allocate.
std::string key_for(int i) {
  std::string key = "key-" + std::to_string(i);
  if (i % 3 == 0) key += "-with-a-tail-long-enough-to-live-in-the-heap";
  return key;
}
Record record_for(int i) {
  Record r{};
  r.id = i;
  r.score = i * 0.5;
  std::memcpy(r.tag, "tag", 4);
  return r;
}

template <class String, class A>
void string_basics(const A& alloc) {
  String empty(alloc);
  CHECK(empty.empty());
  CHECK(empty.size() == 0);
  CHECK(std::string_view(empty.c_str()).empty());
  CHECK(empty.capacity() == String::k_inline_capacity);

  String s("hello", alloc);
  CHECK(s.view() == "hello");
  CHECK(s == "hello");
  CHECK("hello" == s);
  CHECK(s != "hellO");
  CHECK(s.capacity() == String::k_inline_capacity);  // inline
  s.append(", world of shared memory");
  CHECK(s == "hello, world of shared memory");
  CHECK(s.capacity() > String::k_inline_capacity);  // moved to the heap
  CHECK(std::strcmp(s.c_str(), "hello, world of shared memory") == 0);
  s += "!";
  s.push_back('?');
  CHECK(s.view().substr(s.size() - 2) == "!?");
  // Appending and assigning from its own text.
  s.assign(s.view().substr(7, 5));
  CHECK(s == "world");
  s.append(s.view());
  CHECK(s == "worldworld");
  for (int i = 0; i < 10; ++i) s.append(s.view());
  CHECK(s.size() == 10 * 1024);

  String copy(s);
  CHECK(copy == s);
  CHECK(copy.data() != s.data());
  String moved(std::move(copy));
  CHECK(moved == s);
  CHECK(copy.empty());  // NOLINT: a moved-from string is empty, as documented
  String other("zzz", alloc);
  other = moved;
  CHECK(other == s);
  other = std::string_view("a");
  CHECK(other < s);
  CHECK(s > other);
  CHECK(other <= "a");
  CHECK(other >= "a");
  CHECK(other.compare("b") < 0);
  other.clear();
  CHECK(other.empty());
  CHECK(other.capacity() > String::k_inline_capacity);  // clear keeps the capacity
  other.reserve(100000);
  CHECK(other.capacity() >= 100000);
  std::error_code ec;
  other.assign("again", ec);
  CHECK(!ec);
  CHECK(other == "again");
  CHECK(other.view(ec) == "again");
  other.validate();
  // Any bytes, NUL included.
  const char bytes[] = {'a', '\0', 'b'};
  other.assign(std::string_view(bytes, 3));
  CHECK(other.size() == 3);
  CHECK(other.view() == std::string_view(bytes, 3));
}

template <class MapT, class A>
void map_basics(const A& alloc) {
  MapT map(alloc);
  CHECK(map.empty());
  CHECK(map.bucket_count() == 0);
  CHECK(map.find(std::string_view("none")) == map.end());
  CHECK(map.begin() == map.end());

  for (int i = 0; i < 1000; ++i) {
    const auto [it, inserted] = map.try_emplace(std::string_view(key_for(i)), record_for(i));
    REQUIRE(inserted);
    CHECK(it->first == key_for(i));
  }
  CHECK(map.size() == 1000);
  CHECK(map.bucket_count() >= 1000);  // grew, load factor <= 1
  CHECK((map.bucket_count() & (map.bucket_count() - 1)) == 0);
  map.validate();

  // Found by std::string_view, std::string and const char*: no key built.
  for (int i = 0; i < 1000; ++i) {
    const std::string key = key_for(i);
    auto it = map.find(std::string_view(key));
    REQUIRE(it != map.end());
    CHECK(it->second.id == i);
    CHECK(map.contains(key));
  }
  CHECK(map.count("key-5") == 1);
  CHECK_FALSE(map.contains("key-1000"));

  // An existing key is not replaced by try_emplace; insert_or_assign does.
  const auto again = map.try_emplace(std::string_view("key-1"), record_for(-1));
  CHECK_FALSE(again.second);
  CHECK(again.first->second.id == 1);
  map.insert_or_assign(std::string_view("key-1"), record_for(-1));
  CHECK(map.find("key-1")->second.id == -1);
  map["key-new"].id = 77;
  CHECK(map.find("key-new")->second.id == 77);
  CHECK(map.size() == 1001);

  // Iteration meets every element once.
  std::int64_t sum = 0;
  std::size_t seen = 0;
  for (const auto& [key, value] : map) {
    sum += value.id;
    ++seen;
    CHECK(!key.empty());
  }
  CHECK(seen == 1001);
  CHECK(sum == 999 * 1000 / 2 - 1 - 1 + 77);

  // Erase by key, by iterator, and while iterating.
  CHECK(map.erase("key-new") == 1);
  CHECK(map.erase("key-new") == 0);
  map.erase(map.find("key-2"));
  CHECK_FALSE(map.contains("key-2"));
  std::size_t erased = 0;
  for (auto it = map.begin(); it != map.end();) {
    if (it->second.id % 2 == 0) {
      it = map.erase(it);
      ++erased;
    } else {
      ++it;
    }
  }
  CHECK(erased == 499);  // the even ids but 2 (gone) and 0: 0..998 even = 500, minus key-2
  CHECK(map.size() == 1001 - 2 - 499);
  for (const auto& [key, value] : map) CHECK(value.id % 2 != 0);
  map.validate();

  // ec twins.
  std::error_code ec;
  CHECK(map.find(std::string_view(key_for(3)), ec) != map.end());
  CHECK(!ec);
  CHECK(map.try_emplace(std::string_view(key_for(3)), ec, record_for(3)).second == false);
  CHECK(map.erase(std::string_view(key_for(3)), ec) == 1);
  CHECK(!ec);

  map.clear();
  CHECK(map.empty());
  CHECK(map.begin() == map.end());
  map.rehash(0);
  CHECK(map.bucket_count() == 0);
  map.reserve(64);
  CHECK(map.bucket_count() == 64);
  map.validate();
}

// Integer keys and a string value: both hash paths, uses-allocator values.
template <class MapT, class A>
void map_of_strings(const A& alloc) {
  MapT map(alloc);
  for (int i = 0; i < 300; ++i) map.try_emplace(i, std::string_view(key_for(i)));
  for (int i = 0; i < 300; ++i) CHECK(map.find(i)->second == key_for(i));
  map.validate();
  CHECK(map.erase(150) == 1);
  CHECK(map.find(150) == map.end());
}

// ---- damage ----

// Puts `bytes` of garbage over the map's own bytes and its first nodes and
// checks that every reading call gives errc::corrupted or a clean result.
template <class MapT>
void exercise_damaged(MapT& map) {
  std::error_code ec;
  map.validate(ec);
  (void)map.find(std::string_view("key-7"), ec);
  (void)map.erase(std::string_view("key-8"), ec);
  try {
    std::size_t n = 0;
    for (const auto& element : map) {
      (void)element.first.view();
      if (++n > 100000) break;
    }
  } catch (const Error& e) {
    CHECK(e.code() == make_error_code(errc::corrupted));
  }
  map.clear(ec);
  if (ec) CHECK(ec == make_error_code(errc::corrupted));
}

// A map's header word at `index` (0: magic, 1: allocator, 2: bucket array,
// 3: bucket count, 4: size).
template <class MapT>
std::uint64_t* map_word(MapT& map, int index) {
  static_assert(sizeof(MapT) == 5 * sizeof(std::uint64_t));
  return reinterpret_cast<std::uint64_t*>(&map) + index;
}

template <class MapT>
void targeted_damage(MapT& map) {
  using Key = typename MapT::key_type;
  for (int i = 0; i < 50; ++i) map.try_emplace(std::string_view(key_for(i)), record_for(i));
  map.validate();
  std::error_code ec;
  // validate() must see the damage; the other calls see it or give a
  // clean result (a shifted bucket array finds nothing), never crash.
  const auto check_corrupted = [&](const std::string& what) {
    CAPTURE(what);
    map.validate(ec);
    CHECK(ec == make_error_code(errc::corrupted));
    (void)map.find(std::string_view("key-3"), ec);
    if (ec) CHECK(ec == make_error_code(errc::corrupted));
    try {
      for (auto it = map.begin(); it != map.end(); ++it) (void)it->second;
    } catch (const Error& e) {
      CHECK(e.code() == make_error_code(errc::corrupted));
    }
    map.clear(ec);
    CHECK(ec == make_error_code(errc::corrupted));  // nothing cleared: clear() checks first
  };
  for (int word = 0; word < 5; ++word) {
    const std::uint64_t saved = *map_word(map, word);
    for (const std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{0x4141414141414141}, saved + 8,
                                    saved - 8, saved * 2, ~saved}) {
      if (bad == saved) continue;
      // Twice the bucket count is a power of two whose array may lie in the
      // heap: then only the walk's checks can tell, and may not.
      if (word == 3 && bad == saved * 2) continue;
      *map_word(map, word) = bad;
      check_corrupted("header word " + std::to_string(word) + " = " + std::to_string(bad));
      *map_word(map, word) = saved;
      map.validate();
    }
  }
  map.validate();
  // A link made to point at itself (a cycle), then outside the heap.
  auto it = map.begin();
  // A node is {next, hash, key, value}: its link is 16 bytes before the key.
  auto* node_next = reinterpret_cast<std::uint64_t*>(const_cast<Key*>(&it->first)) - 2;
  *node_next = 0;  // distance 0: the link points at its own node
  check_corrupted("a cycle");
  // repair() breaks the cycle (what followed the node leaks), keeps the rest.
  const std::size_t before = map.size();
  CHECK(map.repair());
  map.validate();
  CHECK(map.contains(it->first));
  CHECK(map.size() <= before);
  CHECK(map.size() >= before / 2);
  CHECK_FALSE(map.repair());  // sound now: nothing to change
  *node_next = 0x7000000000000000ULL;
  check_corrupted("a link outside the heap");
  CHECK(map.repair());
  map.validate();
  CHECK(map.contains(it->first));
  // A size that disagrees with the chains: recounted.
  const std::size_t sound = map.size();
  *map_word(map, 4) = sound - 1;
  check_corrupted("the size");
  CHECK(map.repair());
  CHECK(map.size() == sound);
  map.validate();
  // A key's character pointer and size.
  for (int i = 0; i < 10 && it != map.end(); ++i) ++it;
  auto* key_words = reinterpret_cast<std::uint64_t*>(const_cast<Key*>(&it->first));
  const std::uint64_t saved_size = key_words[1];
  key_words[1] = 1000000;
  map.validate(ec);
  CHECK(ec == make_error_code(errc::corrupted));
  key_words[1] = saved_size;
  map.validate();
  // A bucket array outside the heap: nothing to trust, repair() resets it;
  // reset(): valid and empty again (the nodes leak).
  *map_word(map, 2) = 12345;
  check_corrupted("bucket array");
  CHECK(map.repair());
  CHECK(map.empty());
  map.reset();
  map.validate();
  CHECK(map.empty());
  CHECK(map.try_emplace(std::string_view("after"), record_for(1)).second);
}

// Random garbage over every byte the map owns, many times: no crash (ASan).
template <class MapT>
void random_damage(MapT& map, unsigned seed) {
  for (int i = 0; i < 40; ++i) map.try_emplace(std::string_view(key_for(i)), record_for(i));
  std::vector<unsigned char*> areas;
  std::vector<std::size_t> sizes;
  areas.push_back(reinterpret_cast<unsigned char*>(&map));
  sizes.push_back(sizeof(MapT));
  for (auto& element : map) {  // each node from its key back to its link
    areas.push_back(
        reinterpret_cast<unsigned char*>(
            const_cast<std::remove_const_t<std::remove_reference_t<decltype(element.first)>>*>(
                &element.first)) -
        16);
    sizes.push_back(16 + sizeof(element));
  }
  std::mt19937 random(seed);
  for (int round = 0; round < 300; ++round) {
    const std::size_t area = random() % areas.size();
    std::vector<unsigned char> keep(areas[area], areas[area] + sizes[area]);
    const int flips = 1 + static_cast<int>(random() % 8);
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = random() % sizes[area];
      areas[area][at] = static_cast<unsigned char>(random());
    }
    std::error_code ec;
    map.validate(ec);
    (void)map.find(std::string_view("key-7"), ec);
    try {
      std::size_t n = 0;
      for (const auto& element : map) {
        (void)element.first.size();
        if (++n > 1000) break;
      }
    } catch (const Error& e) {
      CHECK(e.code() == make_error_code(errc::corrupted));
    }
    std::memcpy(areas[area], keep.data(), keep.size());
  }
  map.validate();
}

// Random garbage over a fresh map and its nodes, then repair(): the map
// must validate afterwards and be usable, every time.
template <class MapT, class A>
void random_repair(A alloc, unsigned seed) {
  std::mt19937 random(seed);
  for (int round = 0; round < 100; ++round) {
    auto block = std::allocator_traits<A>::allocate(alloc, sizeof(MapT));
    auto* map = new (static_cast<void*>(block.get())) MapT(alloc);
    for (int i = 0; i < 40; ++i) map->try_emplace(std::string_view(key_for(i)), record_for(i));
    std::vector<unsigned char*> areas{reinterpret_cast<unsigned char*>(map)};
    std::vector<std::size_t> sizes{sizeof(MapT)};
    for (auto& element : *map) {
      using Key = typename MapT::key_type;
      areas.push_back(reinterpret_cast<unsigned char*>(const_cast<Key*>(&element.first)) - 16);
      sizes.push_back(16 + sizeof(element));
    }
    const int flips = 1 + static_cast<int>(random() % 6);
    for (int f = 0; f < flips; ++f) {
      const std::size_t area = random() % areas.size();
      areas[area][random() % sizes[area]] = static_cast<unsigned char>(random());
    }
    map->repair();
    std::error_code ec;
    map->validate(ec);
    CHECK(!ec);
    std::size_t n = 0;
    for (const auto& element : *map) n += element.first.empty() ? 0 : 1;
    CHECK(n == map->size());
    bool inserted = false;
    try {
      inserted = map->try_emplace(std::string_view("after repair"), record_for(1)).second;
    } catch (const Error& e) {  // the garbage hit the map's allocator itself
      CHECK(e.code() == make_error_code(errc::invalid_state));
      map->reset(alloc);
      inserted = map->try_emplace(std::string_view("after repair"), record_for(1)).second;
    }
    CHECK(inserted);
    map->~MapT();
    std::allocator_traits<A>::deallocate(alloc, block, sizeof(MapT));
  }
}

}  // namespace

// ---- the cross-process map ----

// args: segment-name. Builds the map in the segment (mapped wherever this
// process maps it) and records its own mapping address.
SHMKIT_CHILD_ROLE(shared_map_writer) {
  auto seg = ManagedSegment::open(args.at(0));
  auto* map = seg.construct<Map>("records", seg.get_allocator<char>());
  for (int i = 0; i < 500; ++i) {
    if (!map->try_emplace(std::string_view(key_for(i)), record_for(i)).second) return 2;
  }
  map->erase(std::string_view(key_for(10)));
  *seg.construct<std::uint64_t>("writer_base") =
      reinterpret_cast<std::uintptr_t>(seg.segment().data());
  return 0;
}

TEST_SUITE("shared_containers") {
  TEST_CASE("StableHash: the same values everywhere") {
    CHECK(stable_hash_bytes("", 0) == 0xf52a15e9a9b5e89bULL);
    CHECK(stable_hash_bytes("hello", 5) == 0x16fe05a1c75bcd0fULL);
    CHECK(StableHash<std::string>{}("hello") == 0x16fe05a1c75bcd0fULL);
    CHECK(StableHash<SharedString>{}(std::string_view("hello")) == 0x16fe05a1c75bcd0fULL);
    CHECK(StableHash<int>{}(42) == 0xa759ea27d4727622ULL);
    CHECK(StableHash<std::uint64_t>{}(42) == 0xa759ea27d4727622ULL);
    CHECK(StableHash<std::int8_t>{}(-1) == 0xb4d055fcf2cbbd7bULL);
    enum class Color : std::uint8_t { red = 42 };
    CHECK(StableHash<Color>{}(Color::red) == 0xa759ea27d4727622ULL);
  }

  TEST_CASE("SharedString and SharedHashMap in an arena mapped twice") {
    test::NameGuard guard(test::unique_name("sca"));
    auto first = NamedSharedMemory::create(guard.name(), 8 << 20);
    auto second = NamedSharedMemory::open(guard.name());
    REQUIRE(first.data() != second.data());
    test::ArenaMapping a(first.data(), first.size(), true);
    test::ArenaMapping b(second.data(), second.size(), false);
    Arena<char> alloc(a.header());

    SUBCASE("string") {
      string_basics<ArenaString>(alloc);
    }
    SUBCASE("map") {
      map_basics<ArenaMap>(alloc);
    }
    SUBCASE("map of strings") {
      map_of_strings<SharedHashMap<int, ArenaString, StableHash<int>, std::equal_to<>,
                                   Arena<std::pair<const int, ArenaString>>>>(alloc);
    }
    SUBCASE("read through the second mapping") {
      auto* map = new (alloc.allocate(sizeof(ArenaMap)).get()) ArenaMap(alloc);
      for (int i = 0; i < 300; ++i) map->try_emplace(std::string_view(key_for(i)), record_for(i));
      const std::ptrdiff_t shift =
          static_cast<char*>(second.data()) - static_cast<char*>(first.data());
      auto* seen = reinterpret_cast<ArenaMap*>(reinterpret_cast<char*>(map) + shift);
      seen->validate();
      for (int i = 0; i < 300; ++i) {
        auto it = seen->find(std::string_view(key_for(i)));
        REQUIRE(it != seen->end());
        CHECK(it->second.id == i);
        CHECK(reinterpret_cast<const char*>(&*it) >= static_cast<char*>(second.data()));
      }
      // Changed through the second mapping (allocating there), seen in the first.
      seen->try_emplace(std::string_view("added through the second mapping"), record_for(9999));
      seen->erase(std::string_view(key_for(0)));
      CHECK(map->find("added through the second mapping")->second.id == 9999);
      CHECK(map->find(std::string_view(key_for(0))) == map->end());
      map->validate();
      map->~ArenaMap();
    }
    SUBCASE("targeted damage") {
      auto* map = new (alloc.allocate(sizeof(ArenaMap)).get()) ArenaMap(alloc);
      targeted_damage(*map);
    }
    SUBCASE("random damage") {
      auto* map = new (alloc.allocate(sizeof(ArenaMap)).get()) ArenaMap(alloc);
      random_damage(*map, 12345);
    }
    SUBCASE("random damage, repaired") {
      random_repair<ArenaMap>(alloc, 99);
    }
    SUBCASE("a damaged string") {
      ArenaString s(std::string_view("a string long enough for the heap"), alloc);
      auto* words = reinterpret_cast<std::uint64_t*>(&s);
      std::error_code ec;
      // Words: 0 allocator, 1 size, 2 capacity, 3 character pointer. The
      // string is on the stack: a distance of 3 points outside the arena.
      const std::vector<std::vector<std::uint64_t>> bad_values = {
          {},
          {0x4141414141414141, words[2] + 1},
          {0x4141414141414141, 3, 0},
          {0x4141414141414141, 3}};
      for (int word = 1; word < 4; ++word) {
        const std::uint64_t saved = words[word];
        for (const std::uint64_t bad : bad_values[word]) {
          words[word] = bad;
          s.validate(ec);
          CHECK(ec == make_error_code(errc::corrupted));
          CHECK(s.view(ec).empty());
          CHECK_THROWS_AS((void)s.c_str(), Error);
          CHECK_THROWS_AS(s.append("x"), Error);
          words[word] = saved;
        }
      }
      s.validate();
      s.data()[s.size()] = 'x';  // its NUL overwritten
      CHECK_THROWS_AS((void)s.c_str(), Error);
      CHECK(s.view().size() == 33);  // the text itself is still bounded
      s.data()[s.size()] = '\0';
      words[1] = 999;  // then reset() makes it usable again
      s.reset();
      s.assign("fine");
      CHECK(s == "fine");
    }
  }

  TEST_CASE("SharedString and SharedHashMap in a ManagedSegment") {
    test::NameGuard guard(test::unique_name("scm"));
    auto seg = ManagedSegment::create(guard.name(), 8 << 20);
    auto alloc = seg.get_allocator<char>();
    SUBCASE("string") {
      string_basics<SharedString>(alloc);
    }
    SUBCASE("map") {
      map_basics<Map>(alloc);
    }
    SUBCASE("map of strings") {
      map_of_strings<SharedHashMap<int, SharedString>>(alloc);
    }
    SUBCASE("everything freed") {
      auto* map = seg.construct<Map>("m", alloc);
      const std::size_t before = seg.free_memory();
      for (int i = 0; i < 500; ++i) map->try_emplace(std::string_view(key_for(i)), record_for(i));
      CHECK(seg.free_memory() < before);
      map->clear();
      map->rehash(0);
      CHECK(seg.free_memory() == before);
      CHECK(seg.check().consistent);
      CHECK(seg.destroy<Map>("m"));
    }
    SUBCASE("random damage") {
      auto* map = seg.construct<Map>("m", alloc);
      random_damage(*map, 777);
      CHECK(seg.check().consistent);
    }
    SUBCASE("random damage, repaired") {
      random_repair<Map>(alloc, 4242);
      CHECK(seg.check().consistent);
    }
    SUBCASE("targeted damage") {
      auto* map = seg.construct<Map>("m", alloc);
      targeted_damage(*map);
      CHECK(seg.check().consistent);
    }
    (void)ManagedSegment::remove(guard.name());
  }

  TEST_CASE("a map built by a child, read by the parent at another address") {
    test::NameGuard guard(test::unique_name("scx"));
    auto seg = ManagedSegment::create(guard.name(), 4 << 20);
    const auto status = test::run_child("shared_map_writer", {guard.name()});
    REQUIRE(status.exited);
    REQUIRE(status.code == 0);

    // A second mapping of the segment: certainly at another address than the
    // first one, and than the child's unless the child's was reused.
    auto again = ManagedSegment::open(guard.name());
    REQUIRE(again.segment().data() != seg.segment().data());
    for (ManagedSegment* view : {&seg, &again}) {
      const auto* writer_base = view->find<std::uint64_t>("writer_base");
      REQUIRE(writer_base != nullptr);
      CAPTURE(*writer_base);
      Map* map = view->find<Map>("records");
      REQUIRE(map != nullptr);
      map->validate();
      CHECK(map->size() == 499);
      for (int i = 0; i < 500; ++i) {
        auto it = map->find(std::string_view(key_for(i)));
        if (i == 10) {
          CHECK(it == map->end());
          continue;
        }
        REQUIRE(it != map->end());
        CHECK(it->second.id == i);
        CHECK(it->first == key_for(i));
      }
    }
    // One of the parent's two mappings is not where the child had it.
    const auto writer_base = *seg.find<std::uint64_t>("writer_base");
    CHECK((reinterpret_cast<std::uintptr_t>(seg.segment().data()) != writer_base ||
           reinterpret_cast<std::uintptr_t>(again.segment().data()) != writer_base));
    // Changed through one mapping, seen through the other.
    seg.find<Map>("records")->try_emplace(std::string_view("parent"), record_for(-5));
    CHECK(again.find<Map>("records")->find("parent")->second.id == -5);
    CHECK(again.destroy<Map>("records"));
    CHECK(seg.check().consistent);
    (void)ManagedSegment::remove(guard.name());
  }
}
