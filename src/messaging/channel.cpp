#include <shmkit/channel.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/ring_endpoint.hpp"
#include "segment/segment_options.hpp"

#include <shmkit/named_shared_memory.hpp>

#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// Whether nobody live holds the end that sends on ring `out_ring`.
bool end_is_free(const RingSegment& segment, std::size_t out_ring) {
  auto free = [](std::uint64_t word) { return word == 0 || PeerWatch().gone(word); };
  return free(segment.rings[out_ring]->producer.load(std::memory_order_acquire)) &&
         free(segment.rings[1 - out_ring]->consumer.load(std::memory_order_acquire));
}

std::size_t choose_out_ring(const RingSegment& segment, OpenMode mode, ChannelEnd end) {
  switch (end) {
    case ChannelEnd::creator:
      return 0;
    case ChannelEnd::opener:
      return 1;
    case ChannelEnd::either:
      break;
  }
  // open_or_create prefers the creator's end (free in a channel it just
  // made); open prefers the opener's. Either takes the other end when only
  // that one is free: an end restarting after a crash.
  const std::size_t preferred = mode == OpenMode::open ? 1 : 0;
  return end_is_free(segment, preferred) || !end_is_free(segment, 1 - preferred) ? preferred
                                                                                 : 1 - preferred;
}

}  // namespace

Channel ChannelAccess::open(std::string_view name, std::size_t capacity, const WaitOptions& wait,
                            const SegmentOptions& options, OpenMode mode, ChannelEnd end,
                            Failure& failure) {
  if (!check_ring_name(name, "channel", failure)) return Channel();
  return open_derived(std::string(name), capacity, wait, options, mode, end, failure);
}

Channel ChannelAccess::open_derived(const std::string& name_text, std::size_t capacity,
                                    const WaitOptions& wait, const SegmentOptions& options,
                                    OpenMode mode, ChannelEnd end, Failure& failure) {
  Channel channel;
  auto segment = std::make_shared<RingSegment>(
      open_ring_segment(name_text, ObjectKind::channel, 2, capacity, mode, options, failure));
  if (failure) return channel;
  std::size_t out_ring = choose_out_ring(*segment, mode, end);
  std::unique_ptr<RingProducerImpl> out;
  std::unique_ptr<RingConsumerImpl> in;
  for (int attempt = 0;; ++attempt) {
    out = std::make_unique<RingProducerImpl>(segment, out_ring, name_text, wait, failure);
    if (!failure)
      in = std::make_unique<RingConsumerImpl>(segment, 1 - out_ring, name_text, wait, failure);
    if (!failure) break;
    // Two processes that both found this end free: the loser takes the other.
    const bool retry = end == ChannelEnd::either && attempt == 0 &&
                       failure.code == make_error_code(errc::role_taken) &&
                       end_is_free(*segment, 1 - out_ring);
    if (!retry) return channel;
    in.reset();
    out.reset();
    failure.clear();
    out_ring = 1 - out_ring;
  }
  channel.out_ = RingProducer(out.release());
  channel.in_ = RingConsumer(in.release());
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
  std::shared_ptr<void> earlier;
  if (channel.closer_ != nullptr) earlier = std::move(channel.closer_->on_close);
  // Runs `cleanup`, then (when the lambda goes) whatever was registered before.
  std::shared_ptr<void> next(nullptr,
                             [cleanup = std::move(cleanup), earlier = std::move(earlier)](void*) {
                               try {
                                 cleanup();
                               } catch (...) {
                                 // Closing never throws; what was not cleaned is found by the
                                 // tools.
                               }
                             });
  if (channel.closer_ == nullptr) {
    channel.closer_ = new ChannelCloser{std::move(next)};
  } else {
    channel.closer_->on_close = std::move(next);
  }
}

namespace {

Channel open_channel(std::string_view name, std::size_t capacity, const ChannelOptions& options,
                     OpenMode mode, ChannelEnd end, Failure& failure) {
  return ChannelAccess::open(name, capacity, options.wait, segment_options_for(options), mode, end,
                             failure);
}

}  // namespace
}  // namespace detail

using detail::ChannelEnd;
using detail::Failure;
using detail::OpenMode;

Channel::Channel(Channel&& other) noexcept
    : out_(std::move(other.out_)),
      in_(std::move(other.in_)),
      closer_(std::exchange(other.closer_, nullptr)) {}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    close();
    out_ = std::move(other.out_);
    in_ = std::move(other.in_);
    closer_ = std::exchange(other.closer_, nullptr);
  }
  return *this;
}

Channel::~Channel() {
  close();
}

void Channel::close() noexcept {
  // The rings first: the cleanup judges whether the other end is still here.
  out_.close();
  in_.close();
  delete std::exchange(closer_, nullptr);
}

Channel Channel::create(std::string_view name, std::size_t capacity,
                        const ChannelOptions& options) {
  return detail::throwing([&](Failure& f) {
    return detail::open_channel(name, capacity, options, OpenMode::create, ChannelEnd::creator, f);
  });
}
Channel Channel::create(std::string_view name, std::size_t capacity, const ChannelOptions& options,
                        std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_channel(name, capacity, options, OpenMode::create, ChannelEnd::creator, f);
  });
}
Channel Channel::open(std::string_view name, const ChannelOptions& options) {
  return detail::throwing([&](Failure& f) {
    return detail::open_channel(name, 0, options, OpenMode::open, ChannelEnd::either, f);
  });
}
Channel Channel::open(std::string_view name, const ChannelOptions& options,
                      std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_channel(name, 0, options, OpenMode::open, ChannelEnd::either, f);
  });
}
Channel Channel::open_or_create(std::string_view name, std::size_t capacity,
                                const ChannelOptions& options) {
  return detail::throwing([&](Failure& f) {
    return detail::open_channel(name, capacity, options, OpenMode::open_or_create,
                                ChannelEnd::either, f);
  });
}
Channel Channel::open_or_create(std::string_view name, std::size_t capacity,
                                const ChannelOptions& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_channel(name, capacity, options, OpenMode::open_or_create,
                                ChannelEnd::either, f);
  });
}

namespace {

bool remove_channel(std::string_view name, const ChannelOptions& options, Failure& f) {
  return detail::check_ring_name(name, "channel", f) &&
         detail::remove_ring_segment(std::string(name), 2, detail::segment_options_for(options), f);
}

bool channel_exists(std::string_view name, const ChannelOptions& options, Failure& f) {
  return detail::check_ring_name(name, "channel", f) &&
         NamedSharedMemory::exists(name, detail::segment_options_for(options), f.code);
}

}  // namespace

bool Channel::remove(std::string_view name, const ChannelOptions& options) {
  return detail::throwing([&](Failure& f) { return remove_channel(name, options, f); });
}
bool Channel::remove(std::string_view name, const ChannelOptions& options,
                     std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return remove_channel(name, options, f); });
}
bool Channel::exists(std::string_view name, const ChannelOptions& options) {
  return detail::throwing([&](Failure& f) { return channel_exists(name, options, f); });
}
bool Channel::exists(std::string_view name, const ChannelOptions& options,
                     std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return channel_exists(name, options, f); });
}

bool Channel::wait_for_peer_at(Deadline deadline, std::error_code* ec) {
  // The other end attaches its two rings one after the other: wait for both.
  auto wait = [&](Failure& f) {
    if (!is_open()) {
      f.set(errc::invalid_state, "use of an empty Channel handle; open or create one first");
      return false;
    }
    return out_.wait_for_peer_until(deadline) && in_.wait_for_peer_until(deadline);
  };
  return ec != nullptr ? detail::without_throwing(*ec, wait) : detail::throwing(wait);
}

SHMKIT_END_NAMESPACE
