#pragma once

#include <shmkit/config.hpp>

#include "segment/segment_backend.hpp"

#include <cstdint>
#include <string_view>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// The SysV key for a name: 32-bit FNV-1a, never IPC_PRIVATE. Two names can
// share a key; the header stores the name so that open() notices.
std::int32_t sysv_key(std::string_view name) noexcept;

class SysvSegmentBackend final : public SegmentBackend {
 public:
  Backend id() const noexcept override;
  Mapping create(const std::string& name, std::size_t length, const SegmentOptions& options,
                 Failure& failure) override;
  Mapping open(const std::string& name, const SegmentOptions& options, Failure& failure) override;
  void reserve(const std::string& name, Mapping& mapping, Failure& failure) override;
  void check_trust(const std::string& name, const Mapping& mapping, const SegmentOptions& options,
                   bool check_permissions, Failure& failure) override;
  void close(Mapping& mapping) noexcept override;
  bool remove(const std::string& name, const SegmentOptions& options, Failure& failure) override;
  bool exists(const std::string& name, const SegmentOptions& options, Failure& failure) override;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
