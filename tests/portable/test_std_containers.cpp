// Which standard containers work with shmkit::Allocator<T> across processes
// that map a managed segment at different addresses (container_roundtrip.hpp
// says how this is decided). The expectations per standard library are the
// table in docs/managed_containers.md: a change of library version that
// changes the answer fails here, so the table stays true. Containers that do
// not compile with an OffsetPtr pointer on a library are left out for it
// (the table says which): std::basic_string on both, on libstdc++ 12
// std::list and std::map, on libc++ 14 std::deque.
#include <doctest/doctest.h>

#include <shmkit/allocator.hpp>
#include <shmkit/managed_segment.hpp>

#include "../support/child_role.hpp"
#include "container_roundtrip.hpp"

#include <deque>
#include <forward_list>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

using namespace shmkit;

#if defined(_LIBCPP_VERSION)
#define SHMKIT_TEST_LIBCXX 1
#else
#define SHMKIT_TEST_LIBCXX 0
#endif

namespace {

template <class T>
using A = Allocator<T>;

struct VectorKind {
  using Container = std::vector<int, A<int>>;
  static constexpr const char* name = "std::vector";
  static void fill(Container& c) {
    for (int i = 0; i < 1000; ++i) c.push_back(i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 1001 : 1000, [](std::size_t i) { return int(i); });
  }
  static void extend(Container& c) { c.push_back(1000); }
};

#if 0  // does not compile on libstdc++ 12 nor libc++ 14 (docs/managed_containers.md)
struct StringKind {
  using Container = std::basic_string<char, std::char_traits<char>, A<char>>;
  static constexpr const char* name = "std::basic_string";
  static char at(std::size_t i) { return static_cast<char>('a' + i % 26); }
  static void fill(Container& c) {
    for (std::size_t i = 0; i < 500; ++i) c.push_back(at(i));
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 1000 : 500, at);
  }
  static void extend(Container& c) {
    for (std::size_t i = 500; i < 1000; ++i) c.push_back(at(i));
  }
};

#endif

#if !SHMKIT_TEST_LIBCXX  // libc++ 14's deque does not compile with OffsetPtr
struct DequeKind {
  using Container = std::deque<int, A<int>>;
  static constexpr const char* name = "std::deque";
  static void fill(Container& c) {
    for (int i = 0; i < 1000; ++i) c.push_back(i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 2000 : 1000, [](std::size_t i) { return int(i); });
  }
  static void extend(Container& c) {
    for (int i = 1000; i < 2000; ++i) c.push_back(i);
  }
};
#endif

#if SHMKIT_TEST_LIBCXX  // libstdc++ 12's list and map do not compile with OffsetPtr
struct ListKind {
  using Container = std::list<int, A<int>>;
  static constexpr const char* name = "std::list";
  static void fill(Container& c) {
    for (int i = 0; i < 100; ++i) c.push_back(i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 101 : 100, [](std::size_t i) { return int(i); });
  }
  static void extend(Container& c) { c.push_back(100); }
};

struct MapKind {
  using Container = std::map<int, int, std::less<int>, A<std::pair<const int, int>>>;
  static constexpr const char* name = "std::map";
  static void fill(Container& c) {
    for (int i = 0; i < 100; ++i) c.emplace(i, i * i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 101 : 100, [](std::size_t i) {
      return std::pair<const int, int>(int(i), int(i * i));
    });
  }
  static void extend(Container& c) { c.emplace(100, 100 * 100); }
};

#endif

struct ForwardListKind {
  using Container = std::forward_list<int, A<int>>;
  static constexpr const char* name = "std::forward_list";
  static void fill(Container& c) {
    for (int i = 99; i >= 0; --i) c.push_front(i);
  }
  // The child's element goes first: -1, 0, 1, ...
  static bool check(const Container& c, bool extended) {
    const int first = extended ? -1 : 0;
    return test::holds_in_order(c, extended ? 101 : 100,
                                [first](std::size_t i) { return first + int(i); });
  }
  static void extend(Container& c) { c.push_front(-1); }
};

struct UnorderedMapKind {
  using Container = std::unordered_map<int, int, std::hash<int>, std::equal_to<int>,
                                       A<std::pair<const int, int>>>;
  static constexpr const char* name = "std::unordered_map";
  static void fill(Container& c) {
    for (int i = 0; i < 100; ++i) c.emplace(i, i * i);
  }
  // In no order: every key once, with its value.
  static bool check(const Container& c, bool extended) {
    const std::size_t n = extended ? 101 : 100;
    std::size_t seen = 0;
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (++seen > n || it->first < 0 || std::size_t(it->first) >= n ||
          it->second != it->first * it->first) {
        return false;
      }
    }
    return seen == n;
  }
  static void extend(Container& c) { c.emplace(100, 100 * 100); }
};

// clang-format off
const bool registered = test::register_reader<VectorKind>() &&
#if SHMKIT_TEST_LIBCXX
                        test::register_reader<ListKind>() && test::register_reader<MapKind>() &&
#else
                        test::register_reader<DequeKind>() &&
#endif
                        test::register_reader<ForwardListKind>() &&
                        test::register_reader<UnorderedMapKind>();
// clang-format on

// What docs/managed_containers.md says: true = works across mappings.
#if SHMKIT_TEST_LIBCXX
constexpr bool k_forward_list_works = true;
constexpr bool k_unordered_map_works = true;
#else  // libstdc++ 12 links these nodes by raw pointers
constexpr bool k_forward_list_works = false;
constexpr bool k_unordered_map_works = false;
#endif

}  // namespace

// args: segment-name, kind name. Reads and extends the container.
SHMKIT_CHILD_ROLE(std_container_reader) {
  (void)registered;
  auto segment = ManagedSegment::open(args.at(0));
  const auto reader = test::container_readers().find(args.at(1));
  if (reader == test::container_readers().end()) return 5;
  return reader->second(segment);
}

TEST_SUITE("std_containers") {
  TEST_CASE("std::vector") {
    CHECK(test::container_roundtrip<VectorKind>());
  }
#if SHMKIT_TEST_LIBCXX
  TEST_CASE("std::list") {
    CHECK(test::container_roundtrip<ListKind>());
  }
  TEST_CASE("std::map") {
    CHECK(test::container_roundtrip<MapKind>());
  }
#else
  TEST_CASE("std::deque") {
    CHECK(test::container_roundtrip<DequeKind>());
  }
#endif
  TEST_CASE("std::forward_list") {
    CHECK(test::container_roundtrip<ForwardListKind>() == k_forward_list_works);
  }
  TEST_CASE("std::unordered_map") {
    CHECK(test::container_roundtrip<UnorderedMapKind>() == k_unordered_map_works);
  }
}
