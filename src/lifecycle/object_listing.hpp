// Listing and inspecting objects: the OS's list, each entry's header copy
// parsed and judged for staleness.
#pragma once

#include "core/failure.hpp"
#include "lifecycle/header_copy.hpp"

#include <shmkit/lifecycle.hpp>
#include <shmkit/options.hpp>
#include <shmkit/segment_info.hpp>

#include <string>
#include <string_view>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// list_segments() and inspect_segment().
std::vector<SegmentInfo> list_objects(const ListOptions& options, Failure& failure);
SegmentInfo inspect_object(std::string_view name, const SegmentOptions& options, Failure& failure);

// `name` of `backend` as a copy of its first bytes shows it: read with
// pread() (POSIX), never through a mapping that its owner could truncate
// under this process. False if this system cannot look it up that way (then
// the caller opens it instead); `found` stays empty if there is no such name.
bool look_up(const std::string& name, Backend backend, Scope scope, std::vector<Parsed>& found);

}  // namespace detail
SHMKIT_END_NAMESPACE
