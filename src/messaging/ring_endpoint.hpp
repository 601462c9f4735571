// What a RingProducer or RingConsumer handle owns: its end of one ring, plus
// a share of the segment the ring lives in (a Channel's two rings share one
// segment).
#pragma once

#include "messaging/ring_segment.hpp"

#include <shmkit/ring.hpp>

#include <memory>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct RingProducerImpl {
  RingProducerImpl(std::shared_ptr<RingSegment> s, std::size_t index, std::string n,
                   const WaitOptions& wait, Failure& failure)
      : segment(std::move(s)),
        name(std::move(n)),
        core(*segment->rings[index], segment->capacity, *segment->sync.waiters[2 * index],
             *segment->sync.waiters[2 * index + 1],
             std::string(kind_name(segment->kind)) + " " + quoted(name), wait, failure) {}

  std::shared_ptr<RingSegment> segment;
  std::string name;
  ProducerCore core;  // declared after the segment, so closed before it is unmapped
};

struct RingConsumerImpl {
  RingConsumerImpl(std::shared_ptr<RingSegment> s, std::size_t index, std::string n,
                   const WaitOptions& wait, Failure& failure)
      : segment(std::move(s)),
        name(std::move(n)),
        core(*segment->rings[index], segment->capacity, *segment->sync.waiters[2 * index],
             *segment->sync.waiters[2 * index + 1],
             std::string(kind_name(segment->kind)) + " " + quoted(name), wait, failure) {}

  std::shared_ptr<RingSegment> segment;
  std::string name;
  ConsumerCore core;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
