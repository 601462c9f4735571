// The bytes of a managed segment's heap: a header, then boundary-tagged
// blocks to the end. Integers only, no pointers: every reference is an
// offset from the heap's start (the segment's data()), and every one is
// checked against this process's trusted mapping size before use
// (docs/managed.md, "Heap layout").
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/process_mutex.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint64_t k_heap_magic = 0x3150414548534d53ull;  // "SMSHEAP1"
inline constexpr std::uint32_t k_heap_version = 1;

// Blocks: a 16-byte header {size | flags, tag}, then the payload. Sizes are
// multiples of 16 and include the header. A free block keeps its free-list
// links in its first payload words and its size in its last word (the
// footer the next block's prev_free bit points at), hence the minimum.
inline constexpr std::uint64_t k_granule = 16;
inline constexpr std::uint64_t k_block_header = 16;
inline constexpr std::uint64_t k_min_block = 48;
inline constexpr std::uint64_t k_allocated_bit = 1;
inline constexpr std::uint64_t k_prev_free_bit = 2;  // a hint, validated before use
inline constexpr std::uint64_t k_size_mask = ~std::uint64_t{15};
inline constexpr std::size_t k_max_alignment = 4096;

// Segregated free lists: classes 3..63 hold blocks of exactly 16 * class
// bytes; class 64 + k holds [2^(10+k), 2^(11+k)).
inline constexpr std::size_t k_class_count = 128;
inline constexpr std::uint64_t k_exact_limit = 1024;

// What the journal says the lock's holder was doing (docs/managed.md,
// "Crash consistency").
enum class JournalOp : std::uint64_t {
  none = 0,
  allocate = 1,        // carving journal_block; roll back: free it
  free = 2,            // freeing journal_block; finish: free it
  grow_directory = 3,  // journal_block = new table, journal_aux = old table
};

struct HeapHeader {
  std::atomic<std::uint64_t> magic;
  std::atomic<std::uint32_t> version;
  std::atomic<std::uint32_t> header_bytes;
  std::atomic<std::uint64_t> heap_size;   // the segment's data size at creation
  std::atomic<std::uint64_t> salt;        // mixed into every block's tag
  std::atomic<std::uint64_t> directory;   // payload offset of the named-object table; 0: none
  std::atomic<std::uint64_t> free_bytes;  // payload bytes in free blocks (a cache)
  std::atomic<std::uint64_t> used_bytes;  // payload bytes in allocated blocks (a cache)
  std::atomic<std::uint64_t> reserved0;
  ProcessMutex lock;
  std::atomic<std::uint64_t> journal_op;
  std::atomic<std::uint64_t> journal_block;
  std::atomic<std::uint64_t> journal_aux;
  std::atomic<std::uint64_t> needs_repair;  // 1 from a holder's death until a repair succeeds
  std::atomic<std::uint64_t>
      nonempty[k_class_count / 64];  // a hint: class c's list may be non-empty
  std::atomic<std::uint64_t> reserved2[2];
  std::atomic<std::uint64_t> heads[k_class_count];  // block offsets; 0: empty
  std::atomic<std::uint64_t> reserved3[8];
};

inline constexpr std::size_t k_heap_header_bytes = 1280;
static_assert(sizeof(HeapHeader) == k_heap_header_bytes, "the heap header's layout is fixed");
static_assert(offsetof(HeapHeader, lock) == 64, "the heap lock is at a fixed offset");
static_assert(offsetof(HeapHeader, heads) == 192, "the free-list heads are at a fixed offset");

// The named-object directory: a block whose payload is this header and an
// open-addressing table of entries (linear probing, tombstones).
inline constexpr std::uint64_t k_directory_magic = 0x3152494448534d53ull;  // "SMSHDIR1"
inline constexpr std::uint64_t k_min_directory = 16;
inline constexpr std::uint64_t k_max_directory = std::uint64_t{1} << 24;

enum class EntryState : std::uint64_t {
  empty = 0,
  constructing = 1,  // the object's block is carved; its constructor may not have finished
  constructed = 2,
  destroying = 3,  // its destructor may have run partly; the block is not yet freed
  tombstone = 4,
};

struct DirectoryHeader {
  std::atomic<std::uint64_t> magic;
  std::atomic<std::uint64_t> capacity;  // a power of two
  std::atomic<std::uint64_t> live;      // entries not empty or tombstone (a cache)
  std::atomic<std::uint64_t> used;      // entries not empty (a cache)
};

struct DirectoryEntry {
  std::atomic<std::uint64_t> state;
  std::atomic<std::uint64_t> hash;
  std::atomic<std::uint64_t> block;   // block offset; the name is at its payload's start
  std::atomic<std::uint64_t> object;  // the object's offset
  std::atomic<std::uint64_t> size;
  std::atomic<std::uint64_t> align;
  std::atomic<std::uint64_t> schema;
  std::atomic<std::uint64_t> name_length;
};

static_assert(sizeof(DirectoryHeader) == 32 && sizeof(DirectoryEntry) == 64,
              "the directory's layout is fixed");

}  // namespace detail
SHMKIT_END_NAMESPACE
