// A pointer that stays valid when the memory holding it is mapped at another
// address: it stores the distance from its own address to its target.
#pragma once

#include <shmkit/config.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

namespace detail {

// T& for an object type, void for (cv) void: OffsetPtr<void> has no
// operator* and no operator[].
template <typename T>
struct OffsetPtrReference {
  using type = T&;
};
template <>
struct OffsetPtrReference<void> {
  using type = void;
};
template <>
struct OffsetPtrReference<const void> {
  using type = void;
};
template <>
struct OffsetPtrReference<volatile void> {
  using type = void;
};
template <>
struct OffsetPtrReference<const volatile void> {
  using type = void;
};

// Whether static_cast<To*>(from) is valid: the explicit conversions
// (OffsetPtr<void> to OffsetPtr<T>, a base to a derived class) that an
// allocator-aware container writes as static_cast<pointer>(void_pointer).
template <typename To, typename From, typename = void>
struct OffsetPtrStaticCastable : std::false_type {};
template <typename To, typename From>
struct OffsetPtrStaticCastable<To, From,
                               std::void_t<decltype(static_cast<To*>(std::declval<From*>()))>>
    : std::true_type {};

}  // namespace detail

// OffsetPtr<T> stores the signed distance in bytes from its own address to
// the object it points at, so a structure of OffsetPtrs inside a shared
// segment means the same thing in every process that maps the segment,
// whatever address each one maps it at. It is a random-access iterator (a
// contiguous one for C++20 users) and a "fancy pointer" that an allocator
// can use as its `pointer` type (std::pointer_traits is specialised).
//
// Only pointers within one mapping work across processes: the target must
// lie in the same segment as the OffsetPtr (an OffsetPtr outside shared
// memory, on the stack say, may point anywhere, like a raw pointer).
//
// Null: the distance 1 means null, not 0. A distance of 0 is a real target:
// the OffsetPtr's own address, which is also the address of any object that
// starts with it (a list node whose first member points at the node itself).
// The distance 1 would target the second byte of the OffsetPtr itself, which
// no meaningful pointer does. (Consequently an OffsetPtr<char> cannot point
// at the byte just after its own first byte; nothing else is lost.)
//
// Why integers: the distance is computed and applied through std::uintptr_t
// arithmetic, never by subtracting or offsetting raw pointers. Subtracting
// pointers into different objects and forming a pointer outside an object
// are undefined behaviour ([expr.add]/4-5), which optimisers exploit (GCC
// has miscompiled pointer-based offset pointers at -O2); converting a pointer
// to an integer and back is implementation-defined instead
// ([expr.reinterpret.cast]/4-5), and GCC, Clang and MSVC all define it as
// the flat address, so the result is the target's exact address.
//
// Untrusted values: an OffsetPtr read from a segment that other processes
// write is an integer anyone could have set. Dereferencing it is not checked
// (it is a pointer): check a value read from shared memory with within()
// against the mapping before following it.
//
// Threads: like a raw pointer (no synchronisation; copy it under whatever
// lock guards the data). fork(): a child that inherits the mapping at the
// same address sees the same targets.
template <typename T>
class OffsetPtr {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using reference = typename detail::OffsetPtrReference<T>::type;
  using iterator_category = std::random_access_iterator_tag;
#if __cplusplus >= 202002L || (defined(_MSVC_LANG) && _MSVC_LANG >= 202002L)
  using iterator_concept = std::contiguous_iterator_tag;  // language version, not platform
#endif
  template <typename U>
  using rebind = OffsetPtr<U>;

  // Null. nullptr and a literal 0 are both taken by the T* overloads (as
  // for a raw pointer: containers such as Boost.Container's and libc++'s
  // deque write `p = 0`; a separate nullptr_t overload made that ambiguous).
  OffsetPtr() noexcept = default;
  OffsetPtr(T* target) noexcept {
    set(target);
  }  // NOLINT: implicit, as for raw pointers
  // Each copy stores its own distance: the copy lives at another address.
  OffsetPtr(const OffsetPtr& other) noexcept {
    set(other.get());
  }
  OffsetPtr& operator=(const OffsetPtr& other) noexcept {
    set(other.get());
    return *this;
  }
  OffsetPtr& operator=(T* target) noexcept {
    set(target);
    return *this;
  }
  // Implicit where U* converts to T* implicitly (T = const U, void, a base).
  template <typename U, std::enable_if_t<std::is_convertible_v<U*, T*>, int> = 0>
  OffsetPtr(const OffsetPtr<U>& other) noexcept {  // NOLINT: implicit, as for raw pointers
    set(other.get());
  }
  // Explicit where only static_cast<T*>(U*) works (from void*, base to derived).
  template <typename U, std::enable_if_t<!std::is_convertible_v<U*, T*> &&
                                             detail::OffsetPtrStaticCastable<T, U>::value,
                                         int> = 0>
  explicit OffsetPtr(const OffsetPtr<U>& other) noexcept {
    set(static_cast<T*>(other.get()));
  }
  ~OffsetPtr() = default;

  // For std::pointer_traits<OffsetPtr<T>>::pointer_to (allocator-aware containers).
  template <typename U = T, std::enable_if_t<!std::is_void_v<U>, int> = 0>
  [[nodiscard]] static OffsetPtr pointer_to(U& target) noexcept {
    return OffsetPtr(std::addressof(target));
  }

  // The target as a raw pointer, valid in this process.
  [[nodiscard]] T* get() const noexcept {
    if (offset_ == k_null) return nullptr;
    // Through a volatile: GCC's points-to analysis otherwise assumes that an
    // address computed from `this` plus an integer still points into *this
    // (the OffsetPtr itself), and at -O2 reorders or drops stores made
    // through the result (seen with GCC 12 in std::vector::erase). The value
    // read back has no provenance the optimiser can see, so it may point
    // anywhere, which is the truth. Costs one store and load on the stack.
    const volatile std::uintptr_t target = self() + static_cast<std::uintptr_t>(offset_);
    return reinterpret_cast<T*>(target);
  }
  template <typename U = T, std::enable_if_t<!std::is_void_v<U>, int> = 0>
  U& operator*() const noexcept {
    return *get();
  }
  T* operator->() const noexcept {
    return get();
  }
  template <typename U = T, std::enable_if_t<!std::is_void_v<U>, int> = 0>
  U& operator[](difference_type index) const noexcept {
    return *(*this + index).get();
  }
  explicit operator bool() const noexcept {
    return offset_ != k_null;
  }
  bool operator!() const noexcept {
    return offset_ == k_null;
  }

  // True if this is not null and the `count` objects it points at (at least
  // one byte for void) lie wholly inside [base, base + size) at T's
  // alignment. The check to make before following an OffsetPtr read from a
  // segment another process may have written.
  [[nodiscard]] bool within(const void* base, std::size_t size,
                            std::size_t count = 1) const noexcept {
    if (offset_ == k_null) return false;
    const std::uintptr_t target = self() + static_cast<std::uintptr_t>(offset_);
    const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(base);
    if (target < begin || target % k_align != 0) return false;
    const std::uintptr_t room = static_cast<std::uintptr_t>(size);
    const std::uintptr_t at = target - begin;
    if (at > room) return false;
    return count <= (room - at) / k_size;
  }

  // Random access, in units of T (not for void).
  OffsetPtr& operator+=(difference_type n) noexcept {
    move_by(n);
    return *this;
  }
  OffsetPtr& operator-=(difference_type n) noexcept {
    move_by(-n);
    return *this;
  }
  OffsetPtr& operator++() noexcept {
    return *this += 1;
  }
  OffsetPtr& operator--() noexcept {
    return *this -= 1;
  }
  OffsetPtr operator++(int) noexcept {
    OffsetPtr before(*this);
    ++*this;
    return before;
  }
  OffsetPtr operator--(int) noexcept {
    OffsetPtr before(*this);
    --*this;
    return before;
  }
  friend OffsetPtr operator+(const OffsetPtr& p, difference_type n) noexcept {
    OffsetPtr result(p);
    return result += n;
  }
  friend OffsetPtr operator+(difference_type n, const OffsetPtr& p) noexcept {
    return p + n;
  }
  friend OffsetPtr operator-(const OffsetPtr& p, difference_type n) noexcept {
    OffsetPtr result(p);
    return result -= n;
  }
  friend difference_type operator-(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return distance(a.get(), b.get());
  }
  friend difference_type operator-(const OffsetPtr& a, T* b) noexcept {
    return distance(a.get(), b);
  }
  friend difference_type operator-(T* a, const OffsetPtr& b) noexcept {
    return distance(a, b.get());
  }

  // Comparisons: as the raw pointers (a total order, as std::less gives).
  friend bool operator==(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return a.get() == b.get();
  }
  friend bool operator!=(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return !(a == b);
  }
  friend bool operator<(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return std::less<T*>()(a.get(), b.get());
  }
  friend bool operator>(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return b < a;
  }
  friend bool operator<=(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return !(b < a);
  }
  friend bool operator>=(const OffsetPtr& a, const OffsetPtr& b) noexcept {
    return !(a < b);
  }

  friend bool operator==(const OffsetPtr& a, T* b) noexcept {
    return a.get() == b;
  }
  friend bool operator==(T* a, const OffsetPtr& b) noexcept {
    return a == b.get();
  }
  friend bool operator!=(const OffsetPtr& a, T* b) noexcept {
    return a.get() != b;
  }
  friend bool operator!=(T* a, const OffsetPtr& b) noexcept {
    return a != b.get();
  }
  friend bool operator<(const OffsetPtr& a, T* b) noexcept {
    return std::less<T*>()(a.get(), b);
  }
  friend bool operator<(T* a, const OffsetPtr& b) noexcept {
    return std::less<T*>()(a, b.get());
  }
  friend bool operator>(const OffsetPtr& a, T* b) noexcept {
    return b < a;
  }
  friend bool operator>(T* a, const OffsetPtr& b) noexcept {
    return b < a;
  }
  friend bool operator<=(const OffsetPtr& a, T* b) noexcept {
    return !(b < a);
  }
  friend bool operator<=(T* a, const OffsetPtr& b) noexcept {
    return !(b < a);
  }
  friend bool operator>=(const OffsetPtr& a, T* b) noexcept {
    return !(a < b);
  }
  friend bool operator>=(T* a, const OffsetPtr& b) noexcept {
    return !(a < b);
  }

  friend bool operator==(const OffsetPtr& a, std::nullptr_t) noexcept {
    return !a;
  }
  friend bool operator==(std::nullptr_t, const OffsetPtr& b) noexcept {
    return !b;
  }
  friend bool operator!=(const OffsetPtr& a, std::nullptr_t) noexcept {
    return bool(a);
  }
  friend bool operator!=(std::nullptr_t, const OffsetPtr& b) noexcept {
    return bool(b);
  }
  friend bool operator<(const OffsetPtr& a, std::nullptr_t) noexcept {
    return std::less<T*>()(a.get(), nullptr);
  }
  friend bool operator<(std::nullptr_t, const OffsetPtr& b) noexcept {
    return std::less<T*>()(nullptr, b.get());
  }
  friend bool operator>(const OffsetPtr& a, std::nullptr_t) noexcept {
    return nullptr < a;
  }
  friend bool operator>(std::nullptr_t, const OffsetPtr& b) noexcept {
    return b < nullptr;
  }
  friend bool operator<=(const OffsetPtr& a, std::nullptr_t) noexcept {
    return !(nullptr < a);
  }
  friend bool operator<=(std::nullptr_t, const OffsetPtr& b) noexcept {
    return !(b < nullptr);
  }
  friend bool operator>=(const OffsetPtr& a, std::nullptr_t) noexcept {
    return !(a < nullptr);
  }
  friend bool operator>=(std::nullptr_t, const OffsetPtr& b) noexcept {
    return !(nullptr < b);
  }

  friend void swap(OffsetPtr& a, OffsetPtr& b) noexcept {
    T* const first = a.get();
    a = b.get();
    b = first;
  }

 private:
  static constexpr std::intptr_t k_null = 1;
  // sizeof and alignof of T, 1 for void (OffsetPtr<void> has no arithmetic).
  static constexpr std::size_t k_size = [] {
    if constexpr (std::is_void_v<T>) {
      return std::size_t{1};
    } else {
      return sizeof(T);
    }
  }();
  static constexpr std::size_t k_align = [] {
    if constexpr (std::is_void_v<T>) {
      return std::size_t{1};
    } else {
      return alignof(T);
    }
  }();

  std::uintptr_t self() const noexcept {
    return reinterpret_cast<std::uintptr_t>(this);
  }

  void set(T* target) noexcept {
    if (target == nullptr) {
      offset_ = k_null;
      return;
    }
    // Modular unsigned subtraction, then the two's-complement reading of it
    // (defined since C++20, and what every supported compiler did before).
    offset_ = static_cast<std::intptr_t>(reinterpret_cast<std::uintptr_t>(target) - self());
  }

  void move_by(difference_type n) noexcept {
    static_assert(!std::is_void_v<T>, "no arithmetic on OffsetPtr<void>, as on void*");
    if (offset_ == k_null) return;  // null + 0; any other n is undefined for raw pointers too
    offset_ = static_cast<std::intptr_t>(static_cast<std::uintptr_t>(offset_) +
                                         static_cast<std::uintptr_t>(n) * sizeof(T));
  }

  static difference_type distance(T* a, T* b) noexcept {
    const auto bytes = static_cast<std::intptr_t>(reinterpret_cast<std::uintptr_t>(a) -
                                                  reinterpret_cast<std::uintptr_t>(b));
    return static_cast<difference_type>(bytes / static_cast<std::intptr_t>(k_size));
  }

  std::intptr_t offset_ = k_null;
};

// The pointer casts of <memory>, for OffsetPtr (what allocator-aware code
// and managed segments use to go between void_pointer and pointer).
template <typename T, typename U>
[[nodiscard]] OffsetPtr<T> static_pointer_cast(const OffsetPtr<U>& p) noexcept {
  return OffsetPtr<T>(static_cast<T*>(p.get()));
}
template <typename T, typename U>
[[nodiscard]] OffsetPtr<T> const_pointer_cast(const OffsetPtr<U>& p) noexcept {
  return OffsetPtr<T>(const_cast<T*>(p.get()));
}
template <typename T, typename U>
[[nodiscard]] OffsetPtr<T> reinterpret_pointer_cast(const OffsetPtr<U>& p) noexcept {
  return OffsetPtr<T>(reinterpret_cast<T*>(p.get()));
}
template <typename T, typename U>
[[nodiscard]] OffsetPtr<T> dynamic_pointer_cast(const OffsetPtr<U>& p) noexcept {
  return OffsetPtr<T>(dynamic_cast<T*>(p.get()));
}

// The raw pointer an OffsetPtr holds (std::to_address for C++17 users).
template <typename T>
[[nodiscard]] T* to_address(const OffsetPtr<T>& p) noexcept {
  return p.get();
}

SHMKIT_END_NAMESPACE

// std::pointer_traits for OffsetPtr: what std::allocator_traits reads to
// find an allocator's void_pointer, const_pointer and pointer_to.
namespace std {
template <typename T>
struct pointer_traits<shmkit::OffsetPtr<T>> {
  using pointer = shmkit::OffsetPtr<T>;
  using element_type = T;
  using difference_type = std::ptrdiff_t;
  template <typename U>
  using rebind = shmkit::OffsetPtr<U>;

  template <typename U = T, std::enable_if_t<!std::is_void_v<U>, int> = 0>
  static pointer pointer_to(U& target) noexcept {
    return pointer(std::addressof(target));
  }
  static T* to_address(const pointer& p) noexcept { return p.get(); }
};
}  // namespace std
