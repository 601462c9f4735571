// The WaitHook of every kind of object a WaitSet takes, one function per
// kind. An empty handle (or one inherited through fork()) gives a hook
// without `ready`, which WaitSet::add() reports as errc::invalid_state.
//
// Adding a kind to the WaitSet: its wait_hook() overload (declared here or
// in the kind's own private header) and a two-line add() pair in
// wait_set.hpp / wait_set.cpp that passes the hook to WaitSet::add_hook().
#pragma once

#include <shmkit/config.hpp>

#include "messaging/wait_hook.hpp"

#include <cstddef>

SHMKIT_BEGIN_NAMESPACE

class Channel;
class NamedEvent;
class NamedSemaphore;
class RingConsumer;
class RingProducer;
class Server;

namespace detail {

// For classes without a friend of their own (Server): their data pointer.
struct WaitAccess {
  template <typename Handle>
  static auto impl(const Handle& handle) noexcept {
    return handle.impl_;
  }
};

WaitHook wait_hook(const RingConsumer& consumer);
WaitHook wait_hook(const RingProducer& producer, std::size_t message_size);
WaitHook wait_hook(const Channel& channel);  // its inbound ring
WaitHook wait_hook(const Server& server);    // server.cpp
WaitHook wait_hook(const NamedEvent& event);
WaitHook wait_hook(const NamedSemaphore& semaphore);

}  // namespace detail
SHMKIT_END_NAMESPACE
