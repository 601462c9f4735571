// Server and Client: a registry segment of connection slots, and one Channel
// per connection.
//
// A slot belongs to whoever holds its `client` word (0 = free). A client
// claims a slot, picks a fresh id, creates the channel "<server>.<id>" and
// publishes the ticket {id, requested}; the server opens that channel, turns
// the ticket into {id, accepted} and wakes the client. Every change of a
// ticket is a compare-and-swap on the whole {id, state} pair, so a server
// that took long to open a channel can never accept a later client's request
// with an earlier client's channel. Closing the server's end of the
// connection removes the channel and frees the slot. A client that dies
// before being accepted is found by the server's next scan and its slot freed.
//
// Clients use the registry as soon as it is published, before the server
// claims it, and while a restarted server is still taking it over; so a
// starting server frees only what nobody else will: the connections its
// predecessor accepted and the slots of dead clients. A live client's slot
// is its own until it leaves it or the server accepts or refuses it.
#include <shmkit/server.hpp>

#include "core/error_wrappers.hpp"
#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "messaging/channel_access.hpp"
#include "messaging/peer_wait.hpp"
#include "messaging/ring_core.hpp"
#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <shmkit/name.hpp>

#include <cstdio>
#include <thread>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr std::uint32_t k_server_layout = 0x53525631;                        // "SRV1"
constexpr std::size_t k_server_name_max = detail::k_max_os_name_length - 9;  // ".xxxxxx" + ".N"
constexpr std::uint32_t k_id_mask = 0xffffff;

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

constexpr std::uint64_t ticket(std::uint32_t id, SlotState state) {
  return (std::uint64_t{id & k_id_mask} << 32) | state;
}
constexpr std::uint32_t ticket_id(std::uint64_t t) {
  return static_cast<std::uint32_t>(t >> 32) & k_id_mask;
}
constexpr std::uint32_t ticket_state(std::uint64_t t) {
  return static_cast<std::uint32_t>(t);
}

struct ServerState {
  std::atomic<std::uint64_t> server;  // endpoint word of the accepting process
  std::atomic<std::uint32_t> next_id;
  std::atomic<std::uint32_t> accept_sleepers;
  std::atomic<std::uint32_t> accept_signal;
  std::atomic<std::uint32_t> connect_sleepers;
  std::atomic<std::uint32_t> connect_signal;
  std::uint32_t reserved;
  ServerSlot slots[Server::k_max_connections];
};

std::string channel_name(const std::string& server, std::uint32_t id) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%06x", id & k_id_mask);
  return server + suffix;
}

bool check_server_name(std::string_view name, Failure& failure) {
  if (!check_name(name, failure)) return false;
  if (name.size() > k_server_name_max) {
    failure.set(errc::invalid_name, "server '" + std::string(name) +
                                        "': server names are at most " +
                                        std::to_string(k_server_name_max) +
                                        " characters (each connection is named '<server>.<id>')");
    return false;
  }
  return true;
}

SyncSegment open_registry(const std::string& name, const Options& options, OpenMode mode,
                          Failure& failure) {
  const SyncRequest request{
      SegmentKind::server, k_server_layout, sizeof(ServerState), 2, true, nullptr, nullptr};
  return open_sync_segment(name, options, mode, request, failure);
}

bool alive(std::uint64_t word) {
  return word > k_endpoint_closed && is_alive(word >> 32, word, k_slot_start_time_mask);
}

}  // namespace

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(std::string name, const ConnectionOptions& connections, const Options& options)
      : name_(std::move(name)), connections_(connections), options_(options) {}

  bool start(Failure& failure) {
    // A dead predecessor's registry is taken over, not reclaimed afresh: its
    // slots name the channels it leaves behind, which are cleaned below.
    Options registry_options = options_;
    registry_options.reclaim_stale = false;
    registry_ = open_registry(name_, registry_options, OpenMode::open_or_create, failure);
    if (failure) return false;
    auto* state = static_cast<ServerState*>(registry_.state);
    if (!claim_endpoint(state->server, "server " + quoted(name_), "server process", failure)) {
      return false;  // state_ stays null: this core must not close or remove anything
    }
    state_ = state;
    // Whatever a dead predecessor left: the channels and slots of the
    // connections it accepted, and of clients that died. Not a live
    // client's request, nor a slot a live client is filling in: clients
    // found this registry before we claimed it, and a request made then is
    // ours to accept (freeing it removed a channel its client was waiting
    // on, or left the client publishing into a slot it no longer held).
    for (ServerSlot& slot : state_->slots) {
      const std::uint64_t client = slot.client.load(std::memory_order_acquire);
      if (client == 0) continue;
      const std::uint64_t seen = slot.ticket.load(std::memory_order_acquire);
      if (ticket_state(seen) == slot_accepted || !alive(client)) free_slot(slot, client, seen);
    }
    return true;
  }

  ~ServerCore() {
    if (state_ == nullptr) return;
    close_endpoint(state_->server);
    // Clients waiting to be accepted must learn that nobody will.
    state_->connect_signal.fetch_add(1);
    registry_.waiters[1]->wake(state_->connect_signal, Server::k_max_connections);
    // A server that stops takes its name with it, unless a successor has
    // already claimed the registry. Open connections keep their channels.
    if (state_->server.load() == k_endpoint_closed) {
      Failure ignored;
      remove_sync_segment(name_, options_, 2, ignored);
    }
  }

  Channel accept(Deadline deadline, Failure& /*failure*/) {
    for (;;) {
      if (Channel channel = take_request(); channel.is_open()) return channel;
      // Whatever the registry holds, a wait ends by its deadline: a slot
      // that looks ready but yields nothing must not keep us here.
      if (deadline != k_forever && std::chrono::steady_clock::now() >= deadline) return Channel();
      const WaitResult result = wait_for_peer(
          connections_.wait, deadline,
          SleepWords{state_->accept_sleepers, state_->accept_signal, *registry_.waiters[0]},
          [&] { return has_request(); }, [] { return false; });
      if (result != WaitResult::ready) return Channel();
    }
  }

  const std::string& name() const noexcept { return name_; }

 private:
  // Must agree with take_request(): a slot it would skip (no client) is no
  // request, or a waiter would spin on it for ever.
  bool has_request() const {
    for (const ServerSlot& slot : state_->slots) {
      if (slot.client.load(std::memory_order_acquire) != 0 &&
          ticket_state(slot.ticket.load(std::memory_order_acquire)) == slot_requested) {
        return true;
      }
    }
    return false;
  }

  void remove_ring_channel(std::uint32_t id, Failure& failure) {
    Channel::remove(channel_name(name_, id), channel_options_for(options_), failure.code);
  }

  // Accepts one pending request, freeing the slots of clients that died on
  // the way. An empty Channel if there is none.
  Channel take_request() {
    for (ServerSlot& slot : state_->slots) {
      const std::uint64_t client = slot.client.load(std::memory_order_acquire);
      if (client == 0) continue;
      std::uint64_t seen = slot.ticket.load(std::memory_order_acquire);
      const std::uint32_t state = ticket_state(seen);
      if (state == slot_accepted) continue;
      if (state != slot_requested) {
        if (!alive(client)) free_slot(slot, client, seen);  // died while connecting
        continue;
      }
      const std::uint32_t id = ticket_id(seen);
      Failure open_failure;
      Channel channel = ChannelAccess::open(channel_name(name_, id), 0, connections_.wait, options_,
                                            OpenMode::open, ChannelEnd::opener, open_failure);
      const std::uint64_t outcome = ticket(id, channel.is_open() ? slot_accepted : slot_refused);
      if (!slot.ticket.compare_exchange_strong(seen, outcome, std::memory_order_acq_rel)) {
        continue;  // that client gave up meanwhile (another may use the slot by now)
      }
      wake_connectors();
      if (!channel.is_open()) continue;  // refused: the client cleans up and leaves
      auto self = shared_from_this();
      ServerSlot* slot_ptr = &slot;
      ChannelAccess::on_close(channel, [self, slot_ptr, client, outcome] {
        self->free_slot(*slot_ptr, client, outcome);
      });
      return channel;
    }
    return Channel();
  }

  // Frees `slot` if it still holds `expected_ticket` for `client`.
  void free_slot(ServerSlot& slot, std::uint64_t client, std::uint64_t expected_ticket) {
    if (expected_ticket != 0) {
      Failure ignored;
      remove_ring_channel(ticket_id(expected_ticket), ignored);
      if (!slot.ticket.compare_exchange_strong(expected_ticket, 0, std::memory_order_acq_rel)) {
        return;  // the slot has moved on to another connection
      }
    }
    std::uint64_t expected = client;
    slot.client.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }

  void wake_connectors() {
    wake_sleepers(
        SleepWords{state_->connect_sleepers, state_->connect_signal, *registry_.waiters[1]},
        Server::k_max_connections);
  }

  std::string name_;
  ConnectionOptions connections_;
  Options options_;
  SyncSegment registry_;
  ServerState* state_ = nullptr;
};

// ---- client -----------------------------------------------------------------

Channel connect(std::string_view server_view, Deadline deadline,
                const ConnectionOptions& connection, const Options& options, Failure& failure) {
  if (!check_server_name(server_view, failure)) return Channel();
  const std::string server(server_view);
  const std::string what = "server " + quoted(server);

  // Wait for the server to exist.
  SyncSegment registry;
  for (;;) {
    registry = open_registry(server, options, OpenMode::open, failure);
    if (!failure) break;
    if (failure.code != make_error_code(errc::not_found) ||
        std::chrono::steady_clock::now() >= deadline) {
      if (failure.code == make_error_code(errc::not_found)) {
        failure.set(std::make_error_code(std::errc::timed_out),
                    "connect to " + what + ": no such server appeared before the deadline");
      }
      return Channel();
    }
    failure.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto& state = *static_cast<ServerState*>(registry.state);
  PeerWatch server_watch;
  if (server_watch.gone(state.server.load())) {
    failure.set(errc::peer_gone, "connect to " + what +
                                     ": it is not running (its process exited "
                                     "or closed); start it first");
    return Channel();
  }

  const std::uint64_t self = pack_slot(current_process());
  ServerSlot* slot = nullptr;
  for (ServerSlot& candidate : state.slots) {
    std::uint64_t expected = 0;
    if (candidate.client.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) {
      slot = &candidate;
      break;
    }
  }
  if (slot == nullptr) {
    failure.set(errc::overflow, "connect to " + what + ": all " +
                                    std::to_string(Server::k_max_connections) +
                                    " connection slots are in use");
    return Channel();
  }
  // A fresh id per connection; a name left by an earlier run of the server
  // (still held open by one of its old clients) is skipped.
  std::uint32_t id = 0;
  Channel channel;
  for (int attempt = 0; attempt < 64; ++attempt) {
    failure.clear();
    id = state.next_id.fetch_add(1) & k_id_mask;
    channel = ChannelAccess::open(channel_name(server, id), connection.capacity, connection.wait,
                                  options, OpenMode::create, ChannelEnd::creator, failure);
    if (failure.code != make_error_code(errc::already_exists)) break;
  }
  // Leaves the slot, removing our channel only if we made it. A slot that was
  // taken from us (`ours` false) is not written: it may be another client's
  // by now, even another thread's of this process, with our client word.
  auto give_up = [&](bool made_channel, bool ours) {
    const std::string channel_text = channel_name(server, id);
    channel = Channel();
    if (made_channel) {
      std::error_code ignored;
      Channel::remove(channel_text, channel_options_for(options), ignored);
    }
    if (!ours) return;
    slot->ticket.store(0, std::memory_order_release);
    std::uint64_t expected = self;
    slot->client.compare_exchange_strong(expected, 0);
  };
  if (failure) {
    give_up(false, true);
    return Channel();
  }
  const std::uint64_t requested = ticket(id, slot_requested);
  slot->ticket.store(requested, std::memory_order_release);
  wake_sleepers(SleepWords{state.accept_sleepers, state.accept_signal, *registry.waiters[0]}, 1);

  const WaitResult result = wait_for_peer(
      connection.wait, deadline,
      SleepWords{state.connect_sleepers, state.connect_signal, *registry.waiters[1]},
      [&] { return slot->ticket.load(std::memory_order_acquire) != requested; },
      [&] { return server_watch.gone(state.server.load(std::memory_order_acquire)); });
  std::uint64_t seen = requested;
  if (result == WaitResult::ready ||
      !slot->ticket.compare_exchange_strong(seen, 0, std::memory_order_acq_rel)) {
    // Answered, possibly just as we gave up.
    if (seen == requested) seen = slot->ticket.load(std::memory_order_acquire);
    if (seen == ticket(id, slot_accepted)) return channel;
    const bool refused = seen == ticket(id, slot_refused);
    give_up(true, refused);
    failure.set(std::make_error_code(std::errc::connection_refused),
                "connect to " + what +
                    (refused ? ": the server could not open the connection's channel"
                             : ": its request was taken out of its slot (another process changed "
                               "the server's registry); try again"));
    return Channel();
  }
  give_up(true, true);
  if (result == WaitResult::peer_gone) {
    failure.set(errc::peer_gone, "connect to " + what + ": the server process exited or closed");
  } else {
    failure.set(std::make_error_code(std::errc::timed_out),
                "connect to " + what + ": not accepted before the deadline");
  }
  return Channel();
}

}  // namespace detail

using detail::Failure;

Server::Server() noexcept = default;
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&&) noexcept = default;
Server::~Server() = default;

namespace {

std::shared_ptr<detail::ServerCore> start_server(std::string_view name,
                                                 const ConnectionOptions& connections,
                                                 const Options& options, Failure& failure) {
  if (!detail::check_server_name(name, failure)) return nullptr;
  auto core = std::make_shared<detail::ServerCore>(std::string(name), connections, options);
  if (!core->start(failure)) return nullptr;
  return core;
}

}  // namespace

Server::Server(std::string_view name, const ConnectionOptions& connections, const Options& options)
    : core_(detail::throwing(
          [&](Failure& f) { return start_server(name, connections, options, f); })) {}

Server Server::start(std::string_view name, const ConnectionOptions& connections,
                     const Options& options, std::error_code& ec) noexcept {
  Server server;
  server.core_ = detail::without_throwing(
      ec, [&](Failure& f) { return start_server(name, connections, options, f); });
  return server;
}

Channel Server::accept_until(Deadline deadline) {
  return detail::throwing([&](Failure& f) {
    if (!core_)
      throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                              "accept on an empty Server handle");
    return core_->accept(deadline, f);
  });
}

Channel Server::accept_until(Deadline deadline, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    if (!core_) {
      f.set(std::make_error_code(std::errc::operation_not_permitted),
            "accept on an empty Server handle");
      return Channel();
    }
    return core_->accept(deadline, f);
  });
}

const std::string& Server::name() const noexcept {
  static const std::string empty;
  return core_ ? core_->name() : empty;
}

Channel Client::connect_until(std::string_view server, Deadline deadline,
                              const ConnectionOptions& connection, const Options& options) {
  return detail::throwing(
      [&](Failure& f) { return detail::connect(server, deadline, connection, options, f); });
}

Channel Client::connect_until(std::string_view server, Deadline deadline,
                              const ConnectionOptions& connection, const Options& options,
                              std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::connect(server, deadline, connection, options, f); });
}

SHMKIT_END_NAMESPACE
