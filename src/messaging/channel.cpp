#include <shmkit/channel.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/ring_endpoint.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

Channel ChannelAccess::open(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                            const Options& options, OpenMode mode, ChannelEnd end,
                            Failure& failure) {
  if (!check_ring_name(name, "channel", failure)) return Channel();
  return open_derived(std::string(name), capacity, wait, options, mode, end, failure);
}

Channel ChannelAccess::open_derived(const std::string& name_text, std::size_t capacity,
                                    const WaitOptions& wait, const Options& options, OpenMode mode,
                                    ChannelEnd end, Failure& failure) {
  Channel channel;
  auto segment = std::make_shared<RingSegment>(
      open_ring_segment(name_text, SegmentKind::channel, 2, capacity, mode, options, failure));
  if (failure) return channel;
  const std::size_t out_ring = end == ChannelEnd::creator ? 0 : 1;
  auto out = std::make_unique<RingEndpoint>(segment, out_ring, RingRole::producer, name_text, wait,
                                            failure);
  if (failure) return channel;
  auto in = std::make_unique<RingEndpoint>(segment, 1 - out_ring, RingRole::consumer, name_text,
                                           wait, failure);
  if (failure) return channel;
  channel.out_ = Ring(std::move(out));
  channel.in_ = Ring(std::move(in));
  // The last end to close removes the name: once our rings are closed, if
  // the other end's are closed too (or its process is gone), nobody needs it.
  RingShared* theirs = segment->rings[1 - out_ring];
  on_close(channel, [segment, theirs, name_text, options] {
    PeerWatch watch;
    if (watch.gone(theirs->producer.load(std::memory_order_acquire))) {
      Failure ignored;
      remove_ring_segment(name_text, 2, options, ignored);
    }
  });
  return channel;
}

void ChannelAccess::on_close(Channel& channel, std::function<void()> cleanup) {
  // Runs `cleanup`, then (when the lambda goes) whatever was registered before.
  channel.on_close_ = std::shared_ptr<void>(
      nullptr, [cleanup = std::move(cleanup), earlier = std::move(channel.on_close_)](void*) {
        try {
          cleanup();
        } catch (...) {
          // Closing never throws; what was not cleaned is found by the tools.
        }
      });
}

}  // namespace detail

using detail::ChannelAccess;
using detail::ChannelEnd;
using detail::Failure;
using detail::OpenMode;

Channel::Channel() noexcept = default;
Channel::Channel(Channel&&) noexcept = default;
Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    // Close the rings before the cleanup runs, as the destructor does.
    out_ = Ring();
    in_ = Ring();
    on_close_.reset();
    out_ = std::move(other.out_);
    in_ = std::move(other.in_);
    on_close_ = std::move(other.on_close_);
  }
  return *this;
}
Channel::~Channel() = default;

Channel Channel::create(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                        const Options& options) {
  return detail::throwing([&](Failure& f) {
    return ChannelAccess::open(name, capacity, wait, options, OpenMode::create, ChannelEnd::creator,
                               f);
  });
}
Channel Channel::create(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                        const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return ChannelAccess::open(name, capacity, wait, options, OpenMode::create, ChannelEnd::creator,
                               f);
  });
}
Channel Channel::open(std::string_view name, const WaitOptions& wait, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return ChannelAccess::open(name, 0, wait, options, OpenMode::open, ChannelEnd::opener, f);
  });
}
Channel Channel::open(std::string_view name, const WaitOptions& wait, const Options& options,
                      std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return ChannelAccess::open(name, 0, wait, options, OpenMode::open, ChannelEnd::opener, f);
  });
}
bool Channel::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return detail::check_ring_name(name, "channel", f) &&
           detail::remove_ring_segment(std::string(name), 2, options, f);
  });
}
bool Channel::remove(std::string_view name, const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::check_ring_name(name, "channel", f) &&
           detail::remove_ring_segment(std::string(name), 2, options, f);
  });
}

SHMKIT_END_NAMESPACE
