// What SharedString and SharedHashMap share: the bounds check they make
// before following a pointer read from shared memory, the error they raise
// when one fails it, and uses-allocator construction of their elements.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Whether allocator A can say which memory is its heap (shmkit::Allocator's
// contains()). An allocator without it (std::allocator, a test arena) serves
// private memory that no other process writes, so its pointers are trusted.
template <class A, class = void>
struct HasContains : std::false_type {};
template <class A>
struct HasContains<A, std::void_t<decltype(std::declval<const A&>().contains(
                          std::declval<const void*>(), std::size_t{}))>> : std::true_type {};

// True when `count` objects of T at `p` lie inside the heap `alloc` serves
// (as this process maps it) at T's alignment: the check every container
// makes before following a pointer it read from shared memory.
template <class T, class A>
[[nodiscard]] bool shared_range_ok(const A& alloc, const T* p, std::size_t count) noexcept {
  if (p == nullptr) return false;
  if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0) return false;
  if (count > std::numeric_limits<std::size_t>::max() / sizeof(T)) return false;
  if constexpr (HasContains<A>::value) {
    return alloc.contains(p, count * sizeof(T));
  } else {
    (void)alloc;
    return true;
  }
}

// One read of a field in shared memory, which another process may change at
// any moment: a container loads each field once, checks the copy, and uses
// only the copy (a second read could see a value that was never checked).
template <class T>
[[nodiscard]] T load_once(const T& field) noexcept {
  static_assert(std::is_trivially_copyable_v<T> && std::is_scalar_v<T>,
                "load_once reads a scalar field");
  return *static_cast<const volatile T*>(&field);
}

// Keeps the compiler from moving stores to shared memory across this point:
// a process killed between two of them leaves them in program order, so a
// container can order its updates so that each prefix is sound (or only
// leaks). Emits no instruction.
inline void crash_order() noexcept {
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// The raw pointer a (possibly fancy) pointer holds, without dereferencing it.
template <class P>
[[nodiscard]] auto raw_pointer(const P& p) noexcept {
  if constexpr (std::is_pointer_v<P>) {
    return p;
  } else {
    return p.operator->();
  }
}

// The error a container raises when its bytes in shared memory fail a check:
// one sentence naming the container (by kind and address in this process),
// what is wrong, and what to do.
[[nodiscard]] inline Error shared_corrupted(const char* container, const void* where,
                                            const char* problem) {
  char address[2 + 2 * sizeof(void*) + 1];
  std::snprintf(address, sizeof address, "%p", where);
  return Error(make_error_code(errc::corrupted),
               std::string(container) + " at " + address + " is corrupted: " + problem +
                   "; it was overwritten by a bug or another process: reset() it and rebuild its "
                   "contents, or recreate the segment");
}

// Runs `body` and turns a shmkit failure it throws (any std::system_error)
// into `ec`: what the std::error_code& twins of the container members do.
// Exceptions of other types (thrown by the user's element constructors)
// propagate.
template <class Result, class Body>
Result report_to(std::error_code& ec, Result on_error, Body&& body) {
  ec.clear();
  try {
    return std::forward<Body>(body)();
  } catch (const std::system_error& e) {
    ec = e.code();
  } catch (const std::bad_alloc&) {
    ec = make_error_code(std::errc::not_enough_memory);
  }
  return on_error;
}

// The arguments that construct a T from `args` with `alloc` when T uses an
// allocator (std::uses_allocator: T(std::allocator_arg, alloc, args...) or
// T(args..., alloc)), or from `args` alone: what std::make_obj_using_allocator
// does in C++20, for pair's piecewise constructor.
template <class T, class A, class... Args>
auto uses_allocator_args(const A& alloc, Args&&... args) {
  if constexpr (!std::uses_allocator_v<T, A>) {
    (void)alloc;
    return std::forward_as_tuple(std::forward<Args>(args)...);
  } else if constexpr (std::is_constructible_v<T, std::allocator_arg_t, const A&, Args...>) {
    return std::tuple<std::allocator_arg_t, const A&, Args&&...>(std::allocator_arg, alloc,
                                                                 std::forward<Args>(args)...);
  } else {
    static_assert(std::is_constructible_v<T, Args..., const A&>,
                  "an allocator-aware element must be constructible from (args..., allocator) "
                  "or (std::allocator_arg, allocator, args...)");
    return std::tuple<Args&&..., const A&>(std::forward<Args>(args)..., alloc);
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
