// What other parts of shmkit (the WaitSet) may see of a Subscriber.
#pragma once

#include <shmkit/config.hpp>

#include "messaging/wait_hook.hpp"

#include <shmkit/subscriber.hpp>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct SubscriberAccess {
  static SubscriberImpl* impl(const Subscriber& subscriber) noexcept { return subscriber.impl_; }
};

// ready: the subscriber's queue is non-empty, or every publisher it knew has
// gone (receive would return at once); sleepers/signal/waiter: its data
// wake-up words. An empty handle gives a hook whose ready() is always true
// (receive would fail at once with errc::invalid_state) and no words.
// The hook refers to the subscriber's state: use it only while the handle
// (or one of its Samples) lives.
WaitHook wait_hook(const Subscriber& subscriber);

}  // namespace detail
SHMKIT_END_NAMESPACE
