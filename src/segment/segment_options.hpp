// The segment options an object of another class is made with: its own
// ObjectOptions on the native backend, read-write, with a shmkit header.
#pragma once

#include <shmkit/options.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline SegmentOptions segment_options_for(const ObjectOptions& object) {
  SegmentOptions segment;
  static_cast<ObjectOptions&>(segment) = object;
  return segment;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
