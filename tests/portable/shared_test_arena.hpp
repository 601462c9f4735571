// A minimal allocator for the container tests that do not need a managed
// segment's heap: a bump arena at the start of a NamedSharedMemory, with
// the shape of shmkit::Allocator (OffsetPtr pointers, an OffsetPtr to its
// arena, contains() against this process's trusted mappings). Freed blocks
// are filled with 0xdd, so a container that reads freed memory shows it.
#pragma once

#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>
#include <shmkit/offset_ptr.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace shmkit::test {

struct ArenaHeader {
  std::uint64_t used;  // bytes from the mapping's start, header included
};

// The mappings this process trusts: (base, size) as mapped here.
inline std::vector<std::pair<const char*, std::size_t>>& arena_mappings() {
  static std::vector<std::pair<const char*, std::size_t>> mappings;
  return mappings;
}

// Registers a mapping for its lifetime; formats its arena when `fresh`.
class ArenaMapping {
 public:
  ArenaMapping(void* base, std::size_t size, bool fresh) : base_(static_cast<char*>(base)) {
    if (fresh) static_cast<ArenaHeader*>(base)->used = 64;
    arena_mappings().emplace_back(base_, size);
  }
  ArenaMapping(const ArenaMapping&) = delete;
  ArenaMapping& operator=(const ArenaMapping&) = delete;
  ~ArenaMapping() {
    auto& all = arena_mappings();
    all.erase(
        std::remove_if(all.begin(), all.end(), [&](const auto& m) { return m.first == base_; }),
        all.end());
  }
  ArenaHeader* header() const { return reinterpret_cast<ArenaHeader*>(base_); }

 private:
  char* base_;
};

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using pointer = OffsetPtr<T>;
  using const_pointer = OffsetPtr<const T>;
  using void_pointer = OffsetPtr<void>;
  using const_void_pointer = OffsetPtr<const void>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_move_assignment = std::false_type;
  using propagate_on_container_swap = std::false_type;
  using is_always_equal = std::false_type;
  template <class U>
  struct rebind {
    using other = ArenaAllocator<U>;
  };

  explicit ArenaAllocator(ArenaHeader* arena) noexcept : arena_(arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena_) {}  // NOLINT
  ArenaAllocator(const ArenaAllocator& other) noexcept : arena_(other.arena_) {}
  ArenaAllocator& operator=(const ArenaAllocator& other) noexcept {
    arena_ = other.arena_;
    return *this;
  }

  pointer allocate(size_type n) {
    const auto mapping = find();
    if (mapping.first == nullptr) throw Error(make_error_code(errc::invalid_state), "no arena");
    ArenaHeader* arena = arena_.get();
    const std::uint64_t used = (arena->used + 15) & ~std::uint64_t{15};
    if (n > mapping.second / sizeof(T) || used > mapping.second ||
        n * sizeof(T) > mapping.second - used) {
      throw Error(make_error_code(errc::invalid_size), "the test arena is full");
    }
    arena->used = used + n * sizeof(T);
    return pointer(reinterpret_cast<T*>(const_cast<char*>(mapping.first) + used));
  }
  void deallocate(pointer p, size_type n) noexcept {
    if (contains(p.get(), n * sizeof(T)))
      std::memset(static_cast<void*>(p.get()), 0xdd, n * sizeof(T));
  }
  bool contains(const void* p, std::size_t bytes) const noexcept {
    const auto mapping = find();
    if (mapping.first == nullptr) return false;
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    const auto begin = reinterpret_cast<std::uintptr_t>(mapping.first) + 64;
    const auto end = reinterpret_cast<std::uintptr_t>(mapping.first) + mapping.second;
    return at >= begin && at <= end && bytes <= end - at;
  }
  friend bool operator==(const ArenaAllocator& a, const ArenaAllocator& b) noexcept {
    return a.arena_.get() == b.arena_.get();
  }
  friend bool operator!=(const ArenaAllocator& a, const ArenaAllocator& b) noexcept {
    return !(a == b);
  }

 private:
  template <class U>
  friend class ArenaAllocator;

  // The trusted mapping whose start the arena pointer names.
  std::pair<const char*, std::size_t> find() const noexcept {
    const char* at = reinterpret_cast<const char*>(arena_.get());
    for (const auto& m : arena_mappings()) {
      if (m.first == at) return m;
    }
    return {nullptr, 0};
  }

  OffsetPtr<ArenaHeader> arena_;
};

}  // namespace shmkit::test
