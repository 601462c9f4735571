// Removing an object by name whatever it holds: shmkit rm, remove_object(),
// and the last step of a stale removal.
#pragma once

#include "core/failure.hpp"

#include <shmkit/options.hpp>
#include <shmkit/segment_info.hpp>

#include <string>
#include <string_view>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Removes `name` with the remove() of its kind, so that an object takes the
// named OS objects it owns along (the portable path's wake-up semaphores).
bool remove_by_kind(const std::string& name, ObjectKind kind, const SegmentOptions& options,
                    Failure& failure);

// remove_object(): looks at what the name holds first (a copy of its
// header, or a read-only mapping where no copy can be read).
bool remove_object_by_name(std::string_view name, const SegmentOptions& options, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
