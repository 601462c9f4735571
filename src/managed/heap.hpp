// One process's view of a managed heap: the trusted base and size of its
// mapping, and the operations on blocks. Every call but format() and
// open_check() must run with the heap's lock held (HeapLock).
#pragma once

#include "core/failure.hpp"
#include "managed/heap_layout.hpp"

#include <shmkit/managed_segment.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class Heap {
 public:
  // `base` and `size` are this process's mapping (trusted); `name` is for
  // messages.
  Heap(void* base, std::size_t size, std::string name) noexcept;

  // Writes an empty heap over `size` bytes at `base` (the creator).
  static void format(void* base, std::size_t size, std::uint64_t salt) noexcept;

  // Whether the header is a heap of this layout spanning exactly the mapping.
  bool header_valid(Failure& failure) const;

  HeapHeader& header() const noexcept { return *reinterpret_cast<HeapHeader*>(base_); }
  std::byte* base() const noexcept { return base_; }
  std::uint64_t begin() const noexcept { return begin_; }
  std::uint64_t end() const noexcept { return end_; }
  const std::string& name() const noexcept { return name_; }

  // A block whose payload is `bytes` bytes at `alignment` (a power of two,
  // at most k_max_alignment); returns its payload offset, 0 on failure.
  // Leaves the journal saying `op` on the carved block: the caller clears
  // it once the block is accounted for (clear_journal()).
  std::uint64_t carve(std::size_t bytes, std::size_t alignment, JournalOp op, Failure& failure);
  void clear_journal() noexcept;

  // Frees the block whose payload starts at `payload`. A payload that is not
  // a live block of this heap: errc::invalid_argument, nothing changed.
  bool release(std::uint64_t payload, Failure& failure);

  // The payload offset of `p` if it lies in the block area; 0 otherwise.
  std::uint64_t offset_of(const void* p) const noexcept;

  // The block at `block` if it is a valid block header; its size, 0 if not.
  std::uint64_t block_size(std::uint64_t block) const noexcept;
  // The header word (size and flag bits) of the block at `block`, read once,
  // if it is a valid block header; 0 if not. Callers take the size and the
  // flags from this one copy: a peer may rewrite the header meanwhile.
  std::uint64_t block_word(std::uint64_t block) const noexcept;
  bool block_allocated(std::uint64_t block) const noexcept;
  // A block the walk from the start reaches (O(blocks); for repair).
  bool is_block_start(std::uint64_t block) const noexcept;
  // Marks an allocated block that the walk reaches as free (repair only:
  // the lists and neighbours are rebuilt afterwards).
  void mark_free_if_allocated(std::uint64_t block) noexcept;
  // Clears the tag of a header the walk does not reach (one a killed
  // coalesce left inside the free block that absorbed it), so that it can
  // never pass for a live block again (repair only).
  void retire_stale_header(std::uint64_t block) noexcept;

  // Repair after the lock's holder died: roll back or finish what the
  // journal and the directory say was under way, then rebuild the free
  // lists, tags and figures from a walk. Idempotent.
  bool repair(Failure& failure);
  // The whole-heap walk check() reports.
  HeapCheck inspect() const;

  std::atomic<std::uint64_t>& word(std::uint64_t offset) const noexcept {
    return *reinterpret_cast<std::atomic<std::uint64_t>*>(base_ + offset);
  }
  std::uint64_t load(std::uint64_t offset) const noexcept {
    return word(offset).load(std::memory_order_relaxed);
  }
  // Release: a dead holder's stores are seen in program order (the crash
  // consistency argument in docs/managed.md rests on it).
  void store(std::uint64_t offset, std::uint64_t value) const noexcept {
    word(offset).store(value, std::memory_order_release);
  }

  std::uint64_t tag_for(std::uint64_t block) const noexcept;

  bool corrupt(Failure& failure, const std::string& what) const;

 private:
  // A free block of at least `need` bytes (0: none); `found` gets its
  // header word as checked, which the caller uses instead of reloading it.
  std::uint64_t find_fit(std::uint64_t need, std::uint64_t& found, Failure& failure);
  bool unlink(std::uint64_t block, std::uint64_t size, Failure& failure);
  bool push(std::uint64_t block, std::uint64_t size, Failure& failure);
  // The header word of a free block of class `cls` (read once); 0 if the
  // block is not one.
  std::uint64_t free_block_word(std::uint64_t block, std::size_t cls) const noexcept;
  bool free_block_valid(std::uint64_t block, std::size_t cls) const noexcept {
    return free_block_word(block, cls) != 0;
  }
  void set_prev_free(std::uint64_t next, bool free) const noexcept;
  void add_figures(std::int64_t free_delta, std::int64_t used_delta) const noexcept;
  void rebuild(Failure& failure);

  std::byte* base_;
  std::uint64_t size_;
  std::uint64_t begin_;
  std::uint64_t end_;
  std::string name_;
};

std::size_t size_class(std::uint64_t block_size) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
