// What Ring and Channel endpoints share: their options and default capacity.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <cstddef>

SHMKIT_BEGIN_NAMESPACE

// The data bytes of a ring (each direction of a channel) when none is given.
inline constexpr std::size_t k_default_ring_capacity = 64 * 1024;

// RingProducer, RingConsumer.
struct RingOptions : ObjectOptions {
  // How this endpoint waits for its peer (for data, for room, for the peer
  // itself). Each endpoint chooses its own.
  WaitOptions wait;
};

// Channel (both of its rings).
struct ChannelOptions : ObjectOptions {
  WaitOptions wait;
};

SHMKIT_END_NAMESPACE
