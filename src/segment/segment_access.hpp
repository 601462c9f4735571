// The segment layer as the rest of shmkit uses it: every named object (mutex,
// event, ring, ...) keeps its state in a segment of its own kind, made
// through this one function so that it gets the same names, header, ready
// handshake, attach table and errors as a user's segment.
#pragma once

#include "core/failure.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/named_shared_memory.hpp>
#include <shmkit/segment_info.hpp>

#include <cstddef>
#include <string_view>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

enum class OpenMode { create, open, open_or_create };

// Runs in the creator after the memory is mapped and before the header says
// ready, so no opener ever sees the object half-initialized. Setting
// `failure` aborts the creation and removes the name again.
using Initializer = void (*)(void* data, std::size_t size, const void* context, Failure& failure);

struct SegmentRequest {
  ObjectKind kind = ObjectKind::segment;
  Initializer initialize = nullptr;
  const void* context = nullptr;  // passed to `initialize`
};

NamedSharedMemory open_segment(std::string_view name, std::size_t size,
                               const SegmentOptions& options, OpenMode mode,
                               const SegmentRequest& request, Failure& failure);

// Removes any kind's segment (a name check_derived_name() accepts); false
// if there was none.
bool remove_segment(std::string_view name, const SegmentOptions& options, Failure& failure);

// "segment", "mutex", ... for messages; "unknown object" for anything else.
const char* kind_name(ObjectKind kind) noexcept;

struct NamedSharedMemoryImpl;

// The one way into a NamedSharedMemory's insides (its friend).
struct SegmentAccess {
  static NamedSharedMemory open(std::string_view name, std::size_t size,
                                const SegmentOptions& options, OpenMode mode,
                                const SegmentRequest& request, Failure& failure);
  // Makes `shm` the handle of `mapping`: records this process in the attach
  // table (read-write, not raw) and faults pages in (populate). Returns
  // false, with the mapping closed and `shm` empty, when a stale-segment
  // remover marked the segment before this process was recorded in it.
  static bool adopt(NamedSharedMemory& shm, SegmentBackend& backend, Mapping mapping,
                    const std::string& name, std::size_t data_size, const SegmentOptions& options,
                    bool created);
  static NamedSharedMemoryImpl* impl(const NamedSharedMemory& shm) noexcept { return shm.impl_; }
};

}  // namespace detail
SHMKIT_END_NAMESPACE
