// A standard allocator whose memory lives in a ManagedSegment and whose
// pointers are OffsetPtrs, so containers built with it can themselves live
// in the segment and be used by every process that maps it.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>
#include <shmkit/offset_ptr.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

class ManagedSegment;

namespace detail {

// The header at the start of a managed segment's heap (src/managed). Opaque
// here: an Allocator only carries an OffsetPtr to it.
struct HeapHeader;

// The process-local registry of mapped heaps (src/managed/heap_registry.cpp):
// each looks `heap` up among the heaps that ManagedSegment handles of this
// process map, and acts only on one it finds.
// Throws shmkit::Error: errc::invalid_state (no ManagedSegment of this
// process maps `heap`), errc::out_of_space, errc::invalid_size (the size
// overflows), errc::corrupted (the heap's metadata is damaged).
SHMKIT_EXPORT void* heap_allocate(const HeapHeader* heap, std::size_t count, std::size_t size,
                                  std::size_t alignment);
// Never throws; does nothing for an unknown heap or a pointer that is not a
// block of it.
SHMKIT_EXPORT void heap_deallocate(const HeapHeader* heap, void* p) noexcept;
SHMKIT_EXPORT bool heap_contains(const HeapHeader* heap, const void* p, std::size_t bytes) noexcept;
// The heap header of a ManagedSegment (nullptr for an empty handle).
SHMKIT_EXPORT HeapHeader* heap_of(const ManagedSegment& segment) noexcept;

}  // namespace detail

// Allocator<T> meets the standard's Allocator requirements with
// `pointer = OffsetPtr<T>`, so std::vector<int, Allocator<int>> (and
// std::basic_string, std::deque, Boost.Container ...) can be constructed in
// a managed segment and read by another process that maps the segment at
// another address (docs/managed.md lists what works where).
//
//   auto seg = shmkit::ManagedSegment::open_or_create("reg", 1 << 20);
//   using Vec = std::vector<int, shmkit::Allocator<int>>;
//   Vec* v = seg.find_or_construct<Vec>("numbers", seg.get_allocator<int>());
//
// The allocator holds only an OffsetPtr to its heap's header, never a raw
// pointer, so a copy of it may live inside the segment (in a container).
// Every allocate/deallocate/contains looks the heap up in a process-local
// registry of the ManagedSegment handles open in this process, which knows
// the trusted size of each mapping: no size is taken from shared memory.
// A heap no open ManagedSegment of this process maps (its handle closed, or
// an allocator read from a segment mapped by another means): allocate
// throws errc::invalid_state and deallocate does nothing.
//
// Two allocators compare equal when they serve the same heap as mapped in
// this process. Nothing propagates on container copy, move or swap: a
// container in a segment keeps that segment's allocator.
//
// Threads: allocate and deallocate take the heap's ProcessMutex, so they
// may run concurrently from any threads and processes. The containers
// built on it are not thread-safe: guard them with a ProcessMutex.
template <class T>
class Allocator {
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
    using other = Allocator<U>;
  };

  // Serves `segment`'s heap. The segment handle must stay open while the
  // allocator (or any copy, in this process) allocates or deallocates.
  explicit Allocator(ManagedSegment& segment) noexcept : heap_(detail::heap_of(segment)) {}
  template <class U>
  Allocator(const Allocator<U>& other) noexcept  // NOLINT: implicit, as the standard requires
      : heap_(other.heap_) {}
  Allocator(const Allocator& other) noexcept : heap_(other.heap_) {}
  // Copies which heap it serves (the OffsetPtr is recomputed for the copy's
  // own address).
  Allocator& operator=(const Allocator& other) noexcept {
    heap_ = other.heap_;
    return *this;
  }
  ~Allocator() = default;

  // Room for `n` objects of T, aligned for T, from the segment's heap.
  // Throws shmkit::Error (a std::system_error): errc::out_of_space (the
  // heap has no free block that large), errc::invalid_size (n * sizeof(T)
  // overflows), errc::invalid_state (no ManagedSegment open in this process
  // maps the heap), errc::corrupted (damaged heap metadata; nothing changed).
  [[nodiscard]] pointer allocate(size_type n) {
    return pointer(static_cast<T*>(detail::heap_allocate(heap_.get(), n, sizeof(T), alignof(T))));
  }

  // Returns the block at `p` to the heap. Never throws: a null `p`, a `p`
  // that is not a live block of this heap, or a heap no open ManagedSegment
  // of this process maps, is left alone (nothing is freed). `n` is unused.
  void deallocate(pointer p, size_type n) noexcept {
    (void)n;
    detail::heap_deallocate(heap_.get(), static_cast<void*>(p.get()));
  }

  // True when [p, p + bytes) lies inside the heap of the segment this
  // allocator serves, as mapped in THIS process (the trusted mapping size,
  // never a size read from shared memory). The bounds check to make before
  // following an OffsetPtr read from shared memory. False for a heap that
  // no open ManagedSegment of this process maps.
  [[nodiscard]] bool contains(const void* p, std::size_t bytes) const noexcept {
    return detail::heap_contains(heap_.get(), p, bytes);
  }

  // The same heap, as mapped in this process.
  friend bool operator==(const Allocator& a, const Allocator& b) noexcept {
    return a.heap_.get() == b.heap_.get();
  }
  friend bool operator!=(const Allocator& a, const Allocator& b) noexcept { return !(a == b); }
  template <class U>
  friend bool operator==(const Allocator& a, const Allocator<U>& b) noexcept {
    return a == Allocator(b);
  }
  template <class U>
  friend bool operator!=(const Allocator& a, const Allocator<U>& b) noexcept {
    return !(a == b);
  }

 private:
  template <class U>
  friend class Allocator;

  OffsetPtr<detail::HeapHeader> heap_;
};

SHMKIT_END_NAMESPACE
