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
  std::atomic<int> refs{1};  // see retain()
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

inline constexpr std::uint32_t k_no_spare = ~std::uint32_t{0};

struct PublisherImpl : TopicEndpoint {
  TopicClock::time_point last_reclaim{};
  std::uint32_t publishes = 0;
  // The sample claimed ahead of the next loan (topic_layout.hpp, spare_word),
  // or k_no_spare. Released with the slot's bits; another publisher finding
  // no free sample may take it, which the next loan notices.
  std::uint32_t spare = k_no_spare;
  TailCache tails;  // used under the topic lock only
  ~PublisherImpl();
};

struct SubscriberImpl : TopicEndpoint {
  std::size_t depth = 0;
  bool block = false;
  PublishersPresence publishers;
  ~SubscriberImpl();
};

// The handle and its Loans (or Samples) are used by one thread at a time
// (publisher.hpp, subscriber.hpp): whoever hands them between threads
// synchronises, so the count needs no read-modify-write (a locked
// instruction on every loan, publish, receive and drop otherwise).
template <typename Impl>
void retain(Impl* impl) noexcept {
  impl->refs.store(impl->refs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
template <typename Impl>
void release(Impl* impl) noexcept {
  if (impl == nullptr) return;
  const int left = impl->refs.load(std::memory_order_relaxed) - 1;
  impl->refs.store(left, std::memory_order_relaxed);
  if (left == 0) delete impl;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
