// Checks whether a container type with shmkit::Allocator works across
// mappings of a managed segment at different addresses:
// 1. the parent builds it in the segment, maps the segment a second time and
//    looks at where the elements seem to be through that second mapping: a
//    container that stores raw pointers still points into the FIRST mapping
//    (which in this process happens to work, and is the trap);
// 2. a child process (whose mapping is elsewhere) reads it, bounded, and
//    adds to it, allocating from the segment's heap; the parent then sees
//    the child's element. A container with raw pointers crashes the child
//    or reads garbage there.
// A "kind" is a struct with: using Container; static const char* name;
// static void fill(Container&); static bool check(const Container&, bool
// extended); static void extend(Container&).
#pragma once

#include <doctest/doctest.h>

#include <shmkit/managed_segment.hpp>

#include "../support/child_process.hpp"
#include "../support/test_names.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace shmkit::test {

using ContainerReader = int (*)(ManagedSegment& segment);

inline std::map<std::string, ContainerReader>& container_readers() {
  static std::map<std::string, ContainerReader> readers;
  return readers;
}

// Bounded iteration: true if `c` holds exactly `expected(i)` for i < n, in
// order, without stepping more than n + 1 times.
template <class C, class Expected>
bool holds_in_order(const C& c, std::size_t n, Expected expected) {
  std::size_t i = 0;
  for (auto it = c.begin(); it != c.end(); ++it, ++i) {
    if (i >= n || !(*it == expected(i))) return false;
  }
  return i == n;
}

// True if every element, reached through the container, lies in
// [base, base + size) (at most `limit` steps).
template <class C>
bool elements_within(const C& c, const void* base, std::size_t size, std::size_t limit) {
  const auto begin = reinterpret_cast<std::uintptr_t>(base);
  std::size_t steps = 0;
  for (auto it = c.begin(); it != c.end() && steps < limit; ++it, ++steps) {
    const auto at = reinterpret_cast<std::uintptr_t>(&*it);
    if (at < begin || at - begin >= size) return false;
  }
  return true;
}

// In the child: a mapping of the segment at another address than the
// builder's, the container read and extended. Exit codes: 0 fine, 2 not
// found, 3 wrong contents, 4 no other address.
template <class Kind>
int read_in_child(ManagedSegment& first) {
  using C = typename Kind::Container;
  ManagedSegment second;
  ManagedSegment* segment = &first;
  const auto builder_base = *first.find<std::uint64_t>("builder_base");
  if (reinterpret_cast<std::uintptr_t>(first.segment().data()) == builder_base) {
    second = ManagedSegment::open(first.name());
    segment = &second;
    if (reinterpret_cast<std::uintptr_t>(second.segment().data()) == builder_base) return 4;
  }
  C* c = segment->find<C>(Kind::name);
  if (c == nullptr) return 2;
  if (!Kind::check(*c, false)) return 3;
  Kind::extend(*c);
  return 0;
}

template <class Kind>
bool register_reader() {
  container_readers()[Kind::name] = &read_in_child<Kind>;
  return true;
}

// What the parent does; returns whether the elements seen through a second
// mapping lie in it (no raw pointers). Checks the child agrees.
template <class Kind>
bool container_roundtrip() {
  using C = typename Kind::Container;
  NameGuard guard(unique_name("stc"));
  auto segment = ManagedSegment::create(guard.name(), 4 << 20);
  C* c = segment.construct<C>(Kind::name, segment.template get_allocator<char>());
  Kind::fill(*c);
  REQUIRE(Kind::check(*c, false));
  *segment.construct<std::uint64_t>("builder_base") =
      reinterpret_cast<std::uintptr_t>(segment.segment().data());

  auto again = ManagedSegment::open(guard.name());
  REQUIRE(again.segment().data() != segment.segment().data());
  C* seen = again.find<C>(Kind::name);
  REQUIRE(seen != nullptr);
  const bool position_independent =
      elements_within(*seen, again.segment().data(), again.segment().size(), 1 << 20);

  const auto status = run_child("std_container_reader", {guard.name(), Kind::name});
  const bool child_fine = status.exited && status.code == 0;
  const std::string report = std::string(Kind::name) + ": elements through a second mapping " +
                             (position_independent ? "lie in it" : "lie in the FIRST mapping") +
                             "; child " + (child_fine ? "read and extended it" : "failed") +
                             " (code " + std::to_string(status.code) + ", signal " +
                             std::to_string(status.signal) + ")";
  MESSAGE(report);
  if (position_independent) {
    CHECK(child_fine);
    CHECK(Kind::check(*c, true));  // the child's element, allocated by the child
    CHECK(Kind::check(*seen, true));
  }
  // Raw pointers inside: what the child does is undefined. It usually
  // crashes, but a fresh process may map the segment where the builder did
  // (Windows often does), and then the raw pointers happen to work: only
  // the second mapping in this process is a reliable witness.
  CHECK(segment.destroy<C>(Kind::name));
  CHECK(segment.check().consistent);
  (void)ManagedSegment::remove(guard.name());
  return position_independent;
}

}  // namespace shmkit::test
