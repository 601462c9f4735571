// Boost.Container's containers with shmkit::Allocator<T>, across processes
// that map a managed segment at different addresses (container_roundtrip.hpp).
// Built only where Boost's headers are found (tests/CMakeLists.txt).
// Boost.Container takes the allocator's pointer type for every link, so all
// of these are position-independent.
#include <doctest/doctest.h>

#include <shmkit/allocator.hpp>
#include <shmkit/managed_segment.hpp>

#include "container_roundtrip.hpp"

#include <boost/container/flat_map.hpp>
#include <boost/container/list.hpp>
#include <boost/container/map.hpp>
#include <boost/container/string.hpp>
#include <boost/container/vector.hpp>

#include <functional>
#include <string>
#include <utility>

using namespace shmkit;

namespace {

template <class T>
using A = Allocator<T>;

struct BoostVectorKind {
  using Container = boost::container::vector<int, A<int>>;
  static constexpr const char* name = "boost::container::vector";
  static void fill(Container& c) {
    for (int i = 0; i < 1000; ++i) c.push_back(i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 1001 : 1000, [](std::size_t i) { return int(i); });
  }
  static void extend(Container& c) { c.push_back(1000); }
};

struct BoostStringKind {
  using Container = boost::container::basic_string<char, std::char_traits<char>, A<char>>;
  static constexpr const char* name = "boost::container::basic_string";
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

struct BoostFlatMapKind {
  using Container = boost::container::flat_map<int, int, std::less<int>, A<std::pair<int, int>>>;
  static constexpr const char* name = "boost::container::flat_map";
  static void fill(Container& c) {
    for (int i = 99; i >= 0; --i) c.emplace(i, i * i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 101 : 100, [](std::size_t i) {
      return std::pair<int, int>(int(i), int(i * i));
    });
  }
  static void extend(Container& c) { c.emplace(100, 100 * 100); }
};

struct BoostListKind {
  using Container = boost::container::list<int, A<int>>;
  static constexpr const char* name = "boost::container::list";
  static void fill(Container& c) {
    for (int i = 0; i < 100; ++i) c.push_back(i);
  }
  static bool check(const Container& c, bool extended) {
    return test::holds_in_order(c, extended ? 101 : 100, [](std::size_t i) { return int(i); });
  }
  static void extend(Container& c) { c.push_back(100); }
};

struct BoostMapKind {
  using Container = boost::container::map<int, int, std::less<int>, A<std::pair<const int, int>>>;
  static constexpr const char* name = "boost::container::map";
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

const bool registered =
    test::register_reader<BoostVectorKind>() && test::register_reader<BoostStringKind>() &&
    test::register_reader<BoostFlatMapKind>() && test::register_reader<BoostListKind>() &&
    test::register_reader<BoostMapKind>();

}  // namespace

TEST_SUITE("boost_containers") {
  TEST_CASE("boost::container::vector") {
    REQUIRE(registered);
    CHECK(test::container_roundtrip<BoostVectorKind>());
  }
  TEST_CASE("boost::container::basic_string") {
    CHECK(test::container_roundtrip<BoostStringKind>());
  }
  TEST_CASE("boost::container::flat_map") {
    CHECK(test::container_roundtrip<BoostFlatMapKind>());
  }
  TEST_CASE("boost::container::list") {
    CHECK(test::container_roundtrip<BoostListKind>());
  }
  TEST_CASE("boost::container::map") {
    CHECK(test::container_roundtrip<BoostMapKind>());
  }
}
