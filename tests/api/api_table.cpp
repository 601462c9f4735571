// Calls every entry of docs/api.md's table: each form of each operation of
// each class, its error_code twin, and checks what it returns. It only has to
// compile (main() calls nothing); tests/api/check_api_table.py checks that it
// and the table name the same calls, so the headers, this file and the table
// cannot drift apart.
//
// Conventions the checker reads: every call is qualified with its class
// (`mutex.NamedMutex::lock()`, a legal way to call a member), and a twin's
// last argument is `ec`. RETURNS(T, call) checks the call's type; the _EC and
// NOEXCEPT forms also check that the call is noexcept.
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#define RETURNS(Type, ...)                                                                 \
  do {                                                                                     \
    static_assert(std::is_same_v<decltype(__VA_ARGS__), Type>, #__VA_ARGS__ " -> " #Type); \
    static_cast<void>(__VA_ARGS__);                                                        \
  } while (false)
#define RETURNS_NOEXCEPT(Type, ...)                                    \
  do {                                                                 \
    static_assert(noexcept(__VA_ARGS__), #__VA_ARGS__ " is noexcept"); \
    RETURNS(Type, __VA_ARGS__);                                        \
  } while (false)
#define RETURNS_EC(Type, ...) RETURNS_NOEXCEPT(Type, __VA_ARGS__)

namespace api {

using shmkit::AttachedProcess;
using shmkit::ByteSpan;
using shmkit::ConstByteSpan;

// Arguments are named objects, so that noexcept(call) judges the call and not
// the construction of its arguments (a std::chrono::duration's constructor is
// not noexcept). Any duration and any clock: the templates take them all.
constexpr std::string_view name = "n";
constexpr std::chrono::milliseconds d{1};
const auto until = std::chrono::system_clock::time_point{} + std::chrono::hours{1};

void named_shared_memory(shmkit::NamedSharedMemory& shm, std::error_code& ec) {
  using shmkit::NamedSharedMemory;
  const shmkit::SegmentOptions options;
  RETURNS(NamedSharedMemory, NamedSharedMemory::create(name, 64, options));
  RETURNS_EC(NamedSharedMemory, NamedSharedMemory::create(name, 64, options, ec));
  RETURNS(NamedSharedMemory, NamedSharedMemory::open(name, options));
  RETURNS_EC(NamedSharedMemory, NamedSharedMemory::open(name, options, ec));
  RETURNS(NamedSharedMemory, NamedSharedMemory::open_or_create(name, 64, options));
  RETURNS_EC(NamedSharedMemory, NamedSharedMemory::open_or_create(name, 64, options, ec));
  RETURNS(bool, NamedSharedMemory::remove(name, options));
  RETURNS_EC(bool, NamedSharedMemory::remove(name, options, ec));
  RETURNS(bool, NamedSharedMemory::exists(name, options));
  RETURNS_EC(bool, NamedSharedMemory::exists(name, options, ec));
  RETURNS(NamedSharedMemory, NamedSharedMemory::open(name, {}, ec));  // one {} at most

  RETURNS_NOEXCEPT(void, shm.NamedSharedMemory::close());
  RETURNS(std::vector<AttachedProcess>, shm.NamedSharedMemory::attached_processes());
  RETURNS_EC(std::vector<AttachedProcess>, shm.NamedSharedMemory::attached_processes(ec));

  RETURNS_NOEXCEPT(bool, shm.NamedSharedMemory::is_open());
  RETURNS_NOEXCEPT(void*, shm.NamedSharedMemory::data());
  RETURNS_NOEXCEPT(std::size_t, shm.NamedSharedMemory::size());
  RETURNS_NOEXCEPT(const std::string&, shm.NamedSharedMemory::name());
  RETURNS_NOEXCEPT(shmkit::Backend, shm.NamedSharedMemory::backend());
  RETURNS_NOEXCEPT(shmkit::Access, shm.NamedSharedMemory::access());
  RETURNS_NOEXCEPT(bool, shm.NamedSharedMemory::created());
  RETURNS_NOEXCEPT(bool, shm.NamedSharedMemory::raw());
  RETURNS_NOEXCEPT(shmkit::NativeHandle, shm.NamedSharedMemory::native_handle());
}

void named_mutex(shmkit::NamedMutex& mutex, std::error_code& ec) {
  using shmkit::LockStatus;
  using shmkit::NamedMutex;
  const shmkit::SyncOptions options;
  RETURNS(NamedMutex, NamedMutex::create(name, options));
  RETURNS_EC(NamedMutex, NamedMutex::create(name, options, ec));
  RETURNS(NamedMutex, NamedMutex::open(name, options));
  RETURNS_EC(NamedMutex, NamedMutex::open(name, options, ec));
  RETURNS(NamedMutex, NamedMutex::open_or_create(name, options));
  RETURNS_EC(NamedMutex, NamedMutex::open_or_create(name, options, ec));
  RETURNS(bool, NamedMutex::remove(name, options));
  RETURNS_EC(bool, NamedMutex::remove(name, options, ec));
  RETURNS(bool, NamedMutex::exists(name, options));
  RETURNS_EC(bool, NamedMutex::exists(name, options, ec));
  RETURNS(NamedMutex, NamedMutex::open(name, {}, ec));  // one {} at most

  RETURNS(void, mutex.NamedMutex::lock());
  RETURNS_EC(void, mutex.NamedMutex::lock(ec));
  RETURNS(bool, mutex.NamedMutex::try_lock());
  RETURNS_EC(bool, mutex.NamedMutex::try_lock(ec));
  RETURNS(bool, mutex.NamedMutex::try_lock_for(d));
  RETURNS_EC(bool, mutex.NamedMutex::try_lock_for(d, ec));
  RETURNS(bool, mutex.NamedMutex::try_lock_until(until));
  RETURNS_EC(bool, mutex.NamedMutex::try_lock_until(until, ec));
  RETURNS(LockStatus, mutex.NamedMutex::lock_for(d));
  RETURNS_EC(LockStatus, mutex.NamedMutex::lock_for(d, ec));
  RETURNS(LockStatus, mutex.NamedMutex::lock_until(until));
  RETURNS_EC(LockStatus, mutex.NamedMutex::lock_until(until, ec));
  RETURNS_NOEXCEPT(void, mutex.NamedMutex::unlock());  // BasicLockable
  RETURNS_EC(void, mutex.NamedMutex::unlock(ec));

  RETURNS_NOEXCEPT(bool, mutex.NamedMutex::is_open());
  RETURNS_NOEXCEPT(const std::string&, mutex.NamedMutex::name());
  RETURNS_NOEXCEPT(bool, mutex.NamedMutex::owner_died());
}

void named_event(shmkit::NamedEvent& event, std::error_code& ec) {
  using shmkit::NamedEvent;
  const shmkit::SyncOptions options;
  const auto reset = shmkit::EventReset::manual_reset;
  RETURNS(NamedEvent, NamedEvent::create(name, reset, options));
  RETURNS_EC(NamedEvent, NamedEvent::create(name, reset, options, ec));
  RETURNS(NamedEvent, NamedEvent::open(name, options));
  RETURNS_EC(NamedEvent, NamedEvent::open(name, options, ec));
  RETURNS(NamedEvent, NamedEvent::open_or_create(name, reset, options));
  RETURNS_EC(NamedEvent, NamedEvent::open_or_create(name, reset, options, ec));
  RETURNS(bool, NamedEvent::remove(name, options));
  RETURNS_EC(bool, NamedEvent::remove(name, options, ec));
  RETURNS(bool, NamedEvent::exists(name, options));
  RETURNS_EC(bool, NamedEvent::exists(name, options, ec));
  RETURNS(NamedEvent, NamedEvent::open(name, {}, ec));  // one {} at most

  RETURNS(void, event.NamedEvent::set());
  RETURNS_EC(void, event.NamedEvent::set(ec));
  RETURNS(void, event.NamedEvent::reset());
  RETURNS_EC(void, event.NamedEvent::reset(ec));
  RETURNS(void, event.NamedEvent::wait());
  RETURNS_EC(void, event.NamedEvent::wait(ec));
  RETURNS(bool, event.NamedEvent::try_wait());
  RETURNS_EC(bool, event.NamedEvent::try_wait(ec));
  RETURNS(bool, event.NamedEvent::wait_for(d));
  RETURNS_EC(bool, event.NamedEvent::wait_for(d, ec));
  RETURNS(bool, event.NamedEvent::wait_until(until));
  RETURNS_EC(bool, event.NamedEvent::wait_until(until, ec));

  RETURNS_NOEXCEPT(bool, event.NamedEvent::is_open());
  RETURNS_NOEXCEPT(const std::string&, event.NamedEvent::name());
}

void named_semaphore(shmkit::NamedSemaphore& semaphore, std::error_code& ec) {
  using shmkit::NamedSemaphore;
  const shmkit::SyncOptions options;
  RETURNS(NamedSemaphore, NamedSemaphore::create(name, 0, options));
  RETURNS_EC(NamedSemaphore, NamedSemaphore::create(name, 0, options, ec));
  RETURNS(NamedSemaphore, NamedSemaphore::open(name, options));
  RETURNS_EC(NamedSemaphore, NamedSemaphore::open(name, options, ec));
  RETURNS(NamedSemaphore, NamedSemaphore::open_or_create(name, 0, options));
  RETURNS_EC(NamedSemaphore, NamedSemaphore::open_or_create(name, 0, options, ec));
  RETURNS(bool, NamedSemaphore::remove(name, options));
  RETURNS_EC(bool, NamedSemaphore::remove(name, options, ec));
  RETURNS(bool, NamedSemaphore::exists(name, options));
  RETURNS_EC(bool, NamedSemaphore::exists(name, options, ec));
  RETURNS(NamedSemaphore, NamedSemaphore::open(name, {}, ec));  // one {} at most

  RETURNS(void, semaphore.NamedSemaphore::post());
  RETURNS(void, semaphore.NamedSemaphore::post(2));
  RETURNS_EC(void, semaphore.NamedSemaphore::post(2, ec));
  RETURNS(void, semaphore.NamedSemaphore::wait());
  RETURNS_EC(void, semaphore.NamedSemaphore::wait(ec));
  RETURNS(bool, semaphore.NamedSemaphore::try_wait());
  RETURNS_EC(bool, semaphore.NamedSemaphore::try_wait(ec));
  RETURNS(bool, semaphore.NamedSemaphore::wait_for(d));
  RETURNS_EC(bool, semaphore.NamedSemaphore::wait_for(d, ec));
  RETURNS(bool, semaphore.NamedSemaphore::wait_until(until));
  RETURNS_EC(bool, semaphore.NamedSemaphore::wait_until(until, ec));

  RETURNS_NOEXCEPT(bool, semaphore.NamedSemaphore::is_open());
  RETURNS_NOEXCEPT(const std::string&, semaphore.NamedSemaphore::name());
}

void ring_producer(shmkit::RingProducer& producer, std::error_code& ec) {
  using shmkit::RingProducer;
  const shmkit::RingOptions options;
  const std::size_t capacity = 4096;
  RETURNS(RingProducer, RingProducer::create(name));  // capacity defaults
  RETURNS(RingProducer, RingProducer::create(name, capacity, options));
  RETURNS_EC(RingProducer, RingProducer::create(name, capacity, options, ec));
  RETURNS(RingProducer, RingProducer::open(name, options));
  RETURNS_EC(RingProducer, RingProducer::open(name, options, ec));
  RETURNS(RingProducer, RingProducer::open_or_create(name, capacity, options));
  RETURNS_EC(RingProducer, RingProducer::open_or_create(name, capacity, options, ec));
  RETURNS(bool, RingProducer::remove(name, options));
  RETURNS_EC(bool, RingProducer::remove(name, options, ec));
  RETURNS(bool, RingProducer::exists(name, options));
  RETURNS_EC(bool, RingProducer::exists(name, options, ec));
  RETURNS(RingProducer, RingProducer::open(name, {}, ec));  // one {} at most

  RETURNS(ByteSpan, producer.RingProducer::reserve(8));
  RETURNS_EC(ByteSpan, producer.RingProducer::reserve(8, ec));
  RETURNS(ByteSpan, producer.RingProducer::try_reserve(8));
  RETURNS_EC(ByteSpan, producer.RingProducer::try_reserve(8, ec));
  RETURNS(ByteSpan, producer.RingProducer::reserve_for(8, d));
  RETURNS_EC(ByteSpan, producer.RingProducer::reserve_for(8, d, ec));
  RETURNS(ByteSpan, producer.RingProducer::reserve_until(8, until));
  RETURNS_EC(ByteSpan, producer.RingProducer::reserve_until(8, until, ec));
  RETURNS(void, producer.RingProducer::commit(4));
  RETURNS(void, producer.RingProducer::commit());
  RETURNS_EC(void, producer.RingProducer::commit(4, ec));
  RETURNS_EC(void, producer.RingProducer::commit(ec));
  RETURNS(void, producer.RingProducer::commit_deferred(4));
  RETURNS_EC(void, producer.RingProducer::commit_deferred(4, ec));
  RETURNS_NOEXCEPT(void, producer.RingProducer::flush());

  const char data[4] = {};
  RETURNS(void, producer.RingProducer::send(data, sizeof data));
  RETURNS_EC(void, producer.RingProducer::send(data, sizeof data, ec));
  RETURNS(bool, producer.RingProducer::try_send(data, sizeof data));
  RETURNS_EC(bool, producer.RingProducer::try_send(data, sizeof data, ec));
  RETURNS(bool, producer.RingProducer::send_for(data, sizeof data, d));
  RETURNS_EC(bool, producer.RingProducer::send_for(data, sizeof data, d, ec));
  RETURNS(bool, producer.RingProducer::send_until(data, sizeof data, until));
  RETURNS_EC(bool, producer.RingProducer::send_until(data, sizeof data, until, ec));

  const ConstByteSpan batch[2] = {{data, 2}, {data, 0}};  // zero-length messages are allowed
  RETURNS(std::size_t, producer.RingProducer::send_batch(batch, 2));
  RETURNS_EC(std::size_t, producer.RingProducer::send_batch(batch, 2, ec));
  RETURNS(std::size_t, producer.RingProducer::try_send_batch(batch, 2));
  RETURNS_EC(std::size_t, producer.RingProducer::try_send_batch(batch, 2, ec));
  RETURNS(std::size_t, producer.RingProducer::send_batch_for(batch, 2, d));
  RETURNS_EC(std::size_t, producer.RingProducer::send_batch_for(batch, 2, d, ec));
  RETURNS(std::size_t, producer.RingProducer::send_batch_until(batch, 2, until));
  RETURNS_EC(std::size_t, producer.RingProducer::send_batch_until(batch, 2, until, ec));

  RETURNS(void, producer.RingProducer::wait_for_peer());
  RETURNS_EC(void, producer.RingProducer::wait_for_peer(ec));
  RETURNS(bool, producer.RingProducer::try_wait_for_peer());
  RETURNS_EC(bool, producer.RingProducer::try_wait_for_peer(ec));
  RETURNS(bool, producer.RingProducer::wait_for_peer_for(d));
  RETURNS_EC(bool, producer.RingProducer::wait_for_peer_for(d, ec));
  RETURNS(bool, producer.RingProducer::wait_for_peer_until(until));
  RETURNS_EC(bool, producer.RingProducer::wait_for_peer_until(until, ec));

  RETURNS_NOEXCEPT(bool, producer.RingProducer::is_open());
  RETURNS_NOEXCEPT(const std::string&, producer.RingProducer::name());
  RETURNS_NOEXCEPT(std::size_t, producer.RingProducer::capacity());
  RETURNS_NOEXCEPT(std::size_t, producer.RingProducer::max_message_size());
  RETURNS_NOEXCEPT(std::uint32_t, producer.RingProducer::generation());
}

void ring_consumer(shmkit::RingConsumer& consumer, std::error_code& ec) {
  using shmkit::RingConsumer;
  const shmkit::RingOptions options;
  const std::size_t capacity = 4096;
  RETURNS(RingConsumer, RingConsumer::create(name));  // capacity defaults
  RETURNS(RingConsumer, RingConsumer::create(name, capacity, options));
  RETURNS_EC(RingConsumer, RingConsumer::create(name, capacity, options, ec));
  RETURNS(RingConsumer, RingConsumer::open(name, options));
  RETURNS_EC(RingConsumer, RingConsumer::open(name, options, ec));
  RETURNS(RingConsumer, RingConsumer::open_or_create(name, capacity, options));
  RETURNS_EC(RingConsumer, RingConsumer::open_or_create(name, capacity, options, ec));
  RETURNS(bool, RingConsumer::remove(name, options));
  RETURNS_EC(bool, RingConsumer::remove(name, options, ec));
  RETURNS(bool, RingConsumer::exists(name, options));
  RETURNS_EC(bool, RingConsumer::exists(name, options, ec));
  RETURNS(RingConsumer, RingConsumer::open(name, {}, ec));  // one {} at most

  RETURNS(ConstByteSpan, consumer.RingConsumer::peek());
  RETURNS_EC(ConstByteSpan, consumer.RingConsumer::peek(ec));
  RETURNS(ConstByteSpan, consumer.RingConsumer::try_peek());
  RETURNS_EC(ConstByteSpan, consumer.RingConsumer::try_peek(ec));
  RETURNS(ConstByteSpan, consumer.RingConsumer::peek_for(d));
  RETURNS_EC(ConstByteSpan, consumer.RingConsumer::peek_for(d, ec));
  RETURNS(ConstByteSpan, consumer.RingConsumer::peek_until(until));
  RETURNS_EC(ConstByteSpan, consumer.RingConsumer::peek_until(until, ec));
  RETURNS_NOEXCEPT(void, consumer.RingConsumer::release());

  char buffer[16];
  RETURNS(std::size_t, consumer.RingConsumer::receive(buffer, sizeof buffer));
  RETURNS_EC(std::size_t, consumer.RingConsumer::receive(buffer, sizeof buffer, ec));
  using Received = std::optional<std::size_t>;
  RETURNS(Received, consumer.RingConsumer::try_receive(buffer, sizeof buffer));
  RETURNS_EC(Received, consumer.RingConsumer::try_receive(buffer, sizeof buffer, ec));
  RETURNS(Received, consumer.RingConsumer::receive_for(buffer, sizeof buffer, d));
  RETURNS_EC(Received, consumer.RingConsumer::receive_for(buffer, sizeof buffer, d, ec));
  RETURNS(Received, consumer.RingConsumer::receive_until(buffer, sizeof buffer, until));
  RETURNS_EC(Received, consumer.RingConsumer::receive_until(buffer, sizeof buffer, until, ec));

  RETURNS(void, consumer.RingConsumer::wait_for_peer());
  RETURNS_EC(void, consumer.RingConsumer::wait_for_peer(ec));
  RETURNS(bool, consumer.RingConsumer::try_wait_for_peer());
  RETURNS_EC(bool, consumer.RingConsumer::try_wait_for_peer(ec));
  RETURNS(bool, consumer.RingConsumer::wait_for_peer_for(d));
  RETURNS_EC(bool, consumer.RingConsumer::wait_for_peer_for(d, ec));
  RETURNS(bool, consumer.RingConsumer::wait_for_peer_until(until));
  RETURNS_EC(bool, consumer.RingConsumer::wait_for_peer_until(until, ec));

  RETURNS_NOEXCEPT(bool, consumer.RingConsumer::is_open());
  RETURNS_NOEXCEPT(const std::string&, consumer.RingConsumer::name());
  RETURNS_NOEXCEPT(std::size_t, consumer.RingConsumer::capacity());
  RETURNS_NOEXCEPT(std::size_t, consumer.RingConsumer::max_message_size());
  RETURNS_NOEXCEPT(std::uint32_t, consumer.RingConsumer::generation());
  RETURNS_NOEXCEPT(std::uint32_t, consumer.RingConsumer::message_generation());
}

void channel(shmkit::Channel& channel, std::error_code& ec) {
  using shmkit::Channel;
  const shmkit::ChannelOptions options;
  const std::size_t capacity = 4096;
  RETURNS(Channel, Channel::create(name));  // capacity defaults
  RETURNS(Channel, Channel::create(name, capacity, options));
  RETURNS_EC(Channel, Channel::create(name, capacity, options, ec));
  RETURNS(Channel, Channel::open(name, options));
  RETURNS_EC(Channel, Channel::open(name, options, ec));
  RETURNS(Channel, Channel::open_or_create(name, capacity, options));
  RETURNS_EC(Channel, Channel::open_or_create(name, capacity, options, ec));
  RETURNS(bool, Channel::remove(name, options));
  RETURNS_EC(bool, Channel::remove(name, options, ec));
  RETURNS(bool, Channel::exists(name, options));
  RETURNS_EC(bool, Channel::exists(name, options, ec));
  RETURNS(Channel, Channel::open(name, {}, ec));  // one {} at most

  const char data[4] = {};
  RETURNS(void, channel.Channel::send(data, sizeof data));
  RETURNS_EC(void, channel.Channel::send(data, sizeof data, ec));
  RETURNS(bool, channel.Channel::try_send(data, sizeof data));
  RETURNS_EC(bool, channel.Channel::try_send(data, sizeof data, ec));
  RETURNS(bool, channel.Channel::send_for(data, sizeof data, d));
  RETURNS_EC(bool, channel.Channel::send_for(data, sizeof data, d, ec));
  RETURNS(bool, channel.Channel::send_until(data, sizeof data, until));
  RETURNS_EC(bool, channel.Channel::send_until(data, sizeof data, until, ec));

  char buffer[16];
  using Received = std::optional<std::size_t>;
  RETURNS(std::size_t, channel.Channel::receive(buffer, sizeof buffer));
  RETURNS_EC(std::size_t, channel.Channel::receive(buffer, sizeof buffer, ec));
  RETURNS(Received, channel.Channel::try_receive(buffer, sizeof buffer));
  RETURNS_EC(Received, channel.Channel::try_receive(buffer, sizeof buffer, ec));
  RETURNS(Received, channel.Channel::receive_for(buffer, sizeof buffer, d));
  RETURNS_EC(Received, channel.Channel::receive_for(buffer, sizeof buffer, d, ec));
  RETURNS(Received, channel.Channel::receive_until(buffer, sizeof buffer, until));
  RETURNS_EC(Received, channel.Channel::receive_until(buffer, sizeof buffer, until, ec));

  RETURNS(void, channel.Channel::wait_for_peer());
  RETURNS_EC(void, channel.Channel::wait_for_peer(ec));
  RETURNS(bool, channel.Channel::try_wait_for_peer());
  RETURNS_EC(bool, channel.Channel::try_wait_for_peer(ec));
  RETURNS(bool, channel.Channel::wait_for_peer_for(d));
  RETURNS_EC(bool, channel.Channel::wait_for_peer_for(d, ec));
  RETURNS(bool, channel.Channel::wait_for_peer_until(until));
  RETURNS_EC(bool, channel.Channel::wait_for_peer_until(until, ec));

  RETURNS_NOEXCEPT(shmkit::RingProducer&, channel.Channel::outbound());
  RETURNS_NOEXCEPT(shmkit::RingConsumer&, channel.Channel::inbound());
  RETURNS_NOEXCEPT(bool, channel.Channel::is_open());
  RETURNS_NOEXCEPT(const std::string&, channel.Channel::name());
}

void server(shmkit::Server& server, std::error_code& ec) {
  using shmkit::Channel;
  using shmkit::Server;
  const shmkit::ServerOptions options;
  RETURNS(Server, Server::create(name, options));
  RETURNS_EC(Server, Server::create(name, options, ec));
  RETURNS(bool, Server::remove(name, options));
  RETURNS_EC(bool, Server::remove(name, options, ec));
  RETURNS(bool, Server::exists(name, options));
  RETURNS_EC(bool, Server::exists(name, options, ec));
  RETURNS(bool, Server::exists(name, {}, ec));  // one {} at most

  RETURNS(Channel, server.Server::accept());
  RETURNS_EC(Channel, server.Server::accept(ec));
  RETURNS(Channel, server.Server::try_accept());
  RETURNS_EC(Channel, server.Server::try_accept(ec));
  RETURNS(Channel, server.Server::accept_for(d));
  RETURNS_EC(Channel, server.Server::accept_for(d, ec));
  RETURNS(Channel, server.Server::accept_until(until));
  RETURNS_EC(Channel, server.Server::accept_until(until, ec));

  RETURNS_NOEXCEPT(bool, server.Server::is_open());
  RETURNS_NOEXCEPT(const std::string&, server.Server::name());
}

void client(std::error_code& ec) {
  using shmkit::Client;
  static_assert(std::is_base_of_v<shmkit::Channel, Client>, "a Client is a Channel");
  const shmkit::ClientOptions options;
  RETURNS(Client, Client::connect(name, options));
  RETURNS_EC(Client, Client::connect(name, options, ec));
  RETURNS(Client, Client::connect(name, {}, ec));  // one {} at most
  RETURNS(Client, Client::try_connect(name, options));
  RETURNS_EC(Client, Client::try_connect(name, options, ec));
  RETURNS(Client, Client::connect_for(name, d, options));
  RETURNS_EC(Client, Client::connect_for(name, d, options, ec));
  RETURNS(Client, Client::connect_until(name, until, options));
  RETURNS_EC(Client, Client::connect_until(name, until, options, ec));
}

struct Item {
  std::uint32_t id;
  double value;
};

void queue(shmkit::Queue<Item>& queue, std::error_code& ec) {
  using ItemQueue = shmkit::Queue<Item>;
  const shmkit::QueueOptions options;
  RETURNS(ItemQueue, shmkit::Queue<Item>::create(name, 16, options));
  RETURNS_EC(ItemQueue, shmkit::Queue<Item>::create(name, 16, options, ec));
  RETURNS(ItemQueue, shmkit::Queue<Item>::open(name, options));
  RETURNS_EC(ItemQueue, shmkit::Queue<Item>::open(name, options, ec));
  RETURNS(ItemQueue, shmkit::Queue<Item>::open_or_create(name, 16, options));
  RETURNS_EC(ItemQueue, shmkit::Queue<Item>::open_or_create(name, 16, options, ec));
  RETURNS(bool, shmkit::Queue<Item>::remove(name, options));
  RETURNS_EC(bool, shmkit::Queue<Item>::remove(name, options, ec));
  RETURNS(bool, shmkit::Queue<Item>::exists(name, options));
  RETURNS_EC(bool, shmkit::Queue<Item>::exists(name, options, ec));
  RETURNS(ItemQueue, shmkit::Queue<Item>::open(name, {}, ec));  // one {} at most

  const Item item{1, 2.0};
  RETURNS(void, queue.Queue<Item>::push(item));
  RETURNS_EC(void, queue.Queue<Item>::push(item, ec));
  RETURNS(bool, queue.Queue<Item>::try_push(item));
  RETURNS_EC(bool, queue.Queue<Item>::try_push(item, ec));
  RETURNS(bool, queue.Queue<Item>::push_for(item, d));
  RETURNS_EC(bool, queue.Queue<Item>::push_for(item, d, ec));
  RETURNS(bool, queue.Queue<Item>::push_until(item, until));
  RETURNS_EC(bool, queue.Queue<Item>::push_until(item, until, ec));

  RETURNS(Item, queue.Queue<Item>::pop());
  RETURNS_EC(Item, queue.Queue<Item>::pop(ec));
  RETURNS(std::optional<Item>, queue.Queue<Item>::try_pop());
  RETURNS_EC(std::optional<Item>, queue.Queue<Item>::try_pop(ec));
  RETURNS(std::optional<Item>, queue.Queue<Item>::pop_for(d));
  RETURNS_EC(std::optional<Item>, queue.Queue<Item>::pop_for(d, ec));
  RETURNS(std::optional<Item>, queue.Queue<Item>::pop_until(until));
  RETURNS_EC(std::optional<Item>, queue.Queue<Item>::pop_until(until, ec));

  RETURNS_NOEXCEPT(bool, queue.Queue<Item>::is_open());
  RETURNS_NOEXCEPT(const std::string&, queue.Queue<Item>::name());
  RETURNS_NOEXCEPT(std::size_t, queue.Queue<Item>::capacity());
}

void wait_set(shmkit::WaitSet& set, std::error_code& ec) {
  using shmkit::WaitSet;
  using Keys = std::vector<std::size_t>;
  const shmkit::RingConsumer consumer;
  const shmkit::RingProducer producer;
  const shmkit::Channel channel;
  const shmkit::Server server;
  const shmkit::NamedEvent event;
  const shmkit::NamedSemaphore semaphore;
  const shmkit::Subscriber subscriber;
  RETURNS(std::size_t, set.WaitSet::add(consumer));
  RETURNS_EC(std::size_t, set.WaitSet::add(consumer, ec));
  RETURNS(std::size_t, set.WaitSet::add(producer));
  RETURNS(std::size_t, set.WaitSet::add(producer, 64));
  RETURNS_EC(std::size_t, set.WaitSet::add(producer, 64, ec));
  RETURNS(std::size_t, set.WaitSet::add(channel));
  RETURNS_EC(std::size_t, set.WaitSet::add(channel, ec));
  RETURNS(std::size_t, set.WaitSet::add(server));
  RETURNS_EC(std::size_t, set.WaitSet::add(server, ec));
  RETURNS(std::size_t, set.WaitSet::add(event));
  RETURNS_EC(std::size_t, set.WaitSet::add(event, ec));
  RETURNS(std::size_t, set.WaitSet::add(semaphore));
  RETURNS_EC(std::size_t, set.WaitSet::add(semaphore, ec));
  RETURNS(std::size_t, set.WaitSet::add(subscriber));
  RETURNS_EC(std::size_t, set.WaitSet::add(subscriber, ec));
  RETURNS_NOEXCEPT(void, set.WaitSet::remove(0));

  RETURNS(Keys, set.WaitSet::wait());
  RETURNS_EC(Keys, set.WaitSet::wait(ec));
  RETURNS(Keys, set.WaitSet::try_wait());
  RETURNS_EC(Keys, set.WaitSet::try_wait(ec));
  RETURNS(Keys, set.WaitSet::wait_for(d));
  RETURNS_EC(Keys, set.WaitSet::wait_for(d, ec));
  RETURNS(Keys, set.WaitSet::wait_until(until));
  RETURNS_EC(Keys, set.WaitSet::wait_until(until, ec));

  RETURNS(std::intptr_t, set.WaitSet::pollable_handle());
  RETURNS_EC(std::intptr_t, set.WaitSet::pollable_handle(ec));
  RETURNS_NOEXCEPT(std::size_t, set.WaitSet::size());
}

static_assert(std::is_nothrow_move_constructible_v<shmkit::WaitSet> &&
                  std::is_nothrow_move_assignable_v<shmkit::WaitSet> &&
                  std::is_nothrow_destructible_v<shmkit::WaitSet> &&
                  !std::is_copy_constructible_v<shmkit::WaitSet>,
              "a WaitSet is move-only, like every handle");
void topic(shmkit::Topic& topic, std::error_code& ec) {
  using shmkit::Topic;
  const shmkit::TopicOptions options;
  const shmkit::ObjectOptions object_options;
  const shmkit::TopicConfig config{64, 4};
  RETURNS(Topic, Topic::create(name, config, options));
  RETURNS_EC(Topic, Topic::create(name, config, options, ec));
  RETURNS(Topic, Topic::open(name, options));
  RETURNS_EC(Topic, Topic::open(name, options, ec));
  RETURNS(Topic, Topic::open_or_create(name, config, options));
  RETURNS_EC(Topic, Topic::open_or_create(name, config, options, ec));
  RETURNS(bool, Topic::remove(name, object_options));
  RETURNS_EC(bool, Topic::remove(name, object_options, ec));
  RETURNS(bool, Topic::exists(name, object_options));
  RETURNS_EC(bool, Topic::exists(name, object_options, ec));
  RETURNS(Topic, Topic::open(name, {}, ec));  // one {} at most

  RETURNS_NOEXCEPT(void, topic.Topic::close());
  RETURNS_NOEXCEPT(bool, topic.Topic::is_open());
  RETURNS_NOEXCEPT(const std::string&, topic.Topic::name());
  RETURNS_NOEXCEPT(shmkit::TopicConfig, topic.Topic::config());
  RETURNS_NOEXCEPT(std::size_t, topic.Topic::free_samples());
  RETURNS_NOEXCEPT(std::size_t, topic.Topic::publisher_count());
  RETURNS_NOEXCEPT(std::size_t, topic.Topic::subscriber_count());
}

void publisher(shmkit::Publisher& publisher, shmkit::Loan& loan, std::error_code& ec) {
  using shmkit::Loan;
  using shmkit::Publisher;
  const shmkit::PublisherOptions options;
  const shmkit::TopicConfig config{64, 4};
  RETURNS(Publisher, Publisher::open(name, options));
  RETURNS_EC(Publisher, Publisher::open(name, options, ec));
  RETURNS(Publisher, Publisher::open_or_create(name, config, options));
  RETURNS_EC(Publisher, Publisher::open_or_create(name, config, options, ec));
  RETURNS(Publisher, Publisher::open(name, {}, ec));  // one {} at most
  RETURNS_NOEXCEPT(void, publisher.Publisher::close());

  const std::size_t size = 16;
  RETURNS(Loan, publisher.Publisher::loan(size));
  RETURNS_EC(Loan, publisher.Publisher::loan(size, ec));
  RETURNS(Loan, publisher.Publisher::try_loan(size));
  RETURNS_EC(Loan, publisher.Publisher::try_loan(size, ec));
  RETURNS(Loan, publisher.Publisher::loan_for(size, d));
  RETURNS_EC(Loan, publisher.Publisher::loan_for(size, d, ec));
  RETURNS(Loan, publisher.Publisher::loan_until(size, until));
  RETURNS_EC(Loan, publisher.Publisher::loan_until(size, until, ec));

  RETURNS(void, publisher.Publisher::publish(std::move(loan)));
  RETURNS_EC(void, publisher.Publisher::publish(std::move(loan), ec));
  RETURNS(bool, publisher.Publisher::try_publish(loan));
  RETURNS_EC(bool, publisher.Publisher::try_publish(loan, ec));
  RETURNS(bool, publisher.Publisher::publish_for(loan, d));
  RETURNS_EC(bool, publisher.Publisher::publish_for(loan, d, ec));
  RETURNS(bool, publisher.Publisher::publish_until(loan, until));
  RETURNS_EC(bool, publisher.Publisher::publish_until(loan, until, ec));
  const char data[4] = "abc";
  RETURNS(void, publisher.Publisher::publish_copy(data, size));
  RETURNS_EC(void, publisher.Publisher::publish_copy(data, size, ec));

  RETURNS_NOEXCEPT(bool, publisher.Publisher::is_open());
  RETURNS_NOEXCEPT(const std::string&, publisher.Publisher::name());
  RETURNS_NOEXCEPT(std::size_t, publisher.Publisher::max_sample_size());
  RETURNS_NOEXCEPT(std::uint32_t, publisher.Publisher::generation());
  RETURNS_NOEXCEPT(std::size_t, publisher.Publisher::subscriber_count());

  RETURNS(void, loan.Loan::resize(size));
  RETURNS_EC(void, loan.Loan::resize(size, ec));
  RETURNS_NOEXCEPT(std::byte*, loan.Loan::data());
  RETURNS_NOEXCEPT(std::size_t, loan.Loan::size());
  RETURNS_NOEXCEPT(ByteSpan, loan.Loan::bytes());
  RETURNS_NOEXCEPT(std::size_t, loan.Loan::capacity());
}

void subscriber(shmkit::Subscriber& subscriber, const shmkit::Sample& sample, std::error_code& ec) {
  using shmkit::Sample;
  using shmkit::Subscriber;
  const shmkit::SubscriberOptions options;
  RETURNS(Subscriber, Subscriber::open(name, options));
  RETURNS_EC(Subscriber, Subscriber::open(name, options, ec));
  RETURNS(Subscriber, Subscriber::open(name, {}, ec));  // one {} at most
  RETURNS_NOEXCEPT(void, subscriber.Subscriber::close());

  RETURNS(Sample, subscriber.Subscriber::receive());
  RETURNS_EC(Sample, subscriber.Subscriber::receive(ec));
  RETURNS(Sample, subscriber.Subscriber::try_receive());
  RETURNS_EC(Sample, subscriber.Subscriber::try_receive(ec));
  RETURNS(Sample, subscriber.Subscriber::receive_for(d));
  RETURNS_EC(Sample, subscriber.Subscriber::receive_for(d, ec));
  RETURNS(Sample, subscriber.Subscriber::receive_until(until));
  RETURNS_EC(Sample, subscriber.Subscriber::receive_until(until, ec));

  RETURNS_NOEXCEPT(bool, subscriber.Subscriber::is_open());
  RETURNS_NOEXCEPT(const std::string&, subscriber.Subscriber::name());
  RETURNS_NOEXCEPT(std::uint64_t, subscriber.Subscriber::dropped());
  RETURNS_NOEXCEPT(std::size_t, subscriber.Subscriber::queue_depth());
  RETURNS_NOEXCEPT(std::size_t, subscriber.Subscriber::slot());
  RETURNS_NOEXCEPT(std::size_t, subscriber.Subscriber::max_sample_size());

  RETURNS_NOEXCEPT(const std::byte*, sample.Sample::data());
  RETURNS_NOEXCEPT(std::size_t, sample.Sample::size());
  RETURNS_NOEXCEPT(ConstByteSpan, sample.Sample::bytes());
  RETURNS_NOEXCEPT(std::uint64_t, sample.Sample::sequence());
  RETURNS_NOEXCEPT(std::uint32_t, sample.Sample::publisher_generation());
}

void typed_topic(shmkit::TypedPublisher<Item>& publisher, shmkit::TypedLoan<Item>& loan,
                 shmkit::TypedSubscriber<Item>& subscriber, const shmkit::TypedSample<Item>& sample,
                 std::error_code& ec) {
  using ItemPublisher = shmkit::TypedPublisher<Item>;
  using ItemSubscriber = shmkit::TypedSubscriber<Item>;
  using ItemLoan = shmkit::TypedLoan<Item>;
  using ItemSample = shmkit::TypedSample<Item>;
  const shmkit::PublisherOptions publisher_options;
  const shmkit::SubscriberOptions subscriber_options;
  const shmkit::TopicConfig config{0, 4};
  RETURNS(ItemPublisher, shmkit::TypedPublisher<Item>::open(name, publisher_options));
  RETURNS_EC(ItemPublisher, shmkit::TypedPublisher<Item>::open(name, publisher_options, ec));
  RETURNS(ItemPublisher,
          shmkit::TypedPublisher<Item>::open_or_create(name, config, publisher_options));
  RETURNS_EC(ItemPublisher,
             shmkit::TypedPublisher<Item>::open_or_create(name, config, publisher_options, ec));
  RETURNS(ItemPublisher, shmkit::TypedPublisher<Item>::open(name, {}, ec));  // one {} at most
  RETURNS_NOEXCEPT(void, publisher.TypedPublisher<Item>::close());

  RETURNS(ItemLoan, publisher.TypedPublisher<Item>::loan());
  RETURNS_EC(ItemLoan, publisher.TypedPublisher<Item>::loan(ec));
  RETURNS(ItemLoan, publisher.TypedPublisher<Item>::try_loan());
  RETURNS_EC(ItemLoan, publisher.TypedPublisher<Item>::try_loan(ec));
  RETURNS(ItemLoan, publisher.TypedPublisher<Item>::loan_for(d));
  RETURNS_EC(ItemLoan, publisher.TypedPublisher<Item>::loan_for(d, ec));
  RETURNS(ItemLoan, publisher.TypedPublisher<Item>::loan_until(until));
  RETURNS_EC(ItemLoan, publisher.TypedPublisher<Item>::loan_until(until, ec));

  RETURNS(void, publisher.TypedPublisher<Item>::publish(std::move(loan)));
  RETURNS_EC(void, publisher.TypedPublisher<Item>::publish(std::move(loan), ec));
  RETURNS(bool, publisher.TypedPublisher<Item>::try_publish(loan));
  RETURNS_EC(bool, publisher.TypedPublisher<Item>::try_publish(loan, ec));
  RETURNS(bool, publisher.TypedPublisher<Item>::publish_for(loan, d));
  RETURNS_EC(bool, publisher.TypedPublisher<Item>::publish_for(loan, d, ec));
  RETURNS(bool, publisher.TypedPublisher<Item>::publish_until(loan, until));
  RETURNS_EC(bool, publisher.TypedPublisher<Item>::publish_until(loan, until, ec));
  const Item item{1, 2.0};
  RETURNS(void, publisher.TypedPublisher<Item>::publish_copy(item));
  RETURNS_EC(void, publisher.TypedPublisher<Item>::publish_copy(item, ec));

  RETURNS_NOEXCEPT(bool, publisher.TypedPublisher<Item>::is_open());
  RETURNS_NOEXCEPT(const std::string&, publisher.TypedPublisher<Item>::name());
  RETURNS_NOEXCEPT(std::uint32_t, publisher.TypedPublisher<Item>::generation());
  RETURNS_NOEXCEPT(std::size_t, publisher.TypedPublisher<Item>::subscriber_count());
  RETURNS_NOEXCEPT(shmkit::Publisher&, publisher.TypedPublisher<Item>::untyped());
  RETURNS_NOEXCEPT(Item&, loan.TypedLoan<Item>::value());
  RETURNS_NOEXCEPT(shmkit::Loan&, loan.TypedLoan<Item>::untyped());

  RETURNS(ItemSubscriber, shmkit::TypedSubscriber<Item>::open(name, subscriber_options));
  RETURNS_EC(ItemSubscriber, shmkit::TypedSubscriber<Item>::open(name, subscriber_options, ec));
  RETURNS(ItemSubscriber, shmkit::TypedSubscriber<Item>::open(name, {}, ec));  // one {} at most
  RETURNS_NOEXCEPT(void, subscriber.TypedSubscriber<Item>::close());
  RETURNS(ItemSample, subscriber.TypedSubscriber<Item>::receive());
  RETURNS_EC(ItemSample, subscriber.TypedSubscriber<Item>::receive(ec));
  RETURNS(ItemSample, subscriber.TypedSubscriber<Item>::try_receive());
  RETURNS_EC(ItemSample, subscriber.TypedSubscriber<Item>::try_receive(ec));
  RETURNS(ItemSample, subscriber.TypedSubscriber<Item>::receive_for(d));
  RETURNS_EC(ItemSample, subscriber.TypedSubscriber<Item>::receive_for(d, ec));
  RETURNS(ItemSample, subscriber.TypedSubscriber<Item>::receive_until(until));
  RETURNS_EC(ItemSample, subscriber.TypedSubscriber<Item>::receive_until(until, ec));
  RETURNS_NOEXCEPT(bool, subscriber.TypedSubscriber<Item>::is_open());
  RETURNS_NOEXCEPT(const std::string&, subscriber.TypedSubscriber<Item>::name());
  RETURNS_NOEXCEPT(std::uint64_t, subscriber.TypedSubscriber<Item>::dropped());
  RETURNS_NOEXCEPT(std::size_t, subscriber.TypedSubscriber<Item>::queue_depth());
  RETURNS_NOEXCEPT(std::size_t, subscriber.TypedSubscriber<Item>::slot());
  RETURNS_NOEXCEPT(shmkit::Subscriber&, subscriber.TypedSubscriber<Item>::untyped());
  RETURNS_NOEXCEPT(const Item&, sample.TypedSample<Item>::value());
  RETURNS_NOEXCEPT(std::uint64_t, sample.TypedSample<Item>::sequence());
  RETURNS_NOEXCEPT(const shmkit::Sample&, sample.TypedSample<Item>::untyped());
}

// What every class shares: move-only, noexcept destructor and moves.
template <typename T>
constexpr bool is_handle =
    std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_assignable_v<T>&&
        std::is_nothrow_destructible_v<T> &&
    !std::is_copy_constructible_v<T>;
static_assert(is_handle<shmkit::NamedSharedMemory>);
static_assert(is_handle<shmkit::NamedMutex>);
static_assert(is_handle<shmkit::NamedEvent>);
static_assert(is_handle<shmkit::NamedSemaphore>);
static_assert(is_handle<shmkit::RingProducer>);
static_assert(is_handle<shmkit::RingConsumer>);
static_assert(is_handle<shmkit::Channel>);
static_assert(is_handle<shmkit::Server>);
static_assert(is_handle<shmkit::Client>);
static_assert(is_handle<shmkit::Queue<Item>>);
static_assert(is_handle<shmkit::Topic>);
static_assert(is_handle<shmkit::Publisher>);
static_assert(is_handle<shmkit::Subscriber>);
static_assert(is_handle<shmkit::Loan>);
static_assert(is_handle<shmkit::Sample>);
static_assert(is_handle<shmkit::TypedPublisher<Item>>);
static_assert(is_handle<shmkit::TypedSubscriber<Item>>);
static_assert(is_handle<shmkit::TypedLoan<Item>>);
static_assert(is_handle<shmkit::TypedSample<Item>>);

void process_mutex(shmkit::ProcessMutex& mutex, std::error_code& ec) {
  using shmkit::LockStatus;
  using shmkit::ProcessMutex;
  RETURNS(void, mutex.ProcessMutex::lock());
  RETURNS_EC(void, mutex.ProcessMutex::lock(ec));
  RETURNS(bool, mutex.ProcessMutex::try_lock());
  RETURNS_EC(bool, mutex.ProcessMutex::try_lock(ec));
  RETURNS(bool, mutex.ProcessMutex::try_lock_for(d));
  RETURNS_EC(bool, mutex.ProcessMutex::try_lock_for(d, ec));
  RETURNS(bool, mutex.ProcessMutex::try_lock_until(until));
  RETURNS_EC(bool, mutex.ProcessMutex::try_lock_until(until, ec));
  RETURNS(LockStatus, mutex.ProcessMutex::lock_for(d));
  RETURNS_EC(LockStatus, mutex.ProcessMutex::lock_for(d, ec));
  RETURNS(LockStatus, mutex.ProcessMutex::lock_until(until));
  RETURNS_EC(LockStatus, mutex.ProcessMutex::lock_until(until, ec));
  RETURNS_NOEXCEPT(void, mutex.ProcessMutex::unlock());  // BasicLockable
  RETURNS_EC(void, mutex.ProcessMutex::unlock(ec));
  RETURNS_NOEXCEPT(bool, mutex.ProcessMutex::owner_died());
}

void process_condition(shmkit::ProcessCondition& condition, shmkit::ProcessMutex& mutex,
                       std::error_code& ec) {
  using shmkit::ConditionStatus;
  using shmkit::ProcessCondition;
  const auto predicate = [] { return true; };
  RETURNS(ConditionStatus, condition.ProcessCondition::wait(mutex));
  RETURNS_EC(ConditionStatus, condition.ProcessCondition::wait(mutex, ec));
  RETURNS(ConditionStatus, condition.ProcessCondition::wait_for(mutex, d));
  RETURNS_EC(ConditionStatus, condition.ProcessCondition::wait_for(mutex, d, ec));
  RETURNS(ConditionStatus, condition.ProcessCondition::wait_until(mutex, until));
  RETURNS_EC(ConditionStatus, condition.ProcessCondition::wait_until(mutex, until, ec));
  RETURNS(void, condition.ProcessCondition::wait(mutex, predicate));
  RETURNS_EC(void, condition.ProcessCondition::wait(mutex, predicate, ec));
  RETURNS(bool, condition.ProcessCondition::wait_for(mutex, d, predicate));
  RETURNS_EC(bool, condition.ProcessCondition::wait_for(mutex, d, predicate, ec));
  RETURNS(bool, condition.ProcessCondition::wait_until(mutex, until, predicate));
  RETURNS_EC(bool, condition.ProcessCondition::wait_until(mutex, until, predicate, ec));
  RETURNS_NOEXCEPT(void, condition.ProcessCondition::notify_one());
  RETURNS_NOEXCEPT(void, condition.ProcessCondition::notify_all());
}

void offset_ptr(shmkit::OffsetPtr<int>& p, int& object) {
  using shmkit::OffsetPtr;
  const void* base = &object;
  const std::size_t size = sizeof object;
  const std::size_t count = 1;
  RETURNS_NOEXCEPT(int*, p.OffsetPtr<int>::get());
  RETURNS_NOEXCEPT(bool, p.OffsetPtr<int>::within(base, size, count));
  RETURNS_NOEXCEPT(OffsetPtr<int>, OffsetPtr<int>::pointer_to(object));
}

void managed_segment(shmkit::ManagedSegment& seg, std::error_code& ec) {
  using shmkit::HeapCheck;
  using shmkit::ManagedSegment;
  using shmkit::NamedSharedMemory;
  const shmkit::SegmentOptions options;
  const std::size_t size = 1 << 16;
  const std::size_t bytes = 64;
  const std::size_t alignment = 16;
  void* p = nullptr;
  RETURNS(ManagedSegment, ManagedSegment::create(name, size, options));
  RETURNS_EC(ManagedSegment, ManagedSegment::create(name, size, options, ec));
  RETURNS(ManagedSegment, ManagedSegment::open(name, options));
  RETURNS_EC(ManagedSegment, ManagedSegment::open(name, options, ec));
  RETURNS(ManagedSegment, ManagedSegment::open_or_create(name, size, options));
  RETURNS_EC(ManagedSegment, ManagedSegment::open_or_create(name, size, options, ec));
  RETURNS(bool, ManagedSegment::remove(name, options));
  RETURNS_EC(bool, ManagedSegment::remove(name, options, ec));
  RETURNS(bool, ManagedSegment::exists(name, options));
  RETURNS_EC(bool, ManagedSegment::exists(name, options, ec));
  RETURNS_NOEXCEPT(void, seg.ManagedSegment::close());
  RETURNS(void*, seg.ManagedSegment::allocate(bytes, alignment));
  RETURNS_EC(void*, seg.ManagedSegment::allocate(bytes, alignment, ec));
  RETURNS_EC(void*, seg.ManagedSegment::allocate(bytes, ec));
  RETURNS(void, seg.ManagedSegment::deallocate(p));
  RETURNS_EC(void, seg.ManagedSegment::deallocate(p, ec));
  // The error_code twins of construct and find_or_construct take `ec` after
  // the name, T's arguments after it (none here).
  RETURNS(Item*, seg.ManagedSegment::construct<Item>(name));
  RETURNS_EC(Item*, seg.ManagedSegment::construct<Item>(name, ec));
  RETURNS(Item*, seg.ManagedSegment::find<Item>(name));
  RETURNS_EC(Item*, seg.ManagedSegment::find<Item>(name, ec));
  RETURNS(Item*, seg.ManagedSegment::find_or_construct<Item>(name));
  RETURNS_EC(Item*, seg.ManagedSegment::find_or_construct<Item>(name, ec));
  RETURNS(bool, seg.ManagedSegment::destroy<Item>(name));
  RETURNS_EC(bool, seg.ManagedSegment::destroy<Item>(name, ec));
  RETURNS(HeapCheck, seg.ManagedSegment::check());
  RETURNS_EC(HeapCheck, seg.ManagedSegment::check(ec));
  RETURNS_NOEXCEPT(bool, seg.ManagedSegment::is_open());
  RETURNS_NOEXCEPT(std::size_t, seg.ManagedSegment::size());
  RETURNS_NOEXCEPT(std::size_t, seg.ManagedSegment::free_memory());
  RETURNS_NOEXCEPT(std::size_t, seg.ManagedSegment::used_memory());
  RETURNS_NOEXCEPT(shmkit::Allocator<int>, seg.ManagedSegment::get_allocator<int>());
  RETURNS_NOEXCEPT(NamedSharedMemory&, seg.ManagedSegment::segment());
  RETURNS_NOEXCEPT(const std::string&, seg.ManagedSegment::name());
  RETURNS_NOEXCEPT(bool, seg.ManagedSegment::created());
}

void allocator(shmkit::Allocator<int>& alloc) {
  using shmkit::Allocator;
  using shmkit::OffsetPtr;
  const std::size_t n = 4;
  const OffsetPtr<int> p;
  const void* at = nullptr;
  const std::size_t bytes = 4;
  RETURNS(OffsetPtr<int>, alloc.Allocator<int>::allocate(n));
  RETURNS_NOEXCEPT(void, alloc.Allocator<int>::deallocate(p, n));
  RETURNS_NOEXCEPT(bool, alloc.Allocator<int>::contains(at, bytes));
}

// The containers for managed segments: their members that can fail.
void shared_containers(shmkit::SharedString& s,
                       shmkit::SharedHashMap<shmkit::SharedString, int>& map,
                       const std::pair<const shmkit::SharedString, int>& element,
                       std::error_code& ec) {
  using shmkit::SharedHashMap;
  using shmkit::SharedString;
  using Map = SharedHashMap<SharedString, int>;
  const std::string_view text = "t";
  const std::size_t count = 1;
  const int value = 1;
  const char c = 'c';
  RETURNS(void, s.SharedString::assign(text));
  RETURNS_EC(void, s.SharedString::assign(text, ec));
  RETURNS(void, s.SharedString::append(text));
  RETURNS_EC(void, s.SharedString::append(text, ec));
  RETURNS(void, s.SharedString::reserve(count));
  RETURNS_EC(void, s.SharedString::reserve(count, ec));
  RETURNS(void, s.SharedString::clear());
  RETURNS_EC(void, s.SharedString::clear(ec));
  RETURNS(std::string_view, s.SharedString::view());
  RETURNS_EC(std::string_view, s.SharedString::view(ec));
  RETURNS(const char*, s.SharedString::c_str());
  RETURNS_EC(const char*, s.SharedString::c_str(ec));
  RETURNS(void, s.SharedString::validate());
  RETURNS_EC(void, s.SharedString::validate(ec));
  RETURNS(void, s.SharedString::push_back(c));
  RETURNS(char*, s.SharedString::data());
  RETURNS(int, s.SharedString::compare(text));
  RETURNS_NOEXCEPT(void, s.SharedString::reset());
  RETURNS_NOEXCEPT(std::size_t, s.SharedString::size());
  RETURNS_NOEXCEPT(bool, s.SharedString::empty());
  RETURNS_NOEXCEPT(std::size_t, s.SharedString::capacity());
  RETURNS_NOEXCEPT(shmkit::Allocator<char>, s.SharedString::get_allocator());

  RETURNS(Map::iterator, map.SharedHashMap<SharedString, int>::find(text));
  RETURNS_EC(Map::iterator, map.SharedHashMap<SharedString, int>::find(text, ec));
  RETURNS(bool, map.SharedHashMap<SharedString, int>::contains(text));
  RETURNS(std::size_t, map.SharedHashMap<SharedString, int>::count(text));
  using Inserted = std::pair<Map::iterator, bool>;
  RETURNS(Inserted, map.SharedHashMap<SharedString, int>::try_emplace(text, value));
  RETURNS_NOEXCEPT(Inserted, map.SharedHashMap<SharedString, int>::try_emplace(text, ec, value));
  RETURNS(Inserted, map.SharedHashMap<SharedString, int>::insert(element));
  RETURNS_EC(Inserted, map.SharedHashMap<SharedString, int>::insert(element, ec));
  RETURNS(Inserted, map.SharedHashMap<SharedString, int>::emplace(text, value));
  RETURNS(Inserted, map.SharedHashMap<SharedString, int>::insert_or_assign(text, value));
  RETURNS(std::size_t, map.SharedHashMap<SharedString, int>::erase(text));
  RETURNS_EC(std::size_t, map.SharedHashMap<SharedString, int>::erase(text, ec));
  RETURNS(void, map.SharedHashMap<SharedString, int>::clear());
  RETURNS_EC(void, map.SharedHashMap<SharedString, int>::clear(ec));
  RETURNS(void, map.SharedHashMap<SharedString, int>::rehash(count));
  RETURNS_EC(void, map.SharedHashMap<SharedString, int>::rehash(count, ec));
  RETURNS(void, map.SharedHashMap<SharedString, int>::reserve(count));
  RETURNS_EC(void, map.SharedHashMap<SharedString, int>::reserve(count, ec));
  RETURNS(void, map.SharedHashMap<SharedString, int>::validate());
  RETURNS_EC(void, map.SharedHashMap<SharedString, int>::validate(ec));
  RETURNS(Map::iterator, map.SharedHashMap<SharedString, int>::begin());
  RETURNS_NOEXCEPT(Map::iterator, map.SharedHashMap<SharedString, int>::end());
  RETURNS_NOEXCEPT(bool, map.SharedHashMap<SharedString, int>::repair());
  RETURNS_NOEXCEPT(void, map.SharedHashMap<SharedString, int>::reset());
  RETURNS_NOEXCEPT(std::size_t, map.SharedHashMap<SharedString, int>::size());
  RETURNS_NOEXCEPT(bool, map.SharedHashMap<SharedString, int>::empty());
  RETURNS_NOEXCEPT(std::size_t, map.SharedHashMap<SharedString, int>::bucket_count());
  using PairAllocator = shmkit::Allocator<std::pair<const SharedString, int>>;
  RETURNS_NOEXCEPT(PairAllocator, map.SharedHashMap<SharedString, int>::get_allocator());
}

}  // namespace api

// Compiling is the test; running it (as ctest does) only proves it links.
int main() {
  return 0;
}
