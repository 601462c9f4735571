// What Publisher, Subscriber, Loan and Sample handles point to: one
// reference-counted state per publisher or subscriber attach. The handle
// holds one reference and every Loan or Sample one more, so a Loan or Sample
// may outlive its handle; the slot is released with the last reference.
#pragma once

#include <shmkit/config.hpp>

#include "messaging/topic_core.hpp"
#include "messaging/topic_lock.hpp"
#include "messaging/topic_segment.hpp"

#include <shmkit/topic_options.hpp>
#include <shmkit/wait_options.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

using TopicClock = std::chrono::steady_clock;

struct TopicEndpoint {
  std::atomic<int> refs{1};
  std::shared_ptr<TopicSegment> topic;
  std::size_t slot = 0;
  std::uint32_t generation = 0;
  std::uint64_t self = 0;  // pack_slot() of the process that attached
  WaitOptions wait;
  TopicLock lock;
  bool attached = false;

  // Whether this is the process that attached (not a fork() child of it).
  bool in_owner_process() const noexcept;
};

struct PublisherImpl : TopicEndpoint {
  TopicClock::time_point last_reclaim{};
  std::uint32_t publishes = 0;
  ~PublisherImpl();
};

struct SubscriberImpl : TopicEndpoint {
  std::size_t depth = 0;
  bool block = false;
  PublishersPresence publishers;
  ~SubscriberImpl();
};

template <typename Impl>
void retain(Impl* impl) noexcept {
  impl->refs.fetch_add(1, std::memory_order_relaxed);
}
template <typename Impl>
void release(Impl* impl) noexcept {
  if (impl != nullptr && impl->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete impl;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
