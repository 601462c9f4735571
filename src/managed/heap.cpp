// Carving and freeing blocks. Every state change a walk from the heap's
// start can see is one 8-byte store, ordered so that the walk is valid at
// every instant: a process killed between any two instructions leaves
// blocks that still tile the heap, and the journal says which block it was
// working on (docs/managed.md, "Crash consistency"). The free lists are a
// cache that repair() rebuilds; every link is validated before it is
// followed.
#include "managed/heap.hpp"

#include <shmkit/errc.hpp>

#include <cstring>
#include <limits>
#include <new>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t a) {
  return (n + a - 1) & ~(a - 1);
}

std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int highest_bit(std::uint64_t x) noexcept {
  int bit = 0;
  while (x >>= 1) ++bit;
  return bit;
}

int lowest_bit(std::uint64_t x) noexcept {
  int bit = 0;
  while ((x & 1) == 0) {
    x >>= 1;
    ++bit;
  }
  return bit;
}

// Offsets of a block's words.
constexpr std::uint64_t tag_at(std::uint64_t b) {
  return b + 8;
}
constexpr std::uint64_t next_at(std::uint64_t b) {
  return b + 16;
}
constexpr std::uint64_t prev_at(std::uint64_t b) {
  return b + 24;
}

// The longest scan of one large class's list before moving on to a larger
// class (whose every block fits): bounds allocate's time.
constexpr int k_first_fit_scan = 32;

}  // namespace

std::size_t size_class(std::uint64_t block_size) noexcept {
  if (block_size < k_exact_limit) return static_cast<std::size_t>(block_size / k_granule);
  const int bit = highest_bit(block_size);
  const std::size_t cls = 64 + static_cast<std::size_t>(bit - 10);
  return cls < k_class_count ? cls : k_class_count - 1;
}

Heap::Heap(void* base, std::size_t size, std::string name) noexcept
    : base_(static_cast<std::byte*>(base)),
      size_(size),
      begin_(k_heap_header_bytes),
      end_(size & k_size_mask),
      name_(std::move(name)) {}

void Heap::format(void* base, std::size_t size, std::uint64_t salt) noexcept {
  auto* header = ::new (base) HeapHeader{};
  header->version.store(k_heap_version, std::memory_order_relaxed);
  header->header_bytes.store(k_heap_header_bytes, std::memory_order_relaxed);
  header->heap_size.store(size, std::memory_order_relaxed);
  header->salt.store(salt, std::memory_order_relaxed);
  Heap heap(base, size, {});
  const std::uint64_t block = heap.begin_;
  const std::uint64_t block_bytes = heap.end_ - heap.begin_;
  heap.store(tag_at(block), heap.tag_for(block));
  heap.store(block, block_bytes);
  heap.store(block + block_bytes - 8, block_bytes);
  heap.store(next_at(block), 0);
  heap.store(prev_at(block), 0);
  const std::size_t cls = size_class(block_bytes);
  header->heads[cls].store(block, std::memory_order_relaxed);
  header->nonempty[cls / 64].store(std::uint64_t{1} << (cls % 64), std::memory_order_relaxed);
  header->free_bytes.store(block_bytes - k_block_header, std::memory_order_relaxed);
  header->magic.store(k_heap_magic, std::memory_order_release);
}

bool Heap::corrupt(Failure& failure, const std::string& what) const {
  failure.set(errc::corrupted, "managed segment " + quoted(name_) + ": " + what +
                                   "; its heap was overwritten: copy out what you can, "
                                   "then remove it and create it again");
  return false;
}

bool Heap::header_valid(Failure& failure) const {
  const HeapHeader& h = header();
  if (h.magic.load(std::memory_order_acquire) != k_heap_magic) {
    return corrupt(failure, "the heap header's magic number is wrong");
  }
  if (h.version.load(std::memory_order_relaxed) != k_heap_version ||
      h.header_bytes.load(std::memory_order_relaxed) != k_heap_header_bytes) {
    failure.set(errc::incompatible_layout,
                "managed segment " + quoted(name_) +
                    " has another heap layout version; open it with the shmkit version that "
                    "created it");
    return false;
  }
  if (h.heap_size.load(std::memory_order_relaxed) != size_) {
    return corrupt(failure, "the heap header says " +
                                std::to_string(h.heap_size.load(std::memory_order_relaxed)) +
                                " bytes but the segment has " + std::to_string(size_));
  }
  return true;
}

std::uint64_t Heap::tag_for(std::uint64_t block) const noexcept {
  return mix(block ^ header().salt.load(std::memory_order_relaxed)) | 1;
}

std::uint64_t Heap::block_word(std::uint64_t block) const noexcept {
  if (block < begin_ || block >= end_ || block % k_granule != 0) return 0;
  if (end_ - block < k_min_block) return 0;
  const std::uint64_t word = load(block);
  const std::uint64_t size = word & k_size_mask;
  if (size < k_min_block || size > end_ - block) return 0;
  if (load(tag_at(block)) != tag_for(block)) return 0;
  return word;
}

std::uint64_t Heap::block_size(std::uint64_t block) const noexcept {
  return block_word(block) & k_size_mask;
}

bool Heap::block_allocated(std::uint64_t block) const noexcept {
  return (load(block) & k_allocated_bit) != 0;
}

std::uint64_t Heap::free_block_word(std::uint64_t block, std::size_t cls) const noexcept {
  const std::uint64_t word = block_word(block);
  if (word == 0 || (word & k_allocated_bit) != 0) return 0;
  return size_class(word & k_size_mask) == cls ? word : 0;
}

std::uint64_t Heap::offset_of(const void* p) const noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const auto base = reinterpret_cast<std::uintptr_t>(base_);
  if (at < base + begin_ + k_block_header || at >= base + end_) return 0;
  return at - base;
}

void Heap::add_figures(std::int64_t free_delta, std::int64_t used_delta) const noexcept {
  HeapHeader& h = header();
  h.free_bytes.store(
      h.free_bytes.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(free_delta),
      std::memory_order_relaxed);
  h.used_bytes.store(
      h.used_bytes.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(used_delta),
      std::memory_order_relaxed);
}

void Heap::set_prev_free(std::uint64_t next, bool free) const noexcept {
  if (next >= end_) return;
  const std::uint64_t value = block_word(next);
  if (value == 0) return;
  store(next, free ? value | k_prev_free_bit : value & ~k_prev_free_bit);
}

bool Heap::unlink(std::uint64_t block, std::uint64_t size, Failure& failure) {
  HeapHeader& h = header();
  const std::size_t cls = size_class(size);
  const std::uint64_t next = load(next_at(block));
  const std::uint64_t prev = load(prev_at(block));
  if (next != 0 && (!free_block_valid(next, cls) || load(prev_at(next)) != block)) {
    return corrupt(failure, "the free list of class " + std::to_string(cls) + " links block " +
                                std::to_string(block) + " to " + std::to_string(next) +
                                ", which is not a free block linked back to it");
  }
  if (prev == 0) {
    if (h.heads[cls].load(std::memory_order_relaxed) != block) {
      return corrupt(failure, "free block " + std::to_string(block) +
                                  " has no predecessor but does not head its free list");
    }
    h.heads[cls].store(next, std::memory_order_release);
    if (next == 0) {
      const std::uint64_t bits = h.nonempty[cls / 64].load(std::memory_order_relaxed);
      h.nonempty[cls / 64].store(bits & ~(std::uint64_t{1} << (cls % 64)),
                                 std::memory_order_relaxed);
    }
  } else {
    if (!free_block_valid(prev, cls) || load(next_at(prev)) != block) {
      return corrupt(failure, "free block " + std::to_string(block) + " names " +
                                  std::to_string(prev) +
                                  " as its predecessor, which does not link to it");
    }
    store(next_at(prev), next);
  }
  if (next != 0) store(prev_at(next), prev);
  return true;
}

bool Heap::push(std::uint64_t block, std::uint64_t size, Failure& failure) {
  HeapHeader& h = header();
  const std::size_t cls = size_class(size);
  const std::uint64_t head = h.heads[cls].load(std::memory_order_relaxed);
  if (head != 0 && (!free_block_valid(head, cls) || load(prev_at(head)) != 0)) {
    return corrupt(failure, "the free list of class " + std::to_string(cls) + " starts at offset " +
                                std::to_string(head) + ", which is not a free block of that class");
  }
  store(next_at(block), head);
  store(prev_at(block), 0);
  if (head != 0) store(prev_at(head), block);
  h.heads[cls].store(block, std::memory_order_release);
  const std::uint64_t bits = h.nonempty[cls / 64].load(std::memory_order_relaxed);
  h.nonempty[cls / 64].store(bits | (std::uint64_t{1} << (cls % 64)), std::memory_order_relaxed);
  return true;
}

std::uint64_t Heap::find_fit(std::uint64_t need, std::uint64_t& found, Failure& failure) {
  HeapHeader& h = header();
  const std::size_t first = size_class(need);
  // A large class holds blocks of mixed sizes: first fit, a bounded scan.
  std::uint64_t at = h.heads[first].load(std::memory_order_relaxed);
  for (int step = 0; at != 0 && step < k_first_fit_scan; ++step) {
    const std::uint64_t checked = free_block_word(at, first);
    if (checked == 0) {
      corrupt(failure, "the free list of class " + std::to_string(first) + " reaches offset " +
                           std::to_string(at) + ", which is not a free block of that class");
      return 0;
    }
    if ((checked & k_size_mask) >= need) {
      found = checked;
      return at;
    }
    at = load(next_at(at));
  }
  // Any block of a larger class fits.
  for (std::size_t cls = first + 1; cls < k_class_count;) {
    const std::size_t word = cls / 64;
    const std::uint64_t bits =
        h.nonempty[word].load(std::memory_order_relaxed) & (~std::uint64_t{0} << (cls % 64));
    if (bits == 0) {
      cls = (word + 1) * 64;
      continue;
    }
    cls = word * 64 + static_cast<std::size_t>(lowest_bit(bits));
    const std::uint64_t head = h.heads[cls].load(std::memory_order_relaxed);
    if (head != 0) {
      const std::uint64_t checked = free_block_word(head, cls);
      if (checked == 0) {
        corrupt(failure, "the free list of class " + std::to_string(cls) + " starts at offset " +
                             std::to_string(head) + ", which is not a free block of that class");
        return 0;
      }
      found = checked;
      return head;
    }
    // A stale hint: the list is empty.
    h.nonempty[word].store(
        h.nonempty[word].load(std::memory_order_relaxed) & ~(std::uint64_t{1} << (cls % 64)),
        std::memory_order_relaxed);
    ++cls;
  }
  return 0;
}

std::uint64_t Heap::carve(std::size_t bytes, std::size_t alignment, JournalOp op,
                          Failure& failure) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > k_max_alignment) {
    failure.set(errc::invalid_argument,
                "managed segment " + quoted(name_) + ": alignment " + std::to_string(alignment) +
                    " is not a power of two up to " + std::to_string(k_max_alignment));
    return 0;
  }
  if (bytes == 0) bytes = 1;
  const std::uint64_t room = end_ - begin_;
  if (bytes > room) {
    failure.set(errc::out_of_space, "managed segment " + quoted(name_) + " cannot hold " +
                                        std::to_string(bytes) + " bytes: it is " +
                                        std::to_string(size_) +
                                        " bytes in all; create a larger segment");
    return 0;
  }
  std::uint64_t need = align_up(bytes + k_block_header, k_granule);
  if (need < k_min_block) need = k_min_block;
  const bool over_aligned = alignment > k_granule;
  const std::uint64_t search = over_aligned ? need + alignment + k_min_block : need;
  std::uint64_t word = 0;
  std::uint64_t block = find_fit(search, word, failure);
  if (failure) return 0;
  if (block == 0) {
    failure.set(errc::out_of_space,
                "managed segment " + quoted(name_) + " has no free block for " +
                    std::to_string(bytes) + " bytes (" +
                    std::to_string(header().free_bytes.load(std::memory_order_relaxed)) +
                    " bytes free in all); free some, or create a larger segment");
    return 0;
  }
  // The size and flags as find_fit checked them, never reloaded: a peer
  // rewriting the header meanwhile cannot steer the stores below.
  std::uint64_t size = word & k_size_mask;
  std::uint64_t flags = word & k_prev_free_bit;
  if (size < search) {  // find_fit checked it fits: cannot happen
    corrupt(failure, "the free block at offset " + std::to_string(block) + " is too small");
    return 0;
  }
  if (!unlink(block, size, failure)) return 0;
  if (over_aligned) {
    // Split off a free front so that the payload lands on the alignment.
    const auto base = reinterpret_cast<std::uintptr_t>(base_);
    std::uint64_t payload = align_up(base + block + k_block_header, alignment) - base;
    if (payload - k_block_header != block && payload - k_block_header - block < k_min_block) {
      payload += alignment;
    }
    const std::uint64_t aligned = payload - k_block_header;
    if (aligned != block) {
      const std::uint64_t front = aligned - block;
      store(tag_at(aligned), tag_for(aligned));
      store(aligned, (size - front) | k_prev_free_bit);
      store(block, front | flags);  // the one store the walk sees
      store(block + front - 8, front);
      if (!push(block, front, failure)) return 0;
      block = aligned;
      size -= front;
      flags = k_prev_free_bit;
      add_figures(-static_cast<std::int64_t>(k_block_header), 0);
    }
  }
  HeapHeader& h = header();
  h.journal_block.store(block, std::memory_order_release);
  h.journal_op.store(static_cast<std::uint64_t>(op), std::memory_order_release);
  std::uint64_t taken = size;
  if (size - need >= k_min_block) {
    const std::uint64_t rest = block + need;
    store(tag_at(rest), tag_for(rest));
    store(rest, size - need);
    store(rest + (size - need) - 8, size - need);
    store(block, need | flags | k_allocated_bit);  // the one store the walk sees
    if (!push(rest, size - need, failure)) return 0;
    taken = need;
  } else {
    store(block, size | flags | k_allocated_bit);
    set_prev_free(block + size, false);
  }
  add_figures(-static_cast<std::int64_t>(size - k_block_header),
              static_cast<std::int64_t>(taken - k_block_header));
  if (taken != size) add_figures(static_cast<std::int64_t>(size - taken - k_block_header), 0);
  return block + k_block_header;
}

void Heap::clear_journal() noexcept {
  header().journal_op.store(static_cast<std::uint64_t>(JournalOp::none), std::memory_order_release);
}

bool Heap::release(std::uint64_t payload, Failure& failure) {
  const std::uint64_t block = payload >= k_block_header ? payload - k_block_header : 0;
  const std::uint64_t word = block_word(block);
  std::uint64_t size = word & k_size_mask;
  if (size == 0 || (word & k_allocated_bit) == 0) {
    failure.set(errc::invalid_argument,
                "managed segment " + quoted(name_) + ": the pointer at offset " +
                    std::to_string(payload) +
                    " is not a live block of its heap (freed twice, or never allocated there); "
                    "nothing was freed");
    return false;
  }
  HeapHeader& h = header();
  h.journal_block.store(block, std::memory_order_release);
  h.journal_op.store(static_cast<std::uint64_t>(JournalOp::free), std::memory_order_release);
  const std::uint64_t freed_payload = size - k_block_header;
  const std::uint64_t flags = word & k_prev_free_bit;
  std::uint64_t start = block;
  std::int64_t headers_gained = 0;
  // Absorb a free successor: the allocated block grows over it (one store).
  const std::uint64_t next = block + size;
  if (next < end_) {
    const std::uint64_t next_word = block_word(next);
    const std::uint64_t next_size = next_word & k_size_mask;
    if (next_size != 0 && (next_word & k_allocated_bit) == 0) {
      if (!unlink(next, next_size, failure)) return false;
      store(block, (size + next_size) | flags | k_allocated_bit);
      store(tag_at(next), 0);
      size += next_size;
      ++headers_gained;
    }
  }
  // Be absorbed by a free predecessor, found through the footer the
  // prev_free hint points at, once that predecessor checks out.
  bool merged = false;
  if ((flags & k_prev_free_bit) != 0 && block - begin_ >= k_min_block) {
    const std::uint64_t prev_size = load(block - 8);
    if (prev_size >= k_min_block && prev_size <= block - begin_ && prev_size % k_granule == 0) {
      const std::uint64_t prev = block - prev_size;
      const std::uint64_t prev_word = block_word(prev);
      if ((prev_word & k_size_mask) == prev_size && (prev_word & k_allocated_bit) == 0) {
        if (!unlink(prev, prev_size, failure)) return false;
        const std::uint64_t prev_flags = prev_word & k_prev_free_bit;
        store(prev, (prev_size + size) | prev_flags);  // the one store the walk sees
        store(tag_at(block), 0);
        start = prev;
        size += prev_size;
        ++headers_gained;
        merged = true;
      }
    }
  }
  if (!merged) store(block, size | flags);
  store(start + size - 8, size);
  set_prev_free(start + size, true);
  if (!push(start, size, failure)) return false;
  add_figures(static_cast<std::int64_t>(freed_payload) +
                  headers_gained * static_cast<std::int64_t>(k_block_header),
              -static_cast<std::int64_t>(freed_payload));
  clear_journal();
  return true;
}

bool Heap::is_block_start(std::uint64_t block) const noexcept {
  for (std::uint64_t at = begin_; at < end_;) {
    if (at == block) return true;
    if (at > block) return false;
    const std::uint64_t size = block_size(at);
    if (size == 0) return false;
    at += size;
  }
  return false;
}

void Heap::mark_free_if_allocated(std::uint64_t block) noexcept {
  if (!is_block_start(block)) return;
  const std::uint64_t word = load(block);
  if ((word & k_allocated_bit) == 0) return;
  store(block, word & ~k_allocated_bit);
}

void Heap::retire_stale_header(std::uint64_t block) noexcept {
  if (block < begin_ || block >= end_ || block % k_granule != 0) return;
  if (end_ - block < k_min_block || is_block_start(block)) return;
  if (load(tag_at(block)) == tag_for(block)) store(tag_at(block), 0);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
