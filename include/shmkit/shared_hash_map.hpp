// A hash map that lives in a managed segment and reads the same in every
// process that maps it, at whatever address; and StableHash, the hash whose
// values are the same in every process and compiler.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/allocator.hpp>
#include <shmkit/shared_container_support.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE

// ---- StableHash -------------------------------------------------------------

// The finaliser of splitmix64: spreads every input bit over the result, so
// the low bits (the bucket index) depend on all of them.
[[nodiscard]] constexpr std::uint64_t stable_hash_mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// FNV-1a (64 bits) over the bytes, then stable_hash_mix: a function of the
// bytes alone, the same in every process, compiler and platform.
[[nodiscard]] inline std::uint64_t stable_hash_bytes(const void* data, std::size_t size) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= 0x100000001b3ULL;
  }
  return stable_hash_mix(h);
}

// The hash a SharedHashMap uses by default. std::hash may differ between
// standard libraries, versions and even runs; a map in shared memory is read
// by processes that must agree on every key's bucket, so its hash must be a
// function of the key's value alone. Provided for:
// - integers, bool and enums: stable_hash_mix of the value as a 64-bit
//   integer (negative values sign-extended);
// - anything that converts to std::string_view (std::string, SharedString,
//   const char*): stable_hash_bytes of the characters. It is transparent
//   (is_transparent): a SharedHashMap keyed by SharedString finds by
//   std::string_view without building a key.
// For another key type specialise it in namespace shmkit (hash the fields'
// values, never their padding or a pointer):
//
//   template <> struct shmkit::StableHash<Point> {
//     std::uint64_t operator()(const Point& p) const noexcept {
//       return shmkit::stable_hash_mix(shmkit::stable_hash_mix(p.x) ^ p.y);
//     }
//   };
//
// Threads: stateless; any thread.
template <class T, class Enable = void>
struct StableHash {
  static_assert(sizeof(T) == 0,
                "shmkit::StableHash has no hash for this key type: specialise "
                "shmkit::StableHash<T> (see shared_hash_map.hpp)");
};
template <class T>
struct StableHash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>>> {
  [[nodiscard]] std::uint64_t operator()(T value) const noexcept {
    if constexpr (std::is_enum_v<T>) {
      using U = std::underlying_type_t<T>;
      return stable_hash_mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(U(value))));
    } else if constexpr (std::is_signed_v<T>) {
      return stable_hash_mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)));
    } else {
      return stable_hash_mix(static_cast<std::uint64_t>(value));
    }
  }
};
template <class T>
struct StableHash<T, std::enable_if_t<!std::is_integral_v<T> && !std::is_enum_v<T> &&
                                      std::is_convertible_v<const T&, std::string_view>>> {
  using is_transparent = void;
  [[nodiscard]] std::uint64_t operator()(std::string_view text) const noexcept {
    return stable_hash_bytes(text.data(), text.size());
  }
};

// ---- SharedHashMap ----------------------------------------------------------

// SharedHashMap<K, V> maps keys to values, with separate chaining, in the heap
// its allocator serves: constructed in a managed segment (find_or_construct),
// every process that maps the segment reads and changes the same map. Its
// links are the allocator's pointers (OffsetPtr for shmkit::Allocator), its
// hash is StableHash (the same in every process and compiler), and Hash and
// Eq are default-constructed where used (they must be empty classes: nothing
// of them is stored in the segment).
//
//   using Map = shmkit::SharedHashMap<shmkit::SharedString, Record>;
//   auto seg = shmkit::ManagedSegment::open_or_create("registry", 1 << 20);
//   Map* map = seg.find_or_construct<Map>("records", seg.get_allocator<char>());
//   map->try_emplace("alice", Record{42});
//   if (auto it = map->find(std::string_view("alice")); it != map->end()) use(it->second);
//
// K and V are constructed with the map's allocator when they use one
// (std::uses_allocator: SharedString, a nested SharedHashMap), so a key given
// as a std::string_view becomes a SharedString in the same heap.
//
// Untrusted bytes: another process may have written anything into the map.
// Every pointer the map reads from shared memory (the bucket array, each
// link) is checked with the allocator's contains() before it is followed,
// the bucket count must be a power of two whose array lies in the heap, and
// no walk goes further than the stored size allows: a damaged map throws
// shmkit::Error with errc::corrupted (or sets it in the std::error_code&
// twins), never reads or writes out of bounds and never loops for ever. A
// damaged map stays so until repair() (keeps what passes the checks) or
// reset() (empties it without visiting its nodes; they leak). A key or value
// that is damaged reports its own errc::corrupted (SharedString) when it is
// compared or read.
//
// Allocation failures throw what the allocator throws (shmkit::Allocator:
// shmkit::Error with errc::out_of_space, ...); the map is then unchanged.
//
// Threads: not thread-safe, as std::unordered_map. Guard a shared map with a
// ProcessMutex (docs/managed.md) in every process that uses it, and after a
// lock that reports owner_died(), validate() it and repair() it if that
// fails. A holder that died half-way through an insert or erase loses at
// worst that node, or leaves the size off by one. One that died during a
// rehash (rehash(), reserve(), repair(), or an insert that grows the bucket
// array: at load factor 1) loses every element already moved to the new
// array, up to all of them: they leak, and repair() cannot recover them (it
// keeps those still in the old array and recounts the size).
//
// Iterators, references and pointers to elements are process-local; insert
// invalidates iterators when it grows the bucket array (at load factor 1),
// erase only those to the erased element, as std::unordered_map.
template <class K, class V, class Hash = StableHash<K>, class Eq = std::equal_to<>,
          class Alloc = Allocator<std::pair<const K, V>>>
class SharedHashMap {
  static_assert(std::is_empty_v<Hash> && std::is_default_constructible_v<Hash>,
                "SharedHashMap's Hash must be an empty, default-constructible class (it is not "
                "stored in shared memory)");
  static_assert(std::is_empty_v<Eq> && std::is_default_constructible_v<Eq>,
                "SharedHashMap's Eq must be an empty, default-constructible class");

  struct Node;
  using VoidPointer = typename std::allocator_traits<Alloc>::void_pointer;
  using NodePtr = typename std::pointer_traits<VoidPointer>::template rebind<Node>;
  using NodeAlloc = typename std::allocator_traits<Alloc>::template rebind_alloc<Node>;
  using NodeTraits = std::allocator_traits<NodeAlloc>;
  using BucketAlloc = typename std::allocator_traits<Alloc>::template rebind_alloc<NodePtr>;
  using BucketTraits = std::allocator_traits<BucketAlloc>;
  using BucketPtr = typename BucketTraits::pointer;

  template <class F, class = void>
  struct is_transparent : std::false_type {};
  template <class F>
  struct is_transparent<F, std::void_t<typename F::is_transparent>> : std::true_type {};

  template <class Q>
  static constexpr bool accepts_key() {
    using D = std::remove_cv_t<std::remove_reference_t<Q>>;
    if constexpr (std::is_same_v<D, K>) {
      return true;
    } else {
      return is_transparent<Hash>::value && is_transparent<Eq>::value &&
             std::is_invocable_v<const Hash&, const D&> &&
             std::is_invocable_r_v<bool, const Eq&, const K&, const D&>;
    }
  }

 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using hasher = Hash;
  using key_equal = Eq;
  using allocator_type = Alloc;
  using reference = value_type&;
  using const_reference = const value_type&;

 private:
  template <bool Const>
  class Iter;

 public:
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  // The most buckets a map has (a bucket array the heap cannot hold fails
  // earlier, with the allocator's error).
  static constexpr size_type k_max_bucket_count = size_type{1} << 40;

  // Empty; allocates nothing until the first insert.
  explicit SharedHashMap(const Alloc& alloc) noexcept : alloc_(alloc) {}
  // Empty, with room for `bucket_count` keys before it grows. Throws what
  // the allocator throws.
  SharedHashMap(size_type bucket_count, const Alloc& alloc) : alloc_(alloc) {
    rehash(bucket_count);
  }
  // Takes `other`'s elements (no element is moved); `other` is left empty.
  // A damaged `other` is left alone and this map is empty.
  SharedHashMap(SharedHashMap&& other) noexcept : alloc_(other.alloc_) {
    const Header header = checked_header(other);
    if (header.problem != nullptr) return;
    // `other` lets go first: a kill before this map takes the elements leaks
    // them rather than leaving two owners (a double free later).
    other.reset();
    detail::crash_order();
    if (header.count == 0) return;
    buckets_ = BucketPtr(header.buckets);
    detail::crash_order();
    bucket_count_ = header.count;
    size_ = header.size;
  }
  SharedHashMap(const SharedHashMap&) = delete;
  SharedHashMap& operator=(const SharedHashMap&) = delete;
  SharedHashMap& operator=(SharedHashMap&&) = delete;
  // Destroys every element and frees the nodes and bucket array. A damaged
  // map frees nothing (its blocks leak).
  ~SharedHashMap() {
    if (checked_structure(*this) == nullptr) {
      destroy_nodes();
      const Header header = checked_header(*this);
      // Forget the array before freeing it: a kill in between leaks it.
      reset();
      detail::crash_order();
      BucketAlloc buckets_alloc = bucket_alloc();
      if (header.count != 0) {
        BucketTraits::deallocate(buckets_alloc, BucketPtr(header.buckets), header.count);
      }
    }
    magic_ = 0;  // a use after destruction reads as corrupted
  }

  // ---- size ---------------------------------------------------------------
  // As stored (never follows a pointer; validate() checks it).
  [[nodiscard]] size_type size() const noexcept { return static_cast<size_type>(size_); }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] size_type bucket_count() const noexcept {
    return static_cast<size_type>(bucket_count_);
  }
  // Fixed at 1: the bucket array doubles when an insert would pass it.
  [[nodiscard]] static constexpr float max_load_factor() noexcept { return 1.0f; }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return Alloc(alloc_); }

  // ---- iteration ----------------------------------------------------------
  // Forward iterators over the elements, in no particular order. begin()
  // and ++ check what they follow: errc::corrupted is thrown, and also
  // at the end of a walk that met another number of elements than size().
  iterator begin() { return iterator(this, first_position()); }
  const_iterator begin() const { return const_iterator(this, first_position()); }
  const_iterator cbegin() const { return begin(); }
  iterator end() noexcept { return iterator(this); }
  const_iterator end() const noexcept { return const_iterator(this); }
  const_iterator cend() const noexcept { return end(); }

  // ---- lookup -------------------------------------------------------------
  // The element whose key equals `key`, or end(). `key` may be any type
  // Hash and Eq accept when both are transparent (a std::string_view for a
  // SharedString key). Throws errc::corrupted; the twin returns end() and
  // sets `ec`.
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] iterator find(const Q& key) {
    const Found found = locate(key, hash_of(key));
    return found.node == nullptr ? end() : iterator(this, found.bucket, found.node);
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] const_iterator find(const Q& key) const {
    const Found found = locate(key, hash_of(key));
    return found.node == nullptr ? end() : const_iterator(this, found.bucket, found.node);
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] iterator find(const Q& key, std::error_code& ec) noexcept {
    return detail::report_to(ec, end(), [&] { return find(key); });
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] const_iterator find(const Q& key, std::error_code& ec) const noexcept {
    return detail::report_to(ec, end(), [&] { return find(key); });
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] bool contains(const Q& key) const {
    return locate(key, hash_of(key)).node != nullptr;
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  [[nodiscard]] size_type count(const Q& key) const {
    return contains(key) ? 1 : 0;
  }

  // ---- insertion ----------------------------------------------------------
  // Inserts {key, V(args...)} if no element has an equal key; returns the
  // element with that key and whether it was inserted. The key is built
  // from `key` (with the allocator when K uses one: a std::string_view
  // becomes a SharedString) only when it is inserted. Throws errc::corrupted
  // or what the allocator or K's and V's constructors throw; on failure the
  // map is unchanged. The twin (ec after the key) reports them in `ec` and
  // returns {end(), false}; it is noexcept when V's construction from
  // `args` is, and then requires K's construction to throw nothing but
  // std::system_error (true of SharedString and the integers).
  template <class Q, class... Args, class = std::enable_if_t<accepts_key<Q>()>>
  std::pair<iterator, bool> try_emplace(Q&& key, Args&&... args) {
    const std::uint64_t hash = hash_of(key);
    const Found found = locate(key, hash);
    if (found.node != nullptr) return {iterator(this, found.bucket, found.node), false};
    Node* node = make_node(hash, std::forward_as_tuple(std::forward<Q>(key)),
                           std::forward_as_tuple(std::forward<Args>(args)...));
    return {link_node(node), true};
  }
  template <class Q, class... Args, class = std::enable_if_t<accepts_key<Q>()>>
  std::pair<iterator, bool> try_emplace(Q&& key, std::error_code& ec, Args&&... args) noexcept(
      std::is_nothrow_constructible_v<V, Args&&...>) {
    return detail::report_to(ec, std::pair<iterator, bool>(end(), false), [&] {
      return try_emplace(std::forward<Q>(key), std::forward<Args>(args)...);
    });
  }
  // As try_emplace(key, value).
  template <class Q, class M, class = std::enable_if_t<accepts_key<Q>()>>
  std::pair<iterator, bool> emplace(Q&& key, M&& value) {
    return try_emplace(std::forward<Q>(key), std::forward<M>(value));
  }
  // As try_emplace(element.first, element.second).
  std::pair<iterator, bool> insert(const value_type& element) {
    return try_emplace(element.first, element.second);
  }
  template <class P, class = std::enable_if_t<accepts_key<decltype(std::declval<P>().first)>()>>
  std::pair<iterator, bool> insert(P&& element) {
    return try_emplace(std::forward<P>(element).first, std::forward<P>(element).second);
  }
  std::pair<iterator, bool> insert(const value_type& element, std::error_code& ec) noexcept(
      std::is_nothrow_copy_constructible_v<V>) {
    return try_emplace(element.first, ec, element.second);
  }
  // Inserts {key, value}, or assigns `value` to the element with that key.
  // Errors as try_emplace().
  template <class Q, class M, class = std::enable_if_t<accepts_key<Q>()>>
  std::pair<iterator, bool> insert_or_assign(Q&& key, M&& value) {
    auto result = try_emplace(std::forward<Q>(key), std::forward<M>(value));
    if (!result.second) result.first->second = std::forward<M>(value);
    return result;
  }
  // The value of the element with key `key`, inserted as V() (with the
  // allocator when V uses one) if there is none. Errors as try_emplace().
  template <class Q, class = std::enable_if_t<accepts_key<Q>()>>
  V& operator[](Q&& key) {
    return try_emplace(std::forward<Q>(key)).first->second;
  }

  // ---- removal ------------------------------------------------------------
  // Removes the element with key `key`; returns how many were removed (0 or
  // 1). Throws errc::corrupted (nothing removed); the twin returns 0.
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  size_type erase(const Q& key) {
    const Found found = locate(key, hash_of(key));
    if (found.node == nullptr) return 0;
    unlink(found);
    return 1;
  }
  template <class Q = K, class = std::enable_if_t<accepts_key<Q>()>>
  size_type erase(const Q& key, std::error_code& ec) noexcept {
    return detail::report_to(ec, size_type{0}, [&] { return erase(key); });
  }
  // Removes the element at `position` (an iterator of this map, not end());
  // returns the iterator after it. Throws errc::corrupted.
  iterator erase(const_iterator position) {
    iterator next(this, position.bucket_, position.node_, position.seen_, position.from_begin_);
    ++next;
    const Found found = locate_node(position.node_, position.bucket_);
    if (found.node == nullptr) throw corrupted("an iterator's element is not in its bucket");
    unlink(found);
    if (next.node_ != nullptr) --next.seen_;
    return next;
  }
  iterator erase(iterator position) { return erase(const_iterator(position)); }
  // Removes every element, keeping the bucket array. Throws errc::corrupted
  // without removing anything when the map is damaged (see reset()).
  void clear() {
    if (const char* problem = checked_structure(*this)) throw corrupted(problem);
    destroy_nodes();
  }
  void clear(std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      clear();
      return 0;
    });
  }
  // Forgets every element without visiting one: the map is empty and valid
  // again, and its nodes and bucket array leak. The way out of
  // errc::corrupted (the damaged nodes are never read).
  void reset() noexcept {
    magic_ = k_magic;
    buckets_ = nullptr;  // (a kill between these stores leaves errc::corrupted)
    bucket_count_ = 0;
    size_ = 0;
  }
  // reset(), and allocate from `alloc` from now on: for a map whose stored
  // allocator was itself overwritten (its inserts then fail with
  // errc::invalid_state, as it names no heap this process maps).
  void reset(const Alloc& alloc) noexcept {
    alloc_ = NodeAlloc(alloc);
    reset();
  }

  // ---- buckets ------------------------------------------------------------
  // Makes the bucket array hold at least `count` and at least size() (a
  // power of two). Throws errc::corrupted (nothing changed), errc::
  // invalid_size (more than k_max_bucket_count) or what the allocator throws.
  void rehash(size_type count) {
    if (const char* problem = checked_structure(*this)) throw corrupted(problem);
    const Header header = checked_header(*this);
    size_type wanted = count < header.size ? static_cast<size_type>(header.size) : count;
    if (wanted > k_max_bucket_count) {
      throw Error(make_error_code(errc::invalid_size),
                  "shmkit::SharedHashMap: more than k_max_bucket_count buckets asked for; ask "
                  "for fewer");
    }
    size_type buckets = 1;
    while (buckets < wanted) buckets *= 2;
    if (wanted == 0) buckets = 0;
    if (buckets != header.count) rebucket(buckets, header);
  }
  void rehash(size_type count, std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      rehash(count);
      return 0;
    });
  }
  // Room for `count` elements before the next growth: rehash(count).
  void reserve(size_type count) {
    if (count > bucket_count()) rehash(count);
  }
  void reserve(size_type count, std::error_code& ec) noexcept {
    detail::report_to(ec, 0, [&] {
      reserve(count);
      return 0;
    });
  }

  // ---- checking -----------------------------------------------------------
  // Walks the whole map: the header, every bucket and link, that the walk
  // meets exactly size() elements, and each key and value that has a
  // validate(std::error_code&) member (SharedString). Throws errc::corrupted
  // / sets `ec`. Reads only; call it after taking a lock whose previous
  // holder died.
  void validate() const {
    if (const char* problem = checked_structure(*this)) throw corrupted(problem);
    std::error_code ec;
    for_each_node(*this, [&](Node* node) {
      validate_member(node->value.first, ec);
      if (!ec) validate_member(node->value.second, ec);
      return !ec;
    });
    if (ec) throw corrupted("a key or value is damaged");
  }
  void validate(std::error_code& ec) const noexcept {
    detail::report_to(ec, 0, [&] {
      validate();
      return 0;
    });
  }
  // Makes a damaged map sound again, keeping every element it can trust:
  // in each bucket it cuts the chain at the first link that fails a check
  // (outside the heap, a node of another bucket, a key or value whose
  // validate() fails) and breaks a cycle, then recounts the size. What a cut
  // link led to leaks (it is never read again). A header that fails its
  // checks (magic, bucket array) leaves nothing to trust: the map is reset()
  // (if it was the stored allocator that was damaged, inserts then fail with
  // errc::invalid_state: reset(alloc) with the segment's allocator).
  // Returns whether anything was changed. Never throws; reads only what
  // passes the checks. For the holder that finds owner_died(): validate(),
  // and repair() if that fails.
  bool repair() noexcept {
    const Header header = checked_header(*this);
    if (header.problem != nullptr) {
      reset();
      return true;
    }
    bool changed = false;
    std::uint64_t total = 0;
    for (std::uint64_t b = 0; b < header.count; ++b) {
      changed |= repair_chain(&header.buckets[b], b, header.count);
      for (NodePtr* link = &header.buckets[b]; *link != nullptr; link = &(*link)->next) ++total;
    }
    if (total > header.count) {  // more sound nodes than the load factor allows
      size_type buckets = 1;
      while (buckets < total) buckets *= 2;
      try {
        rebucket(buckets, header);
      } catch (...) {
        reset();  // no room for a larger bucket array: start again
        return true;
      }
    }
    if (total != size_) changed = true;
    size_ = total;
    return changed;
  }

 private:
  static constexpr std::uint64_t k_magic = 0x50414d4853746b73ULL;  // "sktSHMAP"

  struct Node {
    template <class KeyArgs, class ValueArgs>
    Node(std::uint64_t h, KeyArgs&& key_args, ValueArgs&& value_args)
        : hash(h),
          value(std::piecewise_construct, std::forward<KeyArgs>(key_args),
                std::forward<ValueArgs>(value_args)) {}
    NodePtr next = nullptr;
    std::uint64_t hash;
    value_type value;
  };

  // The header after checking it: the bucket array (null when count == 0).
  // Each field is read once from shared memory and checked; the members
  // use these copies, never a second read (another process may have changed
  // the field since the check).
  struct Header {
    NodePtr* buckets = nullptr;
    std::uint64_t count = 0;
    std::uint64_t size = 0;  // <= count
    const char* problem = nullptr;
  };
  // Where a key is: the link that points at its node, and the node.
  struct Found {
    NodePtr* link = nullptr;
    Node* node = nullptr;
    std::uint64_t bucket = 0;
  };

  template <class Q>
  static std::uint64_t hash_of(const Q& key) {
    return static_cast<std::uint64_t>(Hash{}(key));
  }

  static Header checked_header(const SharedHashMap& map) noexcept {
    Header header;
    if (map.magic_ != k_magic) {
      header.problem = "its header is not a SharedHashMap's (overwritten, or destroyed)";
      return header;
    }
    const std::uint64_t count = detail::load_once(map.bucket_count_);
    const std::uint64_t size = detail::load_once(map.size_);
    NodePtr* buckets = detail::raw_pointer(map.buckets_);  // one read of the pointer
    if (count == 0) {
      if (size != 0 || buckets != nullptr) {
        header.problem = "it has elements but no buckets";
      }
      return header;
    }
    if (count > k_max_bucket_count || (count & (count - 1)) != 0) {
      header.problem = "its bucket count is not a power of two it could have";
      return header;
    }
    if (size > count) {
      header.problem = "its size exceeds its bucket count (the load factor is at most 1)";
      return header;
    }
    if (!detail::shared_range_ok(map.alloc_, buckets, static_cast<size_type>(count))) {
      header.problem = "its bucket array lies outside its segment's heap";
      return header;
    }
    header.buckets = buckets;
    header.count = count;
    header.size = size;
    return header;
  }
  Header header_or_throw() const {
    const Header header = checked_header(*this);
    if (header.problem != nullptr) throw corrupted(header.problem);
    return header;
  }
  Node* checked_node(const NodePtr& link) const noexcept {
    Node* node = detail::raw_pointer(link);
    return detail::shared_range_ok(alloc_, node, 1) ? node : nullptr;
  }

  // Finds `key` in its bucket; throws errc::corrupted on a bad link or a
  // chain longer than the map's size (a cycle).
  template <class Q>
  Found locate(const Q& key, std::uint64_t hash) const {
    const Header header = header_or_throw();
    Found found;
    if (header.count == 0) return found;
    found.bucket = hash & (header.count - 1);
    found.link = &header.buckets[found.bucket];
    for (std::uint64_t steps = 0; *found.link != nullptr; ++steps) {
      if (steps >= header.size) {
        throw corrupted("a bucket's chain is longer than its size (a cycle?)");
      }
      Node* node = checked_node(*found.link);
      if (node == nullptr) throw corrupted("a link points outside its segment's heap");
      if (node->hash == hash && Eq{}(node->value.first, key)) {
        found.node = node;
        return found;
      }
      found.link = &node->next;
    }
    return found;
  }
  // Finds the link to `target` in bucket `bucket`.
  Found locate_node(const Node* target, std::uint64_t bucket) const {
    const Header header = header_or_throw();
    Found found;
    if (target == nullptr || bucket >= header.count) return found;
    found.bucket = bucket;
    found.link = &header.buckets[bucket];
    for (std::uint64_t steps = 0; *found.link != nullptr; ++steps) {
      if (steps >= header.size) {
        throw corrupted("a bucket's chain is longer than its size (a cycle?)");
      }
      Node* node = checked_node(*found.link);
      if (node == nullptr) throw corrupted("a link points outside its segment's heap");
      if (node == target) {
        found.node = node;
        return found;
      }
      found.link = &node->next;
    }
    return found;
  }

  // Visits every node, checking each link, at most size_ of them; `visit`
  // returns false to stop. Returns the problem met, or nullptr.
  template <class Map, class Visit>
  static const char* for_each_node(Map& map, Visit&& visit) {
    const Header header = checked_header(map);
    if (header.problem != nullptr) return header.problem;
    std::uint64_t seen = 0;
    for (std::uint64_t b = 0; b < header.count; ++b) {
      const NodePtr* link = &header.buckets[b];
      while (*link != nullptr) {
        if (++seen > header.size) return "its chains hold more elements than its size (a cycle?)";
        Node* node = map.checked_node(*link);
        if (node == nullptr) return "a link points outside its segment's heap";
        if ((node->hash & (header.count - 1)) != b) return "an element is in the wrong bucket";
        link = &node->next;
        if (!visit(node)) return nullptr;
      }
    }
    if (seen != header.size) return "its chains hold fewer elements than its size";
    return nullptr;
  }
  // The structure (header, links, counts) checked; nullptr when sound.
  static const char* checked_structure(const SharedHashMap& map) noexcept {
    return for_each_node(map, [](Node*) { return true; });
  }

  // The node a link of bucket `bucket` leads to if it passes every check
  // (in the heap, in this bucket, its key and value valid), else nullptr.
  Node* trusted_node(const NodePtr& link, std::uint64_t bucket,
                     std::uint64_t count) const noexcept {
    Node* node = checked_node(link);
    if (node == nullptr || (node->hash & (count - 1)) != bucket) return nullptr;
    std::error_code ec;
    validate_member(node->value.first, ec);
    if (!ec) validate_member(node->value.second, ec);
    return ec ? nullptr : node;
  }
  // repair() for one chain: cuts it at its first untrusted link, then breaks
  // a cycle (Brent's algorithm: O(length), no marks written). A chain of
  // distinct trusted nodes is finite (they lie in the heap).
  bool repair_chain(NodePtr* head, std::uint64_t bucket, std::uint64_t count) noexcept {
    bool changed = false;
    const auto next = [&](Node* node) { return trusted_node(node->next, bucket, count); };
    if (*head == nullptr) return false;
    Node* first = trusted_node(*head, bucket, count);
    if (first == nullptr) {
      *head = nullptr;
      return true;
    }
    // Find a cycle: lambda its length, or reach the end (a null or untrusted link).
    std::uint64_t power = 1;
    std::uint64_t lambda = 1;
    Node* tortoise = first;
    Node* hare = next(first);
    while (hare != nullptr && hare != tortoise) {
      if (power == lambda) {
        tortoise = hare;
        power *= 2;
        lambda = 0;
      }
      hare = next(hare);
      ++lambda;
    }
    if (hare != nullptr) {
      // mu: where the cycle starts; the node lambda - 1 after it closes it.
      Node* slow = first;
      Node* fast = first;
      for (std::uint64_t i = 0; i < lambda; ++i) fast = next(fast);
      while (slow != fast) {
        slow = next(slow);
        fast = next(fast);
      }
      Node* closing = slow;
      for (std::uint64_t i = 1; i < lambda; ++i) closing = next(closing);
      closing->next = nullptr;
      return true;
    }
    // No cycle: cut at the first untrusted link (a null one ends it soundly).
    for (Node* node = first;;) {
      if (node->next == nullptr) break;
      Node* following = next(node);
      if (following == nullptr) {
        node->next = nullptr;
        changed = true;
        break;
      }
      node = following;
    }
    return changed;
  }

  template <class T>
  static void validate_member(const T& member, std::error_code& ec) {
    if constexpr (has_validate<T>::value) member.validate(ec);
  }
  template <class T, class = void>
  struct has_validate : std::false_type {};
  template <class T>
  struct has_validate<
      T, std::void_t<decltype(std::declval<const T&>().validate(std::declval<std::error_code&>()))>>
      : std::true_type {};

  // A node holding {key, value} built from the tuples of arguments, with
  // the allocator for a K or V that uses one. Nothing is linked yet.
  template <class KeyArgs, class ValueArgs>
  Node* make_node(std::uint64_t hash, KeyArgs&& key_args, ValueArgs&& value_args) {
    // Grow first: a failure to allocate the bucket array leaves nothing to undo.
    if (size_ + 1 > bucket_count_) rehash(bucket_count_ == 0 ? 8 : 2 * bucket_count());
    NodePtr block = NodeTraits::allocate(alloc_, 1);
    Node* node = detail::raw_pointer(block);
    try {
      ::new (static_cast<void*>(node)) Node(hash, with_allocator<K>(std::move(key_args)),
                                            with_allocator<V>(std::move(value_args)));
    } catch (...) {
      NodeTraits::deallocate(alloc_, block, 1);
      throw;
    }
    return node;
  }
  template <class T, class Tuple>
  auto with_allocator(Tuple&& args) const {
    return std::apply(
        [this](auto&&... each) {
          return detail::uses_allocator_args<T>(alloc_, std::forward<decltype(each)>(each)...);
        },
        std::forward<Tuple>(args));
  }
  // Links a new node at the head of its bucket (the header was checked by
  // locate() and the array sized by make_node()).
  iterator link_node(Node* node) {
    const Header header = header_or_throw();
    const std::uint64_t bucket = node->hash & (header.count - 1);
    node->next = header.buckets[bucket];
    header.buckets[bucket] = node;
    ++size_;
    return iterator(this, bucket, node);
  }
  void unlink(const Found& found) noexcept {
    *found.link = found.node->next;
    --size_;
    destroy_node(found.node);
  }
  void destroy_node(Node* node) noexcept {
    node->~Node();
    NodeTraits::deallocate(alloc_, NodePtr(node), 1);
  }
  // Destroys every node of a map whose structure was checked.
  void destroy_nodes() noexcept {
    const Header header = checked_header(*this);
    for (std::uint64_t b = 0; b < header.count; ++b) {
      NodePtr* link = &header.buckets[b];
      while (*link != nullptr) {
        Node* node = checked_node(*link);
        if (node == nullptr) break;  // not reached: the structure was checked
        *link = node->next;
        destroy_node(node);
      }
    }
    size_ = 0;
  }
  // Moves every node into a new array of `count` buckets (`old`, the current
  // header, and its chains were checked; the allocation is the only step
  // that can fail, and comes first). Not crash-safe: each node leaves its
  // old chain for a chain of the new array, which nothing in shared memory
  // points at until the loop ends (a node has one link: it cannot be on
  // both). A process killed in the loop loses every node moved so far, up to
  // all of them: they and the new array leak, and repair() cannot find them
  // (it keeps the nodes still in the old array and recounts the size).
  // After the loop the header switches to the new array, then the old one
  // is freed: a kill before the free only leaks it.
  void rebucket(size_type count, const Header& old) {
    BucketAlloc buckets_alloc = bucket_alloc();
    BucketPtr fresh =
        count == 0 ? BucketPtr(nullptr) : BucketTraits::allocate(buckets_alloc, count);
    NodePtr* array = detail::raw_pointer(fresh);
    for (size_type i = 0; i < count; ++i) ::new (static_cast<void*>(array + i)) NodePtr(nullptr);
    for (std::uint64_t b = 0; b < old.count; ++b) {
      NodePtr* link = &old.buckets[b];
      while (*link != nullptr) {
        Node* node = checked_node(*link);
        if (node == nullptr) break;  // not reached: the structure was checked
        *link = node->next;
        const std::uint64_t to = node->hash & (count - 1);
        node->next = array[to];
        array[to] = node;
      }
    }
    // Switch in the order that keeps every intermediate header in bounds:
    // the smaller count is the one stored while the other field changes.
    if (count < old.count) {
      bucket_count_ = count;
      detail::crash_order();
      buckets_ = fresh;
    } else {
      buckets_ = fresh;
      detail::crash_order();
      bucket_count_ = count;
    }
    detail::crash_order();
    if (old.count != 0) BucketTraits::deallocate(buckets_alloc, BucketPtr(old.buckets), old.count);
  }
  BucketAlloc bucket_alloc() const noexcept { return BucketAlloc(alloc_); }

  // The first element: its bucket and node (node null when empty).
  struct Position {
    std::uint64_t bucket = 0;
    Node* node = nullptr;
  };
  Position first_position() const {
    const Header header = header_or_throw();
    return next_position(header, 0);
  }
  // The first element in a bucket from `bucket` on.
  Position next_position(const Header& header, std::uint64_t bucket) const {
    for (; bucket < header.count; ++bucket) {
      const NodePtr& head = header.buckets[bucket];
      if (head == nullptr) continue;
      Node* node = checked_node(head);
      if (node == nullptr) throw corrupted("a link points outside its segment's heap");
      return {bucket, node};
    }
    return {};
  }

  Error corrupted(const char* problem) const {
    return detail::shared_corrupted("shmkit::SharedHashMap", this, problem);
  }

  template <bool Const>
  class Iter {
    using Map = std::conditional_t<Const, const SharedHashMap, SharedHashMap>;

   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = typename SharedHashMap::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;

    Iter() noexcept = default;
    template <bool C = Const, class = std::enable_if_t<C>>
    Iter(const Iter<false>& other) noexcept  // NOLINT: iterator to const_iterator
        : map_(other.map_),
          bucket_(other.bucket_),
          node_(other.node_),
          seen_(other.seen_),
          from_begin_(other.from_begin_) {}

    reference operator*() const noexcept { return node_->value; }
    pointer operator->() const noexcept { return &node_->value; }
    // The next element; throws errc::corrupted (and at the end of a walk
    // that did not meet size() elements).
    Iter& operator++() {
      const Header header = map_->header_or_throw();
      if (node_->next != nullptr) {
        Node* next = map_->checked_node(node_->next);
        if (next == nullptr) throw map_->corrupted("a link points outside its segment's heap");
        if (++seen_ >= header.size) {
          throw map_->corrupted("its chains hold more elements than its size (a cycle?)");
        }
        node_ = next;
        return *this;
      }
      const Position next = map_->next_position(header, bucket_ + 1);
      if (next.node == nullptr) {
        if (from_begin_ && seen_ + 1 != header.size) {
          throw map_->corrupted("a walk met another number of elements than its size");
        }
      } else if (++seen_ >= header.size) {
        throw map_->corrupted("its chains hold more elements than its size (a cycle?)");
      }
      bucket_ = next.bucket;
      node_ = next.node;
      return *this;
    }
    Iter operator++(int) {
      Iter before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const Iter& a, const Iter& b) noexcept { return a.node_ == b.node_; }
    friend bool operator!=(const Iter& a, const Iter& b) noexcept { return a.node_ != b.node_; }

   private:
    friend class SharedHashMap;
    template <bool>
    friend class Iter;
    explicit Iter(Map* map) noexcept : map_(map) {}
    // The first element (from begin()): a walk from it must meet size() elements.
    Iter(Map* map, Position at) noexcept
        : map_(map), bucket_(at.bucket), node_(at.node), from_begin_(true) {}
    Iter(Map* map, std::uint64_t bucket, Node* node, std::uint64_t seen = 0,
         bool from_begin = false) noexcept
        : map_(map), bucket_(bucket), node_(node), seen_(seen), from_begin_(from_begin) {}

    Map* map_ = nullptr;
    std::uint64_t bucket_ = 0;
    Node* node_ = nullptr;
    // Elements passed since the walk's start (bounds a walk by size()), and
    // whether that start was begin() (then the walk must meet exactly size()).
    std::uint64_t seen_ = 0;
    bool from_begin_ = false;
  };

  std::uint64_t magic_ = k_magic;
  NodeAlloc alloc_;
  BucketPtr buckets_ = nullptr;
  std::uint64_t bucket_count_ = 0;
  std::uint64_t size_ = 0;
};

SHMKIT_END_NAMESPACE
