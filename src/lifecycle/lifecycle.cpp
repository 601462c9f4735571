// The lifecycle API: listing objects and removing the ones nobody can use
// any more. Parsing a header copy (header_copy.cpp), judging staleness
// (staleness.cpp), listing (object_listing.cpp) and removing
// (object_removal.cpp, stale_removal.cpp) each have their own file; the
// protocol and why it never removes a live object are in docs/lifecycle.md.
#include <shmkit/lifecycle.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "lifecycle/object_listing.hpp"
#include "lifecycle/object_removal.hpp"
#include "lifecycle/stale_removal.hpp"

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;

std::vector<SegmentInfo> list_segments(const ListOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::list_objects(options, f); });
}

std::vector<SegmentInfo> list_segments(const ListOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return detail::list_objects(options, f); });
}

SegmentInfo inspect_segment(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::inspect_object(name, options, f); });
}

SegmentInfo inspect_segment(std::string_view name, const SegmentOptions& options,
                            std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::inspect_object(name, options, f); });
}

std::vector<SegmentInfo> remove_stale(const ListOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_stale_objects(options, f); });
}

std::vector<SegmentInfo> remove_stale(const ListOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_stale_objects(options, f); });
}

bool remove_if_stale(std::string_view name, const SegmentOptions& options) {
  return detail::throwing(
      [&](Failure& f) { return detail::remove_object_if_stale(name, options, f); });
}

bool remove_if_stale(std::string_view name, const SegmentOptions& options,
                     std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_object_if_stale(name, options, f); });
}

bool remove_object(std::string_view name, const SegmentOptions& options) {
  return detail::throwing(
      [&](Failure& f) { return detail::remove_object_by_name(name, options, f); });
}

bool remove_object(std::string_view name, const SegmentOptions& options,
                   std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_object_by_name(name, options, f); });
}

SHMKIT_END_NAMESPACE
