// The WaitHooks of rings, channels, events and semaphores (the server's is
// in server.cpp, beside the registry code it shares).
#include "messaging/wait_hooks.hpp"

#include "messaging/channel_access.hpp"
#include "messaging/ring_endpoint.hpp"
#include "sync/sync_handle.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

WaitHook wait_hook(const RingConsumer& consumer) {
  const RingConsumerImpl* impl = ChannelAccess::impl(consumer);
  return impl != nullptr ? impl->core.wait_hook() : WaitHook();
}

WaitHook wait_hook(const RingProducer& producer, std::size_t message_size) {
  const RingProducerImpl* impl = ChannelAccess::impl(producer);
  return impl != nullptr ? impl->core.wait_hook(message_size) : WaitHook();
}

WaitHook wait_hook(const Channel& channel) {
  return wait_hook(ChannelAccess::inbound(channel));
}

WaitHook wait_hook(const NamedEvent& event) {
  const NamedEventImpl* impl = SyncFactory<EventTraits>::usable_impl(event);
  return impl != nullptr ? impl->object->wait_hook() : WaitHook();
}

WaitHook wait_hook(const NamedSemaphore& semaphore) {
  const NamedSemaphoreImpl* impl = SyncFactory<SemaphoreTraits>::usable_impl(semaphore);
  return impl != nullptr ? impl->object->wait_hook() : WaitHook();
}

}  // namespace detail
SHMKIT_END_NAMESPACE
