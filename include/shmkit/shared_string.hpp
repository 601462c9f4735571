// A byte string that lives in a managed segment and reads the same in every
// process that maps it, at whatever address.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/allocator.hpp>
#include <shmkit/shared_container_support.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>

SHMKIT_BEGIN_NAMESPACE

// BasicSharedString<Alloc> is a string of bytes (chars; any value, NUL
// included) whose characters are in the heap its allocator serves, reached
// through the allocator's pointer type (OffsetPtr for shmkit::Allocator):
// a SharedString constructed in a managed segment, alone or as a key or
// value of a SharedHashMap, is read by any process that maps the segment.
// Up to k_inline_capacity bytes are kept inside the object itself, without
// allocating. The characters are always followed by a NUL (c_str()).
//
//   auto seg = shmkit::ManagedSegment::open_or_create("names", 1 << 20);
//   auto* s = seg.find_or_construct<shmkit::SharedString>("greeting",
//                                                         seg.get_allocator<char>());
//   s->assign("hello");
//   std::string_view v = *s;
//
// Untrusted bytes: another process may have written anything into the
// object. Every member that follows its pointer first checks it with the
// allocator's contains() (inside the heap as THIS process maps it) and checks
// size <= capacity: a damaged string throws shmkit::Error with
// errc::corrupted (or sets it, in the std::error_code& twins) and is never
// read or written out of bounds. validate() checks without reading the text.
// A string that throws errc::corrupted stays so until reset().
//
// Allocation failures throw what the allocator throws (shmkit::Allocator:
// shmkit::Error with errc::out_of_space, ...); the string is then unchanged.
// The std::error_code& twins report them instead.
//
// Threads: not thread-safe, as std::string. Guard a shared string with a
// ProcessMutex (docs/managed.md) in every process that uses it.
//
// Layout (48 bytes with shmkit::Allocator): the allocator, the size, the
// capacity, the heap pointer and the inline buffer, as fixed-width fields,
// so processes built by different compilers agree on it.
template <class Alloc = Allocator<char>>
class BasicSharedString {
  using Traits = std::allocator_traits<Alloc>;
  static_assert(std::is_same_v<typename Traits::value_type, char>,
                "BasicSharedString's allocator allocates char");

 public:
  using allocator_type = Alloc;
  using value_type = char;
  using size_type = std::size_t;
  using pointer = typename Traits::pointer;

  // Bytes kept in the object itself, without allocating.
  static constexpr size_type k_inline_capacity = 15;

  // Empty. Allocates nothing.
  explicit BasicSharedString(const Alloc& alloc) noexcept : alloc_(alloc) {}
  // A copy of `text`. Throws what the allocator throws.
  BasicSharedString(std::string_view text, const Alloc& alloc) : alloc_(alloc) { assign(text); }
  // A copy of `other`'s text with `other`'s allocator (the same heap).
  // Throws errc::corrupted (other is damaged) or what the allocator throws.
  BasicSharedString(const BasicSharedString& other)
      : alloc_(Traits::select_on_container_copy_construction(other.alloc_)) {
    assign(other.view());
  }
  // A copy of `other`'s text in `alloc`'s heap (uses-allocator construction:
  // what a SharedHashMap does with a key it copies).
  BasicSharedString(const BasicSharedString& other, const Alloc& alloc) : alloc_(alloc) {
    assign(other.view());
  }
  // Takes `other`'s text; `other` is left empty. A damaged `other` is left
  // alone and this string is empty.
  BasicSharedString(BasicSharedString&& other) noexcept : alloc_(other.alloc_) { steal(other); }
  // Takes `other`'s text when `alloc` serves the same heap, else copies it.
  BasicSharedString(BasicSharedString&& other, const Alloc& alloc) : alloc_(alloc) {
    if (alloc_ == other.alloc_) {
      steal(other);
    } else {
      assign(other.view());
    }
  }
  // Frees the characters. A damaged string frees nothing (its block leaks).
  ~BasicSharedString() { release(); }

  // Copies the text; this string keeps its own allocator (and heap).
  BasicSharedString& operator=(const BasicSharedString& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  // Takes `other`'s text when both serve the same heap, else copies it.
  BasicSharedString& operator=(BasicSharedString&& other) {
    if (this == &other) return *this;
    if (alloc_ == other.alloc_) {
      if (checked(other).data == nullptr) throw corrupted(&other);
      release();
      steal(other);
    } else {
      assign(other.view());
    }
    return *this;
  }
  BasicSharedString& operator=(std::string_view text) {
    assign(text);
    return *this;
  }

  // ---- changing the text --------------------------------------------------
  // Replaces the text with `text` (which may point into this string).
  // Throws errc::corrupted or what the allocator throws; on failure the
  // string is unchanged.
  void assign(std::string_view text) {
    const Checked now = writable();
    if (text.size() <= now.capacity) {
      if (!text.empty()) std::memmove(now.data, text.data(), text.size());
      set_size(now.data, text.size());
      return;
    }
    replace_buffer(text.size(), now, 0, text);
  }
  void assign(std::string_view text, std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      assign(text);
      return 0;
    });
  }
  // Appends `text` (which may point into this string). Errors as assign().
  void append(std::string_view text) {
    const Checked now = writable();
    if (text.size() > max_size() - now.size) throw too_long();
    const size_type new_size = now.size + text.size();
    if (new_size <= now.capacity) {
      if (!text.empty()) std::memmove(now.data + now.size, text.data(), text.size());
      set_size(now.data, new_size);
      return;
    }
    // At least double, so a loop of appends is amortised O(1).
    const size_type grown = now.capacity > max_size() / 2 ? max_size() : 2 * now.capacity;
    replace_buffer(new_size < grown ? grown : new_size, now, now.size, text);
  }
  void append(std::string_view text, std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      append(text);
      return 0;
    });
  }
  BasicSharedString& operator+=(std::string_view text) {
    append(text);
    return *this;
  }
  void push_back(char c) { append(std::string_view(&c, 1)); }
  // Makes room for `capacity` bytes without changing the text. Errors as
  // assign().
  void reserve(size_type capacity) {
    const Checked now = writable();
    if (capacity <= now.capacity) return;
    replace_buffer(capacity, now, now.size, {});
  }
  void reserve(size_type capacity, std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      reserve(capacity);
      return 0;
    });
  }
  // Empties the text, keeping the capacity. Throws errc::corrupted.
  void clear() { set_size(writable().data, 0); }
  void clear(std::error_code& ec) noexcept {
    ec.clear();
    const Checked now = checked(*this);
    if (now.data == nullptr) {
      ec = make_error_code(errc::corrupted);
      return;
    }
    set_size(now.data, 0);
  }
  // Forgets the text without reading it: the string is empty and valid
  // again, and a heap block it had leaks. The way out of errc::corrupted.
  void reset() noexcept {
    // In this order, so that a process killed between two stores leaves a
    // string that is sound or reports errc::corrupted, never one that reads
    // past a block: the size first (0 fits any capacity), the inline text
    // before the capacity selects it.
    size_ = 0;
    inline_[0] = '\0';
    detail::crash_order();
    capacity_ = k_inline_capacity;
    detail::crash_order();
    heap_ = nullptr;
  }

  // ---- reading ------------------------------------------------------------
  // These never follow a pointer: the figures as stored (check them with
  // validate() before trusting them with memory of your own).
  [[nodiscard]] size_type size() const noexcept { return static_cast<size_type>(size_); }
  [[nodiscard]] size_type length() const noexcept { return size(); }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] size_type capacity() const noexcept { return static_cast<size_type>(capacity_); }
  [[nodiscard]] static constexpr size_type max_size() noexcept {
    return std::numeric_limits<size_type>::max() / 4;
  }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }

  // The text, after checking the string. Throws errc::corrupted; the twin
  // returns an empty view (or "" for c_str) and sets `ec`.
  [[nodiscard]] std::string_view view() const {
    const Checked now = checked(*this);
    if (now.data == nullptr) throw corrupted(this);
    return std::string_view(now.data, now.size);
  }
  [[nodiscard]] std::string_view view(std::error_code& ec) const noexcept {
    ec.clear();
    const Checked now = checked(*this);
    if (now.data == nullptr) {
      ec = make_error_code(errc::corrupted);
      return {};
    }
    return std::string_view(now.data, now.size);
  }
  operator std::string_view() const { return view(); }  // NOLINT: implicit, as std::string's
  [[nodiscard]] const char* data() const { return view().data(); }
  [[nodiscard]] char* data() { return writable().data; }
  // The text followed by its NUL (checked: a string whose NUL was
  // overwritten is errc::corrupted, not read past its end).
  [[nodiscard]] const char* c_str() const {
    const Checked now = checked(*this);
    if (now.data == nullptr || now.data[now.size] != '\0') throw corrupted(this);
    return now.data;
  }
  [[nodiscard]] const char* c_str(std::error_code& ec) const noexcept {
    ec.clear();
    const Checked now = checked(*this);
    if (now.data == nullptr || now.data[now.size] != '\0') {
      ec = make_error_code(errc::corrupted);
      return "";
    }
    return now.data;
  }
  // Checks the string's fields and its pointer against the heap (not its
  // text, which may be any bytes). Throws errc::corrupted / sets `ec`.
  void validate() const { (void)c_str(); }
  void validate(std::error_code& ec) const noexcept { (void)c_str(ec); }

  // ---- comparing ----------------------------------------------------------
  // As std::string_view's (bytes, unsigned). Throw errc::corrupted.
  [[nodiscard]] int compare(std::string_view other) const { return view().compare(other); }
  friend bool operator==(const BasicSharedString& a, const BasicSharedString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const BasicSharedString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(std::string_view a, const BasicSharedString& b) { return a == b.view(); }
  friend bool operator!=(const BasicSharedString& a, const BasicSharedString& b) {
    return !(a == b);
  }
  friend bool operator!=(const BasicSharedString& a, std::string_view b) { return !(a == b); }
  friend bool operator!=(std::string_view a, const BasicSharedString& b) { return !(a == b); }
  friend bool operator<(const BasicSharedString& a, const BasicSharedString& b) {
    return a.view() < b.view();
  }
  friend bool operator<(const BasicSharedString& a, std::string_view b) { return a.view() < b; }
  friend bool operator<(std::string_view a, const BasicSharedString& b) { return a < b.view(); }
  friend bool operator>(const BasicSharedString& a, const BasicSharedString& b) { return b < a; }
  friend bool operator>(const BasicSharedString& a, std::string_view b) { return b < a; }
  friend bool operator>(std::string_view a, const BasicSharedString& b) { return b < a; }
  friend bool operator<=(const BasicSharedString& a, const BasicSharedString& b) {
    return !(b < a);
  }
  friend bool operator<=(const BasicSharedString& a, std::string_view b) { return !(b < a); }
  friend bool operator<=(std::string_view a, const BasicSharedString& b) { return !(b < a); }
  friend bool operator>=(const BasicSharedString& a, const BasicSharedString& b) {
    return !(a < b);
  }
  friend bool operator>=(const BasicSharedString& a, std::string_view b) { return !(a < b); }
  friend bool operator>=(std::string_view a, const BasicSharedString& b) { return !(a < b); }

 private:
  // A string's fields, each read once from shared memory and checked: the
  // members use only these copies (a second read of a field could see a
  // value another process wrote after the check). data is null when the
  // fields are damaged; else the buffer at data holds capacity + 1 bytes.
  struct Checked {
    char* data = nullptr;
    size_type size = 0;
    size_type capacity = 0;
  };
  static Checked checked(const BasicSharedString& s) noexcept {
    const std::uint64_t size = detail::load_once(s.size_);
    const std::uint64_t capacity = detail::load_once(s.capacity_);
    if (size > capacity) return {};
    char* data = nullptr;
    if (capacity == k_inline_capacity) {
      data = const_cast<char*>(s.inline_);
    } else {
      if (capacity < k_inline_capacity || capacity > max_size()) return {};
      data = detail::raw_pointer(s.heap_);  // one read of the pointer
      if (!detail::shared_range_ok(s.alloc_, data, static_cast<size_type>(capacity) + 1)) {
        return {};
      }
    }
    return {data, static_cast<size_type>(size), static_cast<size_type>(capacity)};
  }
  Checked writable() {
    const Checked now = checked(*this);
    if (now.data == nullptr) throw corrupted(this);
    return now;
  }
  void set_size(char* data, size_type size) noexcept {
    data[size] = '\0';
    size_ = size;
  }
  // Frees the heap block of a string whose fields were `old` (checked), if
  // it had one. Called only once nothing points at the block any more: a
  // process killed before the call leaks the block, never leaves the string
  // pointing at a free one (the heap completes a killed deallocate).
  void free_block(const Checked& old) noexcept {
    if (old.data == nullptr || old.capacity == k_inline_capacity) return;
    detail::crash_order();
    Traits::deallocate(alloc_, std::pointer_traits<pointer>::pointer_to(*old.data),
                       old.capacity + 1);
  }

  // Moves to a new block of `capacity` (> old.capacity) bytes holding the
  // first `keep` bytes of `old` then `tail`; switches the fields to it, then
  // frees the old block (`tail` may lie in it). The stores are ordered so a
  // kill between any two leaves every buffer in bounds: the new (larger)
  // block before its capacity, the size last.
  void replace_buffer(size_type capacity, const Checked& old, size_type keep,
                      std::string_view tail) {
    if (capacity > max_size()) throw too_long();
    pointer block = Traits::allocate(alloc_, capacity + 1);
    char* fresh = detail::raw_pointer(block);
    std::memcpy(fresh, old.data, keep);
    // (memcpy and memmove must not be given a null pointer, even for 0 bytes.)
    if (!tail.empty()) std::memcpy(fresh + keep, tail.data(), tail.size());
    fresh[keep + tail.size()] = '\0';
    heap_ = block;
    detail::crash_order();
    capacity_ = capacity;
    detail::crash_order();
    size_ = keep + tail.size();
    free_block(old);
  }
  // Forgets the text (reset()), then frees its heap block if it passed the
  // checks.
  void release() noexcept {
    const Checked old = checked(*this);
    reset();
    free_block(old);
  }
  // Takes other's text (other checked first); other becomes empty. `other`
  // lets go of a heap block before this string takes it: a kill in between
  // leaks it rather than leaving two owners (a double free later).
  void steal(BasicSharedString& other) noexcept {
    const Checked taken = checked(other);
    if (taken.data == nullptr) return;  // this stays empty; other is left as it is
    if (taken.capacity == k_inline_capacity) {
      std::memcpy(inline_, taken.data, sizeof inline_);
      size_ = taken.size;
      other.reset();
      return;
    }
    other.reset();
    detail::crash_order();
    heap_ = std::pointer_traits<pointer>::pointer_to(*taken.data);
    detail::crash_order();
    capacity_ = taken.capacity;
    detail::crash_order();
    size_ = taken.size;
  }

  static Error corrupted(const void* where) {
    return detail::shared_corrupted(
        "shmkit::SharedString", where,
        "its size, capacity or character pointer lies outside its segment's heap");
  }
  static Error too_long() {
    return Error(make_error_code(errc::invalid_size),
                 "shmkit::SharedString: the text would exceed max_size(); store less");
  }

  Alloc alloc_;
  std::uint64_t size_ = 0;
  std::uint64_t capacity_ = k_inline_capacity;  // == k_inline_capacity: the text is in inline_
  pointer heap_ = nullptr;                      // else: the text, capacity_ + 1 bytes
  char inline_[k_inline_capacity + 1] = {};
};

// A string in a managed segment (shmkit::Allocator<char>).
using SharedString = BasicSharedString<>;

SHMKIT_END_NAMESPACE
