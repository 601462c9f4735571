// The header at the start of every non-raw segment. Its layout is ABI between
// processes that may run different builds of shmkit: fields only ever get
// added in `reserved`, and any other change bumps k_layout_version.
//
// Every field is written by another process, which may be buggy, malicious or
// dead half-way through. Nothing here is trusted before validate_header().
#pragma once

#include "core/failure.hpp"
#include "core/process_identity.hpp"

#include <shmkit/attached_process.hpp>
#include <shmkit/options.hpp>
#include <shmkit/segment_info.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint64_t k_segment_magic = 0x31766b6d68730a7fULL;  // "\x7f\nshmkv1"
// 2: rings and queues moved the wake-up ordering from the waker's fence to
// the sleeper's heavy barrier (src/sync/process_barrier.hpp); a sleeper of
// layout 1 would not pair with a waker of layout 2, so they are refused.
inline constexpr std::uint32_t k_layout_version = 2;
inline constexpr std::size_t k_header_size = 512;  // a multiple of 64: data() stays aligned
inline constexpr std::size_t k_attach_slots = 48;
inline constexpr std::size_t k_header_name_size = 32;

// `state` values. Anything else in that word means "not ours".
enum class SegmentState : std::uint32_t {
  initializing = 0,    // zero-filled memory: the creator is still at work
  ready = 0x52454459,  // "READY": published last, with release ordering
  // "REMV": a process that found the segment stale is removing it. Openers
  // that see it back out (docs/lifecycle.md). Only ever replaces `ready`, and
  // goes back to `ready` if the removal is abandoned. Builds that predate it
  // read it as "not a shmkit header" and refuse to open: they fail, never
  // attach to a segment on its way out.
  removing = 0x524d4556,
};

// A header's `kind` field holds ObjectKind::segment ... ObjectKind::server,
// ObjectKind::topic, ObjectKind::topic_pool or ObjectKind::managed as numbers (segment_info.hpp
// fixes them).

// The kind a header's `kind` field names, or ObjectKind::unknown for any value
// no shmkit object is created with (the field is untrusted, like all others).
constexpr ObjectKind stored_kind(std::uint32_t kind) noexcept {
  const bool classic = kind >= static_cast<std::uint32_t>(ObjectKind::segment) &&
                       kind <= static_cast<std::uint32_t>(ObjectKind::server);
  const bool topic = kind == static_cast<std::uint32_t>(ObjectKind::topic) ||
                     kind == static_cast<std::uint32_t>(ObjectKind::topic_pool) ||
                     kind == static_cast<std::uint32_t>(ObjectKind::managed);
  return classic || topic ? static_cast<ObjectKind>(kind) : ObjectKind::unknown;
}

struct SegmentHeader {
  std::atomic<std::uint64_t> magic;
  std::uint32_t layout_version;
  std::uint32_t header_size;
  std::uint64_t data_size;
  std::atomic<std::uint32_t> state;
  std::uint32_t backend;
  std::uint32_t kind;
  std::uint32_t attach_capacity;
  std::uint64_t creator_pid;
  std::uint64_t creator_start_time;
  std::uint64_t created_unix_ns;
  char name[k_header_name_size];
  std::atomic<std::uint64_t> attach_overflow;  // attaches that found no free slot
  // pack_slot() of the process that is judging the segment for removal, or
  // 0: a lock that keeps two removers apart, taken over when its holder dies.
  std::atomic<std::uint64_t> remover;
  std::uint8_t reserved[16];
  // Each slot is 0 (free) or pack_slot(pid, start time) in one word, so a
  // process that dies at any instant leaves either nothing or a whole entry.
  std::atomic<std::uint64_t> attach[k_attach_slots];
};

static_assert(sizeof(SegmentHeader) == k_header_size, "the header layout is fixed");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free to be address-free");

// The slot keeps the pid and the low 32 bits of the start time.
inline constexpr std::uint64_t k_slot_start_time_mask = 0xffffffffULL;
inline std::uint64_t pack_slot(const ProcessIdentity& p) noexcept {
  return (p.pid << 32) | (p.start_time & k_slot_start_time_mask);
}

// What open() learned from a valid header.
struct HeaderFacts {
  std::uint64_t data_size = 0;
  // validate_header() failed because the segment is being removed as stale:
  // a passing condition, unlike the other failures.
  bool removing = false;
};

// Fills a fresh zero-filled header with everything but its state, which
// stays `initializing`. Called first thing after the OS object exists, before
// anything slow (reserving memory, initialising the object's state), so that
// a creator killed at any later instant leaves an object that names it.
void stamp_header(void* mapping, std::size_t data_size, Backend backend, ObjectKind kind,
                  const std::string& name) noexcept;
// Marks a stamped header ready, with release ordering: the last write of a
// creation.
void publish_header(void* mapping) noexcept;

// Waits until the header is published (or `deadline` passes) and checks every
// field against the mapping it sits in. Never reads outside `mapping_length`.
HeaderFacts validate_header(const void* mapping, std::size_t mapping_length,
                            const std::string& name, Backend backend, ObjectKind kind,
                            std::chrono::steady_clock::time_point deadline, Failure& failure);

// Records this process in the attach table; returns the slot, or -1 if the
// table is full of live processes (counted in attach_overflow instead).
// Sequentially consistent, like the state check that must follow it
// (attach_accepted()): together with the remover's mark-then-recheck this is
// what keeps a stale-segment remover and an opener from missing each other.
int claim_attach_slot(void* mapping, std::uint64_t token) noexcept;
// After claim_attach_slot(): false if a remover marked the segment in the
// meantime; the caller must then release its slot and not use the segment.
bool attach_accepted(const void* mapping) noexcept;
void release_attach_slot(void* mapping, int slot, std::uint64_t token) noexcept;
std::vector<AttachedProcess> read_attach_table(const void* mapping);

}  // namespace detail
SHMKIT_END_NAMESPACE
