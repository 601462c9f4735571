// A named segment with a heap: allocate/deallocate, named objects of any
// type, and Allocator<T> for containers that live in shared memory.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/allocator.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/options.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE

// The longest name of an object inside a managed segment, in bytes. Any
// bytes but NUL.
inline constexpr std::size_t k_max_object_name_length = 128;

// The schema id a named object of type T records next to sizeof(T) and
// alignof(T). 0 unless specialised: specialise it (in namespace shmkit) and
// bump the value when T changes meaning without changing size or alignment,
// so that a process built with the old T gets errc::type_mismatch instead of
// reinterpreting the bytes. No compiler-specific type name is recorded:
// processes built by different compilers agree on (size, alignment, id).
//
//   template <> struct shmkit::ManagedTypeSchema<Account> {
//     static constexpr std::uint64_t value = 2;
//   };
template <class T>
struct ManagedTypeSchema {
  static constexpr std::uint64_t value = 0;
};

// What check() finds when it walks the heap. All counts are of blocks and
// bytes as the walk saw them (block headers included in neither byte
// figure).
struct HeapCheck {
  // True when the walk reached the heap's end through valid blocks, the
  // free lists hold exactly the free blocks, and every named object's entry
  // points at a live block.
  bool consistent = false;
  std::size_t heap_bytes = 0;   // the heap's span, headers included
  std::size_t blocks = 0;       // every block the walk passed
  std::size_t used_blocks = 0;  // allocated ones (named objects included)
  std::size_t free_blocks = 0;
  std::size_t used_bytes = 0;     // the payload of allocated blocks
  std::size_t free_bytes = 0;     // the payload of free blocks
  std::size_t largest_free = 0;   // the payload of the largest free block
  std::size_t named_objects = 0;  // constructed named objects
  // Empty when consistent; otherwise what is wrong and where ("block at heap
  // offset 4096 has size 3, not a multiple of 16").
  std::string problem;
};

namespace detail {

struct ManagedSegmentImpl;
// Reaches a handle's implementation for detail::heap_of (src/managed).
struct ManagedSegmentAccess;
struct Failure;

// What a named object records about its type.
struct ManagedType {
  std::uint64_t size;
  std::uint64_t align;
  std::uint64_t schema_id;
};

enum class NamedMode : std::uint8_t { find, construct, find_or_construct };

// Constructs a T at `where` from the arguments `context` points at; may
// throw (the block is then freed and the name left unused).
using NamedConstructor = void (*)(void* where, void* context);
using NamedDestructor = void (*)(void* object) noexcept;

template <class T, class Tuple, std::size_t... I>
void construct_from_tuple(void* where, Tuple& args, std::index_sequence<I...>) {
  ::new (where) T(std::forward<std::tuple_element_t<I, Tuple>>(std::get<I>(args))...);
}

}  // namespace detail

// A segment (NamedSharedMemory, on any backend) whose bytes are a heap: a
// crash-consistent allocator, a directory of named objects, and the
// Allocator<T> that standard containers use to live in it.
//
//   auto seg = shmkit::ManagedSegment::open_or_create("registry", 1 << 20);
//   auto* total = seg.find_or_construct<std::int64_t>("total", 0);
//   void* block = seg.allocate(256);
//   seg.deallocate(block);
//
// Every heap operation takes the ProcessMutex in the heap's header. When its
// holder died (at any instruction inside allocate, deallocate, construct or
// destroy), the next caller repairs the heap before going on: a half-done
// operation is rolled back or finished (docs/managed.md, "Crash
// consistency"). Every offset and size read from the heap is checked against
// this process's mapping before use: a damaged heap gives errc::corrupted,
// never a crash.
//
// What may live in it: see docs/managed.md (no raw pointers, no virtual
// functions, no std:: containers with the default allocator).
//
// Errors: every call that can fail comes in two forms; one throws
// shmkit::Error, whose what() names the segment and says what to do, and its
// twin takes a std::error_code& and never throws (returns nullptr, false or
// an empty handle). The factories fail as NamedSharedMemory's do (with
// SegmentOptions), and also with errc::wrong_kind (the name holds another
// kind of object, a plain segment included), errc::corrupted (the heap's
// header is damaged), errc::invalid_size (too small for the heap's header:
// under k_min_size bytes) and errc::invalid_argument (SegmentOptions::raw or
// Access::read_only: the heap lock needs write access). Object names:
// 1-k_max_object_name_length bytes without NUL, else errc::invalid_name. A
// call on an empty handle fails with errc::invalid_state.
//
// Threads: every member but close(), assignment and destruction may run
// concurrently on one handle, from any threads, as on handles in other
// processes. A T's constructor and destructor run with the heap locked by
// the calling thread: they may allocate from the same segment (the lock is
// re-entrant within the thread), but must not wait for another thread or
// process that uses the heap.
//
// fork(): a child inherits the mapping but may only destroy the inherited
// handle; it opens the segment again to use it.
class SHMKIT_EXPORT ManagedSegment {
 public:
  // The smallest size create() accepts: the heap header, the first named
  // object table and room for a few blocks.
  static constexpr std::size_t k_min_size = 4096;

  // A new segment of `size` bytes (the heap's metadata included), its heap
  // empty. Errors: as NamedSharedMemory::create.
  [[nodiscard]] static ManagedSegment create(std::string_view name, std::size_t size,
                                             const SegmentOptions& options = {});
  [[nodiscard]] static ManagedSegment create(std::string_view name, std::size_t size,
                                             const SegmentOptions& options,
                                             std::error_code& ec) noexcept;
  // An existing managed segment. Errors: as NamedSharedMemory::open,
  // errc::wrong_kind, errc::corrupted.
  [[nodiscard]] static ManagedSegment open(std::string_view name,
                                           const SegmentOptions& options = {});
  [[nodiscard]] static ManagedSegment open(std::string_view name, const SegmentOptions& options,
                                           std::error_code& ec) noexcept;
  // Opens it, or creates it when there is none (created() tells which).
  // Errors: those of create() and open(), errc::size_mismatch.
  [[nodiscard]] static ManagedSegment open_or_create(std::string_view name, std::size_t size,
                                                     const SegmentOptions& options = {});
  [[nodiscard]] static ManagedSegment open_or_create(std::string_view name, std::size_t size,
                                                     const SegmentOptions& options,
                                                     std::error_code& ec) noexcept;
  // Removes the name (open handles keep working); false if there was none.
  // Like NamedSharedMemory::remove, it removes whatever object has the name.
  // Errors: errc::invalid_name, OS errors.
  [[nodiscard]] static bool remove(std::string_view name, const SegmentOptions& options = {});
  [[nodiscard]] static bool remove(std::string_view name, const SegmentOptions& options,
                                   std::error_code& ec) noexcept;
  // Whether an object has the name (as NamedSharedMemory::exists: of any
  // kind; open() tells a managed segment from another kind). Errors:
  // errc::invalid_name, OS errors.
  [[nodiscard]] static bool exists(std::string_view name, const SegmentOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const SegmentOptions& options,
                                   std::error_code& ec) noexcept;

  ManagedSegment() noexcept = default;  // an empty handle
  ManagedSegment(ManagedSegment&& other) noexcept;
  ManagedSegment& operator=(ManagedSegment&& other) noexcept;
  ManagedSegment(const ManagedSegment&) = delete;
  ManagedSegment& operator=(const ManagedSegment&) = delete;
  ~ManagedSegment();

  // Unmaps now; the handle is empty afterwards. Allocators of this mapping
  // stop working (allocate throws errc::invalid_state). Never fails.
  void close() noexcept;
  bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // ---- raw blocks ---------------------------------------------------------
  // `bytes` bytes (0 is served as 1) at `alignment` (a power of two, at most
  // 4096). Errors: errc::out_of_space (no free block that large: free
  // memory, or make the segment larger), errc::invalid_argument (a bad
  // alignment), errc::invalid_size (too large for any heap), errc::corrupted,
  // errc::invalid_state. The twins return nullptr on failure.
  [[nodiscard]] void* allocate(std::size_t bytes,
                               std::size_t alignment = alignof(std::max_align_t));
  [[nodiscard]] void* allocate(std::size_t bytes, std::error_code& ec) noexcept;
  [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment,
                               std::error_code& ec) noexcept;
  // Frees a block allocate() returned (in any process). Null does nothing.
  // Errors: errc::invalid_argument (not a live block of this heap: nothing
  // changed), errc::corrupted, errc::invalid_state.
  void deallocate(void* p);
  void deallocate(void* p, std::error_code& ec) noexcept;

  // ---- named objects ------------------------------------------------------
  // Constructs T(args...) under `name`, recording sizeof(T), alignof(T) and
  // ManagedTypeSchema<T>::value. If T's constructor throws, the block is
  // freed, the name stays unused and the exception propagates; if the
  // process dies inside it, the next user frees the block (the half-built
  // T's destructor never runs). Errors: errc::already_exists, errc::
  // invalid_name, errc::out_of_space, errc::corrupted, errc::invalid_state.
  // The error_code twin takes `ec` after the name (T's arguments follow),
  // reports every failure of its own in `ec` (errc::not_enough_memory when
  // even that runs out of memory) and lets only the exceptions of T's
  // constructor out: it is noexcept when T's constructor is.
  template <class T, class... Args>
  T* construct(std::string_view name, Args&&... args) {
    return named<T>(name, detail::NamedMode::construct, nullptr, std::forward<Args>(args)...);
  }
  template <class T, class... Args>
  T* construct(std::string_view name, std::error_code& ec,
               Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    return named<T>(name, detail::NamedMode::construct, &ec, std::forward<Args>(args)...);
  }

  // The object named `name`, or nullptr when there is none (not an error).
  // Errors: errc::type_mismatch (it was constructed as another type),
  // errc::invalid_name, errc::corrupted, errc::invalid_state.
  template <class T>
  [[nodiscard]] T* find(std::string_view name) {
    return static_cast<T*>(
        named_object(name, type_of<T>(), detail::NamedMode::find, nullptr, nullptr, nullptr));
  }
  template <class T>
  [[nodiscard]] T* find(std::string_view name, std::error_code& ec) noexcept {
    return static_cast<T*>(
        named_object(name, type_of<T>(), detail::NamedMode::find, nullptr, nullptr, &ec));
  }

  // find(), or construct() when there is none, in one step: of processes
  // racing on one name, one constructs and the others find its object.
  // Errors: those of find() and construct() but errc::already_exists.
  template <class T, class... Args>
  T* find_or_construct(std::string_view name, Args&&... args) {
    return named<T>(name, detail::NamedMode::find_or_construct, nullptr,
                    std::forward<Args>(args)...);
  }
  template <class T, class... Args>
  T* find_or_construct(std::string_view name, std::error_code& ec,
                       Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    return named<T>(name, detail::NamedMode::find_or_construct, &ec, std::forward<Args>(args)...);
  }

  // Runs ~T on the object named `name` and frees it; false if there is none.
  // Pointers to it in other processes dangle: agree on its lifetime. If the
  // process dies inside ~T, the next user finishes the destroy. Errors:
  // errc::type_mismatch, errc::invalid_name, errc::corrupted,
  // errc::invalid_state.
  template <class T>
  [[nodiscard]] bool destroy(std::string_view name) {
    return destroy_named(name, type_of<T>(), &destroy_object<T>, nullptr);
  }
  template <class T>
  [[nodiscard]] bool destroy(std::string_view name, std::error_code& ec) noexcept {
    return destroy_named(name, type_of<T>(), &destroy_object<T>, &ec);
  }

  // ---- figures ------------------------------------------------------------
  // These never fail; 0 on an empty handle. free_memory() and used_memory()
  // are the payload bytes of free and allocated blocks at some recent
  // instant (read without the lock, so another process may change them at
  // once); their sum is less than size() by the metadata.
  std::size_t size() const noexcept;
  std::size_t free_memory() const noexcept;
  std::size_t used_memory() const noexcept;

  // Walks the whole heap under its lock (repairing it first if its last
  // holder died) and reports what it finds, problems included: a damaged
  // heap is a result (consistent == false), not an error. Errors:
  // errc::invalid_state (empty handle), a failure to take the lock.
  [[nodiscard]] HeapCheck check() const;
  [[nodiscard]] HeapCheck check(std::error_code& ec) const noexcept;

  // An allocator serving this segment's heap (see allocator.hpp).
  template <class T>
  [[nodiscard]] Allocator<T> get_allocator() noexcept {
    return Allocator<T>(*this);
  }

  // The segment underneath. Writing into the heap's bytes other than
  // through blocks you allocated is what a peer's bug looks like: the
  // heap's checks catch it as errc::corrupted.
  NamedSharedMemory& segment() noexcept;
  const NamedSharedMemory& segment() const noexcept;
  const std::string& name() const noexcept;
  // True when this handle's factory call created the segment.
  bool created() const noexcept;

 private:
  // A friend class, not heap_of itself: a friend redeclaration of an
  // exported function loses its DLL linkage on MinGW.
  friend struct detail::ManagedSegmentAccess;

  // Every factory: `mode` is a detail::OpenMode.
  static ManagedSegment open_as(std::string_view name, std::size_t size,
                                const SegmentOptions& options, int mode, detail::Failure& failure);

  template <class T>
  static detail::ManagedType type_of() noexcept {
    return {sizeof(T), alignof(T), ManagedTypeSchema<T>::value};
  }
  template <class T>
  static void destroy_object(void* object) noexcept {
    static_cast<T*>(object)->~T();
  }

  template <class T, class... Args>
  T* named(std::string_view name, detail::NamedMode mode, std::error_code* ec, Args&&... args) {
    static_assert(!std::is_reference_v<T> && !std::is_void_v<T> && !std::is_array_v<T>,
                  "a named object is one complete object type");
    std::tuple<Args&&...> packed(std::forward<Args>(args)...);
    auto build = [](void* where, void* context) {
      auto& tuple = *static_cast<std::tuple<Args&&...>*>(context);
      detail::construct_from_tuple<T>(where, tuple, std::index_sequence_for<Args...>());
    };
    return static_cast<T*>(named_object(name, type_of<T>(), mode, build, &packed, ec));
  }

  // The untyped engine (src/managed/managed_segment.cpp). Throws when `ec`
  // is null (shmkit::Error, or whatever `construct` throws); otherwise sets
  // *ec and only lets an exception of `construct` out (it catches the rest).
  void* named_object(std::string_view name, const detail::ManagedType& type, detail::NamedMode mode,
                     detail::NamedConstructor construct, void* context, std::error_code* ec);
  bool destroy_named(std::string_view name, const detail::ManagedType& type,
                     detail::NamedDestructor destroy, std::error_code* ec);

  detail::ManagedSegmentImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
