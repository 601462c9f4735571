// How an endpoint waits for its peer.
#pragma once

#include <shmkit/config.hpp>

#include <chrono>

SHMKIT_BEGIN_NAMESPACE

enum class WaitStrategy {
  // Spin until ready or the deadline: the lowest latency, a whole core busy.
  busy,
  // Spin for `spin`, then sleep: near-busy latency while the peer is active,
  // no CPU while idle. The producer pays for a wake-up only when its peer
  // actually went to sleep.
  adaptive,
  // Sleep at once: the least CPU, a wake-up on every message.
  blocking,
};

struct WaitOptions {
  WaitStrategy strategy = WaitStrategy::adaptive;
  std::chrono::microseconds spin{50};
};

SHMKIT_END_NAMESPACE
