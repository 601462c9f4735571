// What a RingProducer or RingConsumer handle owns: its end of one ring, plus
// a share of the segment the ring lives in (a Channel's two rings share one
// segment).
#pragma once

#include "messaging/ring_segment.hpp"

#include <shmkit/ring.hpp>

#include "core/error_wrappers.hpp"

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// One end of a ring in its segment; the producer's and the consumer's differ
// only in their core.
template <typename Core>
struct RingEnd {
  RingEnd(std::shared_ptr<RingSegment> s, std::size_t index, std::string n, const WaitOptions& wait,
          Failure& failure)
      : segment(std::move(s)),
        name(std::move(n)),
        core(*segment->rings[index], segment->capacity, *segment->sync.waiters[2 * index],
             *segment->sync.waiters[2 * index + 1],
             std::string(kind_name(segment->kind)) + " " + quoted(name), wait, failure) {}

  std::shared_ptr<RingSegment> segment;
  std::string name;
  Core core;  // declared after the segment, so closed before it is unmapped
};

struct RingProducerImpl : RingEnd<ProducerCore> {
  using RingEnd::RingEnd;
};

struct RingConsumerImpl : RingEnd<ConsumerCore> {
  using RingEnd::RingEnd;
};

// `ec` null: throw; otherwise report in *ec and never throw.
template <typename Fn>
auto run_reporting(std::error_code* ec, Fn&& fn) {
  if (ec != nullptr) return without_throwing(*ec, std::forward<Fn>(fn));
  return throwing(std::forward<Fn>(fn));
}

// `impl`, or nullptr with errc::invalid_state set: a call on an empty handle.
template <typename Impl>
Impl* checked_impl(Impl* impl, const char* type, Failure& failure) {
  if (impl == nullptr) {
    failure.set(errc::invalid_state,
                std::string("use of an empty ") + type + " handle; open or create one first");
  }
  return impl;
}

// The general paths of reserve, send, peek and receive, taken when the
// inline fast path (ring_core.hpp) declines: they spin on the fast path while
// the ring is full or empty (spin_for_fast_path), then wait, report errors
// and take padding. In a file of their own, so that the compiler cannot
// merge them into the fast path's function and make it pay for their
// set-up (saved registers, a stack frame).
ByteSpan reserve_general(RingProducerImpl* impl, std::size_t size, Deadline deadline,
                         std::error_code* ec);
bool send_general(RingProducerImpl* impl, const void* data, std::size_t size, Deadline deadline,
                  std::error_code* ec);
ConstByteSpan peek_general(RingConsumerImpl* impl, Deadline deadline, std::error_code* ec);
std::optional<std::size_t> receive_general(RingConsumerImpl* impl, void* buffer,
                                           std::size_t capacity, Deadline deadline,
                                           std::error_code* ec);

}  // namespace detail
SHMKIT_END_NAMESPACE
