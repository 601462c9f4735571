// Removing stale objects: remove_if_stale() and remove_stale(). The protocol
// itself, settle_if_stale(), is declared in lifecycle_internal.hpp for the
// segment layer's open_or_create.
#pragma once

#include "core/failure.hpp"

#include <shmkit/lifecycle.hpp>
#include <shmkit/options.hpp>
#include <shmkit/segment_info.hpp>

#include <string_view>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

bool remove_object_if_stale(std::string_view name, const SegmentOptions& options, Failure& failure);
std::vector<SegmentInfo> remove_stale_objects(const ListOptions& options, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
