// A segment holding one or more rings of equal capacity: one for Ring, two
// (one per direction) for Channel. Waiter slots 2i and 2i+1 are ring i's
// data and space wake-ups.
#pragma once

#include <shmkit/config.hpp>

#include "messaging/ring_core.hpp"
#include "sync/sync_segment.hpp"

#include <array>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct RingSegment {
  ObjectKind kind = ObjectKind::ring;
  SyncSegment sync;
  std::array<RingShared*, 2> rings{};
  std::size_t capacity = 0;
};

// `capacity` is used when creating (rounded up to a power of two) and, for
// open_or_create, compared with an existing segment's.
RingSegment open_ring_segment(const std::string& name, ObjectKind kind, std::size_t ring_count,
                              std::size_t capacity, OpenMode mode, const SegmentOptions& options,
                              Failure& failure);

bool remove_ring_segment(const std::string& name, std::size_t ring_count,
                         const SegmentOptions& options, Failure& failure);

// Rings and channels derive names "<name>.N" for their wake-ups on systems
// without futex, so their names are two characters shorter.
bool check_ring_name(std::string_view name, const char* what, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
