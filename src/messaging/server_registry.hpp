// The registry a Server publishes under its name: the server's endpoint
// word, the connections' capacity, and one slot per connection. Shared by
// the server (server.cpp) and its clients (client.cpp).
//
// A slot belongs to whoever holds its `client` word (0 = free). A client
// claims a slot, picks a fresh id, creates the channel "<server>.<id>" and
// publishes the ticket {id, requested}; the server opens that channel, turns
// the ticket into {id, accepted} and wakes the client. Every change of a
// ticket is a compare-and-swap on the whole {id, state} pair, so a server
// that took long to open a channel can never accept a later client's request
// with an earlier client's channel.
//
// Everything here is read from shared memory, so untrusted: ids are masked
// and reduced to the id space before they make a name, and the capacity is
// judged by the ring code like any requested capacity.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"
#include "sync/sync_segment.hpp"

#include <shmkit/server.hpp>

#include <atomic>
#include <cstdint>
#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint32_t k_id_mask = 0xffffff;

enum SlotState : std::uint32_t {
  slot_free = 0,
  slot_requested = 2,
  slot_accepted = 3,
  slot_refused = 4,  // the server could not open the client's channel
};

struct ServerSlot {
  std::atomic<std::uint64_t> client;  // 0, or pack_slot() of the client holding the slot
  std::atomic<std::uint64_t> ticket;  // ticket(id, state); 0 = free
};

struct ServerState {
  std::atomic<std::uint64_t> server;  // endpoint word of the accepting process
  std::atomic<std::uint32_t> next_id;
  std::atomic<std::uint32_t> accept_sleepers;
  std::atomic<std::uint32_t> accept_signal;
  std::atomic<std::uint32_t> connect_sleepers;
  std::atomic<std::uint32_t> connect_signal;
  std::uint32_t reserved;
  ServerSlot slots[Server::k_max_connections];
  // Bytes per direction of every connection (the serving server's
  // ServerOptions::capacity, rounded); clients create channels of it.
  std::atomic<std::uint64_t> capacity;
};

constexpr std::uint64_t ticket(std::uint32_t id, SlotState state) {
  return (std::uint64_t{id & k_id_mask} << 32) | state;
}
constexpr std::uint32_t ticket_id(std::uint64_t t) {
  return static_cast<std::uint32_t>(t >> 32) & k_id_mask;
}
constexpr std::uint32_t ticket_state(std::uint64_t t) {
  return static_cast<std::uint32_t>(t);
}

// How many connection ids a server of this name has: its connections'
// names "<server>.<id>" plus their ".N" companions fit k_max_os_name_length.
std::uint32_t connection_id_space(const std::string& server);

// "<server>.<id>", the id in base 36 (lowercase: some file systems fold
// case) with a width fixed per server name.
std::string connection_name(const std::string& server, std::uint32_t id);

// The registry, opened or created (`capacity` is written by whoever creates
// it). Ring-capacity rounding is the caller's.
SyncSegment open_registry(const std::string& name, const SegmentOptions& options, OpenMode mode,
                          std::uint64_t capacity, Failure& failure);

inline ServerState& registry_state(const SyncSegment& registry) {
  return *static_cast<ServerState*>(registry.state);
}

// True while `word` is a server or client process that has not exited.
bool endpoint_alive(std::uint64_t word);

// Removes a connection's channel, by a name check_name() would refuse.
void remove_connection(const std::string& server, std::uint32_t id, const SegmentOptions& options);

}  // namespace detail
SHMKIT_END_NAMESPACE
