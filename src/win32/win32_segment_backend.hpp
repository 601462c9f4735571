#pragma once

#include <shmkit/config.hpp>

#include "segment/segment_backend.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Backend::win32: named file mappings backed by the paging file. A mapping
// lives exactly as long as some process holds a handle to it, so there is
// nothing to remove.
class Win32SegmentBackend final : public SegmentBackend {
 public:
  Backend id() const noexcept override;
  Mapping create(const std::string& name, std::size_t length, const SegmentOptions& options,
                 Failure& failure) override;
  Mapping open(const std::string& name, const SegmentOptions& options, Failure& failure) override;
  void reserve(const std::string& name, Mapping& mapping, Failure& failure) override;
  void check_trust(const std::string& name, const Mapping& mapping, const SegmentOptions& options,
                   bool check_permissions, Failure& failure) override;
  void close(Mapping& mapping) noexcept override;
  // Always false, without a failure: see the class comment.
  bool remove(const std::string& name, const SegmentOptions& options, Failure& failure) override;
  bool exists(const std::string& name, const SegmentOptions& options, Failure& failure) override;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
