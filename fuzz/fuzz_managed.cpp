// ManagedSegment: the input overwrites a live heap's metadata (its header
// and lock, the free-list heads, the first blocks and the named-object
// directory), then the heap is used: allocate, deallocate, find,
// construct, destroy, check, a container through its Allocator, and a
// second mapping at another address. Garbage must give errc::corrupted (or
// work), never a crash, a hang or a write outside the segment.
#include "fuzz_support.hpp"

#include <shmkit/managed_segment.hpp>

#include <cstring>
#include <vector>

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

constexpr std::size_t k_segment_size = 64 * 1024;
// The patches land in the first 8 KiB: the 1280-byte header, then blocks.
constexpr std::size_t k_patched = 8 * 1024;
constexpr std::size_t k_blocks_at = 1280;

struct Pair {
  std::int64_t a;
  std::int64_t b;
};

void use(ManagedSegment& seg, std::vector<void*>& blocks, const Input& input) {
  std::error_code ec;
  attempt("check", [&] { (void)seg.check(ec); });
  attempt("allocate", [&] {
    for (std::size_t bytes : {8u, 100u, 1000u, 5000u}) {
      void* p = seg.allocate(bytes, input.flag(3) ? 64 : 16, ec);
      if (p != nullptr) std::memset(p, 0xa5, bytes);  // must lie inside the segment
      if (p != nullptr) blocks.push_back(p);
    }
  });
  attempt("deallocate", [&] {
    for (std::size_t i = 0; i < blocks.size(); i += 2) seg.deallocate(blocks[i], ec);
  });
  attempt("find", [&] {
    Pair* p = seg.find<Pair>("pair", ec);
    if (p != nullptr) p->a += 1;
    (void)seg.find<std::int32_t>("pair", ec);
    (void)seg.find<std::int64_t>("n3", ec);
  });
  attempt("construct", [&] {
    (void)seg.find_or_construct<Pair>("other", ec, Pair{1, 2});
    for (int i = 0; i < 4; ++i) (void)seg.construct<std::int64_t>("m" + std::to_string(i), ec, i);
  });
  attempt("destroy", [&] {
    (void)seg.destroy<Pair>("pair", ec);
    (void)seg.destroy<std::int64_t>("n1", ec);
  });
  attempt("container", [&] {
    std::vector<int, Allocator<int>> numbers(seg.get_allocator<int>());
    for (int i = 0; i < 300; ++i) numbers.push_back(i);
  });
  attempt("check again", [&] { (void)seg.check(ec); });
  attempt("figures", [&] { (void)(seg.free_memory() + seg.used_memory()); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 1 build more state first, bit 2 use a second mapping too,
  // bit 3 over-aligned allocations.
  const std::string name = next_name("h");
  std::error_code ec;
  ManagedSegment seg;
  attempt("create",
          [&] { seg = ManagedSegment::create(name, k_segment_size, quick_options(), ec); });
  if (seg.is_open()) {
    std::vector<void*> blocks;
    attempt("build", [&] {
      (void)seg.construct<Pair>("pair", Pair{3, 4});
      const int count = input.flag(1) ? 40 : 8;
      for (int i = 0; i < count; ++i) {
        blocks.push_back(seg.allocate(static_cast<std::size_t>(16 + 24 * i)));
        (void)seg.construct<std::int64_t>("n" + std::to_string(i), i);
      }
      for (std::size_t i = 0; i < blocks.size(); i += 3) seg.deallocate(blocks[i]);
    });
    blocks.clear();
    input.apply(static_cast<std::byte*>(seg.segment().data()), k_patched, k_blocks_at);
    use(seg, blocks, input);
    if (input.flag(2)) {
      ManagedSegment second;
      attempt("open", [&] { second = ManagedSegment::open(name, quick_options(), ec); });
      std::vector<void*> more;
      if (second.is_open()) use(second, more, input);
    }
  }
  seg.close();
  remove_all(name);
  return 0;
}
