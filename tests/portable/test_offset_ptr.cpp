// OffsetPtr: a raw pointer's arithmetic and comparisons, null, a linked
// structure read through two mappings of one segment at different addresses
// (in this process and in a child), std::pointer_traits, and a std::vector
// whose allocator's pointer is an OffsetPtr.
#include <doctest/doctest.h>

#include <shmkit/named_shared_memory.hpp>
#include <shmkit/offset_ptr.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <numeric>
#include <type_traits>
#include <vector>

using namespace shmkit;

namespace {

struct Node {
  std::int32_t value;
  OffsetPtr<Node> next;
};

// The layout both processes agree on: a list threaded through `nodes`,
// starting at `head`, and a pointer into `numbers`.
struct ListSegment {
  OffsetPtr<Node> head;
  OffsetPtr<std::int32_t> middle;
  OffsetPtr<void> self;  // points at the structure itself (distance 0: not null)
  Node nodes[8];
  std::int32_t numbers[16];
  std::int32_t child_sum;
};

void build_list(ListSegment& s) {
  for (int i = 0; i < 8; ++i) s.nodes[i].value = 10 * i;
  // Reverse order, to show nothing depends on positions.
  s.head = &s.nodes[7];
  for (int i = 7; i > 0; --i) s.nodes[i].next = &s.nodes[i - 1];
  s.nodes[0].next = nullptr;
  std::iota(std::begin(s.numbers), std::end(s.numbers), 100);
  s.middle = &s.numbers[8];
  s.self = &s;
}

// Walks the list as found in `s`, checking each pointer against the mapping
// first (the values come from shared memory). -1 if any is out of bounds.
std::int64_t sum_list(const ListSegment& s, const void* base, std::size_t size) {
  std::int64_t sum = 0;
  OffsetPtr<const Node> at = s.head;
  for (int steps = 0; at != nullptr; ++steps) {
    if (steps > 8 || !at.within(base, size)) return -1;
    sum += at->value;
    at = at->next;
  }
  return sum;
}

// A minimal allocator whose pointer is an OffsetPtr: what a container needs
// from a fancy pointer, without the future shmkit Allocator.
template <typename T>
struct OffsetTestAllocator {
  using value_type = T;
  using pointer = OffsetPtr<T>;
  using const_pointer = OffsetPtr<const T>;
  using void_pointer = OffsetPtr<void>;
  using const_void_pointer = OffsetPtr<const void>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;

  OffsetTestAllocator() = default;
  template <typename U>
  OffsetTestAllocator(const OffsetTestAllocator<U>&) noexcept {}  // NOLINT: rebinding

  pointer allocate(std::size_t n) {
    return pointer(static_cast<T*>(::operator new(n * sizeof(T))));
  }
  void deallocate(pointer p, std::size_t) noexcept { ::operator delete(p.get()); }

  template <typename U>
  struct rebind {
    using other = OffsetTestAllocator<U>;
  };
  friend bool operator==(const OffsetTestAllocator&, const OffsetTestAllocator&) { return true; }
  friend bool operator!=(const OffsetTestAllocator&, const OffsetTestAllocator&) { return false; }
};

// The traits containers read.
static_assert(std::is_same_v<std::pointer_traits<OffsetPtr<int>>::element_type, int>);
static_assert(std::is_same_v<std::pointer_traits<OffsetPtr<int>>::difference_type, std::ptrdiff_t>);
static_assert(
    std::is_same_v<std::pointer_traits<OffsetPtr<int>>::rebind<double>, OffsetPtr<double>>);
static_assert(std::is_same_v<std::pointer_traits<OffsetPtr<int>>::rebind<void>, OffsetPtr<void>>);
static_assert(std::is_same_v<std::iterator_traits<OffsetPtr<int>>::iterator_category,
                             std::random_access_iterator_tag>);
static_assert(std::is_same_v<std::iterator_traits<OffsetPtr<int>>::reference, int&>);
static_assert(std::is_same_v<std::iterator_traits<OffsetPtr<const int>>::value_type, int>);
static_assert(
    std::is_same_v<std::allocator_traits<OffsetTestAllocator<int>>::pointer, OffsetPtr<int>>);
static_assert(std::is_same_v<std::allocator_traits<OffsetTestAllocator<int>>::const_void_pointer,
                             OffsetPtr<const void>>);
// Conversions: as for raw pointers.
static_assert(std::is_convertible_v<OffsetPtr<int>, OffsetPtr<const int>>);
static_assert(std::is_convertible_v<OffsetPtr<int>, OffsetPtr<void>>);
static_assert(std::is_convertible_v<OffsetPtr<const int>, OffsetPtr<const void>>);
static_assert(!std::is_convertible_v<OffsetPtr<const int>, OffsetPtr<int>>);
static_assert(!std::is_convertible_v<OffsetPtr<void>, OffsetPtr<int>>);
static_assert(std::is_constructible_v<OffsetPtr<int>, OffsetPtr<void>>);  // static_cast
static_assert(!std::is_constructible_v<OffsetPtr<int>, OffsetPtr<double>>);
static_assert(std::is_standard_layout_v<OffsetPtr<int>>);
static_assert(sizeof(OffsetPtr<int>) == sizeof(void*));

}  // namespace

// args: segment-name. Maps the segment the parent built (at whatever address
// this process gets), checks the list and writes its sum and a new head.
SHMKIT_CHILD_ROLE(offset_ptr_reader) {
  auto shm = NamedSharedMemory::open(args.at(0));
  auto& s = *static_cast<ListSegment*>(shm.data());
  const std::int64_t sum = sum_list(s, shm.data(), shm.size());
  if (sum < 0) return 2;
  if (!s.middle.within(shm.data(), shm.size()) || *s.middle != 108) return 3;
  if (s.self.get() != static_cast<void*>(&s)) return 4;
  s.child_sum = static_cast<std::int32_t>(sum);
  // Relink from here: the parent must see it at its own address.
  s.head = &s.nodes[3];
  s.nodes[0].next = nullptr;
  return 0;
}

TEST_SUITE("offset_ptr") {
  TEST_CASE("null, a raw pointer's arithmetic and comparisons") {
    OffsetPtr<int> null_ptr;
    CHECK(null_ptr.get() == nullptr);
    CHECK_FALSE(null_ptr);
    CHECK(!null_ptr);
    CHECK(null_ptr == nullptr);
    CHECK(nullptr == null_ptr);
    CHECK(OffsetPtr<int>(nullptr) == null_ptr);
    null_ptr += 0;
    CHECK(null_ptr == nullptr);

    int values[10];
    std::iota(std::begin(values), std::end(values), 0);
    OffsetPtr<int> p = values;
    CHECK(p);
    CHECK(p != nullptr);
    CHECK(p.get() == values);
    CHECK(*p == 0);
    CHECK(p[7] == 7);
    ++p;
    CHECK(*p == 1);
    CHECK(*p++ == 1);
    CHECK(*p == 2);
    p += 5;
    CHECK(*p == 7);
    --p;
    CHECK(*p-- == 6);
    p -= 3;
    CHECK(*p == 2);
    CHECK(*(p + 3) == 5);
    CHECK(*(3 + p) == 5);
    CHECK(*(p - 2) == 0);

    OffsetPtr<int> end = values + 10;
    CHECK(end - p == 8);
    CHECK(p - end == -8);
    CHECK(end - values == 10);
    CHECK(values + 10 - p == 8);
    CHECK(p < end);
    CHECK(p <= end);
    CHECK(end > p);
    CHECK(end >= p);
    CHECK(p <= p);
    CHECK(p >= p);
    CHECK_FALSE(p < p);
    CHECK(p == values + 2);
    CHECK(values + 2 == p);
    CHECK(p != values);
    CHECK(p < values + 3);
    CHECK(values + 1 < p);
    CHECK(p > values);
    CHECK(null_ptr < p);  // null orders first, as std::less does for raw pointers
    CHECK(p > nullptr);
    CHECK(nullptr <= p);

    // An iterator: the algorithms accept it.
    std::reverse(OffsetPtr<int>(values), OffsetPtr<int>(values + 10));
    CHECK(values[0] == 9);
    std::sort(OffsetPtr<int>(values), OffsetPtr<int>(values + 10));
    CHECK(std::is_sorted(std::begin(values), std::end(values)));
    CHECK(std::distance(OffsetPtr<int>(values), OffsetPtr<int>(values + 10)) == 10);

    // Conversions and casts.
    OffsetPtr<const int> c = p;
    CHECK(c.get() == values + 2);
    OffsetPtr<void> v = p;
    CHECK(v.get() == static_cast<void*>(values + 2));
    CHECK(static_pointer_cast<int>(v) == p);
    CHECK(OffsetPtr<int>(v) == p);
    CHECK(const_pointer_cast<int>(c) == p);
    CHECK(reinterpret_pointer_cast<char>(p).get() == reinterpret_cast<char*>(values + 2));
    CHECK(std::pointer_traits<OffsetPtr<int>>::pointer_to(values[4]).get() == values + 4);
    CHECK(to_address(p) == values + 2);

    OffsetPtr<int> q = values + 9;
    swap(p, q);
    CHECK(p.get() == values + 9);
    CHECK(q.get() == values + 2);
  }

  TEST_CASE("a copy stores its own distance; distance 0 is not null") {
    struct Holder {
      OffsetPtr<Holder> me;
      int value = 5;
    };
    Holder h;
    h.me = &h;  // distance 0
    CHECK(h.me);
    CHECK(h.me->value == 5);
    // Moving the bytes elsewhere keeps the distance: the copy targets itself.
    alignas(Holder) unsigned char moved[sizeof(Holder)];
    std::memcpy(moved, &h, sizeof(Holder));
    const auto* copied = reinterpret_cast<const Holder*>(moved);
    CHECK(copied->me.get() == copied);
    // A copy made by OffsetPtr's own copy keeps the target instead.
    OffsetPtr<Holder> elsewhere = h.me;
    CHECK(elsewhere.get() == &h);
    std::vector<OffsetPtr<Holder>> many(3, h.me);
    for (const auto& each : many) CHECK(each.get() == &h);
  }

  TEST_CASE("within() bounds a pointer read from shared memory") {
    alignas(8) unsigned char area[64];
    OffsetPtr<std::uint64_t> p(reinterpret_cast<std::uint64_t*>(area));
    CHECK(p.within(area, sizeof area));
    CHECK(p.within(area, sizeof area, 8));
    CHECK_FALSE(p.within(area, sizeof area, 9));
    CHECK_FALSE(p.within(area + 8, 56));  // before the range
    CHECK_FALSE(p.within(area, 7));       // does not fit
    OffsetPtr<std::uint64_t> last(reinterpret_cast<std::uint64_t*>(area + 56));
    CHECK(last.within(area, sizeof area));
    CHECK_FALSE(last.within(area, 63));
    // Misaligned for its type: refused.
    OffsetPtr<void> raw(area + 3);
    CHECK(raw.within(area, sizeof area));
    CHECK_FALSE(static_pointer_cast<std::uint64_t>(raw).within(area, sizeof area));
    CHECK_FALSE(OffsetPtr<int>().within(area, sizeof area));  // null
    // A garbage distance, as another process could write, is only refused.
    OffsetPtr<std::uint64_t> garbage;
    const std::intptr_t huge = INTPTR_MAX / 2;
    std::memcpy(static_cast<void*>(&garbage), &huge, sizeof huge);
    CHECK_FALSE(garbage.within(area, sizeof area));
  }

  TEST_CASE("one list, two mappings at different addresses, in this process and a child") {
    test::NameGuard guard(test::unique_name("optr"));
    auto first = NamedSharedMemory::create(guard.name(), sizeof(ListSegment));
    auto second = NamedSharedMemory::open(guard.name());
    REQUIRE(first.data() != second.data());
    auto& a = *static_cast<ListSegment*>(first.data());
    auto& b = *static_cast<ListSegment*>(second.data());
    build_list(a);

    // Through the second mapping, every pointer targets the second mapping.
    CHECK(sum_list(b, second.data(), second.size()) == 280);
    CHECK(sum_list(b, first.data(), first.size()) == -1);  // not the first one's addresses
    CHECK(b.head.get() == &b.nodes[7]);
    CHECK(*b.middle == 108);
    CHECK(b.self.get() == static_cast<void*>(&b));
    CHECK(b.middle.within(second.data(), second.size()));
    CHECK_FALSE(b.middle.within(first.data(), first.size()));

    // A copy into private memory keeps pointing where the original did.
    const OffsetPtr<Node> local = b.head;
    CHECK(local.get() == &b.nodes[7]);
    // Assigning across mappings stores the distance to the same target.
    b.nodes[0].next = a.head;  // a's node 7 as seen through a: a cycle in a
    CHECK(b.nodes[0].next.get() == &a.nodes[7]);
    a.nodes[0].next = nullptr;

    const auto status = test::run_child("offset_ptr_reader", {guard.name()});
    CHECK(status.exited);
    CHECK(status.code == 0);
    CHECK(a.child_sum == 280);
    CHECK(a.head.get() == &a.nodes[3]);
    CHECK(b.head.get() == &b.nodes[3]);
    CHECK(sum_list(a, first.data(), first.size()) == 60);
    NamedSharedMemory::remove(guard.name());
  }

  TEST_CASE("std::vector accepts an allocator whose pointer is an OffsetPtr") {
    std::vector<int, OffsetTestAllocator<int>> numbers;
    for (int i = 0; i < 1000; ++i) numbers.push_back(1000 - i);
    CHECK(numbers.size() == 1000);
    std::sort(numbers.begin(), numbers.end());
    CHECK(numbers.front() == 1);
    CHECK(numbers.back() == 1000);
    numbers.erase(numbers.begin(), numbers.begin() + 500);
    numbers.insert(numbers.begin(), 7);
    CHECK(numbers[0] == 7);
    CHECK(numbers[1] == 501);
    auto copy = numbers;
    CHECK(copy == numbers);
    CHECK(std::accumulate(copy.begin(), copy.end(), 0L) == 7 + (501 + 1000) * 500 / 2);
    copy.clear();
    copy.shrink_to_fit();
    CHECK(copy.empty());
  }
}
