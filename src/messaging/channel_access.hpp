#pragma once

#include "core/failure.hpp"
#include "segment/segment_access.hpp"

#include <shmkit/channel.hpp>

#include <functional>
#include <memory>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Which end of a channel: the creator sends on ring 0, the opener on ring 1.
// `either` (Channel::open, open_or_create) takes the free one, the
// creator's first when the segment was just made or only it is free.
enum class ChannelEnd { creator, opener, either };

// What a Channel runs when it closes, after both rings.
struct ChannelCloser {
  std::shared_ptr<void> on_close;
};

// A ChannelOptions with `object`'s fields (for code holding the segment
// options a channel was opened with).
inline ChannelOptions channel_options_for(const ObjectOptions& object) {
  ChannelOptions options;
  static_cast<ObjectOptions&>(options) = object;
  return options;
}

struct ChannelAccess {
  static Channel open(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                      const SegmentOptions& options, OpenMode mode, ChannelEnd end,
                      Failure& failure);
  // As open(), for a name shmkit derived from a valid one (a server's
  // connection "<server>.<id>"): longer than k_max_name_length allows, but
  // within k_max_os_name_length with its ".N" companions. Not checked here.
  static Channel open_derived(const std::string& name, std::size_t capacity,
                              const WaitOptions& wait, const SegmentOptions& options, OpenMode mode,
                              ChannelEnd end, Failure& failure);
  // Makes `cleanup` run once `channel` and all its moved-to handles are gone.
  static void on_close(Channel& channel, std::function<void()> cleanup);

  // The data behind a ring handle (null for an empty one), and a channel's
  // inbound ring: for the WaitSet's hooks (wait_hooks.cpp).
  static RingProducerImpl* impl(const RingProducer& producer) noexcept { return producer.impl_; }
  static RingConsumerImpl* impl(const RingConsumer& consumer) noexcept { return consumer.impl_; }
  static const RingConsumer& inbound(const Channel& channel) noexcept { return channel.in_; }
};

}  // namespace detail
SHMKIT_END_NAMESPACE
