// One end of one ring: the producer or the consumer, plus a share of the
// segment the ring lives in (a Channel's two rings share one segment).
#pragma once

#include "messaging/ring_segment.hpp"

#include <shmkit/ring.hpp>

#include <memory>
#include <optional>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class RingEndpoint {
 public:
  RingEndpoint(std::shared_ptr<RingSegment> segment, std::size_t index, RingRole role,
               std::string name, const WaitOptions& wait, Failure& failure);

  RingProducer& producer();
  RingConsumer& consumer();
  RingRole role() const noexcept { return role_; }
  std::size_t capacity() const noexcept { return segment_->capacity; }
  const std::string& name() const noexcept { return name_; }

 private:
  [[noreturn]] void wrong_role(const char* needed) const;

  std::shared_ptr<RingSegment> segment_;
  RingRole role_;
  std::string name_;
  // Declared after the segment, so destroyed (closing the role) before it.
  std::optional<RingProducer> producer_;
  std::optional<RingConsumer> consumer_;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
