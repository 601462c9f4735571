// ManagedSegment: factories on every backend, blocks, named objects with
// their types, a std::vector built by one process and extended by another
// that maps the segment at another address, running out of space, and a
// heap whose metadata was overwritten (errc::corrupted, never a crash).
#include <doctest/doctest.h>

#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>
#include <shmkit/lifecycle.hpp>
#include <shmkit/managed_segment.hpp>
#include <shmkit/named_shared_memory.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace shmkit;

namespace {

using IntVector = std::vector<int, Allocator<int>>;

struct Point {
  std::int64_t x;
  std::int64_t y;
};

struct Versioned {
  std::int64_t a;
  std::int64_t b;
};

struct Throws {
  explicit Throws(bool fail) {
    if (fail) throw std::runtime_error("constructor failed");
  }
  std::int64_t value = 7;
};

}  // namespace

template <>
struct shmkit::ManagedTypeSchema<Versioned> {
  static constexpr std::uint64_t value = 3;
};

namespace {

// Another struct of the same size and alignment as Versioned, schema 0.
struct SameShape {
  std::int64_t a;
  std::int64_t b;
};

}  // namespace

// Maps an unrelated segment first, so that the managed segment lands at
// another address than in the parent; then extends the parent's vector.
SHMKIT_CHILD_ROLE(managed_vector_child) {
  auto shift = NamedSharedMemory::create(args.at(1), 3 * 65536 + 4096);
  auto seg = ManagedSegment::open(args.at(0));
  if (seg.segment().data() == reinterpret_cast<void*>(std::stoull(args.at(2)))) return 5;
  auto* numbers = seg.find<IntVector>("numbers");
  if (numbers == nullptr) return 2;
  if (numbers->size() != 1000) return 3;
  if (std::accumulate(numbers->begin(), numbers->end(), 0LL) != 499500) return 4;
  for (int i = 1000; i < 3000; ++i) numbers->push_back(i);  // reallocates in this mapping
  NamedSharedMemory::remove(args.at(1));
  return 0;
}

TEST_SUITE("managed") {
  TEST_CASE("factories, blocks and figures on every backend") {
    for (const Backend backend : test::segment_backends()) {
      const std::string backend_name = to_string(backend);
      CAPTURE(backend_name);
      test::NameGuard guard(test::unique_name("mg"));
      SegmentOptions options;
      options.backend = backend;
      CHECK_FALSE(ManagedSegment::exists(guard.name(), options));
      auto seg = ManagedSegment::create(guard.name(), 1 << 16, options);
      CHECK(seg.is_open());
      CHECK(seg.created());
      CHECK(seg.size() == (1 << 16));
      CHECK(seg.name() == guard.name());
      CHECK(ManagedSegment::exists(guard.name(), options));
      const std::size_t free_before = seg.free_memory();
      CHECK(free_before > 60000);
      CHECK(seg.used_memory() == 0);

      void* a = seg.allocate(100);
      void* b = seg.allocate(1000, 256);
      REQUIRE(a != nullptr);
      REQUIRE(b != nullptr);
      CHECK(reinterpret_cast<std::uintptr_t>(a) % alignof(std::max_align_t) == 0);
      CHECK(reinterpret_cast<std::uintptr_t>(b) % 256 == 0);
      std::memset(a, 0xab, 100);
      std::memset(b, 0xcd, 1000);
      CHECK(seg.used_memory() >= 1100);

      auto again = ManagedSegment::open_or_create(guard.name(), 1 << 16, options);
      CHECK_FALSE(again.created());
      CHECK(again.free_memory() == seg.free_memory());
      HeapCheck check = again.check();
      CHECK(check.consistent);
      CHECK(check.problem.empty());
      CHECK(check.used_blocks == 2);
      CHECK(check.used_bytes == seg.used_memory());
      CHECK(check.free_bytes == seg.free_memory());

      seg.deallocate(a);
      seg.deallocate(b);
      CHECK(seg.used_memory() == 0);
      CHECK(seg.free_memory() == free_before);
      check = seg.check();
      CHECK(check.consistent);
      CHECK(check.blocks == 1);  // coalesced back into one free block

      std::error_code ec;
      (void)ManagedSegment::create(guard.name(), 1 << 16, options, ec);
      CHECK(ec == errc::already_exists);
      (void)ManagedSegment::open_or_create(guard.name(), 1 << 17, options, ec);
      CHECK(ec == errc::size_mismatch);
      if (backend != Backend::win32) {  // Win32: the name lives while a handle is open
        CHECK(ManagedSegment::remove(guard.name(), options));
        CHECK_FALSE(ManagedSegment::exists(guard.name(), options));
      }
      CHECK(seg.allocate(10) != nullptr);  // the mapping outlives the name
    }
  }

  TEST_CASE("listed and inspected as kind managed") {
    test::NameGuard guard(test::unique_name("mg"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    const SegmentInfo info = inspect_segment(guard.name());
    CHECK(info.kind == ObjectKind::managed);
    CHECK(info.state == HeaderState::ready);
    CHECK(info.size == (1 << 16));
    CHECK(std::string(to_string(ObjectKind::managed)) == "managed");
    CHECK(static_cast<int>(ObjectKind::managed) == 14);
  }

  TEST_CASE("arguments, kinds and empty handles") {
    test::NameGuard guard(test::unique_name("mg"));
    std::error_code ec;
    (void)ManagedSegment::create(guard.name(), 100, {}, ec);
    CHECK(ec == errc::invalid_size);
    (void)ManagedSegment::create("bad/name", 1 << 16, {}, ec);
    CHECK(ec == errc::invalid_name);
    SegmentOptions raw;
    raw.raw = true;
    (void)ManagedSegment::create(guard.name(), 1 << 16, raw, ec);
    CHECK(ec == errc::invalid_argument);
    (void)ManagedSegment::open(guard.name(), {}, ec);
    CHECK(ec == errc::not_found);
    {
      auto plain = NamedSharedMemory::create(guard.name(), 1 << 16);
      (void)ManagedSegment::open(guard.name(), {}, ec);
      CHECK(ec == errc::wrong_kind);
      NamedSharedMemory::remove(guard.name());
    }
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    (void)NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);

    ManagedSegment empty;
    CHECK(empty.allocate(10, ec) == nullptr);
    CHECK(ec == errc::invalid_state);
    CHECK(empty.find<int>("x", ec) == nullptr);
    CHECK(ec == errc::invalid_state);
    CHECK_THROWS_AS((void)empty.allocate(10), Error);
    CHECK(empty.size() == 0);
    CHECK(empty.free_memory() == 0);

    CHECK(seg.allocate(10, 3, ec) == nullptr);
    CHECK(ec == errc::invalid_argument);
    int local = 0;
    seg.deallocate(&local, ec);
    CHECK(ec == errc::invalid_argument);
    void* p = seg.allocate(64);
    seg.deallocate(p);
    seg.deallocate(p, ec);  // twice
    CHECK(ec == errc::invalid_argument);
    seg.deallocate(static_cast<char*>(seg.allocate(64)) + 16, ec);  // inside a block
    CHECK(ec == errc::invalid_argument);
    seg.deallocate(nullptr);
    (void)seg.find<int>(std::string(k_max_object_name_length + 1, 'n'), ec);
    CHECK(ec == errc::invalid_name);
    (void)seg.find<int>(std::string("a\0b", 3), ec);
    CHECK(ec == errc::invalid_name);
    (void)seg.find<int>("", ec);
    CHECK(ec == errc::invalid_name);
    CHECK(seg.check().consistent);
  }

  TEST_CASE("named objects record their type") {
    test::NameGuard guard(test::unique_name("mg"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    Point* p = seg.construct<Point>("origin", Point{3, 4});
    REQUIRE(p != nullptr);
    CHECK(seg.find<Point>("origin") == p);
    CHECK(seg.find<Point>("absent") == nullptr);
    std::error_code ec;
    CHECK(seg.construct<Point>("origin", ec, Point{0, 0}) == nullptr);
    CHECK(ec == errc::already_exists);
    CHECK_THROWS_AS(seg.construct<Point>("origin", Point{0, 0}), Error);
    CHECK(seg.find_or_construct<Point>("origin", Point{9, 9})->x == 3);

    // Another type under the name: type_mismatch, never a reinterpretation.
    CHECK(seg.find<std::int32_t>("origin", ec) == nullptr);
    CHECK(ec == errc::type_mismatch);
    CHECK(seg.find_or_construct<double>("origin", ec, 1.0) == nullptr);
    CHECK(ec == errc::type_mismatch);
    CHECK_FALSE(seg.destroy<double>("origin", ec));
    CHECK(ec == errc::type_mismatch);
    try {
      (void)seg.find<std::int32_t>("origin");
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.code() == errc::type_mismatch);
      CHECK(std::string(e.what()).find("origin") != std::string::npos);
    }
    // Same size and alignment, another schema id.
    REQUIRE(seg.construct<Versioned>("versioned", Versioned{1, 2}) != nullptr);
    CHECK(seg.find<SameShape>("versioned", ec) == nullptr);
    CHECK(ec == errc::type_mismatch);
    CHECK(seg.find<Versioned>("versioned")->b == 2);

    // Over-aligned objects and many names (the directory grows).
    struct alignas(128) Wide {
      char bytes[200];
    };
    Wide* wide = seg.construct<Wide>("wide");
    CHECK(reinterpret_cast<std::uintptr_t>(wide) % 128 == 0);
    for (int i = 0; i < 100; ++i) {
      REQUIRE(seg.construct<std::int64_t>("n" + std::to_string(i), i) != nullptr);
    }
    for (int i = 0; i < 100; i += 2) CHECK(seg.destroy<std::int64_t>("n" + std::to_string(i)));
    for (int i = 0; i < 100; ++i) {
      auto* n = seg.find<std::int64_t>("n" + std::to_string(i));
      CHECK((n == nullptr) == (i % 2 == 0));
      if (n != nullptr) CHECK(*n == i);
    }
    HeapCheck check = seg.check();
    CHECK(check.consistent);
    CHECK(check.named_objects == 53);

    // A constructor that throws leaves the name unused and frees the block.
    const std::size_t used = seg.used_memory();
    CHECK_THROWS_AS(seg.construct<Throws>("throws", true), std::runtime_error);
    CHECK(seg.find<Throws>("throws") == nullptr);
    CHECK(seg.used_memory() == used);
    CHECK(seg.construct<Throws>("throws", false)->value == 7);

    CHECK(seg.destroy<Point>("origin"));
    CHECK_FALSE(seg.destroy<Point>("origin"));
    CHECK(seg.check().consistent);
  }

  TEST_CASE("a vector built in one mapping and extended in a process that maps it elsewhere") {
    test::NameGuard guard(test::unique_name("mg"));
    test::NameGuard shift(test::unique_name("mgs"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 20);
    auto* numbers = seg.construct<IntVector>("numbers", seg.get_allocator<int>());
    for (int i = 0; i < 1000; ++i) numbers->push_back(i);

    // The same process, a second mapping at another address.
    {
      auto second = ManagedSegment::open(guard.name());
      CHECK(second.segment().data() != seg.segment().data());
      auto* seen = second.find<IntVector>("numbers");
      REQUIRE(seen != nullptr);
      CHECK(static_cast<void*>(seen) != static_cast<void*>(numbers));
      CHECK(seen->size() == 1000);
      CHECK((*seen)[999] == 999);
      CHECK(seen->get_allocator() != numbers->get_allocator());  // two mappings
      CHECK(seen->get_allocator().contains(seen->data(), 1000 * sizeof(int)));
      CHECK_FALSE(numbers->get_allocator().contains(seen->data(), sizeof(int)));
    }

    const auto address = reinterpret_cast<std::uintptr_t>(seg.segment().data());
    const test::ExitStatus status = test::run_child(
        "managed_vector_child", {guard.name(), shift.name(), std::to_string(address)});
    CHECK(status.exited);
    CHECK(status.code == 0);
    REQUIRE(numbers->size() == 3000);
    CHECK(std::accumulate(numbers->begin(), numbers->end(), 0LL) == 2999LL * 3000 / 2);
    numbers->erase(numbers->begin(), numbers->begin() + 10);
    CHECK(numbers->front() == 10);
    CHECK(seg.destroy<IntVector>("numbers"));
    HeapCheck check = seg.check();
    CHECK(check.consistent);
    CHECK(check.used_blocks == 1);  // only the directory is left
  }

  TEST_CASE("an Allocator without an open segment, and running out of space") {
    test::NameGuard guard(test::unique_name("mg"));
    auto seg = ManagedSegment::create(guard.name(), 64 * 1024);
    Allocator<int> alloc = seg.get_allocator<int>();
    Allocator<char> chars(alloc);
    CHECK(chars == alloc);

    std::vector<void*> blocks;
    std::error_code ec;
    for (;;) {
      void* p = seg.allocate(1000, ec);
      if (p == nullptr) break;
      blocks.push_back(p);
    }
    CHECK(ec == errc::out_of_space);
    CHECK(blocks.size() > 50);
    try {
      (void)seg.allocate(4000);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.code() == errc::out_of_space);
      CHECK(std::string(e.what()).find(guard.name()) != std::string::npos);
    }
    try {
      (void)alloc.allocate(100000);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.code() == errc::out_of_space);
    }
    try {
      (void)alloc.allocate(std::size_t{1} << 62);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.code() == errc::invalid_size);
    }
    for (void* p : blocks) seg.deallocate(p);
    CHECK(seg.check().consistent);
    CHECK(seg.check().free_blocks == 1);

    seg.close();
    try {
      (void)alloc.allocate(1);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.code() == errc::invalid_state);
    }
    alloc.deallocate(Allocator<int>::pointer(), 0);  // nothing happens
    CHECK_FALSE(alloc.contains(nullptr, 1));
  }

  TEST_CASE("garbage in the heap's metadata gives errc::corrupted, never a crash") {
    test::NameGuard guard(test::unique_name("mg"));
    std::mt19937_64 random(12345);
    for (int round = 0; round < 40; ++round) {
      CAPTURE(round);
      (void)ManagedSegment::remove(guard.name());
      auto seg = ManagedSegment::create(guard.name(), 1 << 16);
      std::vector<void*> blocks;
      for (int i = 0; i < 20; ++i) blocks.push_back(seg.allocate(16 + 40 * i));
      for (int i = 0; i < 20; i += 3) seg.deallocate(blocks[i]);
      (void)seg.construct<Point>("p", Point{1, 2});
      // Overwrite a stretch of the metadata: the header, a block header, the
      // free-list words or the directory.
      auto* bytes = static_cast<unsigned char*>(seg.segment().data());
      const std::size_t spots[] = {
          0,
          64 + 64,
          192,
          1280,
          1280 + 16,
          static_cast<std::size_t>(static_cast<unsigned char*>(blocks[5]) - bytes) - 16,
          static_cast<std::size_t>(static_cast<unsigned char*>(blocks[6]) - bytes) - 16};
      const std::size_t at = spots[round % 7] + (round / 7) * 8;
      for (std::size_t i = 0; i < 24; ++i) bytes[at + i] = static_cast<unsigned char>(random());
      std::error_code ec;
      const HeapCheck check = seg.check(ec);
      if (!ec && !check.consistent) CHECK_FALSE(check.problem.empty());
      for (int i = 0; i < 20; ++i) {
        void* p = seg.allocate(16 + static_cast<std::size_t>(random() % 3000), ec);
        if (p != nullptr) std::memset(p, 0x5a, 16);
        seg.deallocate(blocks[static_cast<std::size_t>(i)], ec);
      }
      (void)seg.find<Point>("p", ec);
      (void)seg.find_or_construct<Point>("q", ec, Point{3, 4});
      (void)seg.destroy<Point>("p", ec);
      (void)seg.check(ec);
    }
  }

  TEST_CASE("check() names what is wrong") {
    test::NameGuard guard(test::unique_name("mg"));
    auto seg = ManagedSegment::create(guard.name(), 1 << 16);
    void* p = seg.allocate(100);
    REQUIRE(seg.check().consistent);
    auto* header = static_cast<std::uint64_t*>(p) - 2;
    const std::uint64_t saved = header[0];
    header[0] = 3;  // a size no block can have
    HeapCheck check = seg.check();
    CHECK_FALSE(check.consistent);
    CHECK(check.problem.find("1280") != std::string::npos);
    std::error_code ec;
    (void)seg.allocate(100, ec);
    CHECK((ec == errc::corrupted || !ec));
    seg.deallocate(p, ec);
    CHECK(ec == errc::invalid_argument);
    header[0] = saved;
    CHECK(seg.check().consistent);

    std::memset(seg.segment().data(), 0x77, 8);  // the magic number
    CHECK_FALSE(seg.check().consistent);
    CHECK(seg.allocate(10, ec) == nullptr);
    CHECK(ec == errc::corrupted);
    (void)ManagedSegment::open(guard.name(), {}, ec);
    CHECK(ec == errc::corrupted);
  }
}
