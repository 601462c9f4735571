// The WaitHooks of rings, channels, events and semaphores (the server's is
// in server.cpp, beside the registry code it shares).
#include "messaging/wait_hooks.hpp"

#include "core/process_identity.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/ring_endpoint.hpp"
#include "segment/named_shared_memory_impl.hpp"
#include "sync/sync_handle.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {

bool opened_by_this_process(const NamedSharedMemory& memory) noexcept {
  const NamedSharedMemoryImpl* impl = SegmentAccess::impl(memory);
  return impl != nullptr && impl->owner_pid == current_process().pid;
}

// A ring end's role belongs to the process that claimed it, which is the
// one that mapped the ring's segment for it.
WaitHook wait_hook(const RingConsumer& consumer) {
  const RingConsumerImpl* impl = ChannelAccess::impl(consumer);
  return impl != nullptr && opened_by_this_process(impl->segment->sync.memory)
             ? impl->core.wait_hook()
             : WaitHook();
}

WaitHook wait_hook(const RingProducer& producer, std::size_t message_size) {
  const RingProducerImpl* impl = ChannelAccess::impl(producer);
  return impl != nullptr && opened_by_this_process(impl->segment->sync.memory)
             ? impl->core.wait_hook(message_size)
             : WaitHook();
}

WaitHook wait_hook(const Channel& channel) {
  return wait_hook(ChannelAccess::inbound(channel));
}

WaitHook wait_hook(const NamedEvent& event, Failure& failure) {
  NamedEventImpl* impl = SyncFactory<EventTraits>::usable_impl(event);
  return impl != nullptr ? impl->object->wait_hook(failure) : WaitHook();
}

WaitHook wait_hook(const NamedSemaphore& semaphore, Failure& failure) {
  NamedSemaphoreImpl* impl = SyncFactory<SemaphoreTraits>::usable_impl(semaphore);
  return impl != nullptr ? impl->object->wait_hook(failure) : WaitHook();
}

}  // namespace detail
SHMKIT_END_NAMESPACE
