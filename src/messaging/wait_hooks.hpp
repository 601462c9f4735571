// The WaitHook of every kind of object a WaitSet takes, one function per
// kind. An empty handle (or one inherited through fork()) gives a hook
// without `ready`, which WaitSet::add() reports as errc::invalid_state; so
// does a handle the WaitSet cannot use, with `failure` set to say why.
//
// Adding a kind to the WaitSet: its wait_hook() overload (declared here or
// in the kind's own private header) and a two-line add() pair in
// wait_set.hpp / wait_set.cpp that passes the hook to WaitSet::add_hook().
#pragma once

#include <shmkit/config.hpp>

#include "messaging/wait_hook.hpp"

#include "core/failure.hpp"

#include <cstddef>

SHMKIT_BEGIN_NAMESPACE

class Channel;
class NamedSharedMemory;
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
WaitHook wait_hook(const NamedEvent& event, Failure& failure);
WaitHook wait_hook(const NamedSemaphore& semaphore, Failure& failure);

// Whether this process opened `memory`: false in a fork() child, whose copy
// of the handle belongs to the parent (its roles, its attach-table entry).
// One getpid() call: cheap enough for add(), not for a hot path.
bool opened_by_this_process(const NamedSharedMemory& memory) noexcept;

}  // namespace detail
SHMKIT_END_NAMESPACE
