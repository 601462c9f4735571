// Repair after a lock holder died, and the full-heap walk behind check().
// Repair trusts nothing but the block walk, which every operation keeps
// valid at every instant: it applies the journal and the directory's
// half-done entries, then rebuilds the caches (free lists, prev_free bits,
// footers, figures) from the walk. Each step is idempotent, so a repairer
// killed in turn is simply repaired again by the next locker.
#include "managed/directory.hpp"
#include "managed/heap.hpp"

#include <algorithm>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

namespace {

// Walks the blocks from the start; false (with `problem` set) when a block
// header is invalid or the blocks do not end exactly at the heap's end.
template <typename Visit>
bool walk(const Heap& heap, std::string& problem, Visit&& visit) {
  std::uint64_t at = heap.begin();
  while (at < heap.end()) {
    const std::uint64_t size = heap.block_size(at);
    if (size == 0) {
      problem = "the block at heap offset " + std::to_string(at) + " has an invalid header (size " +
                std::to_string(heap.load(at) & k_size_mask) +
                ": not a multiple of 16 of at least 48 that stays inside the heap, or a wrong tag)";
      return false;
    }
    visit(at, size, heap.block_allocated(at));
    at += size;
  }
  return true;
}

}  // namespace

bool Heap::repair(Failure& failure) {
  if (!header_valid(failure)) return false;
  std::string problem;
  if (!walk(*this, problem, [](std::uint64_t, std::uint64_t, bool) {})) {
    return corrupt(failure, problem);
  }
  HeapHeader& h = header();
  const std::uint64_t op = h.journal_op.load(std::memory_order_relaxed);
  const std::uint64_t block = h.journal_block.load(std::memory_order_relaxed);
  if (op == static_cast<std::uint64_t>(JournalOp::allocate)) {
    // A block being carved was never handed out: free it.
    mark_free_if_allocated(block);
  } else if (op == static_cast<std::uint64_t>(JournalOp::free)) {
    // A block being freed: finish. If the walk no longer reaches it, the
    // free predecessor already absorbed it (one store) but the holder died
    // before clearing its tag: its old header, still marked allocated and
    // tagged, lies inside that free block; retire it so that a later free
    // of the same pointer fails instead of overlapping blocks.
    mark_free_if_allocated(block);
    retire_stale_header(block);
  } else if (op == static_cast<std::uint64_t>(JournalOp::grow_directory)) {
    // The switch to the new table is one store: if it happened, the old
    // table goes; if not, the new one.
    const std::uint64_t old_table = h.journal_aux.load(std::memory_order_relaxed);
    const std::uint64_t now = h.directory.load(std::memory_order_relaxed);
    if (now == block + k_block_header) {
      mark_free_if_allocated(old_table);
    } else {
      mark_free_if_allocated(block);
    }
  }
  if (!repair_directory(*this, failure)) return false;
  rebuild(failure);
  if (failure) return false;
  clear_journal();
  h.needs_repair.store(0, std::memory_order_release);
  return true;
}

void Heap::rebuild(Failure&) {
  HeapHeader& h = header();
  for (auto& head : h.heads) head.store(0, std::memory_order_relaxed);
  for (auto& bits : h.nonempty) bits.store(0, std::memory_order_relaxed);
  std::uint64_t free_bytes = 0;
  std::uint64_t used_bytes = 0;
  bool prev_free = false;
  const std::uint64_t prev_bit = k_prev_free_bit;
  for (std::uint64_t at = begin_; at < end_;) {
    std::uint64_t size = block_size(at);
    if (size == 0) return;  // walked and validated before; cannot happen
    if (block_allocated(at)) {
      store(at, size | k_allocated_bit | (prev_free ? prev_bit : 0));
      used_bytes += size - k_block_header;
      prev_free = false;
    } else {
      // Coalesce the free blocks that follow: each merge is one store that
      // grows this block over the next.
      while (at + size < end_) {
        const std::uint64_t next = at + size;
        const std::uint64_t next_size = block_size(next);
        if (next_size == 0 || block_allocated(next)) break;
        store(at, (size + next_size) | (prev_free ? prev_bit : 0));
        store(next + 8, 0);
        size += next_size;
      }
      store(at, size | (prev_free ? prev_bit : 0));
      store(at + size - 8, size);
      const std::size_t cls = size_class(size);
      const std::uint64_t head = h.heads[cls].load(std::memory_order_relaxed);
      store(at + 16, head);
      store(at + 24, 0);
      if (head != 0) store(head + 24, at);
      h.heads[cls].store(at, std::memory_order_relaxed);
      h.nonempty[cls / 64].store(
          h.nonempty[cls / 64].load(std::memory_order_relaxed) | (std::uint64_t{1} << (cls % 64)),
          std::memory_order_relaxed);
      free_bytes += size - k_block_header;
      prev_free = true;
    }
    at += size;
  }
  h.free_bytes.store(free_bytes, std::memory_order_relaxed);
  h.used_bytes.store(used_bytes, std::memory_order_relaxed);
}

HeapCheck Heap::inspect() const {
  HeapCheck result;
  result.heap_bytes = static_cast<std::size_t>(end_ - begin_);
  Failure header_failure;
  if (!header_valid(header_failure)) {
    result.problem = header_failure.message;
    return result;
  }
  std::vector<std::uint64_t> starts;
  const bool tiled =
      walk(*this, result.problem, [&](std::uint64_t at, std::uint64_t size, bool allocated) {
        starts.push_back(at);
        ++result.blocks;
        const std::size_t payload = static_cast<std::size_t>(size - k_block_header);
        if (allocated) {
          ++result.used_blocks;
          result.used_bytes += payload;
        } else {
          ++result.free_blocks;
          result.free_bytes += payload;
          result.largest_free = std::max(result.largest_free, payload);
        }
      });
  if (!tiled) return result;
  // Every free block is on the list of its class, and nothing else is.
  const HeapHeader& h = header();
  std::size_t listed = 0;
  for (std::size_t cls = 0; cls < k_class_count && result.problem.empty(); ++cls) {
    std::uint64_t prev = 0;
    std::uint64_t at = h.heads[cls].load(std::memory_order_relaxed);
    while (at != 0) {
      if (listed > result.free_blocks) {
        result.problem = "the free lists hold more entries than there are free blocks (a cycle?)";
        break;
      }
      if (!std::binary_search(starts.begin(), starts.end(), at) || !free_block_valid(at, cls) ||
          load(at + 24) != prev) {
        result.problem = "the free list of class " + std::to_string(cls) + " reaches offset " +
                         std::to_string(at) +
                         ", which is not a free block of that class linked back to its "
                         "predecessor";
        break;
      }
      ++listed;
      prev = at;
      at = load(at + 16);
    }
  }
  if (result.problem.empty() && listed != result.free_blocks) {
    result.problem = std::to_string(result.free_blocks) + " free blocks, but " +
                     std::to_string(listed) + " on the free lists";
  }
  if (result.problem.empty() &&
      (h.free_bytes.load(std::memory_order_relaxed) != result.free_bytes ||
       h.used_bytes.load(std::memory_order_relaxed) != result.used_bytes)) {
    result.problem = "the heap's figures (free " +
                     std::to_string(h.free_bytes.load(std::memory_order_relaxed)) + ", used " +
                     std::to_string(h.used_bytes.load(std::memory_order_relaxed)) +
                     ") differ from the walk's (free " + std::to_string(result.free_bytes) +
                     ", used " + std::to_string(result.used_bytes) + ")";
  }
  if (result.problem.empty() &&
      h.journal_op.load(std::memory_order_relaxed) != static_cast<std::uint64_t>(JournalOp::none)) {
    result.problem = "the journal records an unfinished operation";
  }
  if (result.problem.empty()) inspect_directory(*this, starts, result);
  result.consistent = result.problem.empty();
  return result;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
