// What a copy of an object's first bytes says, parsed without trusting any
// of it: the first step of listing, inspecting and judging objects.
#pragma once

#include "lifecycle/lifecycle_internal.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/segment_info.hpp>

#include <cstdint>
#include <string>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr auto k_ready = static_cast<std::uint32_t>(SegmentState::ready);
inline constexpr auto k_initializing = static_cast<std::uint32_t>(SegmentState::initializing);
inline constexpr auto k_removing = static_cast<std::uint32_t>(SegmentState::removing);

struct Parsed {
  SegmentInfo info;
  std::uint64_t creator_start = 0;
  std::vector<std::uint64_t> slots;  // non-zero attach entries
  bool judgeable = false;            // state and creator can be judged for staleness
};

// Everything the listing tells about `object`, its header judged field by
// field; liveness of the creator and attachers included, staleness not yet.
Parsed parse(const OsObject& object);

// A header's name field as a string; empty if it is not NUL-terminated.
std::string stored_name(const char (&raw)[k_header_name_size]);

}  // namespace detail
SHMKIT_END_NAMESPACE
