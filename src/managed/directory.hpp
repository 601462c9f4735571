// The named-object directory of a managed heap: an open-addressing table in
// a block of the heap, found through HeapHeader::directory. All calls run
// with the heap's lock held.
#pragma once

#include "core/failure.hpp"
#include "managed/heap.hpp"

#include <shmkit/managed_segment.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// find / construct / find_or_construct. Returns the object (nullptr: not
// found, or a failure). Exceptions from `construct` propagate after the
// block is freed and the name released.
void* named_lookup(Heap& heap, std::string_view name, const ManagedType& type, NamedMode mode,
                   NamedConstructor construct, void* context, Failure& failure);

// Runs `destroy` on the object and frees it; false if there is none.
bool named_destroy(Heap& heap, std::string_view name, const ManagedType& type,
                   NamedDestructor destroy, Failure& failure);

// Repair: entries a dead process left constructing or destroying lose their
// block and their name; the counts are recomputed.
bool repair_directory(Heap& heap, Failure& failure);

// check(): the table and every entry, against the block starts of a walk.
void inspect_directory(const Heap& heap, const std::vector<std::uint64_t>& starts,
                       HeapCheck& result);

// 1-k_max_object_name_length bytes without NUL.
bool check_object_name(const Heap& heap, std::string_view name, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
